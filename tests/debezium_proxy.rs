//! The Debezium-config proxy against a faithful double of a Java Kafka Connect cluster
//! (`tests/support/connect_double.rs`) and against a second Sluice process as the upstream:
//! validation before forwarding, byte-for-byte forwarding, lifecycle calls with AKHQ's bodies,
//! merged listings in AKHQ's shape, name uniqueness, and upstream outages.

mod common;
#[path = "support/connect_double.rs"]
mod connect_double;

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::{file_sink, free_port, unique, wait_until, Api, Reply, TestWorker};
use connect_double::{ConnectDouble, Mode};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use serde_json::{json, Value};

const PG: &str = "io.debezium.connector.postgresql.PostgresConnector";
const SHIPPED: &str = include_str!("../connectors/debezium-postgres.json");
const INVALID_SUFFIX: &str =
    "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";

/// A Sluice worker on a mock Kafka cluster, fronting a Connect double.
struct Env {
    api: Api,
    upstream: ConnectDouble,
    _worker: Option<TestWorker>,
    dir: tempfile::TempDir,
    mock: MockCluster<'static, DefaultProducerContext>,
}

impl Env {
    async fn start(extra: &[(&str, &str)]) -> Env {
        let upstream = ConnectDouble::start().await;
        Env::start_with(upstream, extra).await
    }

    async fn start_with(upstream: ConnectDouble, extra: &[(&str, &str)]) -> Env {
        let mock = MockCluster::new(1).expect("mock cluster");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut props: Vec<(&str, &str)> = vec![
            ("upstream.connect.url", upstream.url.as_str()),
            ("upstream.connect.name", "debezium"),
        ];
        props.extend_from_slice(extra);
        let worker = TestWorker::start(&mock.bootstrap_servers(), dir.path(), &props).await;
        Env {
            api: Api::new(&worker.url),
            upstream,
            _worker: Some(worker),
            dir,
            mock,
        }
    }

    /// A native FileStream sink config over a fresh topic.
    fn native_sink(&self, name: &str) -> Value {
        let topic = unique("t");
        self.mock.create_topic(&topic, 1, 1).expect("topic");
        file_sink(&topic, &self.dir.path().join(format!("{name}.txt")), &[])
    }

    async fn post(&self, body: &str) -> Reply {
        self.api.call("POST", "/connectors", Some(body)).await
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        self.upstream.stop();
    }
}

/// The shipped example's config object.
fn shipped_config() -> serde_json::Map<String, Value> {
    let v: Value = serde_json::from_str(SHIPPED).unwrap();
    v["config"].as_object().unwrap().clone()
}

/// `POST /connectors` body with the shipped config changed: `Some(v)` sets, `None` removes.
fn variant(name: &str, changes: &[(&str, Option<Value>)]) -> String {
    let mut c = shipped_config();
    for (k, v) in changes {
        match v {
            Some(v) => {
                c.insert(k.to_string(), v.clone());
            }
            None => {
                c.remove(*k);
            }
        }
    }
    json!({"name": name, "config": c}).to_string()
}

/// Changes to the shipped config: `Some(v)` sets, `None` removes.
type Changes<'a> = Vec<(&'a str, Option<Value>)>;

fn invalid(errors: &[&str]) -> String {
    format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\n{INVALID_SUFFIX}",
        errors.len(),
        errors.join("\n")
    )
}

/// AKHQ's client: `Accept` and `Content-Type: application/json` on every call.
async fn akhq(api: &Api, method: &str, path: &str, body: Option<&str>) -> Reply {
    let client = reqwest::Client::new();
    let mut req = client
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            format!("{}{path}", api.url),
        )
        .header("Accept", "application/json")
        .header("Content-Type", "application/json");
    if let Some(b) = body {
        req = req.body(b.to_string());
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("AKHQ needs JSON; got {text:?}: {e}"))
    };
    Reply {
        status,
        body,
        text,
        headers,
    }
}

// ----- create / forward ---------------------------------------------------------------------

#[tokio::test]
async fn shipped_debezium_config_is_forwarded_byte_for_byte() {
    let env = Env::start(&[]).await;
    let r = env.post(SHIPPED).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.headers["location"], "/connectors/cdc-postgres",
        "the upstream's absolute Location becomes a path on Sluice"
    );
    assert_eq!(r.body["name"], "cdc-postgres");
    assert_eq!(r.body["type"], "source");
    let posts: Vec<_> = env
        .upstream
        .calls()
        .into_iter()
        .filter(|c| c.method == "POST")
        .collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].uri, "/connectors");
    assert_eq!(
        posts[0].body.as_ref(),
        SHIPPED.as_bytes(),
        "the body must reach the upstream byte for byte"
    );
    assert_eq!(posts[0].headers["content-type"], "application/json");
    // From now on Sluice answers for it with the upstream's data.
    let info = env.api.get("/connectors/cdc-postgres").await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.body["config"]["database.dbname"], "shop");
    let cfg = env.api.get("/connectors/cdc-postgres/config").await;
    assert_eq!(
        cfg.body,
        json!(env.upstream.config_of("cdc-postgres").unwrap())
    );
    // The upstream's own 409 for a second create comes back unchanged.
    let again = env.post(SHIPPED).await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.body,
        json!({"error_code": 409, "message": "Connector cdc-postgres already exists"})
    );
}

