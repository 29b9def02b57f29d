//! AKHQ's exact call sequence against Sluice (`connect-rest-api.md` §9.3–9.5), on a real broker.
//!
//! Every request is sent as `org.sourcelab:kafka-connect-client` 4.0.5 sends it: `Accept` and
//! `Content-Type: application/json` on every call, the literal `null` body on pause/resume, the
//! literal `""` body on restarts, no entity on DELETE. Between steps the test checks the fields
//! AKHQ reads (§9.4) and would fail on.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use common::{kafka_bootstrap, unique, wait_until, Reply, TestWorker};
use serde_json::{json, Value};

const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// The HTTP side of AKHQ's Connect client.
struct Akhq {
    url: String,
    client: reqwest::Client,
}

impl Akhq {
    fn new(url: &str) -> Akhq {
        Akhq {
            url: url.to_string(),
            client: reqwest::Client::new(),
        }
    }

    /// A request with the library's headers; `body` is sent verbatim.
    async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("Accept", "application/json")
            .header("Content-Type", "application/json");
        if let Some(b) = body {
            req = req.body(b.to_string());
        }
        let res = req.send().await.expect("http request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("AKHQ needs JSON bodies; got {text:?}: {e}"))
        };
        Reply {
            status,
            body,
            text,
            headers,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }

    /// `getDefinition`: `GET /connectors/{n}` then `GET /connectors/{n}/status`, checked.
    async fn definition(&self, name: &str) -> (Value, Value) {
        let info = self.get(&format!("/connectors/{name}")).await;
        assert_eq!(info.status, 200, "info: {}", info.text);
        let status = self.get(&format!("/connectors/{name}/status")).await;
        assert_eq!(
            status.status, 200,
            "status must exist (AKHQ retries a 404): {}",
            status.text
        );
        check_definition(name, &info.body, &status.body);
        (info.body, status.body)
    }

    /// Polls `getDefinition` until every task is in `state` (and there are `tasks` of them).
    async fn wait_definition(&self, name: &str, tasks: usize, state: &str) -> (Value, Value) {
        wait_until(
            &format!("{name}: {tasks} task(s) {state}"),
            Duration::from_secs(60),
            || async {
                let (info, status) = self.definition(name).await;
                let ts = status["tasks"].as_array().unwrap();
                (ts.len() == tasks
                    && ts.iter().all(|t| t["state"] == state)
                    && task_ids(&info["tasks"], "task") == task_ids(&status["tasks"], "id"))
                .then_some((info, status))
            },
        )
        .await
    }

    /// The list page: `GET /connectors?expand=info&expand=status`, checked entry by entry.
    async fn list(&self) -> serde_json::Map<String, Value> {
        let r = self.get("/connectors?expand=info&expand=status").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let map = r
            .body
            .as_object()
            .unwrap_or_else(|| panic!("expand must return a map, even when empty: {}", r.text))
            .clone();
        for (key, entry) in &map {
            let info = &entry["info"];
            let status = &entry["status"];
            assert!(info.is_object(), "{key}: info must be non-null: {entry}");
            assert!(
                status.is_object(),
                "{key}: status must be non-null: {entry}"
            );
            assert_eq!(info["name"], key.as_str(), "map key must equal info.name");
            check_definition(key, info, status);
        }
        map
    }
}

fn task_ids(tasks: &Value, field: &str) -> BTreeSet<u64> {
    tasks
        .as_array()
        .expect("tasks array")
        .iter()
        .map(|t| t[field].as_u64().expect("task id"))
        .collect()
}

/// What AKHQ's `ConnectorDefinition` / `ConnectorStatus` DTOs and `ConnectDefinition` need.
#[track_caller]
fn check_definition(name: &str, info: &Value, status: &Value) {
    // ConnectorInfo.
    assert_eq!(info["name"], name, "{info}");
    assert!(info["type"].is_string(), "type: {info}");
    let config = info["config"].as_object().expect("config map");
    assert!(
        config.get("connector.class").is_some_and(Value::is_string),
        "getShortClassName needs connector.class: {info}"
    );
    assert!(
        config.values().all(Value::is_string),
        "config is Map<String,String>: {info}"
    );
    for t in info["tasks"]
        .as_array()
        .expect("info.tasks must be an array")
    {
        assert_eq!(t["connector"], name, "{info}");
        assert!(t["task"].is_u64(), "{info}");
    }
    // ConnectorStateInfo.
    assert_eq!(status["name"], name, "{status}");
    assert!(status["type"].is_string(), "{status}");
    let conn = status["connector"].as_object().expect("connector map");
    assert!(
        conn.values()
            .all(|v| v.is_string() || v.is_number() || v.is_boolean()),
        "connector is Map<String,String>: scalars only: {status}"
    );
    assert!(conn["state"].is_string() && conn["worker_id"].is_string());
    for t in status["tasks"]
        .as_array()
        .expect("status.tasks must be an array")
    {
        assert!(t["id"].is_u64(), "{status}");
        assert!(
            t["state"].is_string(),
            "task state must be non-null: {status}"
        );
        assert!(t["worker_id"].is_string(), "{status}");
        if let Some(trace) = t.get("trace") {
            assert!(trace.is_string(), "{status}");
        }
    }
}

