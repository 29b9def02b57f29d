//! `TimeBasedPartitioner` (and its Daily/Hourly presets): record time → bucket → path.

use super::path_format::JodaFormat;
use super::zone::Zone;

/// Time-based partitioning settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeBased {
    /// `partition.duration.ms`: bucket width (> 0).
    pub duration_ms: i64,
    /// `path.format` as used (trailing directory delimiter removed).
    pub format: JodaFormat,
    /// `timezone`.
    pub zone: Zone,
    /// `locale`, as configured (text fields are printed in English whatever it says).
    pub locale: String,
}

impl TimeBased {
    /// Start (UTC ms) of the bucket holding `ts_ms`: `floor(local(ts) / duration) * duration`
    /// in local time, converted back to UTC as Joda's non-strict `convertLocalToUTC`.
    /// `None` on arithmetic overflow.
    pub fn bucket_start(&self, ts_ms: i64) -> Option<i64> {
        let local = ts_ms.checked_add(self.zone.offset_ms(ts_ms))?;
        let floored = local
            .div_euclid(self.duration_ms)
            .checked_mul(self.duration_ms)?;
        Some(self.zone.local_to_utc(floored))
    }

    /// The encoded partition of a record time, e.g. `year=2025/month=06/day=27`; `None` when
    /// the time is out of range.
    pub fn encode(&self, ts_ms: i64) -> Option<String> {
        self.format.format(self.bucket_start(ts_ms)?, &self.zone)
    }
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;

    use super::*;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .expect("test timestamp")
            .timestamp_millis()
    }

    fn tb(duration_ms: i64, pattern: &str, zone: &str) -> TimeBased {
        TimeBased {
            duration_ms,
            format: JodaFormat::compile(pattern).expect("pattern"),
            zone: Zone::parse(zone).expect("zone"),
            locale: "en-US".into(),
        }
    }

    #[test]
    fn hourly_buckets() {
        let p = tb(HOUR, "'year'=YYYY/'month'=MM/'day'=dd/'hour'=HH", "UTC");
        let t = ms("2025-06-27T13:59:59.999Z");
        assert_eq!(p.bucket_start(t), Some(ms("2025-06-27T13:00:00Z")));
        assert_eq!(
            p.encode(t).as_deref(),
            Some("year=2025/month=06/day=27/hour=13")
        );
        let p = tb(HOUR, "'hour'=HH", "+05:30");
        assert_eq!(
            p.bucket_start(ms("2025-06-27T13:10:00Z")),
            Some(ms("2025-06-27T12:30:00Z"))
        );
        assert_eq!(
            p.encode(ms("2025-06-27T13:10:00Z")).as_deref(),
            Some("hour=18")
        );
    }

    #[test]
    fn daily_buckets_follow_local_midnight() {
        let p = tb(DAY, "'year'=YYYY/'month'=MM/'day'=dd", "Europe/Paris");
        // 23:30 UTC on the 26th is 01:30 on the 27th in Paris (CEST).
        let t = ms("2025-06-26T23:30:00Z");
        assert_eq!(p.bucket_start(t), Some(ms("2025-06-26T22:00:00Z")));
        assert_eq!(p.encode(t).as_deref(), Some("year=2025/month=06/day=27"));
        // Before 1970: floor, not truncation.
        let p = tb(DAY, "YYYY-MM-dd", "UTC");
        assert_eq!(
            p.encode(ms("1969-12-31T12:00:00Z")).as_deref(),
            Some("1969-12-31")
        );
    }

    #[test]
    fn dst_days_in_paris() {
        let p = tb(DAY, "'day'=dd", "Europe/Paris");
        // The 23-hour day: its bucket starts at 00:00 CET = 23:00 UTC the day before.
        let t = ms("2025-03-30T21:59:59Z");
        assert_eq!(p.bucket_start(t), Some(ms("2025-03-29T23:00:00Z")));
        assert_eq!(p.encode(t).as_deref(), Some("day=30"));
        assert_eq!(
            p.encode(ms("2025-03-30T22:00:00Z")).as_deref(),
            Some("day=31")
        );
        // The 25-hour day.
        assert_eq!(
            p.encode(ms("2025-10-26T22:59:59Z")).as_deref(),
            Some("day=26")
        );
        assert_eq!(
            p.encode(ms("2025-10-26T23:00:00Z")).as_deref(),
            Some("day=27")
        );
        // Hourly on the 25-hour day: both 02:xx hours share the path, as in Confluent.
        let p = tb(HOUR, "dd/HH", "Europe/Paris");
        assert_eq!(
            p.encode(ms("2025-10-26T00:30:00Z")).as_deref(),
            Some("26/02")
        );
        assert_eq!(
            p.encode(ms("2025-10-26T01:30:00Z")).as_deref(),
            Some("26/02")
        );
        // 2-hour buckets on the 23-hour day: 03:30 CEST floors to 02:00, which does not exist;
        // Joda's conversion moves it past the gap (03:00 CEST).
        let p = tb(2 * HOUR, "dd/HH", "Europe/Paris");
        assert_eq!(
            p.encode(ms("2025-03-30T01:30:00Z")).as_deref(),
            Some("30/03")
        );
    }

    #[test]
    fn out_of_range() {
        let p = tb(HOUR, "YYYY", "UTC");
        assert_eq!(p.encode(i64::MAX), None);
        assert_eq!(p.encode(1_708_678_334_431_487_123), None);
    }
}