#[tokio::test]
async fn per_class_defaults_are_added_before_validation_and_visible() {
    let env = Env::start(&[
        (
            "upstream.connect.defaults.PostgresConnector.plugin.name",
            "pgoutput",
        ),
        (
            "upstream.connect.defaults.PostgresConnector.heartbeat.interval.ms",
            "10000",
        ),
        // A default that would be invalid is judged like the user's own values.
        (
            "upstream.connect.defaults.MySqlConnector.snapshot.mode",
            "x",
        ),
    ])
    .await;
    // Without plugin.name, the default fills it; a value the user set is never overridden.
    let body = variant(
        "pg-defaults",
        &[
            ("plugin.name", None),
            ("heartbeat.interval.ms", Some(json!("500"))),
        ],
    );
    let r = env.post(&body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let post = env
        .upstream
        .calls()
        .into_iter()
        .find(|c| c.method == "POST")
        .unwrap();
    let sent: Value = serde_json::from_slice(&post.body).unwrap();
    let mut expected = shipped_config();
    expected.insert("plugin.name".into(), json!("pgoutput"));
    expected.insert("heartbeat.interval.ms".into(), json!("500"));
    assert_eq!(sent["config"], Value::Object(expected));
    assert_eq!(sent["name"], "pg-defaults");
    let stored = env.api.get("/connectors/pg-defaults/config").await;
    assert_eq!(stored.body["plugin.name"], "pgoutput");
    assert_eq!(stored.body["heartbeat.interval.ms"], "500");
    // The shipped file (plugin.name set): only the heartbeat default is added.
    let r = env.post(SHIPPED).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let stored = env.upstream.config_of("cdc-postgres").unwrap();
    assert_eq!(stored["heartbeat.interval.ms"], "10000");
    assert_eq!(stored["plugin.name"], "pgoutput");
}

#[tokio::test]
async fn invalid_variants_are_rejected_locally_and_never_reach_the_upstream() {
    let env = Env::start(&[]).await;
    let fmt = |v: &str| {
        format!("{v} has invalid format (only the underscore, hyphen, dot and alphanumeric characters are allowed)")
    };
    let cases: Vec<(Changes, Vec<String>)> = vec![
        (vec![("database.hostname", None)], vec!["A value is required".into()]),
        (vec![("database.user", Some(json!("  ")))], vec!["A value is required".into()]),
        (vec![("database.dbname", None), ("topic.prefix", None)], vec!["A value is required".into(), "A value is required".into()]),
        (vec![("database.hostname", Some(json!("pg host")))], vec![fmt("pg host")]),
        (vec![("topic.prefix", Some(json!("shop/cdc")))], vec![fmt("shop/cdc")]),
        (
            vec![("slot.name", Some(json!("Sluice-CDC")))],
            vec!["Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63".into()],
        ),
        (vec![("plugin.name", Some(json!("wal2json")))], vec!["Value must be one of decoderbufs, pgoutput".into()]),
        (
            vec![("snapshot.mode", Some(json!("sometimes")))],
            vec!["Value must be one of always, initial, no_data, initial_only, when_needed, configuration_based, custom, never".into()],
        ),
        (
            vec![("publication.autocreate.mode", Some(json!("some")))],
            vec!["Value must be one of all_tables, disabled, filtered, no_tables".into()],
        ),
        (
            vec![("table.exclude.list", Some(json!("public.audit")))],
            vec!["\"table.include.list\" is already specified".into()],
        ),
        (
            vec![("topic.prefix", None), ("database.server.name", Some(json!("shop")))],
            vec![
                "A value is required".into(),
                "database.server.name was replaced by topic.prefix in Debezium 2.0; rename the key to topic.prefix".into(),
            ],
        ),
        (
            vec![("database.port", Some(json!("five")))],
            vec!["Invalid value five for configuration database.port: Not a number of type INT".into()],
        ),
        (
            vec![("tasks.max", Some(json!("0")))],
            vec!["Invalid value 0 for configuration tasks.max: Value must be at least 1".into()],
        ),
        (
            vec![("tombstones.on.delete", Some(json!("yes")))],
            vec!["Invalid value yes for configuration tombstones.on.delete: Expected value to be either true or false".into()],
        ),
        (
            vec![("database.password", Some(Value::Null))],
            vec!["Null value can not be supplied as the configuration value.".into()],
        ),
    ];
    for (i, (changes, errors)) in cases.iter().enumerate() {
        let name = format!("bad-{i}");
        let errors: Vec<&str> = errors.iter().map(String::as_str).collect();
        let expected = json!({"error_code": 400, "message": invalid(&errors)});
        let r = env.post(&variant(&name, changes)).await;
        assert_eq!(r.status, 400, "case {i} {changes:?}: {}", r.text);
        assert_eq!(r.body, expected, "case {i} {changes:?}");
        // The same config through PUT /connectors/{c}/config.
        let body =
            serde_json::from_str::<Value>(&variant(&name, changes)).unwrap()["config"].to_string();
        let r = env
            .api
            .call("PUT", &format!("/connectors/{name}/config"), Some(&body))
            .await;
        assert_eq!(r.status, 400, "PUT case {i}: {}", r.text);
        assert_eq!(r.body, expected, "PUT case {i}");
    }
    assert!(
        env.upstream.requests().is_empty(),
        "invalid configs reached the upstream: {:?}",
        env.upstream
            .requests()
            .iter()
            .map(|r| format!("{} {}", r.method, r.uri))
            .collect::<Vec<_>>()
    );
    // Name mismatch: Connect's 400, also local.
    let r = env.post(&variant("a", &[("name", Some(json!("b")))])).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body["message"],
        "Connector name configuration (b) doesn't match connector name in the URL (a)"
    );
    assert!(env.upstream.requests().is_empty());
}

#[tokio::test]
async fn other_debezium_connectors_get_the_generic_rules() {
    let env = Env::start(&[]).await;
    let body = json!({"name": "mysql", "config": {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.hostname": "mysql", "database.server.name": "shop",
    }})
    .to_string();
    let r = env.post(&body).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.body["message"],
        invalid(&[
            "A value is required",
            "database.server.name was replaced by topic.prefix in Debezium 2.0; rename the key to topic.prefix"
        ])
    );
    assert!(env.upstream.requests().is_empty());
    let body = json!({"name": "mysql", "config": {
        "connector.class": "io.debezium.connector.mysql.MySqlConnector",
        "database.hostname": "mysql", "topic.prefix": "shop",
    }})
    .to_string();
    let r = env.post(&body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        env.upstream.config_of("mysql").unwrap()["topic.prefix"],
        "shop"
    );
}

// ----- lifecycle ----------------------------------------------------------------------------

