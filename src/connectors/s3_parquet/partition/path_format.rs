//! Joda-Time `DateTimeFormat` patterns (`path.format`), as Confluent's `TimeBasedPartitioner`
//! formats its buckets: `'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH` → `year=2025/month=06/...`.
//!
//! Joda's letters differ from `SimpleDateFormat`'s: `Y` is the year of era (not the week
//! year), `x` the ISO week year, `e` the ISO day of week, `C` the century. Text fields
//! (`MMM`, `EEE`, `a`, `G`) are printed in English whatever the `locale`; `zzzz` (a long zone
//! name) prints the zone id.

use chrono::{Datelike, Timelike};

use super::zone::{format_offset, Zone};
use crate::transforms::date_format::MONTHS;

/// Joda's pattern letters.
const LETTERS: &str = "GCYxweEyDMdaKhHkmsSzZ";

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Literal(String),
    Field { letter: char, count: usize },
}

/// A compiled Joda pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JodaFormat {
    pattern: String,
    items: Vec<Item>,
}

impl JodaFormat {
    /// Compiles a pattern; the error is Joda's (`Illegal pattern component: q`).
    pub fn compile(pattern: &str) -> Result<JodaFormat, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items: Vec<Item> = Vec::new();
        let mut literal = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c.is_ascii_alphabetic() {
                let mut count = 1;
                while chars.get(i + count) == Some(&c) {
                    count += 1;
                }
                if !LETTERS.contains(c) {
                    return Err(format!(
                        "Illegal pattern component: {}",
                        c.to_string().repeat(count)
                    ));
                }
                if !literal.is_empty() {
                    items.push(Item::Literal(std::mem::take(&mut literal)));
                }
                items.push(Item::Field { letter: c, count });
                i += count;
            } else if c == '\'' {
                // `''` is a quote; `'text'` is literal text with `''` for a quote inside.
                // An unterminated quote runs to the end of the pattern, as in Joda.
                i += 1;
                if chars.get(i) == Some(&'\'') {
                    literal.push('\'');
                    i += 1;
                    continue;
                }
                while i < chars.len() {
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            literal.push('\'');
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    literal.push(chars[i]);
                    i += 1;
                }
            } else {
                literal.push(c);
                i += 1;
            }
        }
        if !literal.is_empty() {
            items.push(Item::Literal(literal));
        }
        Ok(JodaFormat {
            pattern: pattern.to_string(),
            items,
        })
    }

    /// The pattern as given.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern prints locale-dependent text (month or day names, AM/PM, era, zone
    /// names).
    pub fn has_text_fields(&self) -> bool {
        self.items.iter().any(|item| match item {
            Item::Field { letter, count } => {
                matches!(letter, 'G' | 'E' | 'a' | 'z') || (*letter == 'M' && *count >= 3)
            }
            Item::Literal(_) => false,
        })
    }

    /// Formats a UTC instant in `zone`; `None` when the instant is outside chrono's range.
    pub fn format(&self, instant_ms: i64, zone: &Zone) -> Option<String> {
        let local = zone.local(instant_ms)?;
        let dt = local.datetime;
        let mut out = String::new();
        for item in &self.items {
            let (letter, count) = match item {
                Item::Literal(s) => {
                    out.push_str(s);
                    continue;
                }
                Item::Field { letter, count } => (*letter, *count),
            };
            let year = i64::from(dt.year());
            let hour = i64::from(dt.hour());
            match letter {
                'G' => out.push_str(if year > 0 { "AD" } else { "BC" }),
                'C' => number(&mut out, year_of_era(year) / 100, count),
                'Y' => year_field(&mut out, year_of_era(year), count),
                'y' => year_field(&mut out, year, count),
                'x' => year_field(&mut out, i64::from(dt.iso_week().year()), count),
                'w' => number(&mut out, i64::from(dt.iso_week().week()), count),
                'e' => number(
                    &mut out,
                    i64::from(dt.weekday().number_from_monday()),
                    count,
                ),
                'E' => text(
                    &mut out,
                    DAYS[dt.weekday().num_days_from_monday() as usize],
                    count,
                ),
                'D' => number(&mut out, i64::from(dt.ordinal()), count),
                'M' if count >= 3 => text(&mut out, MONTHS[dt.month0() as usize], count),
                'M' => number(&mut out, i64::from(dt.month()), count),
                'd' => number(&mut out, i64::from(dt.day()), count),
                'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                'K' => number(&mut out, hour % 12, count),
                'h' => number(&mut out, if hour % 12 == 0 { 12 } else { hour % 12 }, count),
                'H' => number(&mut out, hour, count),
                'k' => number(&mut out, if hour == 0 { 24 } else { hour }, count),
                'm' => number(&mut out, i64::from(dt.minute()), count),
                's' => number(&mut out, i64::from(dt.second()), count),
                'S' => fraction(&mut out, dt.nanosecond() % 1_000_000_000, count),
                'z' if count >= 4 => out.push_str(&zone.id()),
                'z' => out.push_str(&zone.short_name(instant_ms)),
                'Z' if count >= 3 => out.push_str(&zone.id()),
                'Z' => out.push_str(&format_offset(local.offset_secs, count == 2)),
                _ => {}
            }
        }
        Some(out)
    }
}

