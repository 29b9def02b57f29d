//! The typed S3-Parquet sink config: `schemas/s3-parquet-sink.json` gives types, defaults and
//! per-key checks; this module adds the rules one key's schema cannot express (Parquet only,
//! supported codecs, partitioner settings, scheduled rotation needs a timezone, ...).

use std::collections::BTreeMap;
use std::path::PathBuf;

use parquet::basic::{Compression, GzipLevel, ZstdLevel};

use super::partition::{invalid, Partitioning, PartitioningConfig, Zone};
use super::storage::StoreConfig;
use crate::configdef::{schemas, ConfigValueError, ParsedConfig};

/// The only `format.class` Sluice's S3 sink writes.
pub const PARQUET_FORMAT: &str = "io.confluent.connect.s3.format.parquet.ParquetFormat";

/// `(key, message)` pairs, as `SinkConnector::validate` returns them.
pub type ConfigErrors = Vec<(String, String)>;

/// The S3-Parquet sink config, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct S3SinkConfig {
    /// Connector name (`name`; empty if absent).
    pub name: String,
    /// `topics.dir`.
    pub topics_dir: String,
    /// `directory.delim`.
    pub directory_delim: String,
    /// `file.delim`.
    pub file_delim: String,
    /// `flush.size`: records per Kafka partition before its files are committed (≥ 1).
    pub flush_size: u64,
    /// `flush.size.bytes` when positive: encoded bytes of one file before rotation.
    pub flush_size_bytes: Option<u64>,
    /// `rotate.interval.ms` when positive: record-time span of a file set.
    pub rotate_interval_ms: Option<i64>,
    /// `rotate.schedule.interval.ms` when positive: wall-clock rotation, aligned to midnight of
    /// `timezone` (which is then set).
    pub rotate_schedule_interval_ms: Option<i64>,
    /// `rotate.idle.ms` when positive: commit a partition's files after this long without
    /// records.
    pub rotate_idle_ms: Option<i64>,
    /// `parquet.codec`.
    pub codec: Codec,
    /// `parquet.row.group.size`: rows per Parquet row group (≥ 1).
    pub row_group_size: usize,
    /// `behavior.on.null.values`.
    pub on_null: NullBehavior,
    /// `filename.offset.zero.pad.width`.
    pub zero_pad: usize,
    /// `schema.compatibility`.
    pub schema_compatibility: SchemaCompatibility,
    /// Where objects go (S3 or a local directory).
    pub store: StoreConfig,
    /// Partitioner and timestamp extractor.
    pub partitioning: Partitioning,
    /// `timezone`, when set (always set with `rotate.schedule.interval.ms`).
    pub timezone: Option<Zone>,
    /// `retry.backoff.ms`: wait after a retriable failure.
    pub retry_backoff_ms: u64,
}

/// Parquet compression codec (`parquet.codec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// `none` (parquet-mr's UNCOMPRESSED).
    None,
    /// `snappy`.
    Snappy,
    /// `gzip`, level 6 (zlib's and Java's default).
    Gzip,
    /// `lz4`, written as Parquet's LZ4_RAW (the Hadoop-framed LZ4 codec is deprecated).
    Lz4,
    /// `zstd`, level 3 (parquet-mr's default).
    Zstd,
}