#[tokio::test]
async fn lifecycle_calls_reach_the_upstream_with_akhq_bodies() {
    let env = Env::start(&[]).await;
    let r = akhq(&env.api, "POST", "/connectors", Some(SHIPPED)).await;
    assert_eq!(r.status, 201);
    env.upstream.clear_requests();
    let n = "cdc-postgres";
    // (method, path, body as AKHQ's library sends it, expected status)
    let steps: Vec<(&str, String, Option<&str>, u16)> = vec![
        ("GET", format!("/connectors/{n}"), None, 200),
        ("GET", format!("/connectors/{n}/status"), None, 200),
        ("PUT", format!("/connectors/{n}/pause"), Some("null"), 202),
        ("PUT", format!("/connectors/{n}/resume"), Some("null"), 202),
        (
            "POST",
            format!("/connectors/{n}/restart"),
            Some("\"\""),
            204,
        ),
        (
            "POST",
            format!("/connectors/{n}/tasks/0/restart"),
            Some("\"\""),
            204,
        ),
        (
            "POST",
            format!("/connectors/{n}/restart?includeTasks=true&onlyFailed=false"),
            Some("\"\""),
            202,
        ),
        ("GET", format!("/connectors/{n}/tasks"), None, 200),
        ("GET", format!("/connectors/{n}/tasks/0/status"), None, 200),
        ("GET", format!("/connectors/{n}/topics"), None, 200),
        (
            "PUT",
            format!("/connectors/{n}/topics/reset"),
            Some("null"),
            202,
        ),
        ("GET", format!("/connectors/{n}/offsets"), None, 200),
        ("DELETE", format!("/connectors/{n}/offsets"), None, 400),
        ("PUT", format!("/connectors/{n}/stop"), Some("null"), 204),
        ("DELETE", format!("/connectors/{n}/offsets"), None, 200),
        (
            "PATCH",
            format!("/connectors/{n}/offsets"),
            Some(r#"{"offsets":[{"partition":{"server":"shop"},"offset":{"lsn":1}}]}"#),
            200,
        ),
        ("GET", format!("/connectors/{n}/tasks/7/status"), None, 404),
    ];
    for (method, path, body, status) in &steps {
        env.upstream.clear_requests();
        let r = akhq(&env.api, method, path, *body).await;
        assert_eq!(r.status, *status, "{method} {path}: {}", r.text);
        let calls = env.upstream.calls();
        assert_eq!(calls.len(), 1, "{method} {path}: {calls:?}");
        assert_eq!(calls[0].method, *method);
        assert_eq!(&calls[0].uri, path, "path and query forwarded unchanged");
        assert_eq!(
            calls[0].body.as_ref(),
            body.unwrap_or("").as_bytes(),
            "{method} {path}: body forwarded verbatim"
        );
    }
    assert_eq!(env.upstream.state_of(n), Some("STOPPED"));
    // Error bodies come back exactly as the upstream wrote them.
    env.upstream.clear_requests();
    let r = akhq(
        &env.api,
        "DELETE",
        &format!("/connectors/{n}/offsets"),
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let r = akhq(
        &env.api,
        "GET",
        &format!("/connectors/{n}/tasks/7/status"),
        None,
    )
    .await;
    assert_eq!(
        r.body,
        json!({"error_code": 404, "message": format!("No status found for task {n}-7")})
    );

    // Update (AKHQ: PUT config with the full map) is validated, then forwarded.
    let mut cfg = shipped_config();
    cfg.insert("snapshot.mode".into(), json!("no_data"));
    let r = akhq(
        &env.api,
        "PUT",
        &format!("/connectors/{n}/config"),
        Some(&Value::Object(cfg.clone()).to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        env.upstream.config_of(n).unwrap()["snapshot.mode"],
        "no_data"
    );
    cfg.insert("snapshot.mode".into(), json!("whenever"));
    env.upstream.clear_requests();
    let r = akhq(
        &env.api,
        "PUT",
        &format!("/connectors/{n}/config"),
        Some(&Value::Object(cfg).to_string()),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(env.upstream.calls().is_empty());

    // PATCH: the merged config is validated; a bad patch stays local, a good one is forwarded.
    env.upstream.clear_requests();
    let r = env
        .api
        .call(
            "PATCH",
            &format!("/connectors/{n}/config"),
            Some(r#"{"slot.name":"Bad-Slot"}"#),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("Valid replication slot name"));
    assert!(env.upstream.calls().iter().all(|c| c.method != "PATCH"));
    let patch = r#"{"slot.name":"cdc_2","publication.name":null}"#;
    let r = env
        .api
        .call("PATCH", &format!("/connectors/{n}/config"), Some(patch))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sent = env
        .upstream
        .calls()
        .into_iter()
        .find(|c| c.method == "PATCH")
        .unwrap();
    assert_eq!(sent.body.as_ref(), patch.as_bytes());
    let stored = env.upstream.config_of(n).unwrap();
    assert_eq!(stored["slot.name"], "cdc_2");
    assert!(!stored.contains_key("publication.name"));

    // Delete, then the name is free and unknown everywhere: Connect's 404.
    let r = akhq(&env.api, "DELETE", &format!("/connectors/{n}"), None).await;
    assert_eq!(r.status, 204);
    assert_eq!(env.upstream.config_of(n), None);
    let r = akhq(&env.api, "GET", &format!("/connectors/{n}"), None).await;
    assert_eq!(r.status, 404);
    assert_eq!(
        r.body,
        json!({"error_code": 404, "message": format!("Connector {n} not found")})
    );
}

// ----- merged views -------------------------------------------------------------------------

#[tokio::test]
async fn merged_listing_has_akhq_shape() {
    let env = Env::start(&[]).await;
    let native = unique("native");
    env.api.create(&native, &env.native_sink(&native)).await;
    assert_eq!(env.post(SHIPPED).await.status, 201);
    // A connector created on the Java cluster directly shows up too.
    env.upstream.seed(
        "legacy-mysql",
        &[
            (
                "connector.class",
                "io.debezium.connector.mysql.MySqlConnector",
            ),
            ("topic.prefix", "m"),
        ],
    );

    let plain = env.api.get("/connectors").await;
    assert_eq!(plain.status, 200);
    let mut names: Vec<String> = serde_json::from_value(plain.body).unwrap();
    names.sort();
    let mut expected = vec![native.clone(), "cdc-postgres".into(), "legacy-mysql".into()];
    expected.sort();
    assert_eq!(names, expected);

    let r = akhq(
        &env.api,
        "GET",
        "/connectors?expand=info&expand=status",
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    let map = r.body.as_object().unwrap();
    assert_eq!(map.len(), 3, "{}", r.text);
    for (key, entry) in map {
        let info = &entry["info"];
        let status = &entry["status"];
        assert!(info.is_object() && status.is_object(), "{key}: {entry}");
        assert_eq!(info["name"], key.as_str(), "map key must equal info.name");
        assert!(
            info["config"]["connector.class"].is_string(),
            "{key}: AKHQ needs connector.class"
        );
        assert!(info["tasks"].is_array() && status["tasks"].is_array());
        for t in status["tasks"].as_array().unwrap() {
            assert!(t["state"].is_string(), "{key}: task state must be non-null");
        }
        assert!(status["connector"]["state"].is_string());
    }
    assert_eq!(map["cdc-postgres"]["info"]["type"], "source");
    assert_eq!(map[&native]["info"]["type"], "sink");
    assert_eq!(
        map["legacy-mysql"]["status"]["connector"]["state"],
        "RUNNING"
    );
    // The upstream got the same repeated expand parameter.
    assert!(env
        .upstream
        .requests()
        .iter()
        .any(|c| c.uri == "/connectors?expand=info&expand=status"));

    let r = env.api.get("/connectors?expand=status").await;
    let map = r.body.as_object().unwrap();
    assert_eq!(map.len(), 3);
    assert!(map
        .values()
        .all(|e| e.get("info").is_none() && e["status"].is_object()));
    // A connector seen only in a listing is controlled through Sluice too.
    let r = akhq(
        &env.api,
        "PUT",
        "/connectors/legacy-mysql/pause",
        Some("null"),
    )
    .await;
    assert_eq!(r.status, 202);
    assert_eq!(env.upstream.state_of("legacy-mysql"), Some("PAUSED"));
}

#[tokio::test]
async fn merged_plugins_and_combined_validate() {
    let env = Env::start(&[]).await;
    let r = env.api.get("/connector-plugins").await;
    assert_eq!(r.status, 200);
    let list = r.body.as_array().unwrap();
    let classes: Vec<&str> = list.iter().map(|p| p["class"].as_str().unwrap()).collect();
    for c in [
        "io.sluice.connect.s3.S3ParquetSinkConnector",
        "org.apache.kafka.connect.file.FileStreamSinkConnector",
        PG,
        "io.debezium.connector.mysql.MySqlConnector",
    ] {
        assert_eq!(
            classes.iter().filter(|x| **x == c).count(),
            1,
            "{c} once in {classes:?}"
        );
    }
    assert!(
        !classes.contains(&"org.apache.kafka.connect.mirror.MirrorSourceConnector"),
        "not routable: not listed"
    );
    let pg = list.iter().find(|p| p["class"] == PG).unwrap();
    assert_eq!(pg["type"], "source");
    assert_eq!(pg["version"], "3.0.8.Final");
    let all = env.api.get("/connector-plugins?connectorsOnly=false").await;
    let all = all.body.as_array().unwrap();
    assert!(all.iter().any(|p| p["class"] == PG));
    assert_eq!(
        all.iter()
            .filter(
                |p| p["class"] == "org.apache.kafka.connect.json.JsonConverter"
                    && p["type"] == "converter"
            )
            .count(),
        1,
        "converters stay Sluice's own"
    );
    assert!(!all.iter().any(
        |p| p["class"] == "io.debezium.transforms.ExtractNewRecordState"
            && p["version"] == "3.0.8.Final"
    ));

    // AKHQ's plugin page: validate with only connector.class and topics=getPlugins.
    let r = akhq(
        &env.api,
        "PUT",
        &format!("/connector-plugins/{PG}/config/validate"),
        Some(&json!({"connector.class": PG, "topics": "getPlugins"}).to_string()),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], PG);
    let configs = r.body["configs"].as_array().unwrap();
    assert!(
        configs.iter().all(|c| c["definition"].is_object()),
        "AKHQ needs a definition everywhere"
    );
    let errors_of = |key: &str| -> Vec<String> {
        configs
            .iter()
            .find(|c| c["value"]["name"] == key)
            .map(|c| serde_json::from_value(c["value"]["errors"].clone()).unwrap())
            .unwrap_or_default()
    };
    assert_eq!(errors_of("database.hostname"), vec!["A value is required"]);
    assert_eq!(errors_of("database.user"), vec!["A value is required"]);
    assert_eq!(
        errors_of("name").len(),
        1,
        "the upstream's own error is kept"
    );
    let total: usize = configs
        .iter()
        .map(|c| c["value"]["errors"].as_array().unwrap().len())
        .sum();
    assert_eq!(r.body["error_count"], total);
    assert_eq!(total, 5, "name + 4 required keys: {}", r.text);

    // The shipped config with an unreachable database: the upstream's connection check and
    // the local rules together.
    let mut cfg = shipped_config();
    cfg.insert("database.hostname".into(), json!("unreachable-db"));
    cfg.insert("slot.name".into(), json!("Bad"));
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connector-plugins/{PG}/config/validate"),
            Some(&Value::Object(cfg).to_string()),
        )
        .await;
    assert_eq!(r.status, 200);
    let configs = r.body["configs"].as_array().unwrap();
    let host = configs
        .iter()
        .find(|c| c["value"]["name"] == "database.hostname")
        .unwrap();
    assert_eq!(
        host["value"]["errors"][0],
        "Error while validating connector config: The connection attempt failed."
    );
    let slot = configs
        .iter()
        .find(|c| c["value"]["name"] == "slot.name")
        .unwrap();
    assert!(slot["value"]["errors"][0]
        .as_str()
        .unwrap()
        .starts_with("Valid replication slot name"));
    assert_eq!(
        r.body["error_count"], 3,
        "name, connection, slot: {}",
        r.text
    );

    // Plugin config definitions come from the upstream.
    let r = env
        .api
        .get(&format!("/connector-plugins/{PG}/config"))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body[0]["name"], "topic.prefix");
    // Native plugin endpoints are untouched.
    let r = env
        .api
        .get("/connector-plugins/FileStreamSink/config")
        .await;
    assert_eq!(r.status, 200);
    assert!(env
        .upstream
        .requests()
        .iter()
        .all(|c| !c.uri.contains("FileStreamSink/config")));
}

// ----- names --------------------------------------------------------------------------------

#[tokio::test]
async fn names_are_unique_across_native_and_upstream() {
    let env = Env::start(&[]).await;
    env.upstream.seed("taken", &[("connector.class", PG)]);
    let conflict =
        |n: &str| json!({"error_code": 409, "message": format!("Connector {n} already exists")});

    let body = json!({"name": "taken", "config": env.native_sink("taken")}).to_string();
    let r = env.post(&body).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body, conflict("taken"));
    let r = env
        .api
        .call(
            "PUT",
            "/connectors/taken/config",
            Some(&env.native_sink("taken").to_string()),
        )
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, conflict("taken"));

    let mine = unique("mine");
    env.api.create(&mine, &env.native_sink(&mine)).await;
    env.upstream.clear_requests();
    let r = env.post(&variant(&mine, &[])).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.body, conflict(&mine));
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{mine}/config"),
            Some(&Value::Object(shipped_config()).to_string()),
        )
        .await;
    assert_eq!(r.status, 409);
    assert!(env.upstream.calls().is_empty(), "nothing was forwarded");
    // The native connector is still served natively.
    let r = env.api.get(&format!("/connectors/{mine}/status")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["type"], "sink");
}

