//! Partitioners (Default, Field, TimeBased, Daily, Hourly) and timestamp extractors, with
//! Confluent's S3 sink semantics (`kafka-connect-storage-common` `partitioner/*`): the encoded
//! partition is the directory between `<topics.dir>/<topic>/` and the file name.

mod extractor;
mod field;
mod path_format;
mod time_based;
mod zone;

use std::fmt;

pub use extractor::Extractor;
pub use path_format::JodaFormat;
pub use time_based::TimeBased;
pub use zone::{next_schedule_boundary, Zone};

use crate::data::{Schema, SinkRecord, Value};

const PARTITIONER_PACKAGE: &str = "io.confluent.connect.storage.partitioner.";
const DAILY_FORMAT: [(&str, &str); 3] = [("year", "YYYY"), ("month", "MM"), ("day", "dd")];
const HOURLY_FORMAT: [(&str, &str); 4] = [
    ("year", "YYYY"),
    ("month", "MM"),
    ("day", "dd"),
    ("hour", "HH"),
];

/// Which directory a record goes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Partitioner {
    /// `partition=<kafka partition>`.
    Default,
    /// `<field>=<value>` per configured field (dotted paths reach nested fields).
    Field(Vec<String>),
    /// Record time bucketed and formatted (TimeBased, Daily and Hourly partitioners).
    TimeBased(TimeBased),
}

/// The partitioner and timestamp extractor of a connector.
#[derive(Debug, Clone, PartialEq)]
pub struct Partitioning {
    partitioner: Partitioner,
    extractor: Extractor,
    directory_delim: String,
}

/// The partitioner keys of a connector config, as typed values (`S3SinkConfig::parse` reads
/// them; the schema has already checked their types).
#[derive(Debug, Clone, Copy)]
pub struct PartitioningConfig<'a> {
    /// `partitioner.class`.
    pub partitioner_class: &'a str,
    /// `partition.field.name`.
    pub partition_fields: &'a [String],
    /// `partition.duration.ms`.
    pub partition_duration_ms: i64,
    /// `path.format`.
    pub path_format: &'a str,
    /// `locale`.
    pub locale: &'a str,
    /// `timezone`.
    pub timezone: &'a str,
    /// `timestamp.extractor`.
    pub timestamp_extractor: &'a str,
    /// `timestamp.field`.
    pub timestamp_field: &'a str,
    /// `directory.delim`.
    pub directory_delim: &'a str,
}

/// Identifies a record in error messages: `orders-3 offset 42`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordAt {
    /// Topic.
    pub topic: String,
    /// Kafka partition.
    pub partition: i32,
    /// Kafka offset.
    pub offset: i64,
}

impl RecordAt {
    /// The location of a record.
    pub fn of(record: &SinkRecord) -> RecordAt {
        RecordAt {
            topic: record.topic.to_string(),
            partition: record.partition,
            offset: record.offset,
        }
    }
}

impl fmt::Display for RecordAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{} offset {}",
            self.topic, self.partition, self.offset
        )
    }
}

/// Why a record's timestamp or partition could not be determined (a record-level error:
/// the error handler applies `errors.tolerance` / the DLQ).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartitionError {
    /// `timestamp.extractor=Record` and the record has no timestamp.
    #[error("record {at} has no timestamp (timestamp.extractor=Record)")]
    NoRecordTimestamp {
        /// The record.
        at: RecordAt,
    },
    /// A dotted field path cannot be followed in the record value.
    #[error("cannot read field '{field}' of record {at}: {reason}")]
    Field {
        /// The configured field path.
        field: String,
        /// The record.
        at: RecordAt,
        /// Why.
        reason: String,
    },
    /// The timestamp field is null, missing or not a timestamp.
    #[error("timestamp field '{field}' of record {at}: {reason}")]
    BadTimestamp {
        /// `timestamp.field`.
        field: String,
        /// The record.
        at: RecordAt,
        /// Why.
        reason: String,
    },
    /// A `partition.field.name` field has a type FieldPartitioner cannot encode.
    #[error(
        "partition field '{field}' of record {at} is of type {type_name}; FieldPartitioner \
         supports INT8, INT16, INT32, INT64, STRING and BOOLEAN fields"
    )]
    UnsupportedPartitionField {
        /// The field path.
        field: String,
        /// The record.
        at: RecordAt,
        /// Connect type name of the value.
        type_name: String,
    },
    /// The record time is too far from today to format a path.
    #[error("timestamp {ts_ms} of record {at} is out of range for path.format")]
    OutOfRange {
        /// The record time in epoch ms.
        ts_ms: i64,
        /// The record.
        at: RecordAt,
    },
}