/// What AKHQ's `ConnectPlugin` builds from a validate response: every definition, complete.
#[track_caller]
fn check_validation(infos: &Value, class: &str) {
    assert_eq!(infos["name"], class, "{infos}");
    assert!(infos["error_count"].is_u64());
    assert!(infos["groups"].is_array());
    let configs = infos["configs"].as_array().expect("configs array");
    assert!(!configs.is_empty());
    for c in configs {
        let d = &c["definition"];
        assert!(d.is_object(), "a null definition NPEs in AKHQ: {c}");
        for (f, ok) in [
            ("name", d["name"].is_string()),
            ("type", d["type"].is_string()),
            ("required", d["required"].is_boolean()),
            (
                "default_value",
                d["default_value"].is_string() || d["default_value"].is_null(),
            ),
            ("importance", d["importance"].is_string()),
            ("documentation", d.get("documentation").is_some()),
            ("group", d.get("group").is_some()),
            ("width", d["width"].is_string()),
            ("display_name", d.get("display_name").is_some()),
            ("dependents", d["dependents"].is_array()),
            ("order", d["order"].is_i64()),
        ] {
            assert!(ok, "definition.{f} missing or mistyped: {c}");
        }
        assert!(
            ["STRING", "LONG", "CLASS", "PASSWORD", "INT", "LIST", "BOOLEAN", "DOUBLE", "SHORT"]
                .contains(&d["type"].as_str().unwrap()),
            "type known to the UI form: {c}"
        );
        let v = &c["value"];
        assert!(v["name"].is_string(), "{c}");
        assert!(v["recommended_values"].is_array(), "{c}");
        assert!(v["errors"].is_array(), "{c}");
        assert!(v["visible"].is_boolean(), "{c}");
    }
}

fn errors_of<'a>(infos: &'a Value, key: &str) -> Vec<&'a str> {
    infos["configs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["value"]["name"] == key)
        .flat_map(|c| c["value"]["errors"].as_array().unwrap())
        .map(|e| e.as_str().unwrap())
        .collect()
}

/// The create page's plugin list: every plugin, validated with AKHQ's probe body.
async fn plugin_page(akhq: &Akhq) -> Vec<Value> {
    let r = akhq.get("/connector-plugins").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let plugins = r.body.as_array().expect("plugin array").clone();
    assert!(!plugins.is_empty());
    for p in &plugins {
        let class = p["class"].as_str().expect("class");
        assert!(p["type"].is_string(), "{p}");
        let body = json!({"connector.class": class, "topics": "getPlugins"}).to_string();
        let r = akhq
            .call(
                "PUT",
                &format!("/connector-plugins/{class}/config/validate"),
                Some(&body),
            )
            .await;
        assert_eq!(r.status, 200, "validate {class}: {}", r.text);
        check_validation(&r.body, class);
        assert!(
            !errors_of(&r.body, "name").is_empty(),
            "{class}: the probe has no name, so `name` has an error: {}",
            r.text
        );
    }
    plugins
}

