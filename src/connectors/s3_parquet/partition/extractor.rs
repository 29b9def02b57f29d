//! Timestamp extractors (`timestamp.extractor`): Wallclock, Record and RecordField.

use chrono::{DateTime, NaiveDate, NaiveDateTime};

use super::field::{lookup, value_type_name, Lookup};
use super::zone::MS_PER_DAY;
use super::{PartitionError, RecordAt};
use crate::data::{Kind, Logical, Schema, Value};

const CLASS_PREFIX: &str = "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$";

/// Where record time comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Extractor {
    /// Processing time: one `now` per `put` batch (not deterministic).
    Wallclock,
    /// The Kafka record timestamp.
    Record,
    /// A field of the record value (dotted path).
    RecordField(String),
}

impl Extractor {
    /// Parses `timestamp.extractor` (a short name or Confluent's class name); `field` is
    /// `timestamp.field`. The error is the reason, without the key.
    pub fn parse(name: &str, field: &str) -> Result<Extractor, String> {
        let short = name.strip_prefix(CLASS_PREFIX).map_or(name, |class| {
            class.strip_suffix("TimestampExtractor").unwrap_or("")
        });
        match short {
            "Wallclock" => Ok(Extractor::Wallclock),
            "Record" => Ok(Extractor::Record),
            "RecordField" => Ok(Extractor::RecordField(field.to_string())),
            _ => Err(format!(
                "Invalid timestamp extractor: {name}; Sluice supports Wallclock, Record and \
                 RecordField (or their {CLASS_PREFIX}...TimestampExtractor class names), not \
                 custom extractor classes"
            )),
        }
    }

    /// The record time in epoch milliseconds.
    pub fn extract(
        &self,
        at: &RecordAt,
        record_ts: Option<i64>,
        value: &Value,
        schema: Option<&Schema>,
        now_ms: i64,
    ) -> Result<i64, PartitionError> {
        match self {
            Extractor::Wallclock => Ok(now_ms),
            Extractor::Record => {
                record_ts.ok_or_else(|| PartitionError::NoRecordTimestamp { at: at.clone() })
            }
            Extractor::RecordField(field) => {
                let bad = |reason: String| PartitionError::BadTimestamp {
                    field: field.clone(),
                    at: at.clone(),
                    reason,
                };
                match lookup(value, schema, field) {
                    Err(reason) => Err(PartitionError::Field {
                        field: field.clone(),
                        at: at.clone(),
                        reason,
                    }),
                    Ok(Lookup::Null) => Err(bad("it is null".into())),
                    Ok(Lookup::Absent) => Err(bad("the value has no such key".into())),
                    Ok(Lookup::Found(v, s)) => field_timestamp(v, s).map_err(bad),
                }
            }
        }
    }
}

