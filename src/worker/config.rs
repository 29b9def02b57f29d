//! Worker configuration: Kafka Connect's own worker property names, read from a Java
//! `.properties` file, `CONNECT_*` environment variables (Confluent image naming) and flags.
//!
//! Precedence, lowest first: built-in defaults, properties file, environment, flags.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

/// Default REST listener, as in Kafka Connect (`http://:8083`).
pub const DEFAULT_LISTENER: &str = "http://:8083";

/// Errors from reading or checking the worker configuration. Each names the key or file at fault.
#[derive(Debug, Error)]
pub enum WorkerConfigError {
    /// The properties file could not be read.
    #[error("cannot read worker config file {path}: {source}")]
    Read {
        /// File that failed.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The properties file is not valid Java properties syntax.
    #[error("cannot parse worker config file {path}: {message}")]
    Parse {
        /// File that failed.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
    /// A key has a value Sluice cannot use.
    #[error("Invalid value {value} for configuration {key}: {reason}")]
    InvalidValue {
        /// The offending key.
        key: String,
        /// The value given.
        value: String,
        /// Why it is wrong.
        reason: String,
    },
    /// A `--override` flag is not `key=value`.
    #[error("invalid override '{0}': expected key=value")]
    BadOverride(String),
}

/// One HTTP listener the REST server binds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Host to bind ("" means all interfaces).
    pub host: String,
    /// Port to bind (0 picks a free port).
    pub port: u16,
}

/// The typed, validated worker configuration.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Every key after merging all sources (raw strings), for prefix lookups.
    pub raw: BTreeMap<String, String>,
    /// `bootstrap.servers`.
    pub bootstrap_servers: String,
    /// `listeners` (or the legacy `rest.host.name` / `rest.port`).
    pub listener: Listener,
    /// `rest.advertised.host.name` (defaults to the listener host, else this machine's name).
    pub advertised_host: String,
    /// `rest.advertised.port` (defaults to the bound port).
    pub advertised_port: Option<u16>,
    /// `offset.flush.interval.ms`.
    pub offset_flush_interval: Duration,
    /// `offset.flush.timeout.ms`.
    pub offset_flush_timeout: Duration,
    /// `task.shutdown.graceful.timeout.ms`.
    pub task_shutdown_timeout: Duration,
    /// `state.dir` (Sluice): where connector configs and target states live.
    pub state_dir: PathBuf,
    /// `topic.tracking.enable`.
    pub topic_tracking: bool,
    /// `topic.tracking.allow.reset`.
    pub topic_tracking_reset: bool,
    /// `connector.client.config.override.policy` (`All`, `None` or `Principal`).
    pub override_policy: String,
    /// `group.id`: only used to refuse sink groups that collide with it.
    pub group_id: Option<String>,
    /// `access.control.allow.origin` (CORS), empty when off.
    pub cors_origin: String,
    /// `access.control.allow.methods`.
    pub cors_methods: String,
    /// `buffer.memory.bytes` (Sluice): one budget over every open output file of the worker.
    pub buffer_memory_bytes: u64,
    /// `upstream.connect.*` (Sluice): upstream Connect clusters the Debezium proxy forwards to.
    pub proxy: crate::connectors::debezium_proxy::ProxyConfig,
}

