//! Time zones as Joda-Time's `DateTimeZone.forID` accepts them (`timezone`), and the
//! UTC ↔ local conversions Confluent's partitioner and scheduled rotation rely on.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Offset, TimeZone};
use chrono_tz::{OffsetName, Tz};

/// Milliseconds in a (24-hour) day.
pub(crate) const MS_PER_DAY: i64 = 86_400_000;

/// A `timezone` value: a tz database id (`Europe/Paris`, `UTC`) or a fixed offset (`+02:00`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Zone {
    /// A tz database zone, with its DST rules.
    Named(Tz),
    /// A fixed offset from UTC, without DST.
    Fixed(FixedOffset),
}

/// Local date and time of an instant in a zone, with the offset in force.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Local {
    /// Wall-clock date and time.
    pub(crate) datetime: NaiveDateTime,
    /// Offset from UTC in seconds.
    pub(crate) offset_secs: i32,
}

impl Zone {
    /// UTC.
    pub const UTC: Zone = Zone::Named(Tz::UTC);

    /// Parses a zone id as Joda's `DateTimeZone.forID` does (case-sensitive tz ids, `UTC`,
    /// offsets `[+-]hh`, `[+-]hh:mm`, `[+-]hhmm`, `[+-]hh:mm:ss`); the error is Joda's text.
    pub fn parse(id: &str) -> Result<Zone, String> {
        let not_recognised = || format!("The datetime zone id '{id}' is not recognised");
        if id == "UTC" {
            return Ok(Zone::UTC);
        }
        if let Ok(tz) = Tz::from_str(id) {
            return Ok(Zone::Named(tz));
        }
        if id.starts_with('+') || id.starts_with('-') {
            return parse_offset(id)
                .map(|secs| {
                    if secs == 0 {
                        Zone::UTC
                    } else {
                        FixedOffset::east_opt(secs).map_or(Zone::UTC, Zone::Fixed)
                    }
                })
                .ok_or_else(not_recognised);
        }
        Err(not_recognised())
    }

    /// The zone id: the tz name, or the offset as `+hh:mm`.
    pub fn id(&self) -> String {
        match self {
            Zone::Named(tz) => tz.name().to_string(),
            Zone::Fixed(offset) => format_offset(offset.local_minus_utc(), true),
        }
    }

    /// Offset from UTC (ms) in force at a UTC instant.
    pub fn offset_ms(&self, instant_ms: i64) -> i64 {
        i64::from(self.offset_secs(instant_ms)) * 1000
    }

    fn offset_secs(&self, instant_ms: i64) -> i32 {
        match self {
            Zone::Fixed(offset) => offset.local_minus_utc(),
            Zone::Named(tz) => {
                let utc = naive_utc(instant_ms);
                tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
            }
        }
    }

    /// Joda's `convertUTCToLocal`: the instant shifted by the offset in force.
    pub fn utc_to_local(&self, instant_ms: i64) -> i64 {
        instant_ms.saturating_add(self.offset_ms(instant_ms))
    }

    /// Joda's `convertLocalToUTC(local, strict = false)`: a local time (ms since the local
    /// epoch) back to a UTC instant. Inside a DST gap the result lies just after the gap (for
    /// both hemispheres); in an overlap the later offset's instant is usually returned, as
    /// Joda does.
    pub fn local_to_utc(&self, local_ms: i64) -> i64 {
        let offset_local = self.offset_ms(local_ms);
        let mut offset = self.offset_ms(local_ms.saturating_sub(offset_local));
        if offset != offset_local && offset_local < 0 && self.in_gap(local_ms) {
            // Western hemisphere: Joda keeps the first estimate so that a time in the gap
            // lands after it rather than before.
            offset = offset_local;
        }
        local_ms.saturating_sub(offset)
    }

    /// Whether a local time does not exist (skipped by a DST transition).
    fn in_gap(&self, local_ms: i64) -> bool {
        match self {
            Zone::Fixed(_) => false,
            Zone::Named(tz) => tz
                .offset_from_local_datetime(&naive_utc(local_ms))
                .earliest()
                .is_none(),
        }
    }

    /// Local date-time of a UTC instant, or `None` outside chrono's range (±262,000 years).
    pub(crate) fn local(&self, instant_ms: i64) -> Option<Local> {
        let utc = DateTime::from_timestamp_millis(instant_ms)?.naive_utc();
        let offset_secs = self.offset_secs(instant_ms);
        let datetime = utc.checked_add_signed(chrono::Duration::seconds(i64::from(offset_secs)))?;
        Some(Local {
            datetime,
            offset_secs,
        })
    }