// ----- outages ------------------------------------------------------------------------------

#[tokio::test]
async fn upstream_down_fails_fast_and_native_keeps_working() {
    let env = Env::start(&[("upstream.connect.connect.timeout.ms", "500")]).await;
    let native = unique("native");
    env.api.create(&native, &env.native_sink(&native)).await;
    assert_eq!(env.post(SHIPPED).await.status, 201);
    env.upstream.stop();
    // Wait until the listener is really gone.
    wait_until("double stopped", Duration::from_secs(10), || async {
        reqwest::get(format!("{}/connectors", env.upstream.url))
            .await
            .err()
            .map(|_| ())
    })
    .await;

    let t = Instant::now();
    let r = env.api.get("/connectors/cdc-postgres/status").await;
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(r.status, 502, "{}", r.text);
    assert_eq!(r.body["error_code"], 502);
    let msg = r.body["message"].as_str().unwrap();
    assert!(
        msg.contains("'debezium'")
            && msg.contains(&env.upstream.url)
            && msg.contains("unreachable"),
        "{msg}"
    );

    let r = env.post(&variant("another", &[])).await;
    assert_eq!(r.status, 502, "{}", r.text);
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connector-plugins/{PG}/config/validate"),
            Some(&Value::Object(shipped_config()).to_string()),
        )
        .await;
    assert_eq!(
        r.status, 502,
        "validate needs the upstream's connection check: {}",
        r.text
    );
    // Still validated locally first: an invalid config is a 400 even while the upstream is down.
    let r = env
        .post(&variant("bad", &[("plugin.name", Some(json!("x")))]))
        .await;
    assert_eq!(r.status, 400);

    // Native connectors and the merged listing keep working.
    let r = env.api.get("/connectors").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!([native.clone()]));
    let r = env.api.get("/connectors?expand=info&expand=status").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec![&native]
    );
    let r = env.api.get(&format!("/connectors/{native}/status")).await;
    assert_eq!(r.status, 200);
    let r = env.api.get("/connector-plugins").await;
    assert_eq!(r.status, 200);
    assert!(r.body.as_array().unwrap().iter().all(|p| p["class"] != PG));
    let other = unique("other");
    env.api.create(&other, &env.native_sink(&other)).await;
}