/// `Invalid value V for configuration K: reason`, Connect's `ConfigException` text.
pub(crate) fn invalid(key: &str, value: &str, reason: &str) -> (String, String) {
    (
        key.to_string(),
        format!("Invalid value {value} for configuration {key}: {reason}"),
    )
}

/// The partitioner kinds by short class name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Default,
    Field,
    TimeBased,
    Daily,
    Hourly,
}

fn partitioner_kind(class: &str) -> Option<Kind> {
    Some(
        match class.strip_prefix(PARTITIONER_PACKAGE).unwrap_or(class) {
            "DefaultPartitioner" => Kind::Default,
            "FieldPartitioner" => Kind::Field,
            "TimeBasedPartitioner" => Kind::TimeBased,
            "DailyPartitioner" => Kind::Daily,
            "HourlyPartitioner" => Kind::Hourly,
            _ => return None,
        },
    )
}

/// A Joda pattern `'year='YYYY'/month='MM...` from `(label, field)` pairs, the directory
/// delimiter inside the quoted literals (adjacent quoted sections would merge into one with a
/// quote in it).
fn preset_format(parts: &[(&str, &str)], delim: &str) -> String {
    let mut pattern = String::new();
    for (i, (label, field)) in parts.iter().enumerate() {
        let sep = if i == 0 { "" } else { delim };
        pattern.push('\'');
        pattern.push_str(&format!("{sep}{label}=").replace('\'', "''"));
        pattern.push('\'');
        pattern.push_str(field);
    }
    pattern
}

impl Partitioning {
    /// Builds the partitioning from the partitioner keys, with Confluent's checks and texts
    /// (`TimeBasedPartitioner.configure`, `FieldPartitionerValidator`, `TimezoneValidator`).
    pub fn from_config(c: &PartitioningConfig<'_>) -> Result<Self, Vec<(String, String)>> {
        let mut errors = Vec::new();
        let timezone = c.timezone.trim();
        let zone = if timezone.is_empty() {
            None
        } else {
            match Zone::parse(timezone) {
                Ok(z) => Some(z),
                Err(e) => {
                    errors.push(invalid("timezone", timezone, &e));
                    None
                }
            }
        };
        let extractor = match Extractor::parse(c.timestamp_extractor.trim(), c.timestamp_field) {
            Ok(Extractor::RecordField(f)) if f.trim().is_empty() => {
                errors.push(invalid(
                    "timestamp.field",
                    c.timestamp_field,
                    "a field name is required with timestamp.extractor=RecordField",
                ));
                None
            }
            Ok(Extractor::RecordField(f)) if !valid_path(f.trim()) => {
                errors.push(invalid(
                    "timestamp.field",
                    c.timestamp_field,
                    "a dotted field path cannot have empty parts",
                ));
                None
            }
            Ok(Extractor::RecordField(f)) => Some(Extractor::RecordField(f.trim().to_string())),
            Ok(e) => Some(e),
            Err(e) => {
                errors.push(invalid("timestamp.extractor", c.timestamp_extractor, &e));
                None
            }
        };
        let class = c.partitioner_class.trim();
        let partitioner = match partitioner_kind(class) {
            None => {
                errors.push(invalid(
                    "partitioner.class",
                    class,
                    "Sluice supports io.confluent.connect.storage.partitioner.DefaultPartitioner, \
                     FieldPartitioner, TimeBasedPartitioner, DailyPartitioner and \
                     HourlyPartitioner (short names accepted); custom partitioners are not \
                     supported",
                ));
                None
            }
            Some(Kind::Default) => Some(Partitioner::Default),
            Some(Kind::Field) => field_partitioner(c.partition_fields, &mut errors),
            Some(kind) => time_based(kind, c, zone, timezone.is_empty(), &mut errors),
        };
        match (partitioner, extractor) {
            (Some(partitioner), Some(extractor)) if errors.is_empty() => Ok(Partitioning {
                partitioner,
                extractor,
                directory_delim: c.directory_delim.to_string(),
            }),
            _ => Err(errors),
        }
    }