/// Keys Kafka Connect workers understand. Those Sluice does not act on are accepted silently,
/// so a Java worker's file works unchanged.
const KNOWN_KEYS: &[&str] = &[
    "bootstrap.servers",
    "client.dns.lookup",
    "client.id",
    "group.id",
    "key.converter",
    "value.converter",
    "header.converter",
    "internal.key.converter",
    "internal.value.converter",
    "task.shutdown.graceful.timeout.ms",
    "offset.flush.interval.ms",
    "offset.flush.timeout.ms",
    "buffer.memory.bytes",
    "listeners",
    "rest.host.name",
    "rest.port",
    "rest.advertised.host.name",
    "rest.advertised.port",
    "rest.advertised.listener",
    "admin.listeners",
    "access.control.allow.origin",
    "access.control.allow.methods",
    "response.http.headers.config",
    "rest.extension.classes",
    "plugin.path",
    "plugin.discovery",
    "config.providers",
    "connector.client.config.override.policy",
    "topic.tracking.enable",
    "topic.tracking.allow.reset",
    "topic.creation.enable",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.sample.window.ms",
    "metrics.recording.level",
    "auto.include.jmx.reporter",
    "offset.storage.topic",
    "offset.storage.partitions",
    "offset.storage.replication.factor",
    "config.storage.topic",
    "config.storage.replication.factor",
    "status.storage.topic",
    "status.storage.partitions",
    "status.storage.replication.factor",
    "offset.storage.file.filename",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "rebalance.timeout.ms",
    "worker.sync.timeout.ms",
    "worker.unsync.backoff.ms",
    "scheduled.rebalance.max.delay.ms",
    "connect.protocol",
    "exactly.once.source.support",
    "inter.worker.key.generation.algorithm",
    "inter.worker.key.size",
    "inter.worker.key.ttl.ms",
    "inter.worker.signature.algorithm",
    "inter.worker.verification.algorithms",
    "security.protocol",
    "ssl.client.auth",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.key.password",
    "ssl.truststore.location",
    "ssl.truststore.password",
    "ssl.endpoint.identification.algorithm",
    "sasl.mechanism",
    "sasl.jaas.config",
    "state.dir",
];

/// Key prefixes accepted as families (client settings and converter settings).
const KNOWN_PREFIXES: &[&str] = &[
    "consumer.",
    "producer.",
    "admin.",
    "key.converter.",
    "value.converter.",
    "header.converter.",
    "config.providers.",
    "metrics.context.",
    "listeners.https.",
    "admin.listeners.https.",
    "ssl.",
    "sasl.",
    "upstream.connect.",
];

impl WorkerConfig {
    /// Merges the sources and validates. Returns the config and warnings about unknown keys.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: &[(String, String)],
    ) -> Result<(WorkerConfig, Vec<String>), WorkerConfigError> {
        let mut raw = BTreeMap::new();
        if let Some(path) = file {
            raw.extend(read_properties(path)?);
        }
        raw.extend(env_to_properties(env));
        raw.extend(overrides.iter().cloned());
        let warnings = raw
            .keys()
            .filter(|k| !is_known_key(k))
            .map(|k| format!("unknown worker config key '{k}' is ignored"))
            .collect();
        Ok((Self::from_raw(raw)?, warnings))
    }

    /// Builds the typed config from already merged raw keys.
    pub fn from_raw(raw: BTreeMap<String, String>) -> Result<WorkerConfig, WorkerConfigError> {
        let get = |k: &str| raw.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let bootstrap_servers = get("bootstrap.servers")
            .unwrap_or("localhost:9092")
            .to_string();
        if bootstrap_servers.split(',').any(|s| s.trim().is_empty()) {
            return Err(invalid(
                "bootstrap.servers",
                &bootstrap_servers,
                "empty entry in the list",
            ));
        }
        let listener = match get("listeners") {
            Some(v) => parse_listener(v)?,
            None => {
                let host = get("rest.host.name").unwrap_or("").to_string();
                let port = match get("rest.port") {
                    Some(p) => parse_port("rest.port", p)?,
                    None => 8083,
                };
                Listener { host, port }
            }
        };
        let advertised_host = match get("rest.advertised.host.name") {
            Some(h) => h.to_string(),
            None if !listener.host.is_empty() && listener.host != "0.0.0.0" => {
                listener.host.clone()
            }
            None => gethostname::gethostname().to_string_lossy().into_owned(),
        };
        let advertised_port = get("rest.advertised.port")
            .map(|p| parse_port("rest.advertised.port", p))
            .transpose()?;
        let override_policy = get("connector.client.config.override.policy")
            .unwrap_or("All")
            .to_string();
        if !["All", "None", "Principal"].contains(&override_policy.as_str()) {
            return Err(invalid(
                "connector.client.config.override.policy",
                &override_policy,
                "must be one of All, None, Principal",
            ));
        }
        Ok(WorkerConfig {
            bootstrap_servers,
            listener,
            advertised_host,
            advertised_port,
            offset_flush_interval: millis(&raw, "offset.flush.interval.ms", 60_000)?,
            offset_flush_timeout: millis(&raw, "offset.flush.timeout.ms", 5_000)?,
            task_shutdown_timeout: millis(&raw, "task.shutdown.graceful.timeout.ms", 5_000)?,
            state_dir: PathBuf::from(get("state.dir").unwrap_or("./sluice-data")),
            topic_tracking: boolean(&raw, "topic.tracking.enable", true)?,
            topic_tracking_reset: boolean(&raw, "topic.tracking.allow.reset", true)?,
            override_policy,
            group_id: get("group.id").map(str::to_string),
            cors_origin: get("access.control.allow.origin").unwrap_or("").to_string(),
            cors_methods: get("access.control.allow.methods")
                .unwrap_or("")
                .to_string(),
            buffer_memory_bytes: match raw.get("buffer.memory.bytes").map(|v| v.trim()) {
                None | Some("") => crate::connectors::s3_parquet::budget::DEFAULT_LIMIT as u64,
                Some(v) => v.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    invalid(
                        "buffer.memory.bytes",
                        v,
                        "Not a positive number of type LONG",
                    )
                })?,
            },
            proxy: crate::connectors::debezium_proxy::ProxyConfig::from_raw(&raw)?,
            raw,
        })
    }

    /// Keys under `prefix`, with the prefix removed (e.g. `consumer.` settings).
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        self.raw
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone())))
            .collect()
    }

    /// The raw value of a key, if set and not blank.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.raw
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }
}

