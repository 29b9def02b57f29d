//! Static validation of proxied configs before they leave Sluice: the Debezium PostgreSQL
//! connector's rules (`connect-rest-api.md` §10) and generic rules for other Debezium connectors.
//!
//! Only what can be decided without the database is checked; the upstream's validate adds the
//! connection check. Version-dependent values are accepted if any supported Debezium release
//! (2.x–3.x) accepts them: rejecting a config the upstream would take is worse than letting the
//! upstream reject it with its own message.

use std::collections::BTreeMap;

/// The Debezium PostgreSQL connector class.
pub const POSTGRES: &str = "io.debezium.connector.postgresql.PostgresConnector";

/// `(key, message)` errors in Connect's order of discovery.
pub type Errors = Vec<(String, String)>;

const REQUIRED: &str = "A value is required";

/// Debezium's hostname / topic name rule (`HOSTNAME_PATTERN`, `TOPIC_NAME_PATTERN`).
fn name_chars_ok(v: &str) -> bool {
    !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn invalid_format(v: &str) -> String {
    format!(
        "{v} has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"
    )
}

/// Include/exclude pairs that may not both be set (Debezium's `validateExcludeField`).
const EXCLUSIVE: &[(&str, &str)] = &[
    ("table.include.list", "table.exclude.list"),
    ("schema.include.list", "schema.exclude.list"),
    ("column.include.list", "column.exclude.list"),
    ("database.include.list", "database.exclude.list"),
    ("collection.include.list", "collection.exclude.list"),
];

/// PostgreSQL enums: key, allowed values (case-insensitive, trimmed, as `Field.EnumRecommender`).
const PG_ENUMS: &[(&str, &[&str])] = &[
    ("plugin.name", &["decoderbufs", "pgoutput"]),
    (
        "publication.autocreate.mode",
        &["all_tables", "disabled", "filtered", "no_tables"],
    ),
    (
        "snapshot.mode",
        // `never` was removed in 3.3 but 2.x/3.0–3.2 upstreams accept it.
        &[
            "always",
            "initial",
            "no_data",
            "initial_only",
            "when_needed",
            "configuration_based",
            "custom",
            "never",
        ],
    ),
    (
        "snapshot.isolation.mode",
        &[
            "serializable",
            "repeatable_read",
            "read_committed",
            "read_uncommitted",
        ],
    ),
    ("snapshot.locking.mode", &["shared", "none", "custom"]),
    (
        "database.sslmode",
        &[
            "disable",
            "allow",
            "prefer",
            "require",
            "verify-ca",
            "verify-full",
        ],
    ),
    ("decimal.handling.mode", &["precise", "double", "string"]),
    (
        "time.precision.mode",
        &[
            "adaptive",
            "adaptive_time_microseconds",
            "connect",
            "isostring",
            "microseconds",
            "nanoseconds",
        ],
    ),
    ("hstore.handling.mode", &["json", "map"]),
    ("interval.handling.mode", &["numeric", "string"]),
];

const PG_INTS: &[&str] = &[
    "database.port",
    "max.batch.size",
    "max.queue.size",
    "slot.max.retries",
];
const PG_LONGS: &[&str] = &[
    "heartbeat.interval.ms",
    "poll.interval.ms",
    "slot.retry.delay.ms",
    "database.query.timeout.ms",
];
const PG_BOOLS: &[&str] = &[
    "slot.drop.on.stop",
    "slot.failover",
    "tombstones.on.delete",
    "database.tcpKeepAlive",
];

/// The config a rule sees: blank values count as missing, and values still holding a config
/// provider placeholder are not judged (the upstream resolves them).
struct View<'a> {
    config: &'a BTreeMap<String, String>,
}

impl<'a> View<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.config
            .get(key)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// A value to check, or `None` when absent or a placeholder.
    fn checkable(&self, key: &str) -> Option<&'a str> {
        self.get(key).filter(|v| !v.contains("${"))
    }
}

/// True when `class` is a Debezium connector (`io.debezium.connector.*`).
pub fn is_debezium(class: &str) -> bool {
    class.trim().starts_with("io.debezium.connector.")
}