    /// The partitioner.
    pub fn partitioner(&self) -> &Partitioner {
        &self.partitioner
    }

    /// The timestamp extractor.
    pub fn extractor(&self) -> &Extractor {
        &self.extractor
    }

    /// Whether paths depend on record time (TimeBased, Daily, Hourly).
    pub fn is_time_based(&self) -> bool {
        matches!(self.partitioner, Partitioner::TimeBased(_))
    }

    /// Whether record times (and so time-based paths and `rotate.interval.ms` boundaries) are
    /// a pure function of the records: false for the Wallclock extractor.
    pub fn is_deterministic(&self) -> bool {
        self.extractor != Extractor::Wallclock
    }

    /// Record time in epoch ms: Wallclock → `now_ms`; Record → the Kafka timestamp (an error
    /// if there is none); RecordField → the field, by its schema's time unit.
    pub fn timestamp(
        &self,
        record: &SinkRecord,
        value: &Value,
        schema: Option<&Schema>,
        now_ms: i64,
    ) -> Result<i64, PartitionError> {
        match self.extractor {
            Extractor::Wallclock => Ok(now_ms),
            _ => self.extractor.extract(
                &RecordAt::of(record),
                record.timestamp,
                value,
                schema,
                now_ms,
            ),
        }
    }

    /// The encoded partition path, e.g. `partition=3`, `region=eu/tier=1`,
    /// `year=2025/month=06/day=27`. `ts_ms` is the record time from [`Self::timestamp`].
    pub fn encode(
        &self,
        record: &SinkRecord,
        value: &Value,
        schema: Option<&Schema>,
        ts_ms: i64,
    ) -> Result<String, PartitionError> {
        match &self.partitioner {
            Partitioner::Default => Ok(format!("partition={}", record.partition)),
            Partitioner::Field(fields) => field::encode_fields(
                fields,
                &self.directory_delim,
                value,
                schema,
                &RecordAt::of(record),
            ),
            Partitioner::TimeBased(tb) => {
                tb.encode(ts_ms).ok_or_else(|| PartitionError::OutOfRange {
                    ts_ms,
                    at: RecordAt::of(record),
                })
            }
        }
    }
}

fn valid_path(path: &str) -> bool {
    path.split('.').all(|part| !part.trim().is_empty())
}

fn field_partitioner(fields: &[String], errors: &mut Vec<(String, String)>) -> Option<Partitioner> {
    let fields: Vec<String> = fields.iter().map(|f| f.trim().to_string()).collect();
    if fields.iter().all(|f| f.is_empty()) {
        errors.push((
            "partition.field.name".to_string(),
            "Partition field name cannot be null or empty when using FieldPartitioner.".to_string(),
        ));
        return None;
    }
    if let Some(bad) = fields.iter().find(|f| !valid_path(f)) {
        errors.push(invalid(
            "partition.field.name",
            &fields.join(","),
            &format!("'{bad}' is not a field name or a dotted path (empty part)"),
        ));
        return None;
    }
    Some(Partitioner::Field(fields))
}

