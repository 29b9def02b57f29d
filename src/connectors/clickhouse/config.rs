//! The typed ClickHouse sink config: `schemas/clickhouse-sink.json` gives types, defaults and
//! per-key checks; this module adds what one key's schema cannot express (the `k=v` lists of
//! `topic2TableMap` and `clickhouseSettings`, table names, and how keys combine).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::configdef::{schemas, ConfigValueError, ParsedConfig};

/// `(key, message)` pairs, as `SinkConnector::validate` returns them.
pub type ConfigErrors = Vec<(String, String)>;

/// What `auto.create` builds for a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableMode {
    /// Current row per key: `ReplacingMergeTree(_version[, is_deleted])` ordered by the key.
    Replacing,
    /// Raw change rows: every envelope field flattened (`after.id`, `source.lsn`, ...).
    Staging,
}

/// Engine of the exactly-once state table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateEngine {
    /// `ReplacingMergeTree(seq)`: works on every server, read with `argMax`.
    ReplacingMergeTree,
    /// `KeeperMap(zkPath)`: needs `keeper_map_path_prefix` on the server.
    KeeperMap,
}

/// The ClickHouse sink config, typed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClickHouseSinkConfig {
    /// Connector name (`name`; empty if absent).
    pub name: String,
    /// `hostname`.
    pub hostname: String,
    /// `port`.
    pub port: u16,
    /// `database`.
    pub database: String,
    /// `username`.
    pub username: String,
    /// `password`, trimmed (never log it).
    pub password: String,
    /// `ssl`.
    pub ssl: bool,
    /// `timeoutSeconds`.
    pub timeout: Duration,
    /// `retryCount`.
    pub retry_count: u32,
    /// `exactlyOnce`.
    pub exactly_once: bool,
    /// `topic2TableMap`.
    pub topic_to_table: BTreeMap<String, String>,
    /// `tableRefreshInterval` (`None` = only on schema errors).
    pub table_refresh: Option<Duration>,
    /// `clickhouseSettings`, in order.
    pub settings: Vec<(String, String)>,
    /// `debeziumCDCEnabled`.
    pub debezium: bool,
    /// `auto.evolve`.
    pub auto_evolve: bool,
    /// `ignorePartitionsWhenBatching` (always false with exactly-once).
    pub ignore_partitions: bool,
    /// `tolerateStateMismatch`.
    pub tolerate_state_mismatch: bool,
    /// `state.table`.
    pub state_table: String,
    /// `state.engine`.
    pub state_engine: StateEngine,
    /// `zkPath`.
    pub zk_path: String,
    /// `keeperOnCluster`.
    pub keeper_on_cluster: Option<String>,
    /// `auto.create`.
    pub auto_create: bool,
    /// `table.mode`.
    pub table_mode: TableMode,
    /// `metadata.columns` (the ones `auto.create` adds).
    pub metadata_columns: Vec<String>,
    /// `clusterName`.
    pub cluster: Option<String>,
    /// `batch.max.rows`.
    pub batch_max_rows: usize,
    /// `batch.max.bytes`.
    pub batch_max_bytes: usize,
    /// `batch.max.ms`.
    pub batch_max_ms: u64,
    /// `insert.parallelism`.
    pub insert_parallelism: usize,
}

impl ClickHouseSinkConfig {
    /// The HTTP(S) URL of the server.
    pub fn url(&self) -> String {
        let scheme = if self.ssl { "https" } else { "http" };
        let host = self.hostname.trim();
        // A user may paste a URL into hostname; keep its scheme rather than doubling it.
        if host.starts_with("http://") || host.starts_with("https://") {
            format!("{}:{}", host.trim_end_matches('/'), self.port)
        } else {
            format!("{scheme}://{host}:{}", self.port)
        }
    }

    /// The target table of a topic (`topic2TableMap`, else the topic's name).
    pub fn table_for(&self, topic: &str) -> String {
        self.topic_to_table
            .get(topic)
            .cloned()
            .unwrap_or_else(|| topic.to_string())
    }