async fn wait_ids(file: &Path, n: usize) {
    wait_until(
        &format!("{n} records in {}", file.display()),
        Duration::from_secs(60),
        || async { (common::ids(file).len() >= n).then_some(()) },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn akhq_call_sequence() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let topic = unique("akhq");
    common::create_topic(&bootstrap, &topic, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let worker = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let akhq = Akhq::new(&worker.url);

    // List page, nothing yet: an empty map, not an array.
    assert!(akhq.list().await.is_empty());

    // Create page: plugin list + one validate per plugin.
    let plugins = plugin_page(&akhq).await;
    assert!(plugins.iter().any(|p| p["class"] == FILE_SINK));

    // Create: the UI strips `name` from the config.
    let name = unique("akhq-sink");
    let file = dir.path().join("akhq.txt");
    let mut config = common::file_sink(&topic, &file, &[]);
    assert!(config.get("name").is_none());
    config["connector.class"] = json!(FILE_SINK);
    let body = json!({"name": name, "config": config}).to_string();
    let r = akhq.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["name"], name.as_str());
    let (info, status) = akhq.definition(&name).await;
    assert_eq!(info["config"]["name"], name.as_str());
    assert_eq!(info["type"], "sink");
    assert_eq!(
        task_ids(&info["tasks"], "task"),
        task_ids(&status["tasks"], "id"),
        "info and status task ids must match (AKHQ joins on them)"
    );

    // Records really flow on the real broker.
    akhq.wait_definition(&name, 1, "RUNNING").await;
    common::produce_json(&bootstrap, &topic, 0, 20).await;
    wait_ids(&file, 20).await;

    // List page with the connector.
    let list = akhq.list().await;
    assert_eq!(list.keys().collect::<Vec<_>>(), vec![&name]);
    assert_eq!(list[&name]["status"]["connector"]["state"], "RUNNING");

    // Configs tab: find the plugin by exact class, validate the connector's config.
    let current = akhq.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(current.status, 200);
    let class = current.body["connector.class"]
        .as_str()
        .unwrap()
        .to_string();
    let r = akhq.get("/connector-plugins").await;
    let plugin = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["class"] == class.as_str())
        .unwrap_or_else(|| panic!("no plugin with class {class}: AKHQ would 500"))
        .clone();
    let plugin_class = plugin["class"].as_str().unwrap();
    let r = akhq
        .call(
            "PUT",
            &format!("/connector-plugins/{plugin_class}/config/validate"),
            Some(&current.body.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    check_validation(&r.body, &class);
    assert_eq!(r.body["error_count"], 0, "{}", r.text);

    // Update: full config map, then info + status.
    let mut updated = current.body.clone();
    updated["tasks.max"] = json!("2");
    let r = akhq
        .call(
            "PUT",
            &format!("/connectors/{name}/config"),
            Some(&updated.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["config"]["tasks.max"], "2");
    let (info, _) = akhq.wait_definition(&name, 2, "RUNNING").await;
    assert_eq!(info["config"], updated);
    common::produce_json(&bootstrap, &topic, 20, 20).await;
    wait_ids(&file, 40).await;

    // Pause with the literal `null` body.
    let r = akhq
        .call("PUT", &format!("/connectors/{name}/pause"), Some("null"))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let (_, status) = akhq.wait_definition(&name, 2, "PAUSED").await;
    assert_eq!(status["connector"]["state"], "PAUSED");
    assert!(akhq.list().await[&name]["status"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["state"] == "PAUSED"));

    // Resume with `null`; records produced meanwhile arrive.
    common::produce_json(&bootstrap, &topic, 40, 10).await;
    let r = akhq
        .call("PUT", &format!("/connectors/{name}/resume"), Some("null"))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    akhq.wait_definition(&name, 2, "RUNNING").await;
    wait_ids(&file, 50).await;

    // Restart the connector: POST with the literal `""`, no query → 204.
    let r = akhq
        .call("POST", &format!("/connectors/{name}/restart"), Some("\"\""))
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    akhq.wait_definition(&name, 2, "RUNNING").await;

    // Restart task 0 the same way.
    let r = akhq
        .call(
            "POST",
            &format!("/connectors/{name}/tasks/0/restart"),
            Some("\"\""),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    akhq.wait_definition(&name, 2, "RUNNING").await;
    common::produce_json(&bootstrap, &topic, 50, 10).await;
    wait_ids(&file, 60).await;
    let mut ids = common::ids(&file);
    ids.sort();
    ids.dedup();
    assert_eq!(ids, (0..60).collect::<Vec<_>>(), "every record delivered");

    // An error is JSON with error_code (AKHQ picks the exception type from it).
    let r = akhq.get("/connectors/nope-akhq/status").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error_code"], 404);

    // Delete: no entity.
    let r = akhq
        .call("DELETE", &format!("/connectors/{name}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = akhq.get(&format!("/connectors/{name}")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error_code"], 404);
    assert!(akhq.list().await.is_empty());

    worker.stop().await;
}
