//! The schema files shipped in the binary, loaded once on first use.

use std::sync::OnceLock;

use super::schema::ConfigDef;

const FRAMEWORK_SINK: &str = include_str!("../../schemas/connect-sink-common.json");
const FILE_STREAM_SINK: &str = include_str!("../../schemas/file-stream-sink.json");

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

/// Embedded files are fixed at build time and `tests::embedded_schemas_load`
/// loads each one, so this cannot fail in a tested build.
fn load(file: &str, text: &str) -> ConfigDef {
    match ConfigDef::from_schema_str(text) {
        Ok(def) => def,
        Err(e) => panic!("embedded schema {file} is invalid: {e}"),
    }
}
