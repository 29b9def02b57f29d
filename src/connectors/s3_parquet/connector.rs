//! The S3-Parquet `SinkConnector`: config definitions, cross-field validation, tasks.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::config::S3SinkConfig;
use super::index::{alter_offset, indexed_partitions, partition_prefix};
use super::storage;
use crate::configdef::{schemas, ConfigDef};
use crate::connectors::{OffsetChange, SinkConnector, SinkTask};

/// `io.sluice.connect.s3.S3ParquetSinkConnector`, alias of Confluent's
/// `io.confluent.connect.s3.S3SinkConnector` (Parquet format).
pub struct S3ParquetSinkConnector;

#[async_trait]
impl SinkConnector for S3ParquetSinkConnector {
    fn config_def(&self) -> &'static ConfigDef {
        schemas::s3_parquet_sink()
    }

    fn task_class(&self) -> &'static str {
        "io.sluice.connect.s3.S3ParquetSinkTask"
    }

    fn validate(&self, config: &BTreeMap<String, String>) -> Vec<(String, String)> {
        S3SinkConfig::validate(config)
    }

    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(super::task::S3ParquetSinkTask::new())
    }

    /// Appends an `alter-offsets` entry to each partition's index, so the next task resumes
    /// where the operator said (a reset clears every indexed partition of the connector).
    async fn alter_offsets(
        &self,
        config: &BTreeMap<String, String>,
        changes: Option<&[OffsetChange]>,
    ) -> Result<bool, String> {
        let parsed = S3SinkConfig::parse(config)
            .map_err(|errors| crate::configdef::describe_errors(&errors))?;
        let store = storage::open(&parsed.store)
            .await
            .map_err(|e| e.to_string())?;
        let writer = format!("{}/offsets-api", parsed.name);
        let targets: Vec<(String, Option<i64>)> = match changes {
            Some(changes) => changes
                .iter()
                .map(|(tp, offset)| {
                    (
                        partition_prefix(&parsed.topics_dir, &parsed.name, &tp.topic, tp.partition),
                        *offset,
                    )
                })
                .collect(),
            None => indexed_partitions(store.as_ref(), &parsed.topics_dir, &parsed.name)
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|(prefix, _, _)| (prefix, None))
                .collect(),
        };
        for (prefix, offset) in targets {
            alter_offset(store.as_ref(), &prefix, &writer, offset)
                .await
                .map_err(|e| format!("{}: {e}", store.describe()))?;
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connectors::Plugins;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn registered_under_its_class_and_confluent_alias() {
        let plugins = Plugins::builtin();
        for class in [
            "io.sluice.connect.s3.S3ParquetSinkConnector",
            "io.confluent.connect.s3.S3SinkConnector",
        ] {
            let c = plugins.connector(class).expect(class);
            assert_eq!(c.task_class(), "io.sluice.connect.s3.S3ParquetSinkTask");
        }
        let listed: Vec<String> = plugins.list(true).into_iter().map(|p| p.class).collect();
        assert!(listed.contains(&"io.confluent.connect.s3.S3SinkConnector".to_string()));
    }

    #[test]
    fn validate_reports_cross_field_rules_only() {
        let c = S3ParquetSinkConnector;
        assert_eq!(
            c.validate(&config(&[("s3.bucket.name", "lake"), ("flush.size", "10")])),
            Vec::new()
        );
        // Missing required keys are the schema's to report.
        assert_eq!(c.validate(&config(&[])), Vec::new());
        let errors = c.validate(&config(&[
            ("s3.bucket.name", "lake"),
            ("flush.size", "10"),
            (
                "format.class",
                "io.confluent.connect.s3.format.avro.AvroFormat",
            ),
            (
                "partitioner.class",
                "io.confluent.connect.storage.partitioner.DailyPartitioner",
            ),
            ("rotate.schedule.interval.ms", "600000"),
        ]));
        let keys: Vec<&str> = errors.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["format.class", "locale", "timezone"]);
        assert_eq!(
            errors[2].1,
            "Invalid value  for configuration timezone: Timezone cannot be empty."
        );
    }

    /// The whole validate path (framework keys, this schema, the cross-field rules), as the
    /// herder runs it.
    fn validate_all(props: &BTreeMap<String, String>) -> crate::configdef::ConfigInfos {
        let plugins = Plugins::builtin();
        let class = props.get("connector.class").cloned().unwrap_or_default();
        let connector = S3ParquetSinkConnector;
        crate::configdef::validate_sink(
            &class,
            connector.config_def(),
            schemas::framework_sink(),
            props,
            &plugins,
            |_parsed, issues| {
                for (key, message) in connector.validate(props) {
                    issues.add(key, message);
                }
            },
        )
    }

    fn errors_of<'a>(infos: &'a crate::configdef::ConfigInfos, key: &str) -> Vec<&'a str> {
        infos
            .configs
            .iter()
            .filter_map(|c| c.value.as_ref())
            .filter(|v| v.name == key)
            .flat_map(|v| v.errors.iter().map(String::as_str))
            .collect()
    }

    #[test]
    fn confluent_config_validates_clean() {
        let props = config(&[
            ("name", "lake"),
            ("connector.class", "io.confluent.connect.s3.S3SinkConnector"),
            (
                "format.class",
                "io.confluent.connect.s3.format.parquet.ParquetFormat",
            ),
            ("s3.bucket.name", "lake"),
            ("s3.region", "us-east-1"),
            ("store.url", "http://minio:9000"),
            ("s3.path.style.access.enabled", "true"),
            ("aws.access.key.id", "minio"),
            ("aws.secret.access.key", "minio123"),
            ("topics.dir", "cdc_events"),
            ("flush.size", "1000"),
            ("rotate.interval.ms", "60000"),
            (
                "partitioner.class",
                "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
            ),
            ("path.format", "'year'=YYYY/'month'=MM/'day'=dd"),
            ("partition.duration.ms", "86400000"),
            ("locale", "en-US"),
            ("timezone", "UTC"),
            ("timestamp.extractor", "RecordField"),
            ("timestamp.field", "source.ts_ms"),
            ("parquet.codec", "snappy"),
            ("partition.field.name", "a,b"),
            ("schema.compatibility", "NONE"),
            ("s3.part.size", "5242880"),
            ("topics", "x"),
            ("storage.class", "io.confluent.connect.s3.storage.S3Storage"),
        ]);
        let infos = validate_all(&props);
        let errors: Vec<(&str, &Vec<String>)> = infos
            .configs
            .iter()
            .filter_map(|c| c.value.as_ref())
            .filter(|v| !v.errors.is_empty())
            .map(|v| (v.name.as_str(), &v.errors))
            .collect();
        assert_eq!(infos.error_count, 0, "{errors:?}");
        assert_eq!(infos.name, "io.confluent.connect.s3.S3SinkConnector");
        for group in [
            "S3",
            "Storage",
            "Connector",
            "Schema",
            "Keys and Headers",
            "Partitioner",
        ] {
            assert!(infos.groups.iter().any(|g| g == group), "{group}");
        }
        let secret = infos
            .configs
            .iter()
            .filter_map(|c| c.value.as_ref())
            .find(|v| v.name == "aws.secret.access.key")
            .expect("secret listed");
        assert_eq!(secret.value.as_deref(), Some("[hidden]"));
    }

    #[test]
    fn validation_combines_schema_and_rules() {
        let props = config(&[
            ("name", "lake"),
            (
                "connector.class",
                "io.sluice.connect.s3.S3ParquetSinkConnector",
            ),
            ("topics", "x"),
            ("flush.size", "0"),
            ("parquet.codec", "brotli"),
            ("partitioner.class", "FieldPartitioner"),
        ]);
        let infos = validate_all(&props);
        assert_eq!(
            errors_of(&infos, "s3.bucket.name"),
            ["Missing required configuration \"s3.bucket.name\" which has no default value."]
        );
        assert_eq!(
            errors_of(&infos, "flush.size"),
            ["Invalid value 0 for configuration flush.size: Value must be at least 1"]
        );
        assert_eq!(
            errors_of(&infos, "parquet.codec"),
            [
                "Invalid value brotli for configuration parquet.codec: Sluice's Parquet writer \
                 does not support brotli; use none, snappy, gzip, lz4 or zstd"
            ]
        );
        assert_eq!(
            errors_of(&infos, "partition.field.name"),
            ["Partition field name cannot be null or empty when using FieldPartitioner."]
        );
        assert_eq!(infos.error_count, 4);
    }

    #[test]
    fn creates_tasks() {
        let _task = S3ParquetSinkConnector.create_task();
    }
}