/// Validates a proxied config; returns the errors (empty when valid).
pub fn validate(class: &str, config: &BTreeMap<String, String>) -> Errors {
    let v = View { config };
    let mut errors = Errors::new();
    let mut add = |k: &str, m: String| errors.push((k.to_string(), m));
    if let Some(t) = v.checkable("tasks.max") {
        match t.parse::<i64>() {
            Ok(n) if n >= 1 => {}
            Ok(_) => add(
                "tasks.max",
                format!("Invalid value {t} for configuration tasks.max: Value must be at least 1"),
            ),
            Err(_) => add(
                "tasks.max",
                format!("Invalid value {t} for configuration tasks.max: Not a number of type INT"),
            ),
        }
    }
    let class = class.trim();
    if !is_debezium(class) {
        // A non-Debezium class proxied by configuration: the upstream knows its rules.
        return errors;
    }
    let postgres = class == POSTGRES;
    let mongodb = class.contains(".mongodb.");
    let mut required: Vec<&str> = vec!["topic.prefix"];
    if postgres {
        required = vec![
            "database.hostname",
            "database.user",
            "database.dbname",
            "topic.prefix",
        ];
    }
    for key in required {
        if v.get(key).is_none() {
            add(key, REQUIRED.into());
        }
    }
    if v.get("topic.prefix").is_none() && v.get("database.server.name").is_some() {
        add(
            "database.server.name",
            "database.server.name was replaced by topic.prefix in Debezium 2.0; rename the key to topic.prefix".into(),
        );
    }
    if let Some(p) = v.checkable("topic.prefix") {
        if !name_chars_ok(p) {
            add("topic.prefix", invalid_format(p));
        }
    }
    if !mongodb {
        if let Some(h) = v.checkable("database.hostname") {
            if !name_chars_ok(h) {
                add("database.hostname", invalid_format(h));
            }
        }
    }
    for (include, exclude) in EXCLUSIVE {
        if v.get(include).is_some() && v.get(exclude).is_some() {
            add(exclude, format!("\"{include}\" is already specified"));
        }
    }
    if !postgres {
        return errors;
    }
    for key in PG_INTS {
        if let Some(x) = v.checkable(key) {
            if x.parse::<i32>().is_err() {
                add(
                    key,
                    format!("Invalid value {x} for configuration {key}: Not a number of type INT"),
                );
            }
        }
    }
    for key in PG_LONGS {
        if let Some(x) = v.checkable(key) {
            if x.parse::<i64>().is_err() {
                add(
                    key,
                    format!("Invalid value {x} for configuration {key}: Not a number of type LONG"),
                );
            }
        }
    }
    if let Some(x) = v.checkable("status.update.interval.ms") {
        if !x.parse::<i64>().is_ok_and(|n| n > 0) {
            add(
                "status.update.interval.ms",
                format!("Invalid value {x} for configuration status.update.interval.ms: A positive integer value is expected"),
            );
        }
    }
    for key in PG_BOOLS {
        if let Some(x) = v.checkable(key) {
            if !x.eq_ignore_ascii_case("true") && !x.eq_ignore_ascii_case("false") {
                add(
                    key,
                    format!(
                        "Invalid value {x} for configuration {key}: Expected value to be either true or false"
                    ),
                );
            }
        }
    }
    for (key, allowed) in PG_ENUMS {
        if let Some(x) = v.checkable(key) {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(x)) {
                add(key, format!("Value must be one of {}", allowed.join(", ")));
            }
        }
    }
    if let Some(s) = v.checkable("slot.name") {
        let ok = (1..=63).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            add(
                "slot.name",
                "Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63".into(),
            );
        }
    }
    errors
}