    /// Short zone name at an instant (`CET`, `CEST`, `UTC`), as Joda's `z`; fixed offsets and
    /// zones without an abbreviation print their offset (`+02:00`).
    pub(crate) fn short_name(&self, instant_ms: i64) -> String {
        match self {
            Zone::Fixed(offset) => format_offset(offset.local_minus_utc(), true),
            Zone::Named(tz) => {
                let offset = tz.offset_from_utc_datetime(&naive_utc(instant_ms));
                match offset.abbreviation() {
                    Some(a) if !a.starts_with(['+', '-']) => a.to_string(),
                    _ => format_offset(offset.fix().local_minus_utc(), true),
                }
            }
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// The naive UTC date-time of an instant, clamped into chrono's range (offsets far outside it
/// are those of the nearest representable instant).
fn naive_utc(instant_ms: i64) -> NaiveDateTime {
    match DateTime::from_timestamp_millis(instant_ms) {
        Some(dt) => dt.naive_utc(),
        None if instant_ms < 0 => NaiveDateTime::MIN,
        None => NaiveDateTime::MAX,
    }
}

/// `+hh:mm` (or `+hhmm`), with `:ss` when the offset has seconds.
pub(crate) fn format_offset(secs: i32, colon: bool) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let abs = secs.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    let sep = if colon { ":" } else { "" };
    if s == 0 {
        format!("{sign}{h:02}{sep}{m:02}")
    } else {
        format!("{sign}{h:02}{sep}{m:02}{sep}{s:02}")
    }
}

/// Joda's offset syntax after the sign: `hh`, `hh:mm`, `hhmm`, `hh:mm:ss`, `hhmmss`
/// (hours 0-23, minutes and seconds 0-59). Returns the offset in seconds.
fn parse_offset(id: &str) -> Option<i32> {
    let (sign, rest) = match id.as_bytes().first()? {
        b'+' => (1, &id[1..]),
        b'-' => (-1, &id[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    let colons = rest.matches(':').count();
    if !digits.chars().all(|c| c.is_ascii_digit()) || !matches!(digits.len(), 2 | 4 | 6) {
        return None;
    }
    // Colons, when used, separate every two-digit field.
    if colons != 0 && colons != digits.len() / 2 - 1 {
        return None;
    }
    if colons != 0 && rest.split(':').any(|part| part.len() != 2) {
        return None;
    }
    let field = |i: usize| -> Option<i32> { digits.get(i..i + 2)?.parse().ok() };
    let h = field(0)?;
    let m = if digits.len() >= 4 { field(2)? } else { 0 };
    let s = if digits.len() >= 6 { field(4)? } else { 0 };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + s))
}

/// The next wall-clock rotation time after `now_ms` for `rotate.schedule.interval.ms`.
///
/// As Confluent's `DateTimeUtils.getNextTimeAdjustedByDay`: boundaries are at the start of the
/// local day (00:00 in `zone`) plus whole multiples of `interval_ms` of elapsed time, and never
/// beyond the next local midnight. Unlike Confluent, which caps at a fixed 24 hours after the
/// day's start, the cap is the real next midnight, so 23- and 25-hour DST days also rotate at
/// midnight (on a 25-hour day a 1-day interval also rotates at 23:00, 24 hours in).
pub fn next_schedule_boundary(now_ms: i64, interval_ms: i64, zone: &Zone) -> i64 {
    let interval = interval_ms.max(1);
    let local = zone.utc_to_local(now_ms);
    let day_local = local.div_euclid(MS_PER_DAY).saturating_mul(MS_PER_DAY);
    let start = zone.local_to_utc(day_local);
    let next_midnight = zone.local_to_utc(day_local.saturating_add(MS_PER_DAY));
    let steps = now_ms
        .saturating_sub(start)
        .div_euclid(interval)
        .saturating_add(1);
    let candidate = start.saturating_add(steps.saturating_mul(interval));
    let next = candidate.min(next_midnight);
    if next > now_ms {
        next
    } else {
        now_ms.saturating_add(interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .expect("test timestamp")
            .timestamp_millis()
    }

    #[test]
    fn parses_joda_ids() {
        assert_eq!(Zone::parse("UTC"), Ok(Zone::UTC));
        assert_eq!(
            Zone::parse("Europe/Paris"),
            Ok(Zone::Named(Tz::Europe__Paris))
        );
        assert_eq!(
            Zone::parse("+05:30").map(|z| z.id()),
            Ok("+05:30".to_string())
        );
        assert_eq!(
            Zone::parse("-0800").map(|z| z.id()),
            Ok("-08:00".to_string())
        );
        assert_eq!(Zone::parse("+02").map(|z| z.offset_ms(0)), Ok(7_200_000));
        assert_eq!(Zone::parse("+00:00"), Ok(Zone::UTC));
        assert_eq!(
            Zone::parse("Mars/Olympus"),
            Err("The datetime zone id 'Mars/Olympus' is not recognised".to_string())
        );
        assert!(Zone::parse("europe/paris").is_err());
        assert!(Zone::parse("+24:00").is_err());
        assert!(Zone::parse("+1:00").is_err());
        assert!(Zone::parse("").is_err());
    }

    #[test]
    fn local_to_utc_follows_joda_in_gaps() {
        let paris = Zone::parse("Europe/Paris").expect("zone");
        // 2025-03-30 02:30 local does not exist in Paris (02:00 → 03:00): Joda's non-strict
        // conversion lands after the gap, 01:30 UTC = 03:30 CEST.
        let local = ms("2025-03-30T02:30:00Z");
        assert_eq!(paris.local_to_utc(local), ms("2025-03-30T01:30:00Z"));
        let ny = Zone::parse("America/New_York").expect("zone");
        // 2025-03-09 02:30 does not exist in New York; western hemisphere: 07:30 UTC = 03:30 EDT.
        assert_eq!(
            ny.local_to_utc(ms("2025-03-09T02:30:00Z")),
            ms("2025-03-09T07:30:00Z")
        );
        // Ordinary times round-trip.
        let t = ms("2025-06-27T10:15:00Z");
        assert_eq!(paris.local_to_utc(paris.utc_to_local(t)), t);
        assert_eq!(ny.local_to_utc(ny.utc_to_local(t)), t);
    }

    #[test]
    fn schedule_boundaries_align_to_local_midnight() {
        let paris = Zone::parse("Europe/Paris").expect("zone");
        let hour = 3_600_000;
        // 10:15 CEST → 11:00 CEST.
        assert_eq!(
            next_schedule_boundary(ms("2025-06-27T08:15:00Z"), hour, &paris),
            ms("2025-06-27T09:00:00Z")
        );
        // Exactly on a boundary → the next one.
        assert_eq!(
            next_schedule_boundary(ms("2025-06-27T09:00:00Z"), hour, &paris),
            ms("2025-06-27T10:00:00Z")
        );
        // 7-hour interval: 00, 07, 14, 21, then midnight (not 04:00).
        assert_eq!(
            next_schedule_boundary(ms("2025-06-27T20:00:00Z"), 7 * hour, &paris),
            ms("2025-06-27T22:00:00Z")
        );
        // A 23-hour DST day: with a 1-day interval the next boundary is local midnight.
        assert_eq!(
            next_schedule_boundary(ms("2025-03-30T12:00:00Z"), MS_PER_DAY, &paris),
            ms("2025-03-30T22:00:00Z")
        );
        // A 25-hour day: boundaries count elapsed time from midnight, as in Confluent, so a
        // 1-day interval rotates after 24 hours (23:00 CET), then at midnight.
        assert_eq!(
            next_schedule_boundary(ms("2025-10-26T12:00:00Z"), MS_PER_DAY, &paris),
            ms("2025-10-26T22:00:00Z")
        );
        assert_eq!(
            next_schedule_boundary(ms("2025-10-26T22:00:00Z"), MS_PER_DAY, &paris),
            ms("2025-10-26T23:00:00Z")
        );
        // Hourly on that day: every real hour, both 02:00 included.
        assert_eq!(
            next_schedule_boundary(ms("2025-10-26T00:10:00Z"), 3_600_000, &paris),
            ms("2025-10-26T01:00:00Z")
        );
        // Fixed offset.
        let plus2 = Zone::parse("+02:00").expect("zone");
        assert_eq!(
            next_schedule_boundary(ms("2025-06-27T08:15:00Z"), 30 * 60_000, &plus2),
            ms("2025-06-27T08:30:00Z")
        );
    }
}