fn year_of_era(year: i64) -> i64 {
    if year > 0 {
        year
    } else {
        1 - year
    }
}

/// Joda's year presentation: two letters print the year of the century, otherwise the year
/// padded to the letter count.
fn year_field(out: &mut String, year: i64, count: usize) {
    if count == 2 {
        number(out, year.rem_euclid(100), 2);
    } else {
        number(out, year, count);
    }
}

fn number(out: &mut String, v: i64, width: usize) {
    if v < 0 {
        out.push('-');
    }
    let digits = v.unsigned_abs().to_string();
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

fn text(out: &mut String, full: &str, count: usize) {
    if count >= 4 {
        out.push_str(full);
    } else {
        out.extend(full.chars().take(3));
    }
}

/// Joda's fraction of second: `count` digits, truncated (Joda keeps milliseconds, so digits
/// past the third are zeros).
fn fraction(out: &mut String, nanos: u32, count: usize) {
    let millis = format!("{:03}", nanos / 1_000_000);
    for i in 0..count {
        out.push(millis.chars().nth(i).unwrap_or('0'));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .expect("test timestamp")
            .timestamp_millis()
    }

    fn fmt(pattern: &str, at: &str, zone: &str) -> String {
        let zone = Zone::parse(zone).expect("zone");
        JodaFormat::compile(pattern)
            .expect("pattern")
            .format(ms(at), &zone)
            .expect("in range")
    }

    #[test]
    fn confluent_path_formats() {
        assert_eq!(
            fmt(
                "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH",
                "2015-12-07T15:04:05Z",
                "UTC"
            ),
            "year=2015/month=12/day=07/hour=15"
        );
        assert_eq!(
            fmt("'dt'=YYYY-MM-dd/'hr'=HH", "2025-01-02T03:04:05Z", "UTC"),
            "dt=2025-01-02/hr=03"
        );
        assert_eq!(fmt("YYYYMMdd", "2025-01-02T03:04:05Z", "UTC"), "20250102");
        assert_eq!(fmt("yy/M/d/H", "2025-01-02T03:04:05Z", "UTC"), "25/1/2/3");
    }

    #[test]
    fn every_letter() {
        let at = "2024-02-29T13:05:09.123Z";
        assert_eq!(fmt("G C YYYY yyyy y", at, "UTC"), "AD 20 2024 2024 2024");
        assert_eq!(fmt("xxxx-'W'ww-e", at, "UTC"), "2024-W09-4");
        assert_eq!(fmt("EEE EEEE D DDD", at, "UTC"), "Thu Thursday 60 060");
        assert_eq!(fmt("MMM MMMM MM M", at, "UTC"), "Feb February 02 2");
        assert_eq!(fmt("h:mm a K k HH", at, "UTC"), "1:05 PM 1 13 13");
        assert_eq!(fmt("ss.SSS S SSSSSS", at, "UTC"), "09.123 1 123000");
        assert_eq!(
            fmt("Z ZZ ZZZ z", at, "Europe/Paris"),
            "+0100 +01:00 Europe/Paris CET"
        );
        assert_eq!(fmt("Z ZZ z", at, "-03:30"), "-0330 -03:30 -03:30");
        // Midnight and noon on the 12- and 24-hour clocks.
        assert_eq!(
            fmt("h K k H a", "2024-01-01T00:00:00Z", "UTC"),
            "12 0 24 0 AM"
        );
        // ISO week year differs from the year around new year.
        assert_eq!(
            fmt("xxxx ww yyyy", "2024-12-30T00:00:00Z", "UTC"),
            "2025 01 2024"
        );
    }

    #[test]
    fn quotes_and_literals() {
        assert_eq!(fmt("''HH''", "2024-01-01T05:00:00Z", "UTC"), "'05'");
        assert_eq!(fmt("'it''s' HH", "2024-01-01T05:00:00Z", "UTC"), "it's 05");
        assert_eq!(
            fmt("'unterminated HH", "2024-01-01T05:00:00Z", "UTC"),
            "unterminated HH"
        );
        assert_eq!(fmt("_-./=:HH", "2024-01-01T05:00:00Z", "UTC"), "_-./=:05");
    }

    #[test]
    fn illegal_letters_are_rejected() {
        assert_eq!(
            JodaFormat::compile("'year'=YYYY/qq"),
            Err("Illegal pattern component: qq".to_string())
        );
        assert_eq!(
            JodaFormat::compile("uuuu"),
            Err("Illegal pattern component: uuuu".to_string())
        );
        assert!(JodaFormat::compile("'quoted q is fine'").is_ok());
    }

    #[test]
    fn text_fields_detected() {
        let has = |p: &str| JodaFormat::compile(p).expect("pattern").has_text_fields();
        assert!(!has("'year'=YYYY/'month'=MM"));
        assert!(has("MMM"));
        assert!(has("EEE"));
        assert!(!has("'EEE'"));
    }

    #[test]
    fn dst_day_in_paris() {
        let p = "'day'=dd/'hour'=HH/Z";
        // Spring forward, 2025-03-30: 01:59 CET is followed by 03:00 CEST.
        assert_eq!(
            fmt(p, "2025-03-30T00:59:00Z", "Europe/Paris"),
            "day=30/hour=01/+0100"
        );
        assert_eq!(
            fmt(p, "2025-03-30T01:00:00Z", "Europe/Paris"),
            "day=30/hour=03/+0200"
        );
        // Fall back, 2025-10-26: 02:xx happens twice.
        assert_eq!(
            fmt(p, "2025-10-26T00:30:00Z", "Europe/Paris"),
            "day=26/hour=02/+0200"
        );
        assert_eq!(
            fmt(p, "2025-10-26T01:30:00Z", "Europe/Paris"),
            "day=26/hour=02/+0100"
        );
        assert_eq!(
            fmt(p, "2025-10-26T22:59:00Z", "Europe/Paris"),
            "day=26/hour=23/+0100"
        );
        assert_eq!(
            fmt(p, "2025-10-26T23:00:00Z", "Europe/Paris"),
            "day=27/hour=00/+0100"
        );
    }

    #[test]
    fn out_of_range_instant() {
        let f = JodaFormat::compile("YYYY").expect("pattern");
        assert_eq!(f.format(i64::MAX, &Zone::UTC), None);
        assert_eq!(
            f.format(-62_135_596_800_000 - 1, &Zone::UTC),
            Some("0001".into())
        );
    }
}