impl Codec {
    /// Parses `parquet.codec` (case-insensitive; `uncompressed` and `lz4_raw` accepted too).
    /// The error is the reason, without the key.
    pub fn parse(name: &str) -> Result<Codec, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "none" | "uncompressed" => Ok(Codec::None),
            "snappy" => Ok(Codec::Snappy),
            "gzip" => Ok(Codec::Gzip),
            "lz4" | "lz4_raw" => Ok(Codec::Lz4),
            "zstd" => Ok(Codec::Zstd),
            "lzo" | "brotli" => Err(format!(
                "Sluice's Parquet writer does not support {name}; use none, snappy, gzip, lz4 \
                 or zstd"
            )),
            _ => Err("String must be one of: none, snappy, gzip, lz4, zstd".to_string()),
        }
    }

    /// The arrow-rs compression setting.
    pub fn compression(&self) -> Compression {
        match self {
            Codec::None => Compression::UNCOMPRESSED,
            Codec::Snappy => Compression::SNAPPY,
            Codec::Gzip => Compression::GZIP(GzipLevel::default()),
            Codec::Lz4 => Compression::LZ4_RAW,
            Codec::Zstd => Compression::ZSTD(ZstdLevel::try_new(3).unwrap_or_default()),
        }
    }

    /// The full file name suffix, as parquet-mr's `CompressionCodecName` extension plus
    /// `.parquet` (Confluent's `ParquetRecordWriterProvider`): `.parquet`, `.snappy.parquet`,
    /// `.gz.parquet`, `.lz4raw.parquet` (LZ4_RAW; parquet-mr's Hadoop LZ4 would be
    /// `.lz4hadoop`), `.zstd.parquet`.
    pub fn extension(&self) -> &'static str {
        match self {
            Codec::None => ".parquet",
            Codec::Snappy => ".snappy.parquet",
            Codec::Gzip => ".gz.parquet",
            Codec::Lz4 => ".lz4raw.parquet",
            Codec::Zstd => ".zstd.parquet",
        }
    }
}

/// What to do with a record whose value is null (a tombstone): `behavior.on.null.values`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NullBehavior {
    /// Fail the record (the error handler decides: task failure, or skip/DLQ with tolerance).
    Fail,
    /// Skip it; its offset still counts as written.
    Ignore,
}

/// `schema.compatibility`: what a schema change does to open files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaCompatibility {
    /// Any different schema starts new files.
    None,
    /// A newer version starts new files; older records are projected to the newest schema.
    Backward,
    /// Records are projected to the oldest schema.
    Forward,
    /// As `Backward`.
    Full,
}

impl SchemaCompatibility {
    /// Parses the value (case-insensitive); the error is the reason, without the key.
    pub fn parse(name: &str) -> Result<SchemaCompatibility, String> {
        match name.trim().to_ascii_uppercase().as_str() {
            "NONE" => Ok(SchemaCompatibility::None),
            "BACKWARD" => Ok(SchemaCompatibility::Backward),
            "FORWARD" => Ok(SchemaCompatibility::Forward),
            "FULL" => Ok(SchemaCompatibility::Full),
            _ => Err("String must be one of: NONE, BACKWARD, FORWARD, FULL".to_string()),
        }
    }
}

/// Errors found while reading a config: `schema` ones are those the schema-driven
/// validation (`configdef::validate_sink`) already reports; `rules` are this module's.
#[derive(Default)]
struct Problems {
    schema: ConfigErrors,
    rules: ConfigErrors,
}

impl Problems {
    /// The value, or `None` after recording a schema error.
    fn take<T>(&mut self, key: &str, r: Result<T, ConfigValueError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.schema.push((key.to_string(), e.to_string()));
                None
            }
        }
    }

    /// An optional value: a null default is `Ok(None)`.
    fn opt<T>(&mut self, key: &str, r: Result<T, ConfigValueError>) -> Option<Option<T>> {
        match r {
            Ok(v) => Some(Some(v)),
            Err(ConfigValueError::Null { .. }) => Some(None),
            Err(e) => {
                self.schema.push((key.to_string(), e.to_string()));
                None
            }
        }
    }

    fn rule(&mut self, error: (String, String)) {
        self.rules.push(error);
    }
}

fn positive(v: i64) -> Option<i64> {
    (v > 0).then_some(v)
}

