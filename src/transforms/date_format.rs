//! `java.text.SimpleDateFormat` patterns (`yyyyMMdd`, `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, ...) in UTC,
//! as `TimestampRouter` and `TimestampConverter` use them: formatting epoch milliseconds and
//! lenient parsing back to epoch milliseconds (English month and day names, US week rules).

const MS_PER_DAY: i64 = 86_400_000;

/// English month names (Java's formatters print these whatever the locale).
pub(crate) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Pattern letters `SimpleDateFormat` accepts.
const LETTERS: &str = "GyYMLwWDdFEuaHkKhmsSzZX";

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Literal(String),
    Field { letter: char, count: usize },
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct DateFormat {
    pattern: String,
    items: Vec<Item>,
}

/// Days since 1970-01-01 → (year, month 1-12, day 1-31), proleptic Gregorian (as Java's
/// `java.time`; `GregorianCalendar` switches to Julian before 1582, which no timestamp in a
/// Kafka record reaches).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) → days since 1970-01-01; out-of-range months and days roll over,
/// as a lenient `Calendar` does.
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = year + (month - 1).div_euclid(12);
    let m = (month - 1).rem_euclid(12) + 1;
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468 + (day - 1)
}

/// The calendar fields of one instant.
struct Fields {
    year: i64,
    month: u32,
    day: u32,
    day_of_year: i64,
    /// 0 = Sunday.
    weekday: u32,
    ms_of_day: i64,
    days: i64,
}