/// Connect's 400 text for a config with errors (`AbstractHerder.maybeAddConfigErrors`).
pub fn invalid_message(errors: &Errors) -> Option<String> {
    if errors.is_empty() {
        return None;
    }
    let mut m = format!(
        "Connector configuration is invalid and contains the following {} error(s):",
        errors.len()
    );
    for (_, e) in errors {
        m.push('\n');
        m.push_str(e);
    }
    m.push_str(
        "\nYou can also find the above list of errors at the endpoint \
         `/connector-plugins/{connectorType}/config/validate`",
    );
    Some(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(extra: &[(&str, &str)], without: &[&str]) -> BTreeMap<String, String> {
        let mut c: BTreeMap<String, String> = [
            ("connector.class", POSTGRES),
            ("database.hostname", "postgres"),
            ("database.user", "app"),
            ("database.dbname", "shop"),
            ("topic.prefix", "shop"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        for k in without {
            c.remove(*k);
        }
        for (k, v) in extra {
            c.insert(k.to_string(), v.to_string());
        }
        c
    }

    fn keys(e: &Errors) -> Vec<&str> {
        e.iter().map(|(k, _)| k.as_str()).collect()
    }

    #[test]
    fn proxy_rules_postgres_minimal_config_is_valid() {
        assert_eq!(validate(POSTGRES, &pg(&[], &[])), vec![]);
    }

    #[test]
    fn proxy_rules_postgres_required_and_blank() {
        let e = validate(
            POSTGRES,
            &pg(&[("database.user", "  ")], &["database.dbname"]),
        );
        assert_eq!(keys(&e), vec!["database.user", "database.dbname"]);
        assert!(e.iter().all(|(_, m)| m == REQUIRED));
    }

    #[test]
    fn proxy_rules_patterns_enums_and_exclusivity() {
        let e = validate(
            POSTGRES,
            &pg(
                &[
                    ("database.hostname", "db host"),
                    ("topic.prefix", "shop/x"),
                    ("slot.name", "Debezium-Slot"),
                    ("plugin.name", "wal2json"),
                    ("snapshot.mode", "sometimes"),
                    ("table.include.list", "public.a"),
                    ("table.exclude.list", "public.b"),
                    ("database.port", "54x"),
                    ("slot.drop.on.stop", "yes"),
                ],
                &[],
            ),
        );
        let by_key: BTreeMap<&str, &str> =
            e.iter().map(|(k, m)| (k.as_str(), m.as_str())).collect();
        assert_eq!(e.len(), 8, "{e:?}");
        assert_eq!(
            by_key["database.hostname"],
            "db host has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)"
        );
        assert_eq!(
            by_key["plugin.name"],
            "Value must be one of decoderbufs, pgoutput"
        );
        assert_eq!(
            by_key["table.exclude.list"],
            "\"table.include.list\" is already specified"
        );
        assert!(by_key["slot.name"].starts_with("Valid replication slot name"));
        assert!(by_key["database.port"].contains("Not a number of type INT"));
        // Case-insensitive enums, as Debezium's recommender.
        assert!(validate(POSTGRES, &pg(&[("plugin.name", " PGOUTPUT ")], &[])).is_empty());
    }

    #[test]
    fn proxy_rules_server_name_rename_and_placeholders() {
        let e = validate(
            POSTGRES,
            &pg(&[("database.server.name", "shop")], &["topic.prefix"]),
        );
        assert_eq!(keys(&e), vec!["topic.prefix", "database.server.name"]);
        assert!(e[1].1.contains("topic.prefix"));
        // A placeholder is the upstream's to resolve: not judged here.
        let e = validate(
            POSTGRES,
            &pg(&[("database.hostname", "${env:PG_HOST}")], &[]),
        );
        assert!(e.is_empty(), "{e:?}");
    }

    #[test]
    fn proxy_rules_generic_debezium_and_other_classes() {
        let mysql = "io.debezium.connector.mysql.MySqlConnector";
        let c: BTreeMap<String, String> = [("database.server.name", "x"), ("tasks.max", "0")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let e = validate(mysql, &c);
        assert_eq!(
            keys(&e),
            vec!["tasks.max", "topic.prefix", "database.server.name"]
        );
        assert!(validate("com.acme.Source", &BTreeMap::new()).is_empty());
        let msg = invalid_message(&e).unwrap();
        assert!(msg.starts_with(
            "Connector configuration is invalid and contains the following 3 error(s):\n"
        ));
        assert!(msg.ends_with("`/connector-plugins/{connectorType}/config/validate`"));
        assert_eq!(invalid_message(&vec![]), None);
    }
}