/// A timestamp field's value as epoch milliseconds.
///
/// By schema name: Connect `Timestamp` and Debezium `Timestamp` (ms), Debezium
/// `MicroTimestamp` (µs) and `NanoTimestamp` (ns), Connect/Debezium `Date` (days),
/// Debezium `ZonedTimestamp` (ISO-8601 text). Numbers without such a name (plain integers,
/// schemaless numbers, all-digit strings) are epoch seconds, ms, µs or ns by magnitude (see
/// [`epoch_ms_by_magnitude`]); other strings are ISO-8601 (no offset = UTC). Sub-millisecond
/// precision is floored.
pub(crate) fn field_timestamp(value: &Value, schema: Option<&Schema>) -> Result<i64, String> {
    let logical = schema.and_then(Schema::logical);
    let int = |v: &Value| match v {
        Value::Int(i) => Ok(*i),
        other => Err(format!(
            "expected an integer, found {}",
            value_type_name(other)
        )),
    };
    match logical {
        Some(Logical::TimestampMillisUtc | Logical::TimestampMillis) => int(value),
        Some(Logical::TimestampMicros) => Ok(int(value)?.div_euclid(1_000)),
        Some(Logical::TimestampNanos) => Ok(int(value)?.div_euclid(1_000_000)),
        Some(Logical::Date) => int(value)?
            .checked_mul(MS_PER_DAY)
            .ok_or_else(|| "date out of range".to_string()),
        Some(Logical::ZonedTimestamp) => match value {
            Value::String(s) => parse_text(s),
            other => Err(format!(
                "expected an ISO-8601 string, found {}",
                value_type_name(other)
            )),
        },
        Some(
            Logical::TimeMillis | Logical::TimeMicros | Logical::TimeNanos | Logical::ZonedTime,
        ) => Err(format!(
            "{} is a time of day, not a timestamp",
            schema.and_then(|s| s.name.as_deref()).unwrap_or("a time")
        )),
        _ => match (schema.map(|s| &s.kind), value) {
            (Some(Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64) | None, Value::Int(i)) => {
                Ok(epoch_ms_by_magnitude(*i))
            }
            (Some(Kind::String) | None, Value::String(s)) => parse_text(s),
            (None, Value::Float(f)) if f.is_finite() && f.abs() < 9.2e18 => {
                Ok(float_epoch_ms_by_magnitude(*f))
            }
            (Some(kind), _) => Err(format!(
                "unsupported type {} for a timestamp field (use an integer, a string or a \
                 Connect Timestamp)",
                kind.type_name()
            )),
            (None, other) => Err(format!(
                "unsupported type {} for a timestamp field (use a number or a string)",
                value_type_name(other)
            )),
        },
    }
}

/// Below this magnitude a bare number is epoch seconds (1e11 s is the year 5138; 1e11 ms would
/// be 1973, when no CDC pipeline ran).
const SECONDS_BELOW: i64 = 100_000_000_000;
/// Below this, epoch milliseconds (1e14 ms is the year 5138).
const MILLIS_BELOW: i64 = 100_000_000_000_000;
/// Below this, epoch microseconds; above, nanoseconds.
const MICROS_BELOW: i64 = 100_000_000_000_000_000;

/// Epoch ms of a number whose unit is unknown, by magnitude: seconds below 1e11, ms below
/// 1e14, µs below 1e17, ns above. Users' columns hold epoch seconds (`EXTRACT(EPOCH ...)`),
/// ms (`source.ts_ms`) and µs (Debezium's schemaless `MicroTimestamp`) alike, and reading µs
/// as ms, as Confluent's extractor does, puts rows in the year 50,000.
pub(crate) fn epoch_ms_by_magnitude(n: i64) -> i64 {
    let m = n.unsigned_abs();
    if m < SECONDS_BELOW as u64 {
        n * 1_000
    } else if m < MILLIS_BELOW as u64 {
        n
    } else if m < MICROS_BELOW as u64 {
        n.div_euclid(1_000)
    } else {
        n.div_euclid(1_000_000)
    }
}

/// [`epoch_ms_by_magnitude`] for a float (fractions of the unit kept down to the ms).
fn float_epoch_ms_by_magnitude(f: f64) -> i64 {
    let m = f.abs();
    let ms = if m < SECONDS_BELOW as f64 {
        f * 1e3
    } else if m < MILLIS_BELOW as f64 {
        f
    } else if m < MICROS_BELOW as f64 {
        f / 1e3
    } else {
        f / 1e6
    };
    ms.floor() as i64
}

/// Epoch ms from text: all digits → an epoch number by magnitude, otherwise ISO-8601.
fn parse_text(text: &str) -> Result<i64, String> {
    let t = text.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse::<i64>()
            .map(epoch_ms_by_magnitude)
            .map_err(|_| format!("'{text}' is too large for an epoch timestamp"));
    }
    parse_iso(t)
        .ok_or_else(|| format!("'{text}' is neither epoch milliseconds nor an ISO-8601 date-time"))
}