impl Fields {
    fn of(epoch_ms: i64) -> Fields {
        let days = epoch_ms.div_euclid(MS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        Fields {
            year,
            month,
            day,
            day_of_year: days - days_from_civil(year, 1, 1) + 1,
            weekday: (days + 4).rem_euclid(7) as u32,
            ms_of_day: epoch_ms.rem_euclid(MS_PER_DAY),
            days,
        }
    }

    /// US rules (weeks start on Sunday, week 1 holds January 1st), as Java's default locale.
    fn week_of_year(&self) -> i64 {
        let next_jan1 = days_from_civil(self.year + 1, 1, 1);
        let next_jan1_weekday = (next_jan1 + 4).rem_euclid(7);
        // The days of late December that share a week with next January 1st are in week 1.
        if self.days >= next_jan1 - next_jan1_weekday {
            return 1;
        }
        let jan1 = days_from_civil(self.year, 1, 1);
        let jan1_weekday = (jan1 + 4).rem_euclid(7);
        (self.days - jan1 + jan1_weekday) / 7 + 1
    }

    fn week_of_month(&self) -> i64 {
        let first = days_from_civil(self.year, i64::from(self.month), 1);
        let first_weekday = (first + 4).rem_euclid(7);
        (i64::from(self.day) - 1 + first_weekday) / 7 + 1
    }
}

fn pad(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    let digits = v.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

impl DateFormat {
    /// Compiles a pattern; errors carry `SimpleDateFormat`'s messages.
    pub(crate) fn new(pattern: &str) -> Result<DateFormat, String> {
        let mut items = Vec::new();
        let mut literal = String::new();
        let chars: Vec<char> = pattern.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                // '' is a quote; 'text' is literal text (with '' inside for a quote).
                if chars.get(i + 1) == Some(&'\'') {
                    literal.push('\'');
                    i += 2;
                    continue;
                }
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("Unterminated quote".to_string()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            literal.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            literal.push(ch);
                            i += 1;
                        }
                    }
                }
                continue;
            }
            if c.is_ascii_alphabetic() {
                if !LETTERS.contains(c) {
                    return Err(format!("Illegal pattern character '{c}'"));
                }
                let mut count = 1;
                while chars.get(i + count) == Some(&c) {
                    count += 1;
                }
                if !literal.is_empty() {
                    items.push(Item::Literal(std::mem::take(&mut literal)));
                }
                items.push(Item::Field { letter: c, count });
                i += count;
                continue;
            }
            literal.push(c);
            i += 1;
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(DateFormat {
            pattern: pattern.to_string(),
            items,
        })
    }

    /// The pattern text (`toPattern()`).
    pub(crate) fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Formats epoch milliseconds in UTC.
    pub(crate) fn format(&self, epoch_ms: i64) -> String {
        let f = Fields::of(epoch_ms);
        let mut out = String::with_capacity(self.pattern.len() + 8);
        let hour = f.ms_of_day / 3_600_000;
        for item in &self.items {
            let (letter, count) = match item {
                Item::Literal(s) => {
                    out.push_str(s);
                    continue;
                }
                Item::Field { letter, count } => (*letter, *count),
            };
            let month_name = MONTHS[(f.month - 1) as usize];
            let day_name = DAYS[f.weekday as usize];
            let year_of_era = if f.year <= 0 { 1 - f.year } else { f.year };
            match letter {
                'G' => out.push_str(if f.year <= 0 { "BC" } else { "AD" }),
                'y' | 'Y' => {
                    if count == 2 {
                        pad(&mut out, year_of_era % 100, 2);
                    } else {
                        pad(&mut out, year_of_era, count);
                    }
                }
                'M' | 'L' => match count {
                    1 | 2 => pad(&mut out, i64::from(f.month), count),
                    3 => out.push_str(&month_name[..3]),
                    _ => out.push_str(month_name),
                },
                'w' => pad(&mut out, f.week_of_year(), count),
                'W' => pad(&mut out, f.week_of_month(), count),
                'D' => pad(&mut out, f.day_of_year, count),
                'd' => pad(&mut out, i64::from(f.day), count),
                'F' => pad(&mut out, (i64::from(f.day) - 1) / 7 + 1, count),
                'E' => {
                    if count >= 4 {
                        out.push_str(day_name);
                    } else {
                        out.push_str(&day_name[..3]);
                    }
                }
                'u' => pad(
                    &mut out,
                    if f.weekday == 0 {
                        7
                    } else {
                        i64::from(f.weekday)
                    },
                    count,
                ),
                'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                'H' => pad(&mut out, hour, count),
                'k' => pad(&mut out, if hour == 0 { 24 } else { hour }, count),
                'K' => pad(&mut out, hour % 12, count),
                'h' => pad(&mut out, if hour % 12 == 0 { 12 } else { hour % 12 }, count),
                'm' => pad(&mut out, f.ms_of_day / 60_000 % 60, count),
                's' => pad(&mut out, f.ms_of_day / 1000 % 60, count),
                'S' => pad(&mut out, f.ms_of_day % 1000, count),
                'z' => out.push_str(if count >= 4 {
                    "Coordinated Universal Time"
                } else {
                    "UTC"
                }),
                'Z' => out.push_str("+0000"),
                'X' => out.push('Z'),
                _ => {}
            }
        }
        out
    }

    /// Parses text leniently (as `SimpleDateFormat.parse(String)`): fields absent from the
    /// pattern default to 1970-01-01T00:00:00.000Z, out-of-range values roll over, and text
    /// after the pattern's end is ignored.
    pub(crate) fn parse(&self, text: &str) -> Result<i64, String> {
        let unparseable = || format!("Unparseable date: \"{text}\"");
        let s: Vec<char> = text.chars().collect();
        let mut pos = 0usize;
        let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
        let mut day_of_year: Option<i64> = None;
        let (mut hour, mut minute, mut second, mut milli) = (0i64, 0i64, 0i64, 0i64);
        let mut pm: Option<bool> = None;
        let mut twelve_hour = false;
        let mut offset_ms = 0i64;
        let mut bc = false;
        for (idx, item) in self.items.iter().enumerate() {
            let (letter, count) = match item {
                Item::Literal(lit) => {
                    for lc in lit.chars() {
                        if s.get(pos) != Some(&lc) {
                            return Err(unparseable());
                        }
                        pos += 1;
                    }
                    continue;
                }
                Item::Field { letter, count } => (*letter, *count),
            };
            // A numeric field directly followed by another numeric field takes exactly
            // `count` digits ("abutting fields", e.g. yyyyMMdd).
            let abutting = matches!(
                self.items.get(idx + 1),
                Some(Item::Field { letter: next, count: c })
                    if is_numeric(*next, *c)
            );
            let number = |pos: &mut usize| -> Result<(i64, usize), String> {
                let start = *pos;
                let negative = s.get(*pos) == Some(&'-');
                if negative {
                    *pos += 1;
                }
                let digits_start = *pos;
                while *pos < s.len()
                    && s[*pos].is_ascii_digit()
                    && (!abutting || *pos - digits_start < count)
                {
                    *pos += 1;
                }
                if *pos == digits_start {
                    *pos = start;
                    return Err(unparseable());
                }
                let digits: String = s[digits_start..*pos].iter().collect();
                let v: i64 = digits.parse().map_err(|_| unparseable())?;
                Ok((if negative { -v } else { v }, *pos - digits_start))
            };
            match letter {
                'G' => {
                    if starts_with_ci(&s, pos, "AD") {
                        pos += 2;
                    } else if starts_with_ci(&s, pos, "BC") {
                        bc = true;
                        pos += 2;
                    } else {
                        return Err(unparseable());
                    }
                }
                'y' | 'Y' => {
                    let (v, len) = number(&mut pos)?;
                    year = if count <= 2 && len == 2 && v >= 0 {
                        two_digit_year(v)
                    } else {
                        v
                    };
                }
                'M' | 'L' if count >= 3 => {
                    let (m, len) = match_name(&s, pos, &MONTHS).ok_or_else(unparseable)?;
                    month = m as i64 + 1;
                    pos += len;
                }
                'M' | 'L' => month = number(&mut pos)?.0,
                'E' => {
                    let (_, len) = match_name(&s, pos, &DAYS).ok_or_else(unparseable)?;
                    pos += len;
                }
                'd' => day = number(&mut pos)?.0,
                'D' => day_of_year = Some(number(&mut pos)?.0),
                'a' => {
                    if starts_with_ci(&s, pos, "AM") {
                        pm = Some(false);
                    } else if starts_with_ci(&s, pos, "PM") {
                        pm = Some(true);
                    } else {
                        return Err(unparseable());
                    }
                    pos += 2;
                }
                'H' => hour = number(&mut pos)?.0,
                'k' => hour = number(&mut pos)?.0 % 24,
                'K' => {
                    hour = number(&mut pos)?.0;
                    twelve_hour = true;
                }
                'h' => {
                    hour = number(&mut pos)?.0 % 12;
                    twelve_hour = true;
                }
                'm' => minute = number(&mut pos)?.0,
                's' => second = number(&mut pos)?.0,
                'S' => milli = number(&mut pos)?.0,
                'z' | 'Z' | 'X' => {
                    let (off, len) = parse_zone(&s, pos).ok_or_else(unparseable)?;
                    offset_ms = off;
                    pos += len;
                }
                // Week fields and day-of-week numbers do not move the date (as with a lenient
                // calendar that has day and month set); read and ignore them.
                _ => {
                    number(&mut pos)?;
                }
            }
        }
        if bc {
            year = 1 - year;
        }
        if twelve_hour && pm == Some(true) {
            hour += 12;
        }
        let days = match day_of_year {
            Some(doy) => days_from_civil(year, 1, 1) + doy - 1,
            None => days_from_civil(year, month, day),
        };
        let ms = days
            .checked_mul(MS_PER_DAY)
            .and_then(|d| d.checked_add(hour * 3_600_000 + minute * 60_000 + second * 1000 + milli))
            .and_then(|t| t.checked_sub(offset_ms))
            .ok_or_else(unparseable)?;
        Ok(ms)
    }
}