#[tokio::test]
async fn slow_upstream_times_out_with_a_clear_error() {
    let upstream = ConnectDouble::start().await;
    let env = Env::start_with(upstream, &[("upstream.connect.request.timeout.ms", "400")]).await;
    assert_eq!(env.post(SHIPPED).await.status, 201);
    let native = unique("native");
    env.api.create(&native, &env.native_sink(&native)).await;
    env.upstream.set_mode(Mode::Slow(Duration::from_secs(3)));
    let t = Instant::now();
    let r = env.api.get("/connectors/cdc-postgres/status").await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(r.status, 504, "{}", r.text);
    let msg = r.body["message"].as_str().unwrap();
    assert!(
        msg.contains("'debezium'") && msg.contains("did not answer") && msg.contains("400 ms"),
        "{msg}"
    );
    let t = Instant::now();
    let r = env.api.get("/connectors?expand=status").await;
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "listing took {:?}",
        t.elapsed()
    );
    assert_eq!(r.status, 200);
    assert!(r.body.as_object().unwrap().contains_key(&native));
}

#[tokio::test]
async fn upstream_errors_and_rebalances_pass_through_unchanged() {
    let env = Env::start(&[]).await;
    assert_eq!(env.post(SHIPPED).await.status, 201);
    env.upstream.set_mode(Mode::Rebalancing);
    let r = env
        .api
        .call("PUT", "/connectors/cdc-postgres/pause", Some("null"))
        .await;
    assert_eq!(r.status, 409);
    assert_eq!(
        r.body,
        json!({"error_code": 409, "message": "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"})
    );
    env.upstream.set_mode(Mode::Failing);
    let r = env.api.get("/connectors/cdc-postgres").await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.text,
        r#"{"error_code":500,"message":"Request timed out"}"#
    );
    // A failing upstream does not break the native listing.
    let r = env.api.get("/connectors").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn basic_auth_is_sent_and_secrets_never_logged() {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    let logs = LOGS
        .get_or_init(|| Arc::new(Mutex::new(Vec::new())))
        .clone();
    #[derive(Clone)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink(logs.clone());
    let _ = tracing_subscriber::fmt()
        .with_env_filter("trace,h2=info,hyper=info,rustls=info,reqwest=info")
        .with_writer(move || sink.clone())
        .try_init();

    let upstream = ConnectDouble::start().await;
    upstream.require_basic_auth("sluice", "Up-S3cret-pw");
    let env = Env::start_with(
        upstream,
        &[
            ("upstream.connect.basic.auth.username", "sluice"),
            ("upstream.connect.basic.auth.password", "Up-S3cret-pw"),
        ],
    )
    .await;
    let body = variant(
        "secretive",
        &[("database.password", Some(json!("Pg-S3cret-pw")))],
    );
    let r = env.post(&body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = env.api.get("/connectors?expand=info").await;
    assert!(r.body.as_object().unwrap().contains_key("secretive"));
    assert_eq!(
        env.api.get("/connectors/secretive/status").await.status,
        200
    );
    let bad = env
        .post(&variant("bad", &[("slot.name", Some(json!("X")))]))
        .await;
    assert_eq!(bad.status, 400);
    env.upstream.stop();
    let down = env.api.get("/connectors/secretive/status").await;
    assert!(down.status >= 500);
    assert!(!down.text.contains("S3cret"));
    // The merged listing says in the log what it could not fetch.
    assert_eq!(env.api.get("/connectors").await.status, 200);

    let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
    assert!(
        text.contains("forwarding create of connector secretive"),
        "log capture works: {}",
        text.len()
    );
    assert!(
        text.contains("listing connectors: Upstream Connect cluster 'debezium'"),
        "the listing logs the cluster it could not fetch"
    );
    assert!(
        !text.contains("Up-S3cret-pw"),
        "upstream password in the logs"
    );
    assert!(
        !text.contains("Pg-S3cret-pw"),
        "database password in the logs"
    );

    // Wrong credentials: the upstream's 401 comes back as is.
    let upstream = ConnectDouble::start().await;
    upstream.require_basic_auth("sluice", "right");
    let env = Env::start_with(
        upstream,
        &[
            ("upstream.connect.basic.auth.username", "sluice"),
            ("upstream.connect.basic.auth.password", "wrong"),
        ],
    )
    .await;
    let r = env.post(SHIPPED).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.body["error_code"], 401);
}

