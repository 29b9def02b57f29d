//! The ClickHouse `SinkConnector`: config definitions, cross-field validation, tasks, and the
//! offsets API rewriting the exactly-once state table.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::client::ChClient;
use super::config::ClickHouseSinkConfig;
use super::state::{Phase, StateStore};
use crate::configdef::{schemas, ConfigDef};
use crate::connectors::{OffsetChange, SinkConnector, SinkTask};

/// `io.sluice.connect.clickhouse.ClickHouseSinkConnector`, alias of ClickHouse's
/// `com.clickhouse.kafka.connect.ClickHouseSinkConnector`.
pub struct ClickHouseSinkConnector;

#[async_trait]
impl SinkConnector for ClickHouseSinkConnector {
    fn config_def(&self) -> &'static ConfigDef {
        schemas::clickhouse_sink()
    }

    fn task_class(&self) -> &'static str {
        "io.sluice.connect.clickhouse.ClickHouseSinkTask"
    }

    fn validate(&self, config: &BTreeMap<String, String>) -> Vec<(String, String)> {
        ClickHouseSinkConfig::validate(config)
    }

    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(super::task::ClickHouseSinkTask::new())
    }

    /// With `exactlyOnce`, writes `SET(offset)` (or `RESET`) rows into the state table, so the
    /// next task resumes where the operator said; without it the group offsets are the truth.
    async fn alter_offsets(
        &self,
        config: &BTreeMap<String, String>,
        changes: Option<&[OffsetChange]>,
    ) -> Result<bool, String> {
        let parsed = ClickHouseSinkConfig::parse(config)
            .map_err(|errors| crate::configdef::describe_errors(&errors))?;
        if !parsed.exactly_once {
            return Ok(false);
        }
        let client = ChClient::new(&parsed);
        let store = StateStore::new(client, &parsed.database, &parsed.state_table, &parsed.name);
        store
            .ensure(
                parsed.state_engine,
                &parsed.zk_path,
                parsed.keeper_on_cluster.as_deref(),
            )
            .await
            .map_err(|e| e.to_string())?;
        let targets: Vec<_> = match changes {
            Some(changes) => changes
                .iter()
                .map(|(tp, o)| (tp.clone(), o.map_or(Phase::Reset, Phase::Set)))
                .collect(),
            None => store
                .load()
                .await
                .map_err(|e| e.to_string())?
                .into_keys()
                .map(|tp| (tp, Phase::Reset))
                .collect(),
        };
        for (tp, phase) in targets {
            store.write(&tp, phase).await.map_err(|e| e.to_string())?;
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
    fn registered_under_its_class_and_the_clickhouse_alias() {
        let plugins = Plugins::builtin();
        for class in [
            "io.sluice.connect.clickhouse.ClickHouseSinkConnector",
            "com.clickhouse.kafka.connect.ClickHouseSinkConnector",
        ] {
            let c = plugins.connector(class).expect(class);
            assert_eq!(
                c.task_class(),
                "io.sluice.connect.clickhouse.ClickHouseSinkTask"
            );
        }
        let listed: Vec<String> = plugins.list(true).into_iter().map(|p| p.class).collect();
        assert!(
            listed.contains(&"com.clickhouse.kafka.connect.ClickHouseSinkConnector".to_string())
        );
    }

    fn validate_all(props: &BTreeMap<String, String>) -> crate::configdef::ConfigInfos {
        let plugins = Plugins::builtin();
        let class = props.get("connector.class").cloned().unwrap_or_default();
        let connector = ClickHouseSinkConnector;
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

    #[test]
    fn java_connector_config_validates_clean() {
        let props = config(&[
            ("name", "ch"),
            (
                "connector.class",
                "com.clickhouse.kafka.connect.ClickHouseSinkConnector",
            ),
            ("tasks.max", "1"),
            ("topics", "orders"),
            ("hostname", "clickhouse"),
            ("port", "8123"),
            ("database", "staging"),
            ("username", "default"),
            ("password", ""),
            ("ssl", "false"),
            ("exactlyOnce", "true"),
            ("topic2TableMap", "orders=orders_raw"),
            ("clickhouseSettings", "insert_quorum=1"),
            ("tableRefreshInterval", "60"),
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", "dlq"),
            (
                "value.converter",
                "org.apache.kafka.connect.json.JsonConverter",
            ),
        ]);
        let infos = validate_all(&props);
        let errors: Vec<_> = infos
            .configs
            .iter()
            .filter_map(|c| c.value.as_ref())
            .filter(|v| !v.errors.is_empty())
            .map(|v| (v.name.clone(), v.errors.clone()))
            .collect();
        assert_eq!(infos.error_count, 0, "{errors:?}");
        let password = infos
            .configs
            .iter()
            .filter_map(|c| c.value.as_ref())
            .find(|v| v.name == "password")
            .expect("password listed");
        assert_eq!(password.value.as_deref(), Some("[hidden]"));
    }

    #[test]
    fn validation_reports_schema_and_rule_errors() {
        let props = config(&[
            ("name", "ch"),
            (
                "connector.class",
                "io.sluice.connect.clickhouse.ClickHouseSinkConnector",
            ),
            ("topics", "orders"),
            ("port", "70000"),
            ("clickhouseSettings", "oops"),
        ]);
        let infos = validate_all(&props);
        let errors_of = |key: &str| -> Vec<String> {
            infos
                .configs
                .iter()
                .filter_map(|c| c.value.as_ref())
                .filter(|v| v.name == key)
                .flat_map(|v| v.errors.clone())
                .collect()
        };
        assert_eq!(
            errors_of("hostname"),
            ["Missing required configuration \"hostname\" which has no default value."]
        );
        assert_eq!(
            errors_of("port"),
            ["Invalid value 70000 for configuration port: Value must be no more than 65535"]
        );
        assert_eq!(
            errors_of("clickhouseSettings"),
            ["Invalid value oops for configuration clickhouseSettings: 'oops' is not of the form key=value"]
        );
        assert_eq!(infos.error_count, 3);
    }
}