fn is_numeric(letter: char, count: usize) -> bool {
    match letter {
        'M' | 'L' => count <= 2,
        'G' | 'E' | 'a' | 'z' | 'Z' | 'X' => false,
        _ => true,
    }
}

/// Two-digit years land within 80 years before and 20 years after now, as in `SimpleDateFormat`.
fn two_digit_year(v: i64) -> i64 {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    let (this_year, _, _) = civil_from_days(now_ms.div_euclid(MS_PER_DAY));
    let start = this_year - 80;
    let century = start - start.rem_euclid(100);
    let y = century + v;
    if y < start {
        y + 100
    } else {
        y
    }
}

fn starts_with_ci(s: &[char], pos: usize, word: &str) -> bool {
    let n = word.chars().count();
    pos + n <= s.len()
        && s[pos..pos + n]
            .iter()
            .zip(word.chars())
            .all(|(a, b)| a.eq_ignore_ascii_case(&b))
}

/// Longest match among full names, then 3-letter abbreviations; (index, chars consumed).
fn match_name(s: &[char], pos: usize, names: &[&str]) -> Option<(usize, usize)> {
    for (i, n) in names.iter().enumerate() {
        if starts_with_ci(s, pos, n) {
            return Some((i, n.len()));
        }
    }
    for (i, n) in names.iter().enumerate() {
        if starts_with_ci(s, pos, &n[..3]) {
            return Some((i, 3));
        }
    }
    None
}