#[tokio::test]
async fn config_providers_pass_through_or_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let secrets = dir.path().join("pg.properties");
    std::fs::write(&secrets, "password=from-file\n").unwrap();
    let placeholder = format!("${{file:{}:password}}", secrets.display());
    // Default: pass through, the upstream's own providers resolve it.
    let env = Env::start(&[("config.providers", "file")]).await;
    let body = variant(
        "pass",
        &[
            ("database.password", Some(json!(placeholder))),
            ("database.hostname", Some(json!("${env:PG_HOST}"))),
        ],
    );
    let r = env.post(&body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let post = env
        .upstream
        .calls()
        .into_iter()
        .find(|c| c.method == "POST")
        .unwrap();
    assert_eq!(post.body.as_ref(), body.as_bytes());
    drop(env);
    // Resolve mode: Sluice resolves before validating and forwarding.
    std::env::set_var("SLUICE_PROXY_TEST_PG_HOST", "db.internal");
    let env = Env::start(&[
        ("config.providers", "file,env"),
        ("upstream.connect.resolve.config.providers", "true"),
    ])
    .await;
    let body = variant(
        "resolved",
        &[
            ("database.password", Some(json!(placeholder))),
            (
                "database.hostname",
                Some(json!("${env:SLUICE_PROXY_TEST_PG_HOST}")),
            ),
        ],
    );
    let r = env.post(&body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let stored = env.upstream.config_of("resolved").unwrap();
    assert_eq!(stored["database.password"], "from-file");
    assert_eq!(stored["database.hostname"], "db.internal");
    // A resolved value is validated like any other.
    std::env::set_var("SLUICE_PROXY_TEST_BAD_HOST", "bad host");
    let r = env
        .post(&variant(
            "bad",
            &[(
                "database.hostname",
                Some(json!("${env:SLUICE_PROXY_TEST_BAD_HOST}")),
            )],
        ))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn native_connectors_resolve_config_providers_for_their_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("resolved-out.txt");
    std::env::set_var("SLUICE_PROXY_TEST_OUT", out.display().to_string());
    let env = Env::start(&[("config.providers", "env")]).await;
    let name = unique("native-env");
    let mut cfg = env.native_sink(&name);
    cfg["file"] = json!("${env:SLUICE_PROXY_TEST_OUT}");
    env.api.create(&name, &cfg).await;
    // The stored config keeps the placeholder; the task gets the value.
    let r = env.api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(r.body["file"], "${env:SLUICE_PROXY_TEST_OUT}");
    env.api.wait_tasks(&name, 1, "RUNNING").await;
    wait_until(
        "the task opened the resolved file",
        Duration::from_secs(20),
        || async { out.exists().then_some(()) },
    )
    .await;
    assert!(!Path::new("${env:SLUICE_PROXY_TEST_OUT}").exists());
}

// ----- sluice to sluice ---------------------------------------------------------------------

/// A `sluice serve` child process, killed (by its own handle) when dropped.
struct SluiceProcess(std::process::Child);

impl Drop for SluiceProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A second Sluice process (embedded broker) as the upstream; the front runs no plugin of its
/// own and proxies the FileStream classes, so every call goes through the forwarding path.
#[tokio::test]
async fn sluice_to_sluice_forwarding() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let upstream_url = format!("http://127.0.0.1:{port}");
    let _child = SluiceProcess(
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "serve",
                "--embedded-broker",
                "--listeners",
                &upstream_url,
                "--state-dir",
                &dir.path().join("upstream").display().to_string(),
                "--override",
                "rest.advertised.host.name=127.0.0.1",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn sluice"),
    );
    let direct = Api::new(&upstream_url);
    wait_until(
        "upstream sluice healthy",
        Duration::from_secs(30),
        || async {
            let r = reqwest::get(format!("{upstream_url}/health")).await.ok()?;
            (r.status().as_u16() == 200).then_some(())
        },
    )
    .await;
    let mock = MockCluster::new(1).expect("mock cluster");
    let front = TestWorker::start_with(
        &mock.bootstrap_servers(),
        &dir.path().join("front"),
        &[
            ("upstream.connect.url", upstream_url.as_str()),
            ("upstream.connect.name", "sluice-upstream"),
            (
                "upstream.connect.classes",
                "org.apache.kafka.connect.file.*,FileStreamSink",
            ),
        ],
        sluice::connectors::Plugins::empty(),
    )
    .await;
    let api = Api::new(&front.url);
    let out = dir.path().join("s2s.txt");
    let config = json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": "s2s",
        "file": out.display().to_string(),
    });

    // An invalid config is judged by the upstream Sluice; its answer comes back unchanged.
    let mut bad = config.clone();
    bad.as_object_mut().unwrap().remove("topics");
    let body = json!({"name": "s2s-bad", "config": bad}).to_string();
    let via_front = api.call("POST", "/connectors", Some(&body)).await;
    let straight = direct.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(via_front.status, 400, "{}", via_front.text);
    assert_eq!(via_front.text, straight.text);

    let body = json!({"name": "s2s-file", "config": config}).to_string();
    let r = akhq(&api, "POST", "/connectors", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.headers["location"], "/connectors/s2s-file");
    assert_eq!(r.body["config"]["file"], out.display().to_string());
    let info_direct = direct.get("/connectors/s2s-file").await;
    assert_eq!(api.get("/connectors/s2s-file").await.text, info_direct.text);
    api.wait_tasks("s2s-file", 1, "RUNNING").await;

    let list = akhq(&api, "GET", "/connectors?expand=info&expand=status", None).await;
    let entry = &list.body["s2s-file"];
    assert_eq!(entry["info"]["name"], "s2s-file");
    assert_eq!(entry["status"]["tasks"][0]["state"], "RUNNING");
    let plugins = api.get("/connector-plugins").await;
    let classes: Vec<&str> = plugins
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["class"].as_str().unwrap())
        .collect();
    assert!(
        classes.contains(&"org.apache.kafka.connect.file.FileStreamSinkConnector"),
        "{classes:?}"
    );
    assert!(
        !classes.iter().any(|c| c.contains("S3")),
        "not proxied, not listed: {classes:?}"
    );

    assert_eq!(
        akhq(&api, "PUT", "/connectors/s2s-file/pause", Some("null"))
            .await
            .status,
        202
    );
    direct.wait_tasks("s2s-file", 1, "PAUSED").await;
    assert_eq!(
        akhq(&api, "PUT", "/connectors/s2s-file/resume", Some("null"))
            .await
            .status,
        202
    );
    api.wait_tasks("s2s-file", 1, "RUNNING").await;
    assert_eq!(
        akhq(&api, "POST", "/connectors/s2s-file/restart", Some("\"\""))
            .await
            .status,
        204
    );
    assert_eq!(
        akhq(
            &api,
            "POST",
            "/connectors/s2s-file/tasks/0/restart",
            Some("\"\"")
        )
        .await
        .status,
        204
    );
    let plan = api
        .call(
            "POST",
            "/connectors/s2s-file/restart?includeTasks=true",
            None,
        )
        .await;
    assert_eq!(plan.status, 202, "{}", plan.text);
    assert_eq!(plan.body["tasks"][0]["state"], "RESTARTING");
    api.wait_tasks("s2s-file", 1, "RUNNING").await;
    let patched = api
        .call(
            "PATCH",
            "/connectors/s2s-file/config",
            Some(r#"{"tasks.max":"1","file.fsync":"false"}"#),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(
        direct.get("/connectors/s2s-file/config").await.body["file.fsync"],
        "false"
    );
    assert_eq!(
        api.call("PUT", "/connectors/s2s-file/stop", Some("null"))
            .await
            .status,
        204
    );
    wait_until("stopped upstream", Duration::from_secs(20), || async {
        let s = direct.get("/connectors/s2s-file/status").await;
        (s.body["connector"]["state"] == "STOPPED" && s.body["tasks"] == json!([])).then_some(())
    })
    .await;
    assert_eq!(
        akhq(&api, "DELETE", "/connectors/s2s-file", None)
            .await
            .status,
        204
    );
    assert_eq!(direct.get("/connectors/s2s-file").await.status, 404);
    let gone = api.get("/connectors/s2s-file").await;
    assert_eq!(gone.status, 404);
    assert_eq!(
        gone.body,
        json!({"error_code": 404, "message": "Connector s2s-file not found"})
    );
    front.stop().await;
}

