//! The schema files shipped in the binary, loaded once on first use.

use std::sync::OnceLock;

use super::schema::ConfigDef;

const FRAMEWORK_SINK: &str = include_str!("../../schemas/connect-sink-common.json");
const FILE_STREAM_SINK: &str = include_str!("../../schemas/file-stream-sink.json");
const S3_PARQUET_SINK: &str = include_str!("../../schemas/s3-parquet-sink.json");
const CLICKHOUSE_SINK: &str = include_str!("../../schemas/clickhouse-sink.json");

/// Kafka Connect's keys common to every sink connector (`SinkConnectorConfig`).
pub fn framework_sink() -> &'static ConfigDef {
    static DEF: OnceLock<ConfigDef> = OnceLock::new();
    DEF.get_or_init(|| load("connect-sink-common.json", FRAMEWORK_SINK))
}

/// The FileStream sink connector's own keys.
pub fn file_stream_sink() -> &'static ConfigDef {
    static DEF: OnceLock<ConfigDef> = OnceLock::new();
    DEF.get_or_init(|| load("file-stream-sink.json", FILE_STREAM_SINK))
}

/// The S3-Parquet sink connector's own keys (Confluent S3 sink keys plus Sluice's).
pub fn s3_parquet_sink() -> &'static ConfigDef {
    static DEF: OnceLock<ConfigDef> = OnceLock::new();
    DEF.get_or_init(|| load("s3-parquet-sink.json", S3_PARQUET_SINK))
}

/// The ClickHouse sink connector's own keys (ClickHouse's Kafka Connect sink keys plus Sluice's).
pub fn clickhouse_sink() -> &'static ConfigDef {
    static DEF: OnceLock<ConfigDef> = OnceLock::new();
    DEF.get_or_init(|| load("clickhouse-sink.json", CLICKHOUSE_SINK))
}

/// Embedded files are fixed at build time and `tests::embedded_schemas_load`
/// (plus this module's own test) loads each one, so this cannot fail in a tested build.
fn load(file: &str, text: &str) -> ConfigDef {
    match ConfigDef::from_schema_str(text) {
        Ok(def) => def,
        Err(e) => panic!("embedded schema {file} is invalid: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configdef::PluginType;

    /// Every file embedded here loads; `configdef::tests::embedded_schemas_load` checks the
    /// framework and FileStream files in detail.
    #[test]
    fn every_embedded_schema_loads() {
        for (file, text) in [
            ("connect-sink-common.json", FRAMEWORK_SINK),
            ("file-stream-sink.json", FILE_STREAM_SINK),
            ("s3-parquet-sink.json", S3_PARQUET_SINK),
            ("clickhouse-sink.json", CLICKHOUSE_SINK),
        ] {
            if let Err(e) = ConfigDef::from_schema_str(text) {
                panic!("{file} does not load: {e}");
            }
        }
        let s3 = s3_parquet_sink();
        assert_eq!(s3.class(), "io.sluice.connect.s3.S3ParquetSinkConnector");
        assert_eq!(s3.plugin_type(), PluginType::Sink);
        assert!(s3.is_named("io.confluent.connect.s3.S3SinkConnector"));
        assert_eq!(
            s3.groups(),
            [
                "S3",
                "Storage",
                "Connector",
                "Schema",
                "Keys and Headers",
                "Partitioner"
            ]
        );
        let required: Vec<&str> = s3
            .keys()
            .filter(|k| k.required)
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(required, ["s3.bucket.name", "flush.size"]);
    }
}
