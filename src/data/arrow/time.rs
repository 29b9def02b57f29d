//! Timestamps: Debezium's infinity sentinels, ZonedTimestamp text ↔ UTC microseconds.
//!
//! Hand-written rather than via chrono: ZonedTimestamp parsing is on the per-record hot path and
//! the accepted grammar is small (Java's `ISO_OFFSET_DATE_TIME` output).

use arrow::datatypes::TimeUnit;

/// Debezium's `+infinity` timestamp (PostgreSQL JDBC `PGStatement.DATE_POSITIVE_INFINITY`).
pub const POSITIVE_INFINITY: i64 = 9_223_372_036_825_200_000;
/// Debezium's `-infinity` timestamp (PostgreSQL JDBC `PGStatement.DATE_NEGATIVE_INFINITY`).
pub const NEGATIVE_INFINITY: i64 = -9_223_372_036_832_400_000;

/// Day numbers Debezium 3.6 emits for PostgreSQL `date` ±infinity (overflowed int32 values of
/// the JDBC sentinels; the snapshot and streaming paths overflow differently, observed in
/// tests/data/debezium). All lie below PostgreSQL's earliest date (4714-11-24 BC, day -2440588),
/// so no real date is mistaken for one.
const DATE_POSITIVE_INFINITY: [i32; 2] = [-622_191_234, -2_147_472_692];
/// See [`DATE_POSITIVE_INFINITY`].
const DATE_NEGATIVE_INFINITY: [i32; 2] = [-625_821_272, -2_147_472_691];
/// 0001-01-01 and 9999-12-31 as days since the epoch: where a clamped infinite date goes.
pub const DATE_MIN: i32 = -719_162;
/// See [`DATE_MIN`].
pub const DATE_MAX: i32 = 2_932_896;

/// `Some((sign, clamped day))` when `days` is one of Debezium's infinite-date sentinels.
pub fn date_infinity(days: i32) -> Option<(&'static str, i32)> {
    if DATE_POSITIVE_INFINITY.contains(&days) {
        Some(("+infinity", DATE_MAX))
    } else if DATE_NEGATIVE_INFINITY.contains(&days) {
        Some(("-infinity", DATE_MIN))
    } else {
        None
    }
}

/// Seconds from the epoch to 0001-01-01T00:00:00Z.
const MIN_SECONDS: i64 = -62_135_596_800;
/// Seconds from the epoch to 10000-01-01T00:00:00Z.
const END_SECONDS: i64 = 253_402_300_800;