#[tokio::test]
async fn named_clusters_route_by_class_and_share_one_namespace() {
    let dbz = ConnectDouble::start().await;
    let legacy = ConnectDouble::start().await;
    let mock = MockCluster::new(1).expect("mock cluster");
    let dir = tempfile::tempdir().unwrap();
    let worker = TestWorker::start(
        &mock.bootstrap_servers(),
        dir.path(),
        &[
            ("upstream.connect.clusters", "dbz,legacy"),
            ("upstream.connect.dbz.url", dbz.url.as_str()),
            ("upstream.connect.legacy.url", legacy.url.as_str()),
            (
                "upstream.connect.legacy.classes",
                "org.apache.kafka.connect.mirror.*",
            ),
            ("upstream.connect.request.timeout.ms", "2000"),
        ],
    )
    .await;
    let api = Api::new(&worker.url);
    assert_eq!(
        api.call("POST", "/connectors", Some(SHIPPED)).await.status,
        201
    );
    assert!(dbz.config_of("cdc-postgres").is_some());
    assert!(legacy.config_of("cdc-postgres").is_none());
    let mirror = json!({"name": "mm2", "config": {
        "connector.class": "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        "source.cluster.alias": "a",
    }})
    .to_string();
    let r = api.call("POST", "/connectors", Some(&mirror)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(legacy.config_of("mm2").is_some());
    assert!(dbz.config_of("mm2").is_none());
    // The mirror plugin is listed now: the legacy cluster is routed for it.
    let plugins = api.get("/connector-plugins").await;
    let mm: Vec<&Value> = plugins
        .body
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["class"] == "org.apache.kafka.connect.mirror.MirrorSourceConnector")
        .collect();
    assert_eq!(mm.len(), 1);
    // Each connector's calls go to its own cluster.
    dbz.clear_requests();
    legacy.clear_requests();
    assert_eq!(
        api.call("PUT", "/connectors/mm2/pause", Some("null"))
            .await
            .status,
        202
    );
    assert_eq!(legacy.state_of("mm2"), Some("PAUSED"));
    assert!(dbz.calls().is_empty());
    // One namespace: a Debezium connector may not take a name the other cluster has.
    legacy.seed(
        "dup",
        &[(
            "connector.class",
            "org.apache.kafka.connect.mirror.MirrorSourceConnector",
        )],
    );
    let r = api
        .call("POST", "/connectors", Some(&variant("dup", &[])))
        .await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.body["message"], "Connector dup already exists");
    assert!(dbz.calls().iter().all(|c| c.method != "POST"));
    let mut names: Vec<String> = serde_json::from_value(api.get("/connectors").await.body).unwrap();
    names.sort();
    assert_eq!(names, vec!["cdc-postgres", "dup", "mm2"]);
    // One cluster down: the other's connectors are still listed and served.
    legacy.stop();
    wait_until("legacy stopped", Duration::from_secs(10), || async {
        reqwest::get(format!("{}/connectors", legacy.url))
            .await
            .err()
            .map(|_| ())
    })
    .await;
    let r = api.get("/connectors?expand=status").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["cdc-postgres"]
    );
    assert_eq!(api.get("/connectors/cdc-postgres/status").await.status, 200);
    let r = api.get("/connectors/mm2/status").await;
    assert_eq!(r.status, 502);
    assert!(
        r.body["message"].as_str().unwrap().contains("'legacy'"),
        "{}",
        r.text
    );
    dbz.stop();
    worker.stop().await;
}