    /// Parses and checks a connector (or task) config; every problem as `(key, message)`.
    pub fn parse(config: &BTreeMap<String, String>) -> Result<Self, ConfigErrors> {
        let (parsed, mut schema, rules) = read(config);
        match parsed {
            Some(c) if schema.is_empty() && rules.is_empty() => Ok(c),
            _ => {
                schema.extend(rules);
                Err(schema)
            }
        }
    }

    /// The problems the schema-driven validation does not report, for `SinkConnector::validate`.
    pub fn validate(config: &BTreeMap<String, String>) -> ConfigErrors {
        read(config).2
    }
}

fn invalid(key: &str, value: &str, reason: &str) -> (String, String) {
    (
        key.to_string(),
        format!("Invalid value {value} for configuration {key}: {reason}"),
    )
}

/// Parses `k=v, k2=v2` (the Java connector splits on `,` then on the first `=`).
fn pairs(key: &str, text: &str) -> Result<Vec<(String, String)>, (String, String)> {
    let mut out = Vec::new();
    for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => {
                out.push((k.trim().to_string(), v.trim().to_string()))
            }
            _ => {
                return Err(invalid(
                    key,
                    text,
                    &format!("'{item}' is not of the form key=value"),
                ))
            }
        }
    }
    Ok(out)
}

/// A name ClickHouse accepts inside backquotes: no backquote, backslash or control character
/// (so DDL and queries can quote it without escaping rules differing between versions).
pub fn is_safe_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name
            .chars()
            .any(|c| c == '`' || c == '\\' || c.is_control())
}

type Read = (Option<ClickHouseSinkConfig>, ConfigErrors, ConfigErrors);