/// `Z`, `UTC`, `GMT`, `+hh`, `+hhmm`, `+hh:mm` (optionally after `GMT`/`UTC`); (offset ms, len).
fn parse_zone(s: &[char], pos: usize) -> Option<(i64, usize)> {
    let mut p = pos;
    if s.get(p) == Some(&'Z') {
        return Some((0, 1));
    }
    if starts_with_ci(s, p, "UTC") || starts_with_ci(s, p, "GMT") {
        p += 3;
        if !matches!(s.get(p), Some('+' | '-')) {
            return Some((0, 3));
        }
    }
    let sign = match s.get(p)? {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    p += 1;
    let digit = |i: usize| s.get(i).and_then(|c| c.to_digit(10)).map(i64::from);
    let hours = digit(p)? * 10 + digit(p + 1)?;
    p += 2;
    if s.get(p) == Some(&':') {
        p += 1;
    }
    let minutes = match (digit(p), digit(p + 1)) {
        (Some(a), Some(b)) => {
            p += 2;
            a * 10 + b
        }
        _ => 0,
    };
    Some((sign * (hours * 3_600_000 + minutes * 60_000), p - pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2024-02-23T08:52:14.431Z
    const T: i64 = 1_708_678_334_431;

    fn year_days(y: i64) -> i64 {
        days_from_civil(y + 1, 1, 1) - days_from_civil(y, 1, 1)
    }

    #[test]
    fn calendar_round_trips() {
        for d in [-800_000i64, -1, 0, 1, 19_776, 59, 60, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(dd)), d);
        }
        assert_eq!(civil_from_days(19_776), (2024, 2, 23));
        assert_eq!(days_from_civil(2024, 13, 1), days_from_civil(2025, 1, 1));
        assert_eq!(year_days(2024), 366);
        assert_eq!(year_days(1900), 365);
    }

    #[test]
    fn formats_like_simple_date_format() {
        let f = |p: &str| DateFormat::new(p).unwrap().format(T);
        assert_eq!(f("yyyyMMdd"), "20240223");
        assert_eq!(
            f("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
            "2024-02-23T08:52:14.431Z"
        );
        assert_eq!(f("yy-M-d h:mm a"), "24-2-23 8:52 AM");
        assert_eq!(
            f("EEE, d MMM yyyy HH:mm:ss Z"),
            "Fri, 23 Feb 2024 08:52:14 +0000"
        );
        assert_eq!(f("EEEE MMMM D DDD"), "Friday February 54 054");
        assert_eq!(f("'it''s' yyyy"), "it's 2024");
        assert_eq!(f("w W F u k K z X"), "8 4 4 5 8 8 UTC Z");
        assert_eq!(DateFormat::new("yyyy").unwrap().format(-1), "1969");
        assert_eq!(
            DateFormat::new("yyyy-MM-dd HH:mm:ss.SSS")
                .unwrap()
                .format(-1),
            "1969-12-31 23:59:59.999"
        );
        assert_eq!(
            DateFormat::new("yyyy-ww")
                .unwrap()
                .format(days_from_civil(2024, 12, 30) * MS_PER_DAY),
            "2024-01",
            "US week rules: the last days of December are in week 1"
        );
    }

    #[test]
    fn bad_patterns() {
        assert_eq!(
            DateFormat::new("yyyy-bb").unwrap_err(),
            "Illegal pattern character 'b'"
        );
        assert_eq!(DateFormat::new("'open").unwrap_err(), "Unterminated quote");
    }

    #[test]
    fn parses_leniently() {
        let p = |pat: &str, s: &str| DateFormat::new(pat).unwrap().parse(s);
        assert_eq!(
            p("yyyyMMdd", "20240223"),
            Ok(days_from_civil(2024, 2, 23) * MS_PER_DAY)
        );
        assert_eq!(
            p("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", "2024-02-23T08:52:14.431Z"),
            Ok(T)
        );
        assert_eq!(
            p(
                "yyyy-MM-dd HH:mm:ss.SSSXXX",
                "2024-02-23 09:52:14.431+01:00"
            ),
            Ok(T)
        );
        assert_eq!(
            p("dd MMM yyyy hh:mm:ss.SSS a", "23 feb 2024 08:52:14.431 am"),
            Ok(T)
        );
        assert_eq!(
            p("yyyy-MM-dd", "2024-02-30"),
            Ok(days_from_civil(2024, 3, 1) * MS_PER_DAY)
        );
        assert_eq!(
            p("yyyy-MM-dd", "2024-02-23 trailing"),
            Ok(days_from_civil(2024, 2, 23) * MS_PER_DAY)
        );
        assert!(p("yyyy-MM-dd", "2024/02/23").is_err());
        assert!(p("yyyy-MM-dd", "").is_err());
    }
}