/// A private CA and a server certificate for 127.0.0.1, made with the `openssl` command.
fn make_certs(dir: &Path) -> (std::path::PathBuf, Vec<u8>, Vec<u8>) {
    let run = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=sluice-test-ca",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "srv.key",
        "-out",
        "srv.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        std::fs::read(dir.join("srv.pem")).unwrap(),
        std::fs::read(dir.join("srv.key")).unwrap(),
    )
}

#[tokio::test]
async fn tls_upstream_with_a_private_ca() {
    let certs = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(certs.path());
    let ca = ca.display().to_string();

    // Trusted through ssl.ca.location.
    let upstream = ConnectDouble::start().await;
    let https = connect_double::tls_front(&upstream.url, &cert, &key).await;
    let env = Env::start_with(
        upstream,
        &[
            ("upstream.connect.url", https.as_str()),
            ("upstream.connect.ssl.ca.location", ca.as_str()),
        ],
    )
    .await;
    let r = env.post(SHIPPED).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(env.upstream.config_of("cdc-postgres").is_some());
    assert_eq!(
        env.api.get("/connectors/cdc-postgres/status").await.status,
        200
    );
    drop(env);

    // Not trusted: a clear 502 naming the cluster; nothing reached the upstream.
    let upstream = ConnectDouble::start().await;
    let https = connect_double::tls_front(&upstream.url, &cert, &key).await;
    let env = Env::start_with(upstream, &[("upstream.connect.url", https.as_str())]).await;
    let r = env.post(SHIPPED).await;
    assert_eq!(r.status, 502, "{}", r.text);
    let msg = r.body["message"].as_str().unwrap();
    assert!(msg.contains("'debezium'") && msg.contains(&https), "{msg}");
    assert!(msg.contains("invalid peer certificate"), "{msg}");
    assert!(env.upstream.requests().is_empty());
    drop(env);

    // Verification off (test setups only).
    let upstream = ConnectDouble::start().await;
    let https = connect_double::tls_front(&upstream.url, &cert, &key).await;
    let env = Env::start_with(
        upstream,
        &[
            ("upstream.connect.url", https.as_str()),
            ("upstream.connect.ssl.verify.certificate", "false"),
        ],
    )
    .await;
    assert_eq!(env.post(SHIPPED).await.status, 201);
}

#[test]
fn invalid_upstream_settings_stop_the_binary_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    for (args, key) in [
        (
            vec!["--upstream-connect-url", "ftp://connect:8083"],
            "upstream.connect.url",
        ),
        (
            vec![
                "--override",
                "upstream.connect.clusters=a",
                "--override",
                "upstream.connect.a.url=http://x",
                "--override",
                "upstream.connect.a.request.timeout.ms=soon",
            ],
            "upstream.connect.a.request.timeout.ms",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .arg("serve")
            .args(&args)
            .args([
                "--state-dir",
                &dir.path().display().to_string(),
                "--listeners",
                "http://127.0.0.1:0",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(key), "{args:?}: {err}");
    }
}

#[test]
fn sluice_validate_checks_debezium_files_offline() {
    let bin = env!("CARGO_BIN_EXE_sluice");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("connectors/debezium-postgres.json");
    let out = std::process::Command::new(bin)
        .arg("validate")
        .arg(&shipped)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("valid (io.debezium.connector.postgresql.PostgresConnector"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        variant("bad", &[("slot.name", Some(json!("Bad-Slot")))]),
    )
    .unwrap();
    let out = std::process::Command::new(bin)
        .arg("validate")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout)
        .contains("Valid replication slot name must contain only digits"));
}