fn read(config: &BTreeMap<String, String>) -> Read {
    let p = ParsedConfig::new(&[schemas::clickhouse_sink()], config);
    let mut schema: ConfigErrors = Vec::new();
    let mut rules: ConfigErrors = Vec::new();
    let mut take = |key: &str, r: Result<String, ConfigValueError>| match r {
        Ok(v) => Some(v),
        Err(e) => {
            schema.push((key.to_string(), e.to_string()));
            None
        }
    };
    let s = |k: &str| p.get_str(k).map(str::to_string);
    let hostname = take("hostname", s("hostname"));
    let database = take("database", s("database"));
    let username = take("username", s("username"));
    let password = take(
        "password",
        p.get_password("password").map(|v| v.trim().to_string()),
    );
    let t2t = take("topic2TableMap", s("topic2TableMap"));
    let settings = take("clickhouseSettings", s("clickhouseSettings"));
    let state_table = take("state.table", s("state.table"));
    let state_engine = take("state.engine", s("state.engine"));
    let zk_path = take("zkPath", s("zkPath"));
    let keeper_on_cluster = take("keeperOnCluster", s("keeperOnCluster"));
    let table_mode = take("table.mode", s("table.mode"));
    let cluster = take("clusterName", s("clusterName"));
    let b = |k: &str| p.get_bool(k).map(|v| v.to_string());
    let i = |k: &str| p.get_i64(k).map(|v| v.to_string());
    let ssl = take("ssl", b("ssl"));
    let exactly_once = take("exactlyOnce", b("exactlyOnce"));
    let debezium = take("debeziumCDCEnabled", b("debeziumCDCEnabled"));
    let auto_evolve = take("auto.evolve", b("auto.evolve"));
    let ignore = take(
        "ignorePartitionsWhenBatching",
        b("ignorePartitionsWhenBatching"),
    );
    let tolerate = take("tolerateStateMismatch", b("tolerateStateMismatch"));
    let auto_create = take("auto.create", b("auto.create"));
    let _ = take("bypassRowBinary", b("bypassRowBinary"));
    let _ = take("jdbcConnectionProperties", s("jdbcConnectionProperties"));
    let _ = take("zkDatabase", s("zkDatabase"));
    let port = take("port", i("port"));
    let timeout = take("timeoutSeconds", i("timeoutSeconds"));
    let retry = take("retryCount", i("retryCount"));
    let refresh = take("tableRefreshInterval", i("tableRefreshInterval"));
    let rows = take("batch.max.rows", i("batch.max.rows"));
    let bytes = take("batch.max.bytes", i("batch.max.bytes"));
    let ms = take("batch.max.ms", i("batch.max.ms"));
    let par = take("insert.parallelism", i("insert.parallelism"));
    let metadata = match p.get_list("metadata.columns") {
        Ok(v) => Some(v.to_vec()),
        Err(e) => {
            schema.push(("metadata.columns".into(), e.to_string()));
            None
        }
    };

    let topic_to_table = t2t.and_then(|t| match pairs("topic2TableMap", &t) {
        Ok(v) => {
            for (_, table) in &v {
                if !is_safe_identifier(table) {
                    rules.push(invalid(
                        "topic2TableMap",
                        &t,
                        &format!("'{table}' is not a usable table name"),
                    ));
                }
            }
            Some(v.into_iter().collect::<BTreeMap<_, _>>())
        }
        Err(e) => {
            rules.push(e);
            None
        }
    });
    let settings = settings.and_then(|t| match pairs("clickhouseSettings", &t) {
        Ok(v) => Some(v),
        Err(e) => {
            rules.push(e);
            None
        }
    });
    for (key, v) in [("database", &database), ("state.table", &state_table)] {
        if let Some(v) = v {
            if !is_safe_identifier(v) {
                rules.push(invalid(
                    key,
                    v,
                    "backquotes, backslashes and control characters are not allowed",
                ));
            }
        }
    }
    let table_mode = table_mode.and_then(|m| match m.trim().to_ascii_lowercase().as_str() {
        "replacing" => Some(TableMode::Replacing),
        "staging" => Some(TableMode::Staging),
        _ => None,
    });
    let state_engine = state_engine.and_then(|m| match m.trim() {
        "ReplacingMergeTree" => Some(StateEngine::ReplacingMergeTree),
        "KeeperMap" => Some(StateEngine::KeeperMap),
        _ => None,
    });
    let flag = |v: &Option<String>| v.as_deref() == Some("true");
    if flag(&auto_create) && table_mode == Some(TableMode::Replacing) && !flag(&debezium) {
        rules.push((
            "table.mode".to_string(),
            "table.mode=replacing builds ReplacingMergeTree(_version, is_deleted) tables from \
             Debezium envelopes: set debeziumCDCEnabled=true, or use table.mode=staging"
                .to_string(),
        ));
    }
    let num = |v: &Option<String>| v.as_deref().and_then(|v| v.parse::<i64>().ok());
    let parsed = (|| {
        let exactly_once = flag(&exactly_once);
        Some(ClickHouseSinkConfig {
            name: config
                .get("name")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            hostname: hostname?.trim().to_string(),
            port: u16::try_from(num(&port)?).ok()?,
            database: database?.trim().to_string(),
            username: username?,
            password: password?,
            ssl: flag(&ssl),
            timeout: Duration::from_secs(u64::try_from(num(&timeout)?).ok()?),
            retry_count: u32::try_from(num(&retry)?).ok()?,
            exactly_once,
            topic_to_table: topic_to_table?,
            table_refresh: match num(&refresh)? {
                0 => None,
                s => Some(Duration::from_secs(u64::try_from(s).ok()?)),
            },
            settings: settings?,
            debezium: flag(&debezium),
            auto_evolve: flag(&auto_evolve),
            ignore_partitions: flag(&ignore) && !exactly_once,
            tolerate_state_mismatch: flag(&tolerate),
            state_table: state_table?.trim().to_string(),
            state_engine: state_engine?,
            zk_path: zk_path?,
            keeper_on_cluster: keeper_on_cluster.filter(|s| !s.trim().is_empty()),
            auto_create: flag(&auto_create),
            table_mode: table_mode?,
            metadata_columns: metadata?,
            cluster: cluster.filter(|s| !s.trim().is_empty()),
            batch_max_rows: usize::try_from(num(&rows)?).ok()?,
            batch_max_bytes: usize::try_from(num(&bytes)?).ok()?,
            batch_max_ms: u64::try_from(num(&ms)?).ok()?,
            insert_parallelism: usize::try_from(num(&par)?).ok()?,
        })
    })();
    (parsed, schema, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_follow_the_java_connector() {
        let c = ClickHouseSinkConfig::parse(&config(&[("hostname", "ch")])).expect("valid");
        assert_eq!(c.port, 8443);
        assert!(!c.ssl, "the Java code's default, not its docs'");
        assert_eq!(c.database, "default");
        assert_eq!(c.username, "default");
        assert_eq!(c.password, "");
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.retry_count, 3);
        assert!(!c.exactly_once && !c.debezium && !c.auto_evolve && !c.auto_create);
        assert_eq!(c.table_refresh, None);
        assert_eq!(c.table_mode, TableMode::Replacing);
        assert_eq!(c.state_table, "sluice_connect_state");
        assert_eq!(c.state_engine, StateEngine::ReplacingMergeTree);
        assert_eq!(
            c.metadata_columns,
            ["_topic", "_partition", "_offset", "_op", "_source_ts_ms"]
        );
        assert_eq!(c.url(), "http://ch:8443");
        assert_eq!(c.table_for("orders"), "orders");
    }

    #[test]
    fn parses_maps_and_settings() {
        let c = ClickHouseSinkConfig::parse(&config(&[
            ("hostname", "ch"),
            ("port", "8123"),
            ("ssl", "true"),
            ("password", "  secret "),
            (
                "topic2TableMap",
                "shop.public.orders=orders, shop.public.users=users",
            ),
            ("clickhouseSettings", "insert_quorum=2,max_insert_threads=4"),
            ("exactlyOnce", "true"),
            ("ignorePartitionsWhenBatching", "true"),
            ("tableRefreshInterval", "60"),
        ]))
        .expect("valid");
        assert_eq!(c.url(), "https://ch:8123");
        assert_eq!(c.password, "secret");
        assert_eq!(c.table_for("shop.public.orders"), "orders");
        assert_eq!(c.table_for("other"), "other");
        assert_eq!(
            c.settings,
            [
                ("insert_quorum".to_string(), "2".to_string()),
                ("max_insert_threads".to_string(), "4".to_string())
            ]
        );
        assert!(
            !c.ignore_partitions,
            "exactly-once inserts are per partition"
        );
        assert_eq!(c.table_refresh, Some(Duration::from_secs(60)));
    }

    #[test]
    fn reports_errors_in_connects_format() {
        let errors = ClickHouseSinkConfig::parse(&config(&[
            ("port", "0"),
            ("topic2TableMap", "a=b,c"),
            ("table.mode", "upsert"),
            ("batch.max.rows", "x"),
        ]))
        .expect_err("invalid");
        let text: Vec<String> = errors.iter().map(|(k, m)| format!("{k}: {m}")).collect();
        assert!(text.contains(
            &"hostname: Missing required configuration \"hostname\" which has no default value."
                .to_string()
        ));
        assert!(text.contains(
            &"port: Invalid value 0 for configuration port: Value must be at least 1".to_string()
        ));
        assert!(text.contains(
            &"batch.max.rows: Invalid value x for configuration batch.max.rows: Not a number of type INT".to_string()
        ));
        assert!(text.iter().any(|t| t.starts_with(
            "topic2TableMap: Invalid value a=b,c for configuration topic2TableMap: 'c' is not"
        )));
        assert!(
            text.iter().any(|t| t.starts_with("table.mode: ")),
            "{text:?}"
        );
    }

    #[test]
    fn replacing_tables_need_debezium() {
        let errors =
            ClickHouseSinkConfig::validate(&config(&[("hostname", "ch"), ("auto.create", "true")]));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "table.mode");
        assert!(ClickHouseSinkConfig::validate(&config(&[
            ("hostname", "ch"),
            ("auto.create", "true"),
            ("table.mode", "staging"),
        ]))
        .is_empty());
    }
}