fn non_blank(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

impl S3SinkConfig {
    /// Parses and checks a connector (or task) config; every problem as `(key, message)`,
    /// per-key ones (Connect's texts) first.
    pub fn parse(config: &BTreeMap<String, String>) -> Result<Self, ConfigErrors> {
        let (parsed, problems) = read(config);
        match parsed {
            Some(c) if problems.schema.is_empty() && problems.rules.is_empty() => Ok(c),
            _ => {
                let mut all = problems.schema;
                all.extend(problems.rules);
                Err(all)
            }
        }
    }

    /// The problems the schema-driven validation does not report (cross-field rules and values
    /// the schema cannot check), for `SinkConnector::validate`.
    pub fn validate(config: &BTreeMap<String, String>) -> ConfigErrors {
        read(config).1.rules
    }
}

fn read(config: &BTreeMap<String, String>) -> (Option<S3SinkConfig>, Problems) {
    let p = ParsedConfig::new(&[schemas::s3_parquet_sink()], config);
    let mut e = Problems::default();

    let bucket = e.take("s3.bucket.name", p.get_str("s3.bucket.name"));
    let region = e.take("s3.region", p.get_str("s3.region"));
    let store_url = e.opt("store.url", p.get_str("store.url"));
    let path_style = e.take(
        "s3.path.style.access.enabled",
        p.get_bool("s3.path.style.access.enabled"),
    );
    let access_key = e.opt("aws.access.key.id", p.get_str("aws.access.key.id"));
    let secret_key = e.opt(
        "aws.secret.access.key",
        p.get_password("aws.secret.access.key"),
    );
    let part_size = e.take("s3.part.size", p.get_i32("s3.part.size"));
    let retries = e.take("s3.part.retries", p.get_i32("s3.part.retries"));
    let s3_backoff = e.take("s3.retry.backoff.ms", p.get_i64("s3.retry.backoff.ms"));
    let local_dir = e.opt("local.dir", p.get_str("local.dir"));
    let topics_dir = e.take("topics.dir", p.get_str("topics.dir"));
    let directory_delim = e.take("directory.delim", p.get_str("directory.delim"));
    let file_delim = e.take("file.delim", p.get_str("file.delim"));
    let format_class = e.take("format.class", p.get_str("format.class"));
    let flush_size = e.take("flush.size", p.get_i32("flush.size"));
    let flush_size_bytes = e.take("flush.size.bytes", p.get_i64("flush.size.bytes"));
    let rotate_interval = e.take("rotate.interval.ms", p.get_i64("rotate.interval.ms"));
    let rotate_schedule = e.take(
        "rotate.schedule.interval.ms",
        p.get_i64("rotate.schedule.interval.ms"),
    );
    let rotate_idle = e.take("rotate.idle.ms", p.get_i64("rotate.idle.ms"));
    let retry_backoff = e.take("retry.backoff.ms", p.get_i64("retry.backoff.ms"));
    let zero_pad = e.take(
        "filename.offset.zero.pad.width",
        p.get_i32("filename.offset.zero.pad.width"),
    );
    let codec = e.take("parquet.codec", p.get_str("parquet.codec"));
    let row_group = e.take(
        "parquet.row.group.size",
        p.get_i32("parquet.row.group.size"),
    );
    let compat = e.take("schema.compatibility", p.get_str("schema.compatibility"));
    let on_null = e.take(
        "behavior.on.null.values",
        p.get_str("behavior.on.null.values"),
    );
    let keys = e.take("store.kafka.keys", p.get_bool("store.kafka.keys"));
    let headers = e.take("store.kafka.headers", p.get_bool("store.kafka.headers"));
    let s3_compression = e.take("s3.compression.type", p.get_str("s3.compression.type"));
    // Accepted and type-checked; Sluice always commits through its index.
    let _ = e.take(
        "enable.conditional.writes",
        p.get_bool("enable.conditional.writes"),
    );
    let partitioner_class = e.take("partitioner.class", p.get_str("partitioner.class"));
    let fields = e.take("partition.field.name", p.get_list("partition.field.name"));
    let duration = e.take("partition.duration.ms", p.get_i64("partition.duration.ms"));
    let path_format = e.take("path.format", p.get_str("path.format"));
    let locale = e.take("locale", p.get_str("locale"));
    let timezone = e.take("timezone", p.get_str("timezone"));
    let extractor = e.take("timestamp.extractor", p.get_str("timestamp.extractor"));
    let ts_field = e.take("timestamp.field", p.get_str("timestamp.field"));

    // Rules on single values the schema cannot express.
    if let Some(class) = format_class {
        if class.trim() != PARQUET_FORMAT {
            e.rule((
                "format.class".to_string(),
                format!(
                    "Sluice's S3 sink writes Parquet only ({PARQUET_FORMAT}); {} is not supported",
                    class.trim()
                ),
            ));
        }
    }
    let codec = codec.and_then(|c| match Codec::parse(c) {
        Ok(codec) => Some(codec),
        Err(reason) => {
            e.rule(invalid("parquet.codec", c, &reason));
            None
        }
    });
    let compat = compat.and_then(|c| match SchemaCompatibility::parse(c) {
        Ok(v) => Some(v),
        Err(reason) => {
            e.rule(invalid("schema.compatibility", c, &reason));
            None
        }
    });
    let on_null = on_null.and_then(|v| match v.trim().to_ascii_lowercase().as_str() {
        "fail" => Some(NullBehavior::Fail),
        "ignore" => Some(NullBehavior::Ignore),
        "write" => {
            e.rule((
                "behavior.on.null.values".to_string(),
                "behavior.on.null.values=write needs store.kafka.keys, which Sluice does not \
                 support; use ignore or fail"
                    .to_string(),
            ));
            None
        }
        _ => {
            e.rule(invalid(
                "behavior.on.null.values",
                v,
                "String must be one of: ignore, fail",
            ));
            None
        }
    });
    for (key, value) in [("store.kafka.keys", keys), ("store.kafka.headers", headers)] {
        if value == Some(true) {
            e.rule((
                key.to_string(),
                format!(
                    "{key}=true is not supported: Sluice's S3 sink writes record values only \
                     (no side files); set it to false"
                ),
            ));
        }
    }
    if let Some(t) = s3_compression {
        match t.trim().to_ascii_lowercase().as_str() {
            "none" => {}
            "gzip" => e.rule(invalid(
                "s3.compression.type",
                t,
                "applies to JsonFormat and ByteArrayFormat only; Parquet files are compressed \
                 inside with parquet.codec, so set s3.compression.type=none",
            )),
            _ => e.rule(invalid(
                "s3.compression.type",
                t,
                "Value must be one of: none, gzip",
            )),
        }
    }

    // Credentials come in pairs.
    let access_key = access_key.map(non_blank);
    let secret_key = secret_key.map(non_blank);
    match (&access_key, &secret_key) {
        (Some(Some(_)), Some(None)) => e.rule((
            "aws.secret.access.key".to_string(),
            "aws.secret.access.key is required when aws.access.key.id is set".to_string(),
        )),
        (Some(None), Some(Some(_))) => e.rule((
            "aws.access.key.id".to_string(),
            "aws.access.key.id is required when aws.secret.access.key is set".to_string(),
        )),
        _ => {}
    }

    // Where objects go.
    let store_url = store_url.map(non_blank);
    let local_dir = local_dir.map(non_blank);
    let mut local_root: Option<Option<PathBuf>> = Some(None);
    let mut endpoint: Option<Option<String>> = Some(None);
    match (&store_url, &local_dir) {
        (Some(Some(url)), _) if url.starts_with("file://") => match file_url_path(url) {
            Some(path) => local_root = Some(Some(path)),
            None => {
                e.rule(invalid(
                    "store.url",
                    url,
                    "a file URL needs an absolute path, e.g. file:///data/lake",
                ));
                local_root = None;
            }
        },
        (_, Some(Some(dir))) => {
            local_root = bucket.map(|b| Some(PathBuf::from(dir).join(b.trim())));
        }
        (Some(Some(url)), _) => {
            endpoint = Some(Some(if url.contains("://") {
                url.clone()
            } else {
                format!("https://{url}")
            }));
        }
        (Some(None), Some(None)) => {}
        _ => {
            local_root = None;
            endpoint = None;
        }
    }

    // Partitioning; its rules only make sense once every partitioner key has its type.
    let partitioning = match (
        &partitioner_class,
        &fields,
        duration,
        &path_format,
        &locale,
        &timezone,
        &extractor,
        &ts_field,
        &directory_delim,
    ) {
        (
            Some(class),
            Some(fields),
            Some(duration),
            Some(path_format),
            Some(locale),
            Some(timezone),
            Some(extractor),
            Some(ts_field),
            Some(delim),
        ) => match Partitioning::from_config(&PartitioningConfig {
            partitioner_class: class,
            partition_fields: fields,
            partition_duration_ms: duration,
            path_format,
            locale,
            timezone,
            timestamp_extractor: extractor,
            timestamp_field: ts_field,
            directory_delim: delim,
        }) {
            Ok(p) => Some(p),
            Err(errors) => {
                for err in errors {
                    e.rule(err);
                }
                None
            }
        },
        _ => None,
    };

    // Scheduled rotation needs a timezone (Confluent's `checkScheduledRotationTimeZone`).
    let schedule = rotate_schedule.and_then(positive);
    let zone = timezone
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .and_then(|t| Zone::parse(t).ok());
    if let (Some(_), Some(tz)) = (schedule, timezone) {
        let reported = e.rules.iter().any(|(k, _)| k == "timezone");
        if tz.trim().is_empty() && !reported {
            e.rule(invalid(
                "timezone",
                tz,
                "Timezone cannot be empty when using scheduled file rotation.",
            ));
        }
    }

    let store = (|| {
        Some(StoreConfig {
            bucket: bucket?.trim().to_string(),
            region: region?.trim().to_string(),
            endpoint: endpoint?,
            path_style: path_style?,
            access_key_id: access_key?,
            secret_access_key: secret_key?,
            part_size: usize::try_from(part_size?).ok()?,
            retries: u32::try_from(retries?).ok()?,
            retry_backoff_ms: u64::try_from(s3_backoff?).ok()?,
            local_root: local_root?,
        })
    })();
    let config = (|| {
        Some(S3SinkConfig {
            name: p.original("name").unwrap_or_default().to_string(),
            topics_dir: topics_dir?.to_string(),
            directory_delim: directory_delim?.to_string(),
            file_delim: file_delim?.to_string(),
            flush_size: u64::try_from(flush_size?).ok()?.max(1),
            flush_size_bytes: positive(flush_size_bytes?).and_then(|b| u64::try_from(b).ok()),
            rotate_interval_ms: positive(rotate_interval?),
            rotate_schedule_interval_ms: schedule,
            rotate_idle_ms: positive(rotate_idle?),
            codec: codec?,
            row_group_size: usize::try_from(row_group?).ok()?.max(1),
            on_null: on_null?,
            zero_pad: usize::try_from(zero_pad?).ok()?,
            schema_compatibility: compat?,
            store: store?,
            partitioning: partitioning?,
            timezone: zone,
            retry_backoff_ms: u64::try_from(retry_backoff?).ok()?,
        })
    })();
    (config, e)
}

/// The directory of a `file://` URL: `file:///data/lake` and `file://localhost/data/lake` →
/// `/data/lake`.
fn file_url_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    rest.starts_with('/').then(|| PathBuf::from(rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::s3_parquet::partition::{Extractor, Partitioner};

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn minimal() -> BTreeMap<String, String> {
        map(&[
            ("name", "lake-sink"),
            (
                "connector.class",
                "io.sluice.connect.s3.S3ParquetSinkConnector",
            ),
            ("topics", "orders"),
            ("s3.bucket.name", "lake"),
            ("flush.size", "100"),
        ])
    }

    fn with(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
        let mut m = minimal();
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        m
    }

    fn rules(extra: &[(&str, &str)]) -> ConfigErrors {
        S3SinkConfig::validate(&with(extra))
    }

    #[test]
    fn confluent_config_parses() {
        let json = r#"{"connector.class":"io.confluent.connect.s3.S3SinkConnector",
            "format.class":"io.confluent.connect.s3.format.parquet.ParquetFormat",
            "s3.bucket.name":"lake","s3.region":"us-east-1","store.url":"http://minio:9000",
            "s3.path.style.access.enabled":"true","topics.dir":"cdc_events","flush.size":"1000",
            "rotate.interval.ms":"60000",
            "partitioner.class":"io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            "path.format":"'year'=YYYY/'month'=MM/'day'=dd","partition.duration.ms":"86400000",
            "locale":"en-US","timezone":"UTC","timestamp.extractor":"RecordField",
            "timestamp.field":"source.ts_ms","parquet.codec":"snappy","topics":"x"}"#;
        let config: BTreeMap<String, String> = serde_json::from_str(json).expect("json");
        assert_eq!(S3SinkConfig::validate(&config), Vec::new());
        let c = S3SinkConfig::parse(&config).expect("parses");
        assert_eq!(c.name, "");
        assert_eq!(c.topics_dir, "cdc_events");
        assert_eq!(c.directory_delim, "/");
        assert_eq!(c.file_delim, "+");
        assert_eq!(c.flush_size, 1000);
        assert_eq!(c.flush_size_bytes, None);
        assert_eq!(c.rotate_interval_ms, Some(60_000));
        assert_eq!(c.rotate_schedule_interval_ms, None);
        assert_eq!(c.rotate_idle_ms, None);
        assert_eq!(c.codec, Codec::Snappy);
        assert_eq!(c.codec.extension(), ".snappy.parquet");
        assert_eq!(c.row_group_size, 100_000);
        assert_eq!(c.on_null, NullBehavior::Fail);
        assert_eq!(c.zero_pad, 10);
        assert_eq!(c.schema_compatibility, SchemaCompatibility::None);
        assert_eq!(c.timezone, Some(Zone::UTC));
        assert_eq!(c.retry_backoff_ms, 5000);
        assert_eq!(
            c.store,
            StoreConfig {
                bucket: "lake".into(),
                region: "us-east-1".into(),
                endpoint: Some("http://minio:9000".into()),
                path_style: true,
                access_key_id: None,
                secret_access_key: None,
                part_size: 26_214_400,
                retries: 3,
                retry_backoff_ms: 200,
                local_root: None,
            }
        );
        assert!(c.partitioning.is_time_based());
        assert!(c.partitioning.is_deterministic());
        assert_eq!(
            c.partitioning.extractor(),
            &Extractor::RecordField("source.ts_ms".into())
        );
        let Partitioner::TimeBased(tb) = c.partitioning.partitioner() else {
            panic!("time based expected");
        };
        assert_eq!(tb.duration_ms, 86_400_000);
        assert_eq!(tb.locale, "en-US");
    }

    #[test]
    fn defaults() {
        let c = S3SinkConfig::parse(&minimal()).expect("parses");
        assert_eq!(c.name, "lake-sink");
        assert_eq!(c.topics_dir, "topics");
        assert_eq!(c.store.region, "us-west-2");
        assert_eq!(c.store.endpoint, None);
        assert_eq!(c.store.local_root, None);
        assert_eq!(c.partitioning.partitioner(), &Partitioner::Default);
        assert_eq!(c.partitioning.extractor(), &Extractor::Wallclock);
        assert_eq!(c.timezone, None);
        assert_eq!(c.codec, Codec::Snappy);
    }

    #[test]
    fn sluice_extensions() {
        let c = S3SinkConfig::parse(&with(&[
            ("flush.size.bytes", "134217728"),
            ("rotate.idle.ms", "30000"),
            ("parquet.row.group.size", "5000"),
            ("rotate.interval.ms", "0"),
        ]))
        .expect("parses");
        assert_eq!(c.flush_size_bytes, Some(134_217_728));
        assert_eq!(c.rotate_idle_ms, Some(30_000));
        assert_eq!(c.row_group_size, 5000);
        assert_eq!(c.rotate_interval_ms, None);
    }

    #[test]
    fn store_resolution() {
        let c = S3SinkConfig::parse(&with(&[("store.url", "minio.local:9000")])).expect("ok");
        assert_eq!(
            c.store.endpoint.as_deref(),
            Some("https://minio.local:9000")
        );
        let c = S3SinkConfig::parse(&with(&[("store.url", "file:///data/lake")])).expect("ok");
        assert_eq!(c.store.local_root, Some(PathBuf::from("/data/lake")));
        assert_eq!(c.store.endpoint, None);
        let c = S3SinkConfig::parse(&with(&[("local.dir", "/tmp/sluice")])).expect("ok");
        assert_eq!(c.store.local_root, Some(PathBuf::from("/tmp/sluice/lake")));
        let c = S3SinkConfig::parse(&with(&[
            ("local.dir", "/tmp/sluice"),
            ("store.url", "file://localhost/data/lake"),
        ]))
        .expect("ok");
        assert_eq!(c.store.local_root, Some(PathBuf::from("/data/lake")));
        assert_eq!(
            rules(&[("store.url", "file://data/lake")]),
            vec![invalid(
                "store.url",
                "file://data/lake",
                "a file URL needs an absolute path, e.g. file:///data/lake"
            )]
        );
        let c = S3SinkConfig::parse(&with(&[
            ("aws.access.key.id", "AK"),
            ("aws.secret.access.key", "SK"),
            ("s3.part.size", "5242880"),
            ("s3.part.retries", "0"),
            ("s3.retry.backoff.ms", "50"),
            ("s3.path.style.access.enabled", "false"),
        ]))
        .expect("ok");
        assert_eq!(c.store.access_key_id.as_deref(), Some("AK"));
        assert_eq!(c.store.secret_access_key.as_deref(), Some("SK"));
        assert_eq!(c.store.part_size, 5_242_880);
        assert_eq!(c.store.retries, 0);
        assert_eq!(c.store.retry_backoff_ms, 50);
        assert!(!c.store.path_style);
        assert_eq!(
            rules(&[("aws.access.key.id", "AK")]),
            vec![(
                "aws.secret.access.key".to_string(),
                "aws.secret.access.key is required when aws.access.key.id is set".to_string()
            )]
        );
    }

    #[test]
    fn codecs() {
        for (name, codec, ext) in [
            ("none", Codec::None, ".parquet"),
            ("SNAPPY", Codec::Snappy, ".snappy.parquet"),
            ("gzip", Codec::Gzip, ".gz.parquet"),
            ("lz4", Codec::Lz4, ".lz4raw.parquet"),
            ("zstd", Codec::Zstd, ".zstd.parquet"),
        ] {
            let c = S3SinkConfig::parse(&with(&[("parquet.codec", name)])).expect(name);
            assert_eq!(c.codec, codec);
            assert_eq!(c.codec.extension(), ext);
        }
        assert_eq!(Codec::Lz4.compression(), Compression::LZ4_RAW);
        assert_eq!(
            Codec::Zstd.compression(),
            Compression::ZSTD(ZstdLevel::try_new(3).expect("level"))
        );
        assert_eq!(
            Codec::Gzip.compression(),
            Compression::GZIP(GzipLevel::default())
        );
        assert_eq!(
            rules(&[("parquet.codec", "lzo")]),
            vec![invalid(
                "parquet.codec",
                "lzo",
                "Sluice's Parquet writer does not support lzo; use none, snappy, gzip, lz4 or zstd"
            )]
        );
        assert_eq!(
            rules(&[("parquet.codec", "brotli")])[0].0,
            "parquet.codec".to_string()
        );
        assert_eq!(
            rules(&[("parquet.codec", "xz")]),
            vec![invalid(
                "parquet.codec",
                "xz",
                "String must be one of: none, snappy, gzip, lz4, zstd"
            )]
        );
    }

    #[test]
    fn unsupported_features_have_clear_messages() {
        assert_eq!(
            rules(&[(
                "format.class",
                "io.confluent.connect.s3.format.json.JsonFormat"
            )]),
            vec![(
                "format.class".to_string(),
                "Sluice's S3 sink writes Parquet only \
                 (io.confluent.connect.s3.format.parquet.ParquetFormat); \
                 io.confluent.connect.s3.format.json.JsonFormat is not supported"
                    .to_string()
            )]
        );
        assert_eq!(
            rules(&[("behavior.on.null.values", "write")]),
            vec![(
                "behavior.on.null.values".to_string(),
                "behavior.on.null.values=write needs store.kafka.keys, which Sluice does not \
                 support; use ignore or fail"
                    .to_string()
            )]
        );
        let c = S3SinkConfig::parse(&with(&[("behavior.on.null.values", "IGNORE")])).expect("ok");
        assert_eq!(c.on_null, NullBehavior::Ignore);
        assert_eq!(
            rules(&[("store.kafka.keys", "true")])[0].0,
            "store.kafka.keys"
        );
        assert_eq!(
            rules(&[("store.kafka.headers", "true")])[0].1,
            "store.kafka.headers=true is not supported: Sluice's S3 sink writes record values \
             only (no side files); set it to false"
        );
        assert_eq!(rules(&[("store.kafka.keys", "false")]), Vec::new());
        assert_eq!(
            rules(&[("s3.compression.type", "gzip")])[0].0,
            "s3.compression.type"
        );
        assert_eq!(rules(&[("s3.compression.type", "none")]), Vec::new());
        assert_eq!(rules(&[("enable.conditional.writes", "false")]), Vec::new());
        let c = S3SinkConfig::parse(&with(&[("schema.compatibility", "backward")])).expect("ok");
        assert_eq!(c.schema_compatibility, SchemaCompatibility::Backward);
        assert_eq!(
            rules(&[("schema.compatibility", "SOMETIMES")]),
            vec![invalid(
                "schema.compatibility",
                "SOMETIMES",
                "String must be one of: NONE, BACKWARD, FORWARD, FULL"
            )]
        );
    }

    #[test]
    fn scheduled_rotation_needs_a_timezone() {
        assert_eq!(
            rules(&[("rotate.schedule.interval.ms", "3600000")]),
            vec![invalid(
                "timezone",
                "",
                "Timezone cannot be empty when using scheduled file rotation."
            )]
        );
        let c = S3SinkConfig::parse(&with(&[
            ("rotate.schedule.interval.ms", "3600000"),
            ("timezone", "Europe/Paris"),
        ]))
        .expect("ok");
        assert_eq!(c.rotate_schedule_interval_ms, Some(3_600_000));
        assert_eq!(c.timezone.map(|z| z.id()), Some("Europe/Paris".to_string()));
        // A time-based partitioner already reports the blank timezone: one message only.
        let errors = rules(&[
            ("rotate.schedule.interval.ms", "3600000"),
            (
                "partitioner.class",
                "io.confluent.connect.storage.partitioner.HourlyPartitioner",
            ),
            ("locale", "en"),
        ]);
        assert_eq!(
            errors,
            vec![invalid("timezone", "", "Timezone cannot be empty.")]
        );
    }

    #[test]
    fn partitioner_rules_are_reported() {
        assert_eq!(
            rules(&[(
                "partitioner.class",
                "io.confluent.connect.storage.partitioner.FieldPartitioner"
            )]),
            vec![(
                "partition.field.name".to_string(),
                "Partition field name cannot be null or empty when using FieldPartitioner."
                    .to_string()
            )]
        );
        let errors = rules(&[(
            "partitioner.class",
            "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        )]);
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["partition.duration.ms", "path.format", "locale", "timezone"]
        );
        assert_eq!(
            errors[0].1,
            "Invalid value -1 for configuration partition.duration.ms: Partition duration needs \
             to be a positive."
        );
    }

    #[test]
    fn schema_errors_are_left_to_the_schema_validation() {
        let mut config = minimal();
        config.remove("flush.size");
        config.insert("rotate.interval.ms".into(), "soon".into());
        // `validate` reports only its own rules; the schema reports these.
        assert_eq!(S3SinkConfig::validate(&config), Vec::new());
        let errors = S3SinkConfig::parse(&config).expect_err("invalid");
        assert_eq!(
            errors,
            vec![
                (
                    "flush.size".to_string(),
                    "Missing required configuration \"flush.size\" which has no default value."
                        .to_string()
                ),
                (
                    "rotate.interval.ms".to_string(),
                    "Invalid value soon for configuration rotate.interval.ms: Not a number of \
                     type LONG"
                        .to_string()
                ),
            ]
        );
        assert_eq!(
            S3SinkConfig::parse(&with(&[("flush.size", "0")])).expect_err("min")[0].1,
            "Invalid value 0 for configuration flush.size: Value must be at least 1"
        );
        assert_eq!(
            S3SinkConfig::parse(&with(&[("s3.part.size", "1024")])).expect_err("min")[0].0,
            "s3.part.size"
        );
    }
}