/// ISO-8601 date-times with or without offset (`Z`, `+01`, `+0100`, `+01:00`), `T` or a
/// space between date and time, optional seconds and fraction; plain dates. No offset = UTC.
pub(crate) fn parse_iso(text: &str) -> Option<i64> {
    let (body, zulu) = match text.strip_suffix(['Z', 'z']) {
        Some(body) => (body, true),
        None => (text, false),
    };
    let with_offset = if zulu {
        format!("{body}+00:00")
    } else {
        text.to_string()
    };
    const ZONED: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f%#z",
        "%Y-%m-%d %H:%M:%S%.f%#z",
        "%Y-%m-%dT%H:%M%#z",
        "%Y-%m-%d %H:%M%#z",
    ];
    for f in ZONED {
        if let Ok(dt) = DateTime::parse_from_str(&with_offset, f) {
            return Some(dt.timestamp_millis());
        }
    }
    const NAIVE: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ];
    for f in NAIVE {
        if let Ok(dt) = NaiveDateTime::parse_from_str(body, f) {
            return Some(dt.and_utc().timestamp_millis());
        }
    }
    let date = NaiveDate::parse_from_str(body, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::schema::names;

    fn at() -> RecordAt {
        RecordAt {
            topic: "pg.public.orders".into(),
            partition: 0,
            offset: 9,
        }
    }

    fn ms(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .expect("test timestamp")
            .timestamp_millis()
    }

    fn named(kind: Kind, name: &str) -> Arc<Schema> {
        Arc::new(Schema::new(kind, true).named(name))
    }

    /// A Debezium-like envelope: `after.created` (MicroTimestamp) and friends, `source.ts_ms`.
    fn envelope() -> (Schema, Value) {
        let after = Arc::new(Schema::structure(
            vec![
                ("created", named(Kind::Int64, names::DBZ_MICRO_TIMESTAMP)),
                ("created_ns", named(Kind::Int64, names::DBZ_NANO_TIMESTAMP)),
                ("created_ms", named(Kind::Int64, names::DBZ_TIMESTAMP)),
                ("updated", named(Kind::String, names::DBZ_ZONED_TIMESTAMP)),
                ("day", named(Kind::Int32, names::DBZ_DATE)),
                ("connect_day", named(Kind::Int32, names::DATE)),
                ("connect_ts", named(Kind::Int64, names::TIMESTAMP)),
                ("at_time", named(Kind::Int64, names::DBZ_MICRO_TIME)),
                ("iso", Arc::new(Schema::new(Kind::String, true))),
                ("digits", Arc::new(Schema::new(Kind::String, true))),
                ("price", Arc::new(Schema::new(Kind::Float64, true))),
                ("gone", named(Kind::Int64, names::DBZ_MICRO_TIMESTAMP)),
            ],
            true,
        ));
        let source = Arc::new(Schema::structure(
            vec![("ts_ms", Arc::new(Schema::new(Kind::Int64, true)))],
            false,
        ));
        let schema = Schema::structure(vec![("after", after), ("source", source)], false);
        let value = Value::Struct(vec![
            Value::Struct(vec![
                Value::Int(1_708_678_334_431_487),
                Value::Int(1_708_678_334_431_487_123),
                Value::Int(1_708_678_334_431),
                Value::String("2024-02-23T08:52:14.431487Z".into()),
                Value::Int(19_776),
                Value::Int(19_776),
                Value::Int(1_708_678_334_431),
                Value::Int(3_600_000_000),
                Value::String("2024-02-23T09:52:14.431+01:00".into()),
                Value::String("1708678334431".into()),
                Value::Float(1.5),
                Value::Null,
            ]),
            Value::Struct(vec![Value::Int(1_708_678_334_500)]),
        ]);
        (schema, value)
    }

    fn extract(field: &str) -> Result<i64, String> {
        let (schema, value) = envelope();
        Extractor::RecordField(field.into())
            .extract(&at(), None, &value, Some(&schema), 0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn parses_names_and_classes() {
        assert_eq!(
            Extractor::parse("Wallclock", "ts"),
            Ok(Extractor::Wallclock)
        );
        assert_eq!(Extractor::parse("Record", "ts"), Ok(Extractor::Record));
        assert_eq!(
            Extractor::parse("RecordField", "source.ts_ms"),
            Ok(Extractor::RecordField("source.ts_ms".into()))
        );
        assert_eq!(
            Extractor::parse(
                "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$RecordFieldTimestampExtractor",
                "f"
            ),
            Ok(Extractor::RecordField("f".into()))
        );
        assert_eq!(
            Extractor::parse(
                "io.confluent.connect.storage.partitioner.TimeBasedPartitioner$WallclockTimestampExtractor",
                "f"
            ),
            Ok(Extractor::Wallclock)
        );
        let err = Extractor::parse("com.acme.MyExtractor", "f").expect_err("custom class");
        assert!(
            err.starts_with("Invalid timestamp extractor: com.acme.MyExtractor;"),
            "{err}"
        );
        assert!(Extractor::parse("wallclock", "f").is_err());
        assert!(Extractor::parse(CLASS_PREFIX, "f").is_err());
    }

    #[test]
    fn wallclock_and_record() {
        let v = Value::Null;
        assert_eq!(
            Extractor::Wallclock
                .extract(&at(), Some(5), &v, None, 1234)
                .expect("wallclock"),
            1234
        );
        assert_eq!(
            Extractor::Record
                .extract(&at(), Some(5), &v, None, 1234)
                .expect("record"),
            5
        );
        assert_eq!(
            Extractor::Record
                .extract(&at(), None, &v, None, 1234)
                .map_err(|e| e.to_string()),
            Err(
                "record pg.public.orders-0 offset 9 has no timestamp (timestamp.extractor=Record)"
                    .into()
            )
        );
    }

    #[test]
    fn debezium_and_connect_time_types() {
        let expected = ms("2024-02-23T08:52:14.431Z");
        // MicroTimestamp is µs: Confluent's extractor would read it as ms (year 56 000).
        assert_eq!(extract("after.created"), Ok(expected));
        assert_eq!(extract("after.created_ns"), Ok(expected));
        assert_eq!(extract("after.created_ms"), Ok(expected));
        assert_eq!(extract("after.updated"), Ok(expected));
        assert_eq!(extract("after.connect_ts"), Ok(expected));
        assert_eq!(extract("after.day"), Ok(ms("2024-02-23T00:00:00Z")));
        assert_eq!(extract("after.connect_day"), Ok(ms("2024-02-23T00:00:00Z")));
        assert_eq!(extract("after.iso"), Ok(expected));
        assert_eq!(extract("after.digits"), Ok(expected));
        assert_eq!(extract("source.ts_ms"), Ok(ms("2024-02-23T08:52:14.500Z")));
    }

    #[test]
    fn negative_micros_floor() {
        let s = named(Kind::Int64, names::DBZ_MICRO_TIMESTAMP);
        assert_eq!(field_timestamp(&Value::Int(-1), Some(&s)), Ok(-1));
        assert_eq!(field_timestamp(&Value::Int(-1_000), Some(&s)), Ok(-1));
        assert_eq!(field_timestamp(&Value::Int(-1_001), Some(&s)), Ok(-2));
    }

    #[test]
    fn field_errors() {
        assert_eq!(
            extract("after.gone"),
            Err(
                "timestamp field 'after.gone' of record pg.public.orders-0 offset 9: it is null"
                    .into()
            )
        );
        assert_eq!(
            extract("after.at_time"),
            Err(
                "timestamp field 'after.at_time' of record pg.public.orders-0 offset 9: \
                 io.debezium.time.MicroTime is a time of day, not a timestamp"
                    .into()
            )
        );
        assert_eq!(
            extract("after.price"),
            Err(
                "timestamp field 'after.price' of record pg.public.orders-0 offset 9: \
                 unsupported type FLOAT64 for a timestamp field (use an integer, a string or a \
                 Connect Timestamp)"
                    .into()
            )
        );
        assert_eq!(
            extract("after.nope"),
            Err(
                "cannot read field 'after.nope' of record pg.public.orders-0 offset 9: 'after' \
                 has no field 'nope' (fields: created, created_ns, created_ms, updated, day, \
                 connect_day, connect_ts, at_time, iso, digits, price, gone)"
                    .into()
            )
        );
    }

    #[test]
    fn schemaless_values() {
        let value = Value::Map(vec![
            (Value::String("ts".into()), Value::Int(1_700_000_000_000)),
            (Value::String("f".into()), Value::Float(1_700_000_000_000.9)),
            (
                Value::String("s".into()),
                Value::String("2023-11-14T22:13:20Z".into()),
            ),
            (Value::String("b".into()), Value::Boolean(true)),
        ]);
        let run = |field: &str| {
            Extractor::RecordField(field.into())
                .extract(&at(), None, &value, None, 0)
                .map_err(|e| e.to_string())
        };
        assert_eq!(run("ts"), Ok(1_700_000_000_000));
        assert_eq!(run("f"), Ok(1_700_000_000_000));
        assert_eq!(run("s"), Ok(1_700_000_000_000));
        for (field, v) in [
            ("sec", Value::Int(1_700_000_000)),
            ("sec_f", Value::Float(1_700_000_000.25)),
            ("us", Value::Int(1_700_000_000_000_123)),
            ("ns", Value::Int(1_700_000_000_000_123_456)),
            ("digits_s", Value::String("1700000000".into())),
            ("digits_us", Value::String("1700000000000999".into())),
        ] {
            let value = Value::Map(vec![(Value::String(field.into()), v)]);
            let got = Extractor::RecordField(field.into())
                .extract(&at(), None, &value, None, 0)
                .map_err(|e| e.to_string());
            let want = if field == "sec_f" {
                1_700_000_000_250
            } else {
                1_700_000_000_000
            };
            assert_eq!(got, Ok(want), "{field}");
        }
        assert_eq!(epoch_ms_by_magnitude(-1_000), -1_000_000);
        assert_eq!(
            epoch_ms_by_magnitude(-1_700_000_000_000_001),
            -1_700_000_000_001
        );
        assert_eq!(
            run("missing"),
            Err(
                "timestamp field 'missing' of record pg.public.orders-0 offset 9: the value has \
                 no such key"
                    .into()
            )
        );
        assert!(run("b").is_err());
    }

    #[test]
    fn iso_variants() {
        let t = ms("2024-02-23T08:52:14Z");
        assert_eq!(parse_iso("2024-02-23T08:52:14Z"), Some(t));
        assert_eq!(parse_iso("2024-02-23T08:52:14"), Some(t));
        assert_eq!(parse_iso("2024-02-23 08:52:14"), Some(t));
        assert_eq!(parse_iso("2024-02-23T09:52:14+01:00"), Some(t));
        assert_eq!(parse_iso("2024-02-23T09:52:14+0100"), Some(t));
        assert_eq!(parse_iso("2024-02-23T09:52:14+01"), Some(t));
        assert_eq!(
            parse_iso("2024-02-23T08:52Z"),
            Some(ms("2024-02-23T08:52:00Z"))
        );
        assert_eq!(parse_iso("2024-02-23"), Some(ms("2024-02-23T00:00:00Z")));
        assert_eq!(parse_iso("2024-02-23T08:52:14.999999999Z"), Some(t + 999));
        assert_eq!(parse_iso("yesterday"), None);
        assert_eq!(parse_text(" 1708678334431 "), Ok(1_708_678_334_431));
        assert!(parse_text("99999999999999999999").is_err());
    }
}