fn is_known_key(key: &str) -> bool {
    KNOWN_KEYS.contains(&key) || KNOWN_PREFIXES.iter().any(|p| key.starts_with(p))
}

fn invalid(key: &str, value: &str, reason: &str) -> WorkerConfigError {
    WorkerConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

fn millis(
    raw: &BTreeMap<String, String>,
    key: &str,
    default: u64,
) -> Result<Duration, WorkerConfigError> {
    match raw.get(key).map(|v| v.trim()) {
        None | Some("") => Ok(Duration::from_millis(default)),
        Some(v) => v
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| invalid(key, v, "Not a number of type LONG (non-negative)")),
    }
}

fn boolean(
    raw: &BTreeMap<String, String>,
    key: &str,
    default: bool,
) -> Result<bool, WorkerConfigError> {
    match raw.get(key).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(invalid(
            key,
            &v,
            "Expected value to be either true or false",
        )),
    }
}

fn parse_port(key: &str, v: &str) -> Result<u16, WorkerConfigError> {
    v.parse::<u16>()
        .map_err(|_| invalid(key, v, "not a port number (0-65535)"))
}

/// Parses Connect's `listeners` (first entry wins; Sluice serves one listener).
fn parse_listener(value: &str) -> Result<Listener, WorkerConfigError> {
    let first = value.split(',').next().unwrap_or("").trim();
    let rest = if let Some(r) = first.strip_prefix("http://") {
        r
    } else if first.starts_with("https://") {
        return Err(invalid(
            "listeners",
            value,
            "https listeners are not supported yet; terminate TLS in front of Sluice",
        ));
    } else {
        return Err(invalid(
            "listeners",
            value,
            "expected a URL like http://host:port",
        ));
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => return Err(invalid("listeners", value, "missing :port")),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok(Listener {
        host: host.to_string(),
        port: parse_port("listeners", port)?,
    })
}

/// Reads a Java `.properties` file into a map.
pub fn read_properties(path: &Path) -> Result<BTreeMap<String, String>, WorkerConfigError> {
    let file = std::fs::File::open(path).map_err(|source| WorkerConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let map = java_properties::read(std::io::BufReader::new(file)).map_err(|e| {
        WorkerConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    Ok(map.into_iter().collect())
}

/// Maps `CONNECT_*` environment variables to property names the way Confluent's images do:
/// strip the prefix, lowercase, then `___` → `_`, `__` → `-`, `_` → `.`.
pub fn env_to_properties(
    env: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    env.into_iter()
        .filter_map(|(k, v)| {
            let name = k.strip_prefix("CONNECT_")?;
            if name.is_empty() {
                return None;
            }
            let mut out = String::with_capacity(name.len());
            let lower = name.to_ascii_lowercase();
            let mut rest = lower.as_str();
            while !rest.is_empty() {
                if let Some(r) = rest.strip_prefix("___") {
                    out.push('_');
                    rest = r;
                } else if let Some(r) = rest.strip_prefix("__") {
                    out.push('-');
                    rest = r;
                } else if let Some(r) = rest.strip_prefix('_') {
                    out.push('.');
                    rest = r;
                } else {
                    let c = rest.chars().next().unwrap_or('_');
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
            Some((out, v))
        })
        .collect()
}

/// Parses `key=value` override flags.
pub fn parse_overrides(items: &[String]) -> Result<Vec<(String, String)>, WorkerConfigError> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(WorkerConfigError::BadOverride(s.clone())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Result<WorkerConfig, WorkerConfigError> {
        WorkerConfig::from_raw(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn env_names_follow_confluent_image_rules() {
        let env = [
            ("CONNECT_BOOTSTRAP_SERVERS", "k:9092"),
            ("CONNECT_REST_ADVERTISED_HOST_NAME", "h"),
            ("CONNECT_CONSUMER_MAX__POLL__RECORDS", "x"),
            ("CONNECT_STATE___DIR", "y"),
            ("PATH", "/bin"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let props = env_to_properties(env);
        assert_eq!(props["bootstrap.servers"], "k:9092");
        assert_eq!(props["rest.advertised.host.name"], "h");
        assert_eq!(props["consumer.max-poll-records"], "x");
        assert_eq!(props["state_dir"], "y");
        assert_eq!(props.len(), 4);
    }

    #[test]
    fn defaults_match_kafka_connect() {
        let c = cfg(&[]).unwrap();
        assert_eq!(c.listener.port, 8083);
        assert_eq!(c.offset_flush_interval, Duration::from_millis(60_000));
        assert_eq!(c.state_dir, PathBuf::from("./sluice-data"));
        assert!(c.topic_tracking);
    }

    #[test]
    fn listeners_and_legacy_port() {
        let c = cfg(&[("listeners", "http://127.0.0.1:18083")]).unwrap();
        assert_eq!(
            c.listener,
            Listener {
                host: "127.0.0.1".into(),
                port: 18083
            }
        );
        assert_eq!(c.advertised_host, "127.0.0.1");
        let c = cfg(&[("rest.port", "9999")]).unwrap();
        assert_eq!(c.listener.port, 9999);
    }

    #[test]
    fn invalid_values_name_the_key() {
        let e = cfg(&[("offset.flush.interval.ms", "soon")]).unwrap_err();
        assert!(e.to_string().contains("offset.flush.interval.ms"), "{e}");
        let e = cfg(&[("rest.port", "99999")]).unwrap_err();
        assert!(e.to_string().contains("rest.port"), "{e}");
        let e = cfg(&[("listeners", "https://:8443")]).unwrap_err();
        assert!(e.to_string().contains("listeners"), "{e}");
        let e = cfg(&[("topic.tracking.enable", "yes")]).unwrap_err();
        assert!(e.to_string().contains("topic.tracking.enable"), "{e}");
    }

    #[test]
    fn unknown_keys_warn_and_precedence_holds() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("w.properties");
        std::fs::write(
            &file,
            "bootstrap.servers=file:1\nrest.port=1\nfoo.bar=1\nconsumer.max.poll.records=7\n",
        )
        .unwrap();
        let env = vec![("CONNECT_REST_PORT".to_string(), "2".to_string())];
        let over = parse_overrides(&["bootstrap.servers=flag:3".into()]).unwrap();
        let (c, warnings) = WorkerConfig::load(Some(&file), env, &over).unwrap();
        assert_eq!(c.bootstrap_servers, "flag:3");
        assert_eq!(c.listener.port, 2);
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("foo.bar"));
        assert_eq!(c.with_prefix("consumer.")["max.poll.records"], "7");
    }

    #[test]
    fn missing_file_is_an_error_naming_it() {
        let e = WorkerConfig::load(Some(Path::new("/nonexistent/w.properties")), vec![], &[])
            .unwrap_err();
        assert!(e.to_string().contains("/nonexistent/w.properties"));
        assert!(parse_overrides(&["novalue".into()]).is_err());
    }
}