fn per_second(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// The latest instant a clamped `+infinity` becomes: 9999-12-31T23:59:59.999… in `unit`, or
/// the largest i64 when the unit cannot reach year 9999 (ns: 2262-04-11).
pub fn clamp_max(unit: TimeUnit) -> i64 {
    END_SECONDS
        .checked_mul(per_second(unit))
        .map_or(i64::MAX, |v| v - 1)
}

/// The earliest instant a clamped `-infinity` becomes: 0001-01-01T00:00:00, or the smallest
/// i64 + 1 when the unit cannot reach year 1 (i64::MIN is pandas' NaT, so it is avoided).
pub fn clamp_min(unit: TimeUnit) -> i64 {
    MIN_SECONDS
        .checked_mul(per_second(unit))
        .unwrap_or(i64::MIN + 1)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A parsed ZonedTimestamp, or one of the infinity strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zoned {
    /// An instant: UTC microseconds, and whether non-zero sub-µs digits were truncated.
    Micros(i64, bool),
    /// `"infinity"` / `"+infinity"`.
    PositiveInfinity,
    /// `"-infinity"`.
    NegativeInfinity,
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Exactly `n` digits.
    fn digits(&mut self, n: usize, what: &'static str) -> Result<u32, &'static str> {
        let s = self.b.get(self.i..self.i + n).ok_or(what)?;
        let mut v = 0u32;
        for &c in s {
            if !c.is_ascii_digit() {
                return Err(what);
            }
            v = v * 10 + (c - b'0') as u32;
        }
        self.i += n;
        Ok(v)
    }
}

/// Parses ISO-8601 date-time text with an offset (`2024-02-23T10:52:14.431487+02:00`) to UTC
/// microseconds; also `infinity` / `-infinity`. The error says what is wrong.
pub fn parse_zoned(text: &str) -> Result<Zoned, &'static str> {
    match text {
        "infinity" | "+infinity" => return Ok(Zoned::PositiveInfinity),
        "-infinity" => return Ok(Zoned::NegativeInfinity),
        _ => {}
    }
    let mut c = Cursor {
        b: text.as_bytes(),
        i: 0,
    };
    // Year: 4 digits, or a sign and 4+ digits (Java prints years beyond 9999 with '+').
    let negative = c.eat(b'-');
    let signed = negative || c.eat(b'+');
    let start = c.i;
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.i += 1;
    }
    let ylen = c.i - start;
    if ylen < 4 || (!signed && ylen > 4) || ylen > 9 {
        return Err("expected a 4-digit year");
    }
    let mut year: i64 = 0;
    for &d in &c.b[start..c.i] {
        year = year * 10 + (d - b'0') as i64;
    }
    if negative {
        year = -year;
    }
    if !c.eat(b'-') {
        return Err("expected '-' after the year");
    }
    let month = c.digits(2, "expected a 2-digit month")?;
    if !c.eat(b'-') {
        return Err("expected '-' after the month");
    }
    let day = c.digits(2, "expected a 2-digit day")?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err("date out of range");
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat(b' ')) {
        return Err("expected 'T' between date and time");
    }
    let hour = c.digits(2, "expected a 2-digit hour")?;
    if !c.eat(b':') {
        return Err("expected ':' after the hour");
    }
    let minute = c.digits(2, "expected 2-digit minutes")?;
    let mut second = 0;
    let mut nanos: u32 = 0;
    if c.eat(b':') {
        second = c.digits(2, "expected 2-digit seconds")?;
        if c.eat(b'.') || c.eat(b',') {
            let fstart = c.i;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.i += 1;
            }
            let flen = c.i - fstart;
            if flen == 0 || flen > 9 {
                return Err("expected 1 to 9 fractional digits");
            }
            for &d in &c.b[fstart..c.i] {
                nanos = nanos * 10 + (d - b'0') as u32;
            }
            nanos *= 10u32.pow((9 - flen) as u32);
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err("time out of range");
    }
    let offset_seconds: i64 = if c.eat(b'Z') || c.eat(b'z') {
        0
    } else {
        let sign = match c.peek() {
            Some(b'+') => 1,
            Some(b'-') => -1,
            _ => return Err("expected an offset (Z or ±HH:MM)"),
        };
        c.i += 1;
        let oh = c.digits(2, "expected a 2-digit offset hour")?;
        let mut om = 0;
        let mut os = 0;
        if c.eat(b':') {
            om = c.digits(2, "expected 2-digit offset minutes")?;
            if c.eat(b':') {
                os = c.digits(2, "expected 2-digit offset seconds")?;
            }
        } else if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            om = c.digits(2, "expected 2-digit offset minutes")?;
        }
        if oh > 18 || om > 59 || os > 59 {
            return Err("offset out of range");
        }
        sign * (oh as i64 * 3600 + om as i64 * 60 + os as i64)
    };
    if c.i != c.b.len() {
        return Err("unexpected text after the offset");
    }
    let secs = days_from_civil(year, month, day) * 86_400
        + hour as i64 * 3600
        + minute as i64 * 60
        + second as i64
        - offset_seconds;
    let micros = (secs as i128) * 1_000_000 + (nanos / 1000) as i128;
    let micros = i64::try_from(micros).map_err(|_| "instant out of the i64 microsecond range")?;
    Ok(Zoned::Micros(micros, nanos % 1000 != 0))
}