fn time_based(
    kind: Kind,
    c: &PartitioningConfig<'_>,
    zone: Option<Zone>,
    timezone_blank: bool,
    errors: &mut Vec<(String, String)>,
) -> Option<Partitioner> {
    let delim = c.directory_delim;
    let (duration_ms, pattern) = match kind {
        Kind::Daily => (86_400_000, preset_format(&DAILY_FORMAT, delim)),
        Kind::Hourly => (3_600_000, preset_format(&HOURLY_FORMAT, delim)),
        _ => {
            let duration = c.partition_duration_ms;
            if duration <= 0 {
                errors.push(invalid(
                    "partition.duration.ms",
                    &duration.to_string(),
                    "Partition duration needs to be a positive.",
                ));
            }
            let raw = c.path_format;
            let mut pattern = raw.trim().to_string();
            if pattern.is_empty() || pattern == delim {
                errors.push(invalid("path.format", raw, "Path format cannot be empty."));
            } else if !delim.is_empty() && pattern.ends_with(delim) {
                pattern.truncate(pattern.len() - delim.len());
            }
            (duration, pattern)
        }
    };
    let format = if pattern.is_empty() || pattern == delim {
        None
    } else {
        match JodaFormat::compile(&pattern) {
            Ok(f) => Some(f),
            Err(e) => {
                errors.push(invalid("path.format", c.path_format, &e));
                None
            }
        }
    };
    let locale = c.locale.trim();
    if locale.is_empty() {
        errors.push(invalid("locale", c.locale, "Locale cannot be empty."));
    }
    if timezone_blank {
        errors.push(invalid("timezone", c.timezone, "Timezone cannot be empty."));
    }
    Some(Partitioner::TimeBased(TimeBased {
        duration_ms,
        format: format?,
        zone: zone?,
        locale: locale.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::data::Kind as DataKind;

    struct Cfg {
        class: &'static str,
        fields: Vec<String>,
        duration: i64,
        path_format: &'static str,
        locale: &'static str,
        timezone: &'static str,
        extractor: &'static str,
        field: &'static str,
        delim: &'static str,
    }

    impl Default for Cfg {
        fn default() -> Self {
            Cfg {
                class: "io.confluent.connect.storage.partitioner.DefaultPartitioner",
                fields: vec![],
                duration: -1,
                path_format: "",
                locale: "",
                timezone: "",
                extractor: "Wallclock",
                field: "timestamp",
                delim: "/",
            }
        }
    }

    impl Cfg {
        fn build(&self) -> Result<Partitioning, Vec<(String, String)>> {
            Partitioning::from_config(&PartitioningConfig {
                partitioner_class: self.class,
                partition_fields: &self.fields,
                partition_duration_ms: self.duration,
                path_format: self.path_format,
                locale: self.locale,
                timezone: self.timezone,
                timestamp_extractor: self.extractor,
                timestamp_field: self.field,
                directory_delim: self.delim,
            })
        }
    }

    fn record(partition: i32, timestamp: Option<i64>) -> SinkRecord {
        SinkRecord {
            topic: Arc::from("orders"),
            original_topic: Arc::from("orders"),
            partition,
            offset: 42,
            timestamp,
            key: None,
            value: None,
            headers: vec![],
        }
    }

    #[test]
    fn default_partitioner() {
        let p = Cfg::default().build().expect("default");
        assert!(!p.is_time_based());
        assert!(!p.is_deterministic());
        let r = record(3, Some(1));
        let ts = p.timestamp(&r, &Value::Null, None, 99).expect("ts");
        assert_eq!(ts, 99);
        assert_eq!(
            p.encode(&r, &Value::Null, None, ts).expect("encode"),
            "partition=3"
        );
        let short = Cfg {
            class: "DefaultPartitioner",
            extractor: "Record",
            ..Cfg::default()
        };
        let p = short.build().expect("short name");
        assert!(p.is_deterministic());
        assert_eq!(p.timestamp(&r, &Value::Null, None, 99), Ok(1));
    }

    #[test]
    fn field_partitioner_from_config() {
        let cfg = Cfg {
            class: "io.confluent.connect.storage.partitioner.FieldPartitioner",
            fields: vec!["region".into(), " tier ".into()],
            ..Cfg::default()
        };
        let p = cfg.build().expect("field");
        assert_eq!(
            p.partitioner(),
            &Partitioner::Field(vec!["region".into(), "tier".into()])
        );
        let schema = Schema::structure(
            vec![
                ("region", Arc::new(Schema::new(DataKind::String, false))),
                ("tier", Arc::new(Schema::new(DataKind::Int8, true))),
            ],
            false,
        );
        let value = Value::Struct(vec![Value::String("eu".into()), Value::Int(1)]);
        assert_eq!(
            p.encode(&record(0, None), &value, Some(&schema), 0)
                .expect("encode"),
            "region=eu/tier=1"
        );
        let empty = Cfg {
            class: "FieldPartitioner",
            ..Cfg::default()
        };
        assert_eq!(
            empty.build(),
            Err(vec![(
                "partition.field.name".into(),
                "Partition field name cannot be null or empty when using FieldPartitioner.".into()
            )])
        );
        let dotted = Cfg {
            class: "FieldPartitioner",
            fields: vec!["a..b".into()],
            ..Cfg::default()
        };
        assert!(dotted.build().is_err());
    }

    #[test]
    fn time_based_from_confluent_config() {
        let cfg = Cfg {
            class: "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            duration: 86_400_000,
            path_format: "'year'=YYYY/'month'=MM/'day'=dd/",
            locale: "en-US",
            timezone: "UTC",
            extractor: "RecordField",
            field: "source.ts_ms",
            ..Cfg::default()
        };
        let p = cfg.build().expect("time based");
        assert!(p.is_time_based());
        assert!(p.is_deterministic());
        assert_eq!(
            p.extractor(),
            &Extractor::RecordField("source.ts_ms".into())
        );
        let Partitioner::TimeBased(tb) = p.partitioner() else {
            panic!("not time based");
        };
        assert_eq!(tb.format.pattern(), "'year'=YYYY/'month'=MM/'day'=dd");
        let source = Arc::new(Schema::structure(
            vec![("ts_ms", Arc::new(Schema::new(DataKind::Int64, true)))],
            false,
        ));
        let schema = Schema::structure(vec![("source", source)], false);
        let value = Value::Struct(vec![Value::Struct(vec![Value::Int(1_751_025_600_000)])]);
        let r = record(0, None);
        let ts = p.timestamp(&r, &value, Some(&schema), 0).expect("ts");
        assert_eq!(ts, 1_751_025_600_000);
        assert_eq!(
            p.encode(&r, &value, Some(&schema), ts).expect("encode"),
            "year=2025/month=06/day=27"
        );
    }

    #[test]
    fn daily_and_hourly_presets_use_the_delimiter() {
        let ts = 1_751_025_600_000; // 2025-06-27T12:00:00Z
        let hourly = Cfg {
            class: "HourlyPartitioner",
            locale: "en",
            timezone: "Europe/Paris",
            ..Cfg::default()
        };
        let p = hourly.build().expect("hourly");
        assert_eq!(
            p.encode(&record(0, None), &Value::Null, None, ts)
                .expect("encode"),
            "year=2025/month=06/day=27/hour=14"
        );
        let daily = Cfg {
            class: "io.confluent.connect.storage.partitioner.DailyPartitioner",
            locale: "en",
            timezone: "UTC",
            delim: "|",
            // Ignored by the preset.
            path_format: "HH",
            duration: 5,
            ..Cfg::default()
        };
        let p = daily.build().expect("daily");
        assert_eq!(
            p.encode(&record(0, None), &Value::Null, None, ts)
                .expect("encode"),
            "year=2025|month=06|day=27"
        );
    }

    #[test]
    fn time_based_validation_messages() {
        let cfg = Cfg {
            class: "TimeBasedPartitioner",
            ..Cfg::default()
        };
        assert_eq!(
            cfg.build(),
            Err(vec![
                invalid(
                    "partition.duration.ms",
                    "-1",
                    "Partition duration needs to be a positive."
                ),
                invalid("path.format", "", "Path format cannot be empty."),
                invalid("locale", "", "Locale cannot be empty."),
                invalid("timezone", "", "Timezone cannot be empty."),
            ])
        );
        let cfg = Cfg {
            class: "TimeBasedPartitioner",
            duration: 3_600_000,
            path_format: "'hour'=HH/qq",
            locale: "en",
            timezone: "Europe/Pariss",
            extractor: "com.acme.Extractor",
            ..Cfg::default()
        };
        let errors = cfg.build().expect_err("invalid");
        assert_eq!(
            errors[0],
            invalid(
                "timezone",
                "Europe/Pariss",
                "The datetime zone id 'Europe/Pariss' is not recognised"
            )
        );
        assert_eq!(errors[1].0, "timestamp.extractor");
        assert!(
            errors[1]
                .1
                .starts_with("Invalid value com.acme.Extractor for configuration timestamp.extractor: Invalid timestamp extractor: com.acme.Extractor;"),
            "{}",
            errors[1].1
        );
        assert_eq!(
            errors[2],
            invalid(
                "path.format",
                "'hour'=HH/qq",
                "Illegal pattern component: qq"
            )
        );
        assert_eq!(errors.len(), 3);
        let hourly = Cfg {
            class: "HourlyPartitioner",
            ..Cfg::default()
        };
        assert_eq!(
            hourly.build(),
            Err(vec![
                invalid("locale", "", "Locale cannot be empty."),
                invalid("timezone", "", "Timezone cannot be empty."),
            ])
        );
        let zero = Cfg {
            class: "TimeBasedPartitioner",
            duration: 0,
            path_format: "/",
            locale: "en",
            timezone: "UTC",
            ..Cfg::default()
        };
        assert_eq!(
            zero.build(),
            Err(vec![
                invalid(
                    "partition.duration.ms",
                    "0",
                    "Partition duration needs to be a positive."
                ),
                invalid("path.format", "/", "Path format cannot be empty."),
            ])
        );
    }

    #[test]
    fn other_validation_messages() {
        let custom = Cfg {
            class: "com.acme.MyPartitioner",
            ..Cfg::default()
        };
        let errors = custom.build().expect_err("custom");
        assert_eq!(errors.len(), 1);
        assert!(errors[0].1.starts_with(
            "Invalid value com.acme.MyPartitioner for configuration partitioner.class: Sluice supports"
        ));
        // The timezone is checked whatever the partitioner (Confluent's TimezoneValidator).
        let tz = Cfg {
            timezone: "+25:00",
            ..Cfg::default()
        };
        assert_eq!(
            tz.build(),
            Err(vec![invalid(
                "timezone",
                "+25:00",
                "The datetime zone id '+25:00' is not recognised"
            )])
        );
        let no_field = Cfg {
            extractor: "RecordField",
            field: " ",
            ..Cfg::default()
        };
        assert_eq!(
            no_field.build().expect_err("no field")[0].0,
            "timestamp.field"
        );
    }

    #[test]
    fn out_of_range_is_an_error() {
        let cfg = Cfg {
            class: "HourlyPartitioner",
            locale: "en",
            timezone: "UTC",
            extractor: "Record",
            ..Cfg::default()
        };
        let p = cfg.build().expect("hourly");
        let r = record(1, Some(i64::MAX));
        let ts = p.timestamp(&r, &Value::Null, None, 0).expect("ts");
        assert_eq!(
            p.encode(&r, &Value::Null, None, ts)
                .map_err(|e| e.to_string()),
            Err(format!(
                "timestamp {} of record orders-1 offset 42 is out of range for path.format",
                i64::MAX
            ))
        );
    }
}