/// ISO-8601 UTC text of epoch microseconds as Debezium writes a ZonedTimestamp
/// (`2024-02-23T08:52:14.431487Z`; fraction without trailing zeros, none when zero).
pub fn format_zoned_micros(micros: i64) -> String {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let year = if (0..=9999).contains(&y) {
        format!("{y:04}")
    } else if y > 9999 {
        format!("+{y}")
    } else {
        format!("-{:04}", -y)
    };
    let mut s = format!(
        "{year}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac != 0 {
        let f = format!("{frac:06}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 2, 23), 19776);
        for z in [-800_000i64, -719_468, -1, 0, 1, 19776, 2_932_896, 3_000_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{z}");
        }
    }

    #[test]
    fn parses_offsets_and_fractions() {
        let utc = parse_zoned("2024-02-23T08:52:14.431487Z").unwrap();
        assert_eq!(utc, Zoned::Micros(1_708_678_334_431_487, false));
        assert_eq!(
            parse_zoned("2024-02-23T10:52:14.431487+02:00").unwrap(),
            utc
        );
        assert_eq!(parse_zoned("2024-02-23T05:22:14.431487-0330").unwrap(), utc);
        assert_eq!(
            parse_zoned("2024-02-23T08:52:14Z").unwrap(),
            Zoned::Micros(1_708_678_334_000_000, false)
        );
        assert_eq!(
            parse_zoned("2024-02-23T08:52Z").unwrap(),
            Zoned::Micros(1_708_678_320_000_000, false)
        );
        assert_eq!(
            parse_zoned("1969-12-31T23:59:59.9999995Z").unwrap(),
            Zoned::Micros(-1, true)
        );
        assert_eq!(parse_zoned("-infinity").unwrap(), Zoned::NegativeInfinity);
        for bad in [
            "2024-02-30T00:00:00Z",
            "2024-02-23T08:52:14",
            "2024-02-23 08:52:14+2",
            "24-02-23T08:52:14Z",
            "2024-02-23T24:00:00Z",
            "2024-02-23T08:52:14.Z",
            "2024-02-23T08:52:14.1234567890Z",
            "2024-02-23T08:52:14Zjunk",
            "",
            "__debezium_unavailable_value",
        ] {
            assert!(parse_zoned(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats_like_debezium() {
        assert_eq!(
            format_zoned_micros(1_708_678_334_431_487),
            "2024-02-23T08:52:14.431487Z"
        );
        assert_eq!(format_zoned_micros(-1), "1969-12-31T23:59:59.999999Z");
        assert_eq!(format_zoned_micros(500_000), "1970-01-01T00:00:00.5Z");
        for m in [
            clamp_max(TimeUnit::Microsecond),
            clamp_min(TimeUnit::Microsecond),
            0,
            -62_135_596_800_000_001,
            253_402_300_800_000_000,
        ] {
            let t = format_zoned_micros(m);
            assert_eq!(parse_zoned(&t).unwrap(), Zoned::Micros(m, false), "{t}");
        }
        assert_eq!(
            format_zoned_micros(clamp_max(TimeUnit::Microsecond)),
            "9999-12-31T23:59:59.999999Z"
        );
        assert_eq!(
            format_zoned_micros(clamp_min(TimeUnit::Microsecond)),
            "0001-01-01T00:00:00Z"
        );
        assert_eq!(clamp_max(TimeUnit::Nanosecond), i64::MAX);
        assert_eq!(clamp_max(TimeUnit::Millisecond), 253_402_300_799_999);
    }
}

#[cfg(test)]
mod date_infinity_tests {
    use super::*;

    #[test]
    fn debezium_infinite_dates_are_recognised_and_real_dates_are_not() {
        assert_eq!(date_infinity(-622_191_234), Some(("+infinity", DATE_MAX)));
        assert_eq!(date_infinity(-2_147_472_692), Some(("+infinity", DATE_MAX)));
        assert_eq!(date_infinity(-625_821_272), Some(("-infinity", DATE_MIN)));
        assert_eq!(date_infinity(-2_147_472_691), Some(("-infinity", DATE_MIN)));
        for real in [0, 19_782, DATE_MIN, DATE_MAX, -2_440_588] {
            assert_eq!(date_infinity(real), None, "{real}");
        }
    }
}
