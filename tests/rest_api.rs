//! Black-box tests of the Kafka Connect REST API served by Sluice: every endpoint, status code
//! and error text of the contract (`connect-rest-api.md` §3, §4, §5, §11), against an in-process
//! worker and librdkafka's mock cluster (no external services).

mod common;

use std::time::Duration;

use common::{file_sink, unique, wait_until, Api, Reply, TestWorker};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use serde_json::{json, Value};

const FILE_SINK: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";
const INVALID_SUFFIX: &str =
    "You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`";

/// One worker on a mock cluster. Fields drop in order: the worker before the broker.
struct Env {
    api: Api,
    worker: Option<TestWorker>,
    dir: tempfile::TempDir,
    mock: MockCluster<'static, DefaultProducerContext>,
}

impl Env {
    async fn start() -> Env {
        Env::start_with(&[]).await
    }

    /// A worker with extra worker properties.
    async fn start_with(extra: &[(&str, &str)]) -> Env {
        let mock = MockCluster::new(1).expect("mock cluster");
        let dir = tempfile::tempdir().expect("tempdir");
        let worker = TestWorker::start(&mock.bootstrap_servers(), dir.path(), extra).await;
        Env {
            api: Api::new(&worker.url),
            worker: Some(worker),
            dir,
            mock,
        }
    }

    fn bootstrap(&self) -> String {
        self.mock.bootstrap_servers()
    }

    /// A topic on the mock broker.
    fn topic(&self, prefix: &str, partitions: i32) -> String {
        let t = unique(prefix);
        self.mock
            .create_topic(&t, partitions, 1)
            .expect("create topic");
        t
    }

    /// A FileStream sink config over a fresh topic, writing into the temp dir.
    fn sink(&self, name: &str) -> Value {
        let topic = self.topic("t", 1);
        file_sink(&topic, &self.dir.path().join(format!("{name}.txt")), &[])
    }

    /// Graceful stop of the current worker, then a new one on the same state dir.
    async fn restart_worker(&mut self) {
        self.worker.take().expect("worker").stop().await;
        let worker = TestWorker::start(&self.bootstrap(), self.dir.path(), &[]).await;
        self.api = Api::new(&worker.url);
        self.worker = Some(worker);
    }

    async fn create(&self, name: &str, config: Value) -> Reply {
        let body = json!({"name": name, "config": config}).to_string();
        self.api.call("POST", "/connectors", Some(&body)).await
    }

    /// Creates a connector and waits until its one task is RUNNING.
    async fn create_running(&self, name: &str) -> Value {
        let r = self.create(name, self.sink(name)).await;
        assert_eq!(r.status, 201, "create {name}: {}", r.text);
        self.api.wait_tasks(name, 1, "RUNNING").await
    }

    async fn status(&self, name: &str) -> Reply {
        self.api.get(&format!("/connectors/{name}/status")).await
    }

    /// Waits until the connector-level state is `state` and there are `tasks` tasks.
    async fn wait_connector(&self, name: &str, state: &str, tasks: usize) -> Value {
        let path = format!("/connectors/{name}/status");
        wait_until(
            &format!("{name}: connector {state} with {tasks} task(s)"),
            Duration::from_secs(30),
            || async {
                let r = self.api.get(&path).await;
                (r.status == 200
                    && r.body["connector"]["state"] == state
                    && r.body["tasks"].as_array()?.len() == tasks)
                    .then_some(r.body)
            },
        )
        .await
    }
}

/// Asserts Connect's error body: status, `error_code` equal to it, and the exact message.
#[track_caller]
fn assert_error(r: &Reply, status: u16, message: &str) {
    assert_eq!(r.status, status, "unexpected status; body: {}", r.text);
    assert_eq!(r.body["error_code"], status, "error_code; body: {}", r.text);
    assert_eq!(r.body["message"], message, "message; body: {}", r.text);
}

/// Asserts an error body whose message starts with `prefix`.
#[track_caller]
fn assert_error_prefix(r: &Reply, status: u16, prefix: &str) -> String {
    assert_eq!(r.status, status, "unexpected status; body: {}", r.text);
    assert_eq!(r.body["error_code"], status, "error_code; body: {}", r.text);
    let msg = r.body["message"]
        .as_str()
        .unwrap_or_else(|| panic!("message is not a string: {}", r.text))
        .to_string();
    assert!(
        msg.starts_with(prefix),
        "message should start with {prefix:?}: {msg:?}"
    );
    msg
}

fn task_states(status: &Value) -> Vec<String> {
    status["tasks"]
        .as_array()
        .expect("tasks array")
        .iter()
        .map(|t| t["state"].as_str().expect("task state").to_string())
        .collect()
}

// ----- root, health, metrics, routing ----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn root_health_and_metrics() {
    let env = Env::start().await;
    let r = env.api.get("/").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["version"].is_string(), "version: {}", r.text);
    assert!(r.body["commit"].is_string(), "commit: {}", r.text);
    let obj = r.body.as_object().expect("object");
    assert!(obj.contains_key("kafka_cluster_id"), "{}", r.text);
    assert!(
        r.headers[reqwest::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"),
        "content type"
    );

    let r = env.api.get("/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        json!({"status": "healthy", "message": "Worker has completed startup and is ready to handle requests."})
    );

    let name = unique("metrics");
    env.create_running(&name).await;
    let r = env.api.get("/metrics").await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("sluice_"), "no sluice_ series: {}", r.text);
    assert!(
        r.text.contains(&name),
        "no series labelled with the connector {name}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_routes_wrong_methods_and_forward_param() {
    let env = Env::start().await;
    for path in ["/nope", "/connectors/a/b/c/d/e", "/connector-plugins/x/y"] {
        let r = env.api.get(path).await;
        assert_eq!(r.status, 404, "{path}");
        assert_eq!(
            r.body,
            json!({"error_code": 404, "message": "HTTP 404 Not Found"}),
            "{path}"
        );
    }
    for (method, path) in [
        ("DELETE", "/connectors"),
        ("POST", "/connectors/x/status"),
        ("GET", "/connectors/x/pause"),
        ("GET", "/connectors/x/restart"),
        ("POST", "/connector-plugins"),
    ] {
        let r = env.api.call(method, path, None).await;
        assert_eq!(r.status, 405, "{method} {path}: {}", r.text);
        assert_eq!(r.body["error_code"], 405, "{method} {path}: {}", r.text);
        assert!(r.body["message"].is_string(), "{method} {path}");
    }

    // The internal `forward` parameter is accepted and ignored on writes.
    let name = unique("fwd");
    let body = json!({"name": name, "config": env.sink(&name)}).to_string();
    let r = env
        .api
        .call("POST", "/connectors?forward=true", Some(&body))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let mut config = env.sink(&name);
    config["tasks.max"] = json!("2");
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/config?forward=false"),
            Some(&config.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["config"]["tasks.max"], "2");
    let r = env
        .api
        .call(
            "POST",
            &format!("/connectors/{name}/restart?forward=true"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = env
        .api
        .call("DELETE", &format!("/connectors/{name}?forward=true"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        env.api.get(&format!("/connectors/{name}")).await.status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_headers_when_configured() {
    let env = Env::start_with(&[
        ("access.control.allow.origin", "http://ui.example"),
        ("access.control.allow.methods", "GET,PUT,POST,DELETE"),
    ])
    .await;
    let r = env.api.get("/connectors").await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["access-control-allow-origin"].to_str().unwrap(),
        "http://ui.example"
    );
    assert_eq!(
        r.headers["access-control-allow-methods"].to_str().unwrap(),
        "GET,PUT,POST,DELETE"
    );
    // Off by default.
    let plain = Env::start().await;
    let r = plain.api.get("/connectors").await;
    assert!(r.headers.get("access-control-allow-origin").is_none());
}

/// Jersey matches every path with an optional trailing slash; `/connectors/` is even the
/// declared path of list and create in Connect's `ConnectorsResource`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trailing_slashes_are_accepted() {
    let env = Env::start().await;
    let r = env.api.get("/connectors/").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([]));
    let name = unique("slash");
    let body = json!({"name": name, "config": env.sink(&name)}).to_string();
    let r = env.api.call("POST", "/connectors/", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = env.api.get(&format!("/connectors/{name}/")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], name.as_str());
    let r = env.api.get(&format!("/connectors/{name}/status/")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env.api.get("/connector-plugins/").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body.as_array().is_some_and(|a| !a.is_empty()));
    let r = env.api.get("/connectors/?expand=info").await;
    assert_eq!(r.body[&name]["info"]["name"], name.as_str());
    let r = env
        .api
        .call("DELETE", &format!("/connectors/{name}/"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    // One optional slash only.
    assert_eq!(env.api.get("/connectors//").await.status, 404);
}

// ----- listing ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_connectors_and_expand() {
    let env = Env::start().await;
    let r = env.api.get("/connectors").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!([]));

    let a = unique("list-a");
    let b = unique("list-b");
    env.create_running(&a).await;
    env.create_running(&b).await;

    let r = env.api.get("/connectors").await;
    assert_eq!(r.status, 200);
    let mut names: Vec<String> = serde_json::from_value(r.body.clone()).expect("array of names");
    names.sort();
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(names, want);

    let r = env.api.get("/connectors?expand=status").await;
    assert_eq!(r.status, 200);
    let map = r.body.as_object().expect("map");
    assert_eq!(map.len(), 2);
    for (k, v) in map {
        let entry = v.as_object().unwrap();
        assert_eq!(entry.keys().collect::<Vec<_>>(), vec!["status"], "{k}");
        assert_eq!(v["status"]["name"], k.as_str());
        assert_eq!(v["status"]["type"], "sink");
    }

    let r = env.api.get("/connectors?expand=info").await;
    assert_eq!(r.status, 200);
    let map = r.body.as_object().expect("map");
    assert_eq!(map.len(), 2);
    for (k, v) in map {
        let entry = v.as_object().unwrap();
        assert_eq!(entry.keys().collect::<Vec<_>>(), vec!["info"], "{k}");
        assert_eq!(v["info"]["name"], k.as_str());
        assert_eq!(v["info"]["config"]["connector.class"], FILE_SINK);
    }

    for q in ["expand=info&expand=status", "expand=status&expand=info"] {
        let r = env.api.get(&format!("/connectors?{q}")).await;
        assert_eq!(r.status, 200, "{q}");
        let map = r.body.as_object().expect("map");
        assert_eq!(map.len(), 2, "{q}");
        for (k, v) in map {
            assert_eq!(v["info"]["name"], k.as_str(), "{q}: key == info.name");
            assert_eq!(v["status"]["name"], k.as_str(), "{q}");
            assert!(v["info"]["tasks"].is_array(), "{q}");
            assert!(v["status"]["tasks"].is_array(), "{q}");
            assert_eq!(v["status"]["connector"]["state"], "RUNNING", "{q}");
        }
    }

    let r = env.api.get("/connectors?expand=bogus").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, json!({a.clone(): {}, b.clone(): {}}));
}

// ----- create ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_connector_success() {
    let env = Env::start().await;
    let name = unique("create");
    let config = env.sink(&name);
    let r = env.create(&name, config.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.headers[reqwest::header::LOCATION].to_str().unwrap(),
        format!("/connectors/{name}")
    );
    assert_eq!(r.body["name"], name.as_str());
    assert_eq!(r.body["type"], "sink");
    assert_eq!(r.body["config"]["name"], name.as_str(), "name injected");
    for (k, v) in config.as_object().unwrap() {
        assert_eq!(&r.body["config"][k], v, "config key {k} kept");
    }
    assert!(r.body["tasks"].is_array(), "{}", r.text);

    // Status exists immediately: never a 404 right after create.
    let s = env.status(&name).await;
    assert_eq!(s.status, 200, "{}", s.text);
    let state = s.body["connector"]["state"].as_str().unwrap();
    assert!(
        state == "UNASSIGNED" || state == "RUNNING",
        "state right after create: {state}"
    );
    assert_eq!(s.body["type"], "sink");
    assert!(s.body["connector"]["worker_id"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    let st = env.api.wait_tasks(&name, 1, "RUNNING").await;
    assert_eq!(st["tasks"][0]["id"], 0);
    assert!(
        st["tasks"][0].get("trace").is_none(),
        "trace omitted when healthy"
    );
    assert!(st["connector"].get("trace").is_none());

    // Numbers and booleans are coerced to strings.
    let name2 = unique("coerce");
    let mut config2 = env.sink(&name2);
    config2["tasks.max"] = json!(1);
    config2["value.converter.schemas.enable"] = json!(false);
    config2["errors.retry.timeout"] = json!(0);
    let r = env.create(&name2, config2).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["config"]["tasks.max"], "1");
    assert_eq!(r.body["config"]["value.converter.schemas.enable"], "false");
    assert_eq!(r.body["config"]["errors.retry.timeout"], "0");
    let c = env.api.get(&format!("/connectors/{name2}/config")).await;
    assert_eq!(c.body["tasks.max"], "1");

    // Connector name in config equal to the request name is fine.
    let name3 = unique("samename");
    let mut config3 = env.sink(&name3);
    config3["name"] = json!(name3);
    assert_eq!(env.create(&name3, config3).await.status, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_connector_errors() {
    let env = Env::start().await;
    let name = unique("dup");
    let config = env.sink(&name);
    assert_eq!(env.create(&name, config.clone()).await.status, 201);

    // Duplicate.
    let r = env.create(&name, config.clone()).await;
    assert_error(&r, 409, &format!("Connector {name} already exists"));

    // Name mismatch.
    let other = unique("other");
    let mut mismatched = config.clone();
    mismatched["name"] = json!("something-else");
    let r = env.create(&other, mismatched).await;
    assert_error(
        &r,
        400,
        &format!(
            "Connector name configuration (something-else) doesn't match connector name in the URL ({other})"
        ),
    );

    // Invalid config: exactly one error.
    let mut invalid = config.clone();
    invalid["tasks.max"] = json!("0");
    let r = env.create(&other, invalid).await;
    let msg = assert_error_prefix(
        &r,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):\n",
    );
    assert!(msg.ends_with(INVALID_SUFFIX), "{msg}");
    assert!(msg.contains("tasks.max"), "{msg}");

    // Missing topics: the error is reported on both topics and topics.regex.
    let mut no_topics = config.clone();
    no_topics.as_object_mut().unwrap().remove("topics");
    let r = env.create(&other, no_topics).await;
    let msg = assert_error_prefix(
        &r,
        400,
        "Connector configuration is invalid and contains the following 2 error(s):\n",
    );
    assert!(msg.contains("Must configure one of topics or topics.regex"));

    // Missing connector.class.
    let mut no_class = config.clone();
    no_class.as_object_mut().unwrap().remove("connector.class");
    let r = env.create(&other, no_class).await;
    let msg = assert_error_prefix(&r, 400, "Connector config {");
    assert!(msg.ends_with("contains no connector type"), "{msg}");

    // Unknown connector class.
    let mut unknown = config.clone();
    unknown["connector.class"] = json!("com.example.NoSuchConnector");
    let r = env.create(&other, unknown).await;
    let msg = assert_error_prefix(
        &r,
        500,
        "Failed to find any class that implements Connector and which name matches com.example.NoSuchConnector",
    );
    assert!(msg.contains(FILE_SINK), "lists available connectors: {msg}");

    // JSON null as a config value.
    let mut with_null = config.clone();
    with_null["file"] = Value::Null;
    let r = env.create(&other, with_null).await;
    let msg = assert_error_prefix(&r, 400, "");
    assert!(
        msg.contains("Null value can not be supplied as the configuration value."),
        "{msg}"
    );

    // Malformed JSON, wrong body shapes.
    for body in [
        "{\"name\": \"x\", \"config\": {",
        "not json",
        "",
        "[1,2]",
        "{\"name\": \"x\"}",
        "{\"name\": \"x\", \"config\": [\"a\"]}",
        "{\"name\": \"x\", \"config\": {\"a\": {\"nested\": 1}}}",
    ] {
        let r = env.api.call("POST", "/connectors", Some(body)).await;
        assert_eq!(r.status, 400, "body {body:?}: {}", r.text);
        assert_eq!(r.body["error_code"], 400, "body {body:?}: {}", r.text);
        assert!(
            !r.body["message"].as_str().unwrap_or("").is_empty(),
            "body {body:?}: {}",
            r.text
        );
    }

    // Invalid initial_state.
    let body = json!({"name": other, "config": config, "initial_state": "SLEEPING"}).to_string();
    let r = env.api.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error_code"], 400);

    // None of the failed creates left anything behind.
    assert_eq!(env.api.get("/connectors").await.body, json!([name]));
    assert_error(
        &env.status(&other).await,
        404,
        &format!("No status found for connector {other}"),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_with_initial_state() {
    let env = Env::start().await;

    let paused = unique("init-paused");
    let body =
        json!({"name": paused, "config": env.sink(&paused), "initial_state": "paused"}).to_string();
    let r = env.api.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let st = env.api.wait_tasks(&paused, 1, "PAUSED").await;
    assert_eq!(st["connector"]["state"], "PAUSED");

    let stopped = unique("init-stopped");
    let body = json!({"name": stopped, "config": env.sink(&stopped), "initial_state": "Stopped"})
        .to_string();
    let r = env.api.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["tasks"], json!([]), "STOPPED: no tasks in info");
    let st = env.status(&stopped).await;
    assert_eq!(st.body["connector"]["state"], "STOPPED", "{}", st.text);
    assert_eq!(st.body["tasks"], json!([]));
    let info = env.api.get(&format!("/connectors/{stopped}")).await;
    assert_eq!(info.body["tasks"], json!([]));
    let tasks = env.api.get(&format!("/connectors/{stopped}/tasks")).await;
    assert_eq!(tasks.status, 200);
    assert_eq!(tasks.body, json!([]));

    let running = unique("init-running");
    let body = json!({"name": running, "config": env.sink(&running), "initial_state": "RUNNING"})
        .to_string();
    let r = env.api.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let st = env.api.wait_tasks(&running, 1, "RUNNING").await;
    assert_eq!(st["connector"]["state"], "RUNNING");

    // A stopped connector resumes into RUNNING with its tasks.
    let r = env
        .api
        .call("PUT", &format!("/connectors/{stopped}/resume"), None)
        .await;
    assert_eq!(r.status, 202);
    env.api.wait_tasks(&stopped, 1, "RUNNING").await;
}

// ----- info and config -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn info_and_config_endpoints() {
    let env = Env::start().await;
    let missing = unique("missing");
    for suffix in ["", "/config", "/tasks", "/tasks-config"] {
        let r = env.api.get(&format!("/connectors/{missing}{suffix}")).await;
        assert_error(&r, 404, &format!("Connector {missing} not found"));
    }

    // PUT creates: 201 + Location.
    let name = unique("cfg");
    let config = env.sink(&name);
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/config"),
            Some(&config.to_string()),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.headers[reqwest::header::LOCATION].to_str().unwrap(),
        format!("/connectors/{name}")
    );
    assert_eq!(r.body["name"], name.as_str());
    assert_eq!(r.body["config"]["name"], name.as_str());
    assert_eq!(r.body["type"], "sink");
    env.api.wait_tasks(&name, 1, "RUNNING").await;

    let info = env.api.get(&format!("/connectors/{name}")).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.body["tasks"], json!([{"connector": name, "task": 0}]));
    assert_eq!(info.body["type"], "sink");
    let cfg = env.api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(cfg.status, 200);
    assert_eq!(cfg.body, info.body["config"]);
    assert!(cfg.body.as_object().unwrap().values().all(Value::is_string));

    // PUT updates: 200, no Location.
    let mut updated = config.clone();
    updated["tasks.max"] = json!("3");
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/config"),
            Some(&updated.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.headers.get(reqwest::header::LOCATION).is_none());
    assert_eq!(r.body["config"]["tasks.max"], "3");
    let cfg = env.api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(cfg.body["tasks.max"], "3");

    // PUT with a mismatching name in the body.
    let mut wrong = config.clone();
    wrong["name"] = json!("other-name");
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/config"),
            Some(&wrong.to_string()),
        )
        .await;
    assert_error(
        &r,
        400,
        &format!(
            "Connector name configuration (other-name) doesn't match connector name in the URL ({name})"
        ),
    );
    // PUT with an invalid config leaves the stored one alone.
    let mut invalid = config.clone();
    invalid["tasks.max"] = json!("-1");
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/config"),
            Some(&invalid.to_string()),
        )
        .await;
    let msg = assert_error_prefix(
        &r,
        400,
        "Connector configuration is invalid and contains the following 1 error(s):",
    );
    assert!(msg.ends_with(INVALID_SUFFIX));
    assert_eq!(
        env.api
            .get(&format!("/connectors/{name}/config"))
            .await
            .body["tasks.max"],
        "3"
    );
    // PUT with a null value.
    let mut with_null = config.clone();
    with_null["file"] = Value::Null;
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/config"),
            Some(&with_null.to_string()),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("Null value can not be supplied as the configuration value."));
    // PUT malformed.
    let r = env
        .api
        .call("PUT", &format!("/connectors/{name}/config"), Some("{oops"))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error_code"], 400);

    // PATCH merges; null deletes a key; numbers coerced.
    let patch = json!({"tasks.max": 2, "errors.tolerance": "all", "key.converter": null});
    let r = env
        .api
        .call(
            "PATCH",
            &format!("/connectors/{name}/config"),
            Some(&patch.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["config"]["tasks.max"], "2");
    assert_eq!(r.body["config"]["errors.tolerance"], "all");
    assert!(
        r.body["config"].get("key.converter").is_none(),
        "{}",
        r.text
    );
    assert_eq!(
        r.body["config"]["file"], config["file"],
        "untouched key kept"
    );
    assert_eq!(r.body["config"]["name"], name.as_str());
    let cfg = env.api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(cfg.body, r.body["config"]);
    // PATCH that makes the config invalid → 400, nothing changed.
    let r = env
        .api
        .call(
            "PATCH",
            &format!("/connectors/{name}/config"),
            Some(r#"{"topics": null}"#),
        )
        .await;
    assert_error_prefix(
        &r,
        400,
        "Connector configuration is invalid and contains the following 2 error(s):",
    );
    let cfg = env.api.get(&format!("/connectors/{name}/config")).await;
    assert_eq!(cfg.body["topics"], config["topics"]);
    // PATCH on an unknown connector.
    let r = env
        .api
        .call(
            "PATCH",
            &format!("/connectors/{missing}/config"),
            Some(r#"{"tasks.max": "1"}"#),
        )
        .await;
    assert_error(&r, 404, &format!("Connector {missing} not found"));
}

// ----- status and tasks ------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_task_endpoints() {
    let env = Env::start().await;
    let missing = unique("missing");
    assert_error(
        &env.status(&missing).await,
        404,
        &format!("No status found for connector {missing}"),
    );
    assert_error(
        &env.api
            .get(&format!("/connectors/{missing}/tasks/0/status"))
            .await,
        404,
        &format!("No status found for task {missing}-0"),
    );

    let name = unique("tasks");
    let st = env.create_running(&name).await;
    assert_eq!(st["name"], name.as_str());
    assert_eq!(st["type"], "sink");
    assert_eq!(st["connector"]["state"], "RUNNING");
    let wid = st["connector"]["worker_id"].as_str().unwrap().to_string();
    let port = env.api.url.rsplit(':').next().unwrap();
    assert_eq!(wid, format!("127.0.0.1:{port}"), "worker_id is host:port");
    assert_eq!(st["tasks"][0]["worker_id"], wid.as_str());

    let r = env.api.get(&format!("/connectors/{name}/tasks")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let tasks = r.body.as_array().expect("array");
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["id"], json!({"connector": name, "task": 0}));
    assert!(
        tasks[0]["config"]["task.class"].is_string(),
        "task.class: {}",
        r.text
    );
    assert!(tasks[0]["config"]
        .as_object()
        .unwrap()
        .values()
        .all(Value::is_string));

    let r = env
        .api
        .get(&format!("/connectors/{name}/tasks-config"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let map = r.body.as_object().expect("map");
    assert_eq!(map.keys().collect::<Vec<_>>(), vec![&format!("{name}-0")]);
    assert_eq!(map[&format!("{name}-0")], tasks[0]["config"]);

    let r = env
        .api
        .get(&format!("/connectors/{name}/tasks/0/status"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["id"], 0);
    assert_eq!(r.body["state"], "RUNNING");
    assert_eq!(r.body["worker_id"], wid.as_str());
    assert!(r.body.get("trace").is_none());

    assert_error(
        &env.api
            .get(&format!("/connectors/{name}/tasks/9/status"))
            .await,
        404,
        &format!("No status found for task {name}-9"),
    );
    let r = env
        .api
        .get(&format!("/connectors/{name}/tasks/abc/status"))
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.body["error_code"], 404);

    // Sluice extension: per-partition offsets of a task.
    let r = env
        .api
        .get(&format!("/connectors/{name}/tasks/0/offsets"))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["partitions"].is_array(), "{}", r.text);
    let r = env
        .api
        .get(&format!("/connectors/{name}/tasks/5/offsets"))
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["error_code"], 404);

    // Two tasks: ids 0 and 1, sorted, and info/status agree.
    let mut config = env
        .api
        .get(&format!("/connectors/{name}/config"))
        .await
        .body;
    config["tasks.max"] = json!("2");
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/config"),
            Some(&config.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let st = env.api.wait_tasks(&name, 2, "RUNNING").await;
    let ids: Vec<u64> = st["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![0, 1]);
    let info = env.api.get(&format!("/connectors/{name}")).await;
    assert_eq!(
        info.body["tasks"],
        json!([{"connector": name, "task": 0}, {"connector": name, "task": 1}])
    );
}

// ----- pause / resume / stop -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_resume_stop() {
    let env = Env::start().await;
    let name = unique("prs");
    env.create_running(&name).await;
    let path = |action: &str| format!("/connectors/{name}/{action}");

    // Each action with a `null` body, an empty body and no body at all.
    for body in [Some("null"), Some(""), None] {
        let r = env.api.call("PUT", &path("pause"), body).await;
        assert_eq!(r.status, 202, "pause {body:?}: {}", r.text);
        assert!(r.text.is_empty(), "pause has no body: {}", r.text);
        let st = env.api.wait_tasks(&name, 1, "PAUSED").await;
        assert_eq!(st["connector"]["state"], "PAUSED");
        // Idempotent.
        let r = env.api.call("PUT", &path("pause"), body).await;
        assert_eq!(r.status, 202);

        let r = env.api.call("PUT", &path("resume"), body).await;
        assert_eq!(r.status, 202, "resume {body:?}: {}", r.text);
        assert!(r.text.is_empty());
        let st = env.api.wait_tasks(&name, 1, "RUNNING").await;
        assert_eq!(st["connector"]["state"], "RUNNING");

        let r = env.api.call("PUT", &path("stop"), body).await;
        assert_eq!(r.status, 204, "stop {body:?}: {}", r.text);
        assert!(r.text.is_empty());
        let st = env.status(&name).await;
        assert_eq!(st.body["connector"]["state"], "STOPPED", "{}", st.text);
        assert_eq!(st.body["tasks"], json!([]));
        let info = env.api.get(&format!("/connectors/{name}")).await;
        assert_eq!(info.body["tasks"], json!([]));
        assert_eq!(
            env.api.get(&format!("/connectors/{name}/tasks")).await.body,
            json!([])
        );
        // Stop is idempotent too.
        assert_eq!(env.api.call("PUT", &path("stop"), body).await.status, 204);

        // Resume takes a STOPPED connector back to RUNNING.
        let r = env.api.call("PUT", &path("resume"), body).await;
        assert_eq!(r.status, 202);
        let st = env.api.wait_tasks(&name, 1, "RUNNING").await;
        assert_eq!(st["connector"]["state"], "RUNNING");
    }

    // Pause a stopped connector: tasks come back, paused.
    assert_eq!(env.api.call("PUT", &path("stop"), None).await.status, 204);
    assert_eq!(env.api.call("PUT", &path("pause"), None).await.status, 202);
    let st = env.api.wait_tasks(&name, 1, "PAUSED").await;
    assert_eq!(st["connector"]["state"], "PAUSED");
    assert_eq!(env.api.call("PUT", &path("resume"), None).await.status, 202);
    env.api.wait_tasks(&name, 1, "RUNNING").await;

    let missing = unique("missing");
    for (action, status) in [("pause", 404), ("resume", 404), ("stop", 404)] {
        let r = env
            .api
            .call(
                "PUT",
                &format!("/connectors/{missing}/{action}"),
                Some("null"),
            )
            .await;
        assert_error(&r, status, &format!("Unknown connector {missing}"));
    }
}

// ----- restart ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_connector_and_tasks() {
    let env = Env::start().await;
    let name = unique("restart");
    env.create_running(&name).await;
    let path = format!("/connectors/{name}/restart");

    // Plain restart: 204, no body. With no body, an empty body and AKHQ's `""`.
    for body in [None, Some(""), Some("\"\"")] {
        let r = env.api.call("POST", &path, body).await;
        assert_eq!(r.status, 204, "{body:?}: {}", r.text);
        assert!(r.text.is_empty(), "{body:?}: {}", r.text);
    }
    let r = env
        .api
        .call(
            "POST",
            &format!("{path}?includeTasks=false&onlyFailed=false"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    env.api.wait_tasks(&name, 1, "RUNNING").await;

    // onlyFailed on a healthy connector: 202, nothing restarts.
    let r = env
        .api
        .call(
            "POST",
            &format!("{path}?includeTasks=true&onlyFailed=true"),
            None,
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["connector"]["state"], "RUNNING", "{}", r.text);
    assert_eq!(task_states(&r.body), vec!["RUNNING"], "{}", r.text);

    // onlyFailed alone: connector not failed, so not restarted.
    let r = env
        .api
        .call("POST", &format!("{path}?onlyFailed=true"), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_ne!(r.body["connector"]["state"], "RESTARTING", "{}", r.text);
    assert!(!task_states(&r.body).contains(&"RESTARTING".to_string()));

    // includeTasks: 202 with the plan, everything RESTARTING.
    let r = env
        .api
        .call("POST", &format!("{path}?includeTasks=true"), Some("\"\""))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["name"], name.as_str());
    assert_eq!(r.body["type"], "sink");
    assert_eq!(r.body["connector"]["state"], "RESTARTING", "{}", r.text);
    assert_eq!(task_states(&r.body), vec!["RESTARTING"], "{}", r.text);
    // (The restart itself runs after the reply, as in Connect, so the status may still show
    // the old RUNNING task for a moment; later steps queue behind it.)
    env.api.wait_tasks(&name, 1, "RUNNING").await;

    let missing = unique("missing");
    for q in ["", "?includeTasks=true"] {
        let r = env
            .api
            .call(
                "POST",
                &format!("/connectors/{missing}/restart{q}"),
                Some("\"\""),
            )
            .await;
        assert_error(&r, 404, &format!("Unknown connector: {missing}"));
    }

    // Task restart.
    for body in [Some("\"\""), None] {
        let r = env
            .api
            .call("POST", &format!("/connectors/{name}/tasks/0/restart"), body)
            .await;
        assert_eq!(r.status, 204, "{body:?}: {}", r.text);
        assert!(r.text.is_empty());
        env.api.wait_tasks(&name, 1, "RUNNING").await;
    }
    let r = env
        .api
        .call(
            "POST",
            &format!("/connectors/{name}/tasks/7/restart"),
            Some("\"\""),
        )
        .await;
    assert_error(&r, 404, &format!("Unknown task: {name}-7"));
    let r = env
        .api
        .call("POST", &format!("/connectors/{name}/tasks/x/restart"), None)
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(r.body["error_code"], 404);
    let r = env
        .api
        .call(
            "POST",
            &format!("/connectors/{missing}/tasks/0/restart"),
            None,
        )
        .await;
    assert_error(&r, 404, &format!("Unknown connector: {missing}"));

    // A task restarted while paused comes back paused.
    assert_eq!(
        env.api
            .call("PUT", &format!("/connectors/{name}/pause"), None)
            .await
            .status,
        202
    );
    env.api.wait_tasks(&name, 1, "PAUSED").await;
    let r = env
        .api
        .call("POST", &format!("/connectors/{name}/tasks/0/restart"), None)
        .await;
    assert_eq!(r.status, 204);
    env.api.wait_tasks(&name, 1, "PAUSED").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_task_trace_and_only_failed_restart() {
    let env = Env::start().await;
    let name = unique("failing");
    let topic = env.topic("fail", 1);
    let out_dir = env.dir.path().join("later");
    let file = out_dir.join("out.txt");
    let r = env.create(&name, file_sink(&topic, &file, &[])).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // The output directory does not exist: the task fails, with a trace; the connector runs.
    let st = env.api.wait_tasks(&name, 1, "FAILED").await;
    assert_eq!(st["connector"]["state"], "RUNNING", "{st}");
    let trace = st["tasks"][0]["trace"].as_str().expect("trace on FAILED");
    assert!(!trace.is_empty());
    let r = env
        .api
        .get(&format!("/connectors/{name}/tasks/0/status"))
        .await;
    assert_eq!(r.body["state"], "FAILED");
    assert!(r.body["trace"].is_string(), "{}", r.text);
    let r = env.api.get("/connectors?expand=status").await;
    assert_eq!(r.body[&name]["status"]["tasks"][0]["state"], "FAILED");

    // Only the failed task is planned for restart.
    std::fs::create_dir_all(&out_dir).unwrap();
    let r = env
        .api
        .call(
            "POST",
            &format!("/connectors/{name}/restart?includeTasks=true&onlyFailed=true"),
            Some("\"\""),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert_eq!(r.body["connector"]["state"], "RUNNING", "{}", r.text);
    assert_eq!(task_states(&r.body), vec!["RESTARTING"], "{}", r.text);
    assert!(r.body["tasks"][0].get("trace").is_none(), "{}", r.text);
    let st = env.api.wait_tasks(&name, 1, "RUNNING").await;
    assert!(st["tasks"][0].get("trace").is_none(), "trace cleared: {st}");
    common::produce_json(&env.bootstrap(), &topic, 0, 3).await;
    wait_until(
        "records after recovery",
        Duration::from_secs(60),
        || async { (common::ids(&file).len() >= 3).then_some(()) },
    )
    .await;

    // A plain task restart recovers a failed task too.
    let name2 = unique("failing2");
    let dir2 = env.dir.path().join("later2");
    let r = env
        .create(&name2, file_sink(&topic, &dir2.join("o.txt"), &[]))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    env.api.wait_tasks(&name2, 1, "FAILED").await;
    std::fs::create_dir_all(&dir2).unwrap();
    let r = env
        .api
        .call(
            "POST",
            &format!("/connectors/{name2}/tasks/0/restart"),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    env.api.wait_tasks(&name2, 1, "RUNNING").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn names_needing_url_encoding() {
    let env = Env::start().await;
    let name = format!("{} v1.0", unique("my sink"));
    let encoded = name.replace(' ', "%20");
    let r = env.create(&name, env.sink("encoded")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.headers[reqwest::header::LOCATION].to_str().unwrap(),
        format!("/connectors/{encoded}")
    );
    let r = env.api.get(&format!("/connectors/{encoded}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], name.as_str());
    env.api.wait_tasks(&encoded, 1, "RUNNING").await;
    let r = env.api.get("/connectors?expand=info").await;
    assert_eq!(r.body[&name]["info"]["name"], name.as_str());
    let r = env
        .api
        .call("DELETE", &format!("/connectors/{encoded}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
}

// ----- topics ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn active_topics() {
    let env = Env::start().await;
    let r = env.api.get("/connectors/x/topics").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"x": {"topics": []}}));

    let name = unique("topics");
    let topic = env.topic("active", 1);
    let file = env.dir.path().join("active.txt");
    let r = env.create(&name, file_sink(&topic, &file, &[])).await;
    assert_eq!(r.status, 201, "{}", r.text);
    env.api.wait_tasks(&name, 1, "RUNNING").await;
    let r = env.api.get(&format!("/connectors/{name}/topics")).await;
    assert_eq!(
        r.body,
        json!({name.clone(): {"topics": []}}),
        "nothing consumed yet"
    );

    common::produce_json(&env.bootstrap(), &topic, 0, 5).await;
    wait_until("5 records in the file", Duration::from_secs(60), || async {
        (common::ids(&file).len() >= 5).then_some(())
    })
    .await;
    assert_eq!(common::ids(&file), vec![0, 1, 2, 3, 4]);
    let path = format!("/connectors/{name}/topics");
    wait_until("active topic listed", Duration::from_secs(30), || async {
        let r = env.api.get(&path).await;
        (r.body == json!({name.clone(): {"topics": [topic.clone()]}})).then_some(())
    })
    .await;

    // Sluice extension: the task's per-partition offsets follow the records.
    let offsets_path = format!("/connectors/{name}/tasks/0/offsets");
    let part = wait_until("task offsets at 5", Duration::from_secs(30), || async {
        let r = env.api.get(&offsets_path).await;
        let p = r.body["partitions"]
            .as_array()?
            .iter()
            .find(|p| p["topic"] == topic.as_str() && p["partition"] == 0)?
            .clone();
        (p["consumed"] == 5 && p["committed"] == 5).then_some(p)
    })
    .await;
    for f in ["buffered_from", "durable", "end", "lag"] {
        assert!(part.get(f).is_some(), "{f} missing: {part}");
    }

    let r = env
        .api
        .call(
            "PUT",
            &format!("/connectors/{name}/topics/reset"),
            Some("null"),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let r = env.api.get(&path).await;
    assert_eq!(r.body, json!({name.clone(): {"topics": []}}));
    // Reset on an unknown connector is accepted too (nothing to forget).
    let r = env
        .api
        .call("PUT", "/connectors/x/topics/reset", None)
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn topic_tracking_can_be_disabled() {
    let env = Env::start_with(&[("topic.tracking.allow.reset", "false")]).await;
    let name = unique("no-reset");
    env.create_running(&name).await;
    let r = env.api.get(&format!("/connectors/{name}/topics")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = env
        .api
        .call("PUT", &format!("/connectors/{name}/topics/reset"), None)
        .await;
    assert_error(&r, 403, "Topic tracking reset is disabled.");

    let env = Env::start_with(&[("topic.tracking.enable", "false")]).await;
    let name = unique("no-tracking");
    env.create_running(&name).await;
    let r = env.api.get(&format!("/connectors/{name}/topics")).await;
    assert_error(&r, 403, "Topic tracking is disabled.");
    let r = env
        .api
        .call("PUT", &format!("/connectors/{name}/topics/reset"), None)
        .await;
    assert_error(&r, 403, "Topic tracking is disabled.");
}

// ----- offsets ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_preconditions_and_body_errors() {
    let env = Env::start().await;
    let missing = unique("missing");
    let valid = json!({"offsets": [
        {"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 1}}
    ]})
    .to_string();
    let path = format!("/connectors/{missing}/offsets");
    assert_error(
        &env.api.get(&path).await,
        404,
        &format!("Connector {missing} not found"),
    );
    assert_error(
        &env.api.call("PATCH", &path, Some(&valid)).await,
        404,
        &format!("Connector {missing} not found"),
    );
    assert_error(
        &env.api.call("DELETE", &path, None).await,
        404,
        &format!("Connector {missing} not found"),
    );

    let name = unique("offs");
    env.create_running(&name).await;
    let path = format!("/connectors/{name}/offsets");
    let r = env.api.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["offsets"].is_array(), "{}", r.text);

    let not_stopped = format!(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    );
    assert_error(
        &env.api.call("PATCH", &path, Some(&valid)).await,
        400,
        &not_stopped,
    );
    assert_error(
        &env.api.call("DELETE", &path, None).await,
        400,
        &not_stopped,
    );
    // PAUSED is not STOPPED either.
    assert_eq!(
        env.api
            .call("PUT", &format!("/connectors/{name}/pause"), None)
            .await
            .status,
        202
    );
    assert_error(
        &env.api.call("PATCH", &path, Some(&valid)).await,
        400,
        &not_stopped,
    );
    assert_error(
        &env.api.call("DELETE", &path, None).await,
        400,
        &not_stopped,
    );

    assert_eq!(
        env.api
            .call("PUT", &format!("/connectors/{name}/stop"), None)
            .await
            .status,
        204
    );
    let cases: [(&str, &str, bool); 9] = [
        (
            "{}",
            "Partitions / offsets need to be provided for an alter offsets request",
            true,
        ),
        (
            r#"{"offsets": []}"#,
            "Partitions / offsets need to be provided for an alter offsets request",
            true,
        ),
        (
            r#"{"offsets": null}"#,
            "Partitions / offsets need to be provided for an alter offsets request",
            true,
        ),
        (
            r#"{"offsets": [{"partition": {"kafka_topic": "t"}, "offset": null}]}"#,
            "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
            true,
        ),
        (
            r#"{"offsets": [{"partition": {"kafka_partition": 0}, "offset": null}]}"#,
            "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
            true,
        ),
        (
            r#"{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": "x"}, "offset": null}]}"#,
            "Failed to parse the following Kafka partition value in the provided offsets: 'x'.",
            false,
        ),
        (
            r#"{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": "y"}}]}"#,
            "Failed to parse the following Kafka offset value in the provided offsets: 'y'.",
            false,
        ),
        (
            r#"{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"other": 1}}]}"#,
            "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
            true,
        ),
        (
            r#"{"offsets": [{"partition": {"kafka_topic": null, "kafka_partition": 0}, "offset": null}]}"#,
            "Kafka topic names must be valid strings and may not be null",
            true,
        ),
    ];
    for (body, message, exact) in cases {
        let r = env.api.call("PATCH", &path, Some(body)).await;
        if exact {
            assert_error(&r, 400, message);
        } else {
            assert_error_prefix(&r, 400, message);
        }
    }
    for body in ["{oops", ""] {
        let r = env.api.call("PATCH", &path, Some(body)).await;
        assert_eq!(r.status, 400, "{body:?}: {}", r.text);
        assert_eq!(r.body["error_code"], 400);
    }
}

/// Alter on a STOPPED connector whose group never had members. (librdkafka's mock broker rejects
/// member-less commits to a group that ever had members, and implements neither DeleteGroups nor
/// OffsetDelete, so reset and per-partition deletes are covered against a real broker elsewhere.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_alter_when_stopped() {
    let env = Env::start().await;
    let name = unique("offs-ok");
    let topic = env.topic("offs", 2);
    let file = env.dir.path().join("offs.txt");
    let body =
        json!({"name": name, "config": file_sink(&topic, &file, &[]), "initial_state": "STOPPED"})
            .to_string();
    let r = env.api.call("POST", "/connectors", Some(&body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let path = format!("/connectors/{name}/offsets");
    let r = env.api.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!({"offsets": []}));

    let body = json!({"offsets": [
        {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 3}},
        {"partition": {"kafka_topic": topic, "kafka_partition": "1"}, "offset": {"kafka_offset": "4"}}
    ]})
    .to_string();
    let r = env.api.call("PATCH", &path, Some(&body)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({"message": "The Connect framework-managed offsets for this connector have been altered successfully. However, if this connector manages offsets externally, they will need to be manually altered in the system that the connector uses."})
    );
    let r = env.api.get(&path).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut got: Vec<(i64, i64)> = r.body["offsets"]
        .as_array()
        .expect("offsets")
        .iter()
        .map(|o| {
            assert_eq!(o["partition"]["kafka_topic"], topic.as_str());
            (
                o["partition"]["kafka_partition"].as_i64().unwrap(),
                o["offset"]["kafka_offset"].as_i64().unwrap(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, vec![(0, 3), (1, 4)], "{}", r.text);

    // Negative offsets are rejected before anything is written.
    let bad = json!({"offsets": [
        {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": -5}}
    ]})
    .to_string();
    let r = env.api.call("PATCH", &path, Some(&bad)).await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.body["error_code"], 400);
}

// ----- plugins and validation ------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connector_plugins() {
    let env = Env::start().await;
    let r = env.api.get("/connector-plugins").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let plugins = r.body.as_array().expect("array").clone();
    let classes: Vec<&str> = plugins
        .iter()
        .map(|p| p["class"].as_str().unwrap())
        .collect();
    for c in [
        FILE_SINK,
        "FileStreamSink",
        "io.sluice.connect.file.FileStreamSinkConnector",
    ] {
        assert!(classes.contains(&c), "{c} missing from {classes:?}");
    }
    for p in &plugins {
        assert_eq!(p["type"], "sink", "{p}");
        assert_ne!(p["version"], "undefined", "{p}");
        assert!(
            p.get("version").is_none() || p["version"].is_string(),
            "{p}"
        );
    }
    let r = env.api.get("/connector-plugins?connectorsOnly=true").await;
    assert_eq!(r.body.as_array().unwrap().len(), plugins.len());

    let r = env.api.get("/connector-plugins?connectorsOnly=false").await;
    assert_eq!(r.status, 200);
    let all = r.body.as_array().unwrap();
    assert!(all.len() > plugins.len());
    let types: Vec<&str> = all.iter().map(|p| p["type"].as_str().unwrap()).collect();
    assert!(types.contains(&"converter"), "{types:?}");
    assert!(types.contains(&"header_converter"), "{types:?}");
    assert!(all
        .iter()
        .any(|p| p["type"] == "converter"
            && p["class"] == "org.apache.kafka.connect.json.JsonConverter"));
    // Connectors come first, as in Connect.
    assert!(all[..plugins.len()].iter().all(|p| p["type"] == "sink"));
    for p in all {
        assert_ne!(p["version"], "undefined", "{p}");
    }

    // Plugin config keys: the plugin's own first, then the framework's.
    for plugin in [FILE_SINK, "FileStreamSink"] {
        let r = env
            .api
            .get(&format!("/connector-plugins/{plugin}/config"))
            .await;
        assert_eq!(r.status, 200, "{plugin}: {}", r.text);
        let keys = r.body.as_array().expect("array");
        assert_eq!(keys[0]["name"], "file", "{plugin}: {}", r.text);
        let names: Vec<&str> = keys.iter().map(|k| k["name"].as_str().unwrap()).collect();
        for k in [
            "name",
            "connector.class",
            "tasks.max",
            "topics",
            "topics.regex",
        ] {
            assert!(names.contains(&k), "{plugin}: {k} missing in {names:?}");
        }
        let first_framework = names.iter().position(|n| *n == "name").unwrap();
        assert!(first_framework > 0);
        for k in keys {
            for f in [
                "name",
                "type",
                "required",
                "default_value",
                "importance",
                "documentation",
                "group",
                "width",
                "display_name",
                "dependents",
                "order",
            ] {
                assert!(k.get(f).is_some(), "{plugin}: key {} lacks {f}", k["name"]);
            }
            assert!(k["dependents"].is_array());
            assert!(k["order"].is_i64());
        }
    }
    let r = env
        .api
        .get("/connector-plugins/com.example.Nope/config")
        .await;
    assert_error(&r, 404, "Unknown plugin com.example.Nope.");
}

/// Checks the AKHQ-critical shape of a `ConfigInfos` and returns the errors per key.
#[track_caller]
fn check_config_infos(infos: &Value) -> std::collections::BTreeMap<String, Vec<String>> {
    assert!(infos["name"].is_string(), "{infos}");
    assert!(infos["groups"].is_array(), "{infos}");
    let configs = infos["configs"].as_array().expect("configs");
    assert!(!configs.is_empty());
    let mut errors = std::collections::BTreeMap::new();
    let mut count = 0;
    for c in configs {
        let d = &c["definition"];
        assert!(d.is_object(), "definition must not be null: {c}");
        for f in [
            "name",
            "type",
            "required",
            "default_value",
            "importance",
            "documentation",
            "group",
            "width",
            "display_name",
            "dependents",
            "order",
        ] {
            assert!(d.get(f).is_some(), "definition lacks {f}: {c}");
        }
        assert!(d.get("order_in_group").is_none());
        assert!(d["dependents"].is_array(), "{c}");
        assert!(d["order"].is_i64(), "{c}");
        assert!(d["type"].is_string() && d["importance"].is_string() && d["width"].is_string());
        let v = &c["value"];
        assert!(v.is_object(), "value: {c}");
        assert_eq!(v["name"], d["name"], "{c}");
        assert!(v["recommended_values"].is_array(), "{c}");
        assert!(v["visible"].is_boolean(), "{c}");
        let errs: Vec<String> = v["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("errors array: {c}"))
            .iter()
            .map(|e| e.as_str().unwrap().to_string())
            .collect();
        count += errs.len();
        if !errs.is_empty() {
            errors.insert(v["name"].as_str().unwrap().to_string(), errs);
        }
    }
    assert_eq!(
        infos["error_count"], count,
        "error_count = number of messages"
    );
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validate_endpoint() {
    let env = Env::start().await;

    // AKHQ's plugin-page call: partial config, 200 with an error on `name`.
    let body = json!({"connector.class": FILE_SINK, "topics": "getPlugins"}).to_string();
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connector-plugins/{FILE_SINK}/config/validate"),
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["name"], FILE_SINK);
    let errors = check_config_infos(&r.body);
    assert!(errors.contains_key("name"), "{errors:?}");
    assert_eq!(
        errors["name"],
        vec!["Missing required configuration \"name\" which has no default value."]
    );
    assert!(r.body["error_count"].as_u64().unwrap() >= 1);
    let topics = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["definition"]["name"] == "topics")
        .expect("topics entry");
    assert_eq!(topics["value"]["value"], "getPlugins");
    assert_eq!(topics["definition"]["type"], "LIST");

    // A full valid config: no errors, still 200; values are strings, extra keys get definitions.
    let name = unique("valid");
    let mut config = env.sink(&name);
    config["name"] = json!(name);
    config["some.unknown.key"] = json!("x");
    let r = env
        .api
        .call(
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(&config.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let errors = check_config_infos(&r.body);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(r.body["error_count"], 0);
    let values: std::collections::BTreeMap<&str, &Value> = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["value"]["name"].as_str().unwrap(), &c["value"]["value"]))
        .collect();
    for key in [
        "some.unknown.key",
        "value.converter.schemas.enable",
        "consumer.override.session.timeout.ms",
    ] {
        assert_eq!(values.get(key), Some(&&config[key]), "{key}: {}", r.text);
    }
    assert_eq!(values["file"], &config["file"]);

    // Several errors: error_count sums them.
    let bad = json!({
        "connector.class": "FileStreamSink",
        "tasks.max": "0",
        "errors.tolerance": "sometimes",
    });
    let r = env
        .api
        .call(
            "PUT",
            "/connector-plugins/FileStreamSink/config/validate",
            Some(&bad.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["name"], "FileStreamSink",
        "echoes the submitted class"
    );
    let errors = check_config_infos(&r.body);
    for k in [
        "name",
        "tasks.max",
        "errors.tolerance",
        "topics",
        "topics.regex",
    ] {
        assert!(
            errors.contains_key(k),
            "{k} should have an error: {errors:?}"
        );
    }
    assert_eq!(
        errors["tasks.max"],
        vec!["Invalid value 0 for configuration tasks.max: Value must be at least 1"]
    );

    // Path/body class mismatch.
    let body = json!({"connector.class": "FileStreamSink", "topics": "x"}).to_string();
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connector-plugins/{FILE_SINK}/config/validate"),
            Some(&body),
        )
        .await;
    assert_error(
        &r,
        400,
        &format!("Included connector type FileStreamSink does not match request type {FILE_SINK}"),
    );
    // No connector.class in the body.
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connector-plugins/{FILE_SINK}/config/validate"),
            Some(r#"{"topics": "x"}"#),
        )
        .await;
    assert_error(
        &r,
        400,
        "Connector config {topics=x} contains no connector type",
    );
    // Unknown class.
    let r = env
        .api
        .call(
            "PUT",
            "/connector-plugins/com.example.Nope/config/validate",
            Some(r#"{"connector.class": "com.example.Nope"}"#),
        )
        .await;
    assert_error_prefix(
        &r,
        500,
        "Failed to find any class that implements Connector and which name matches com.example.Nope",
    );
    // Malformed body.
    let r = env
        .api
        .call(
            "PUT",
            &format!("/connector-plugins/{FILE_SINK}/config/validate"),
            Some("{nope"),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["error_code"], 400);
    // Only PUT.
    let r = env
        .api
        .call(
            "POST",
            &format!("/connector-plugins/{FILE_SINK}/config/validate"),
            Some(&body),
        )
        .await;
    assert_eq!(r.status, 405);
}

// ----- loggers ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_loggers() {
    let env = Env::start().await;
    let r = env.api.get("/admin/loggers").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["root"]["level"].is_string(), "{}", r.text);
    assert!(
        r.body["root"]
            .as_object()
            .unwrap()
            .contains_key("last_modified"),
        "{}",
        r.text
    );

    let r = env.api.get("/admin/loggers/root").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["level"].is_string());

    let r = env.api.get("/admin/loggers/x.no.such.logger").await;
    assert_error(&r, 404, "Logger x.no.such.logger not found.");

    let logger = "sluice.rest.test";
    let r = env
        .api
        .call(
            "PUT",
            &format!("/admin/loggers/{logger}"),
            Some(r#"{"level": "DEBUG"}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let affected: Vec<String> = serde_json::from_value(r.body.clone()).expect("array");
    assert!(affected.iter().any(|l| l == logger), "{affected:?}");
    let r = env.api.get(&format!("/admin/loggers/{logger}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["level"], "DEBUG");
    assert!(r.body["last_modified"].is_i64(), "{}", r.text);
    let all = env.api.get("/admin/loggers").await;
    assert_eq!(all.body[logger]["level"], "DEBUG");

    let r = env
        .api
        .call(
            "PUT",
            &format!("/admin/loggers/{logger}?scope=cluster"),
            Some(r#"{"level": "WARN"}"#),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    let r = env
        .api
        .call(
            "PUT",
            &format!("/admin/loggers/{logger}?scope=worker"),
            Some(r#"{"level": "info"}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let r = env
        .api
        .call(
            "PUT",
            &format!("/admin/loggers/{logger}"),
            Some(r#"{"level": "x"}"#),
        )
        .await;
    assert_error(&r, 404, "invalid log level 'x'.");
    for body in ["{}", r#"{"lvl": "DEBUG"}"#] {
        let r = env
            .api
            .call("PUT", &format!("/admin/loggers/{logger}"), Some(body))
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert_eq!(r.body["error_code"], 400);
    }
}

// ----- delete ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_connector() {
    let env = Env::start().await;
    let name = unique("del");
    env.create_running(&name).await;
    let keep = unique("keep");
    env.create_running(&keep).await;

    let r = env
        .api
        .call("DELETE", &format!("/connectors/{name}"), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert!(r.text.is_empty());
    assert_error(
        &env.api.get(&format!("/connectors/{name}")).await,
        404,
        &format!("Connector {name} not found"),
    );
    assert_error(
        &env.status(&name).await,
        404,
        &format!("No status found for connector {name}"),
    );
    assert_error(
        &env.api
            .call("DELETE", &format!("/connectors/{name}"), None)
            .await,
        404,
        &format!("Connector {name} not found"),
    );
    assert_eq!(env.api.get("/connectors").await.body, json!([keep]));
    // The name can be reused.
    let r = env.create(&name, env.sink(&name)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    env.api.wait_tasks(&name, 1, "RUNNING").await;
    // And the survivor stayed up.
    env.api.wait_tasks(&keep, 1, "RUNNING").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests() {
    let env = Env::start().await;
    // Racing creates of one name: exactly one wins, the others get 409.
    let name = unique("race");
    let config = env.sink(&name);
    let replies =
        futures::future::join_all((0..6).map(|_| env.create(&name, config.clone()))).await;
    let mut codes: Vec<u16> = replies.iter().map(|r| r.status).collect();
    codes.sort();
    assert_eq!(codes, vec![201, 409, 409, 409, 409, 409], "{codes:?}");
    for r in replies.iter().filter(|r| r.status == 409) {
        assert_error(r, 409, &format!("Connector {name} already exists"));
    }
    env.api.wait_tasks(&name, 1, "RUNNING").await;

    // A burst of lifecycle calls neither deadlocks nor leaves an inconsistent state.
    let path = |a: &str| format!("/connectors/{name}/{a}");
    let burst = [
        ("PUT", path("pause")),
        ("PUT", path("resume")),
        ("POST", path("restart?includeTasks=true")),
        ("PUT", path("stop")),
        ("POST", path("tasks/0/restart")),
        ("PUT", path("resume")),
        ("POST", path("restart")),
    ];
    let replies =
        futures::future::join_all(burst.iter().map(|(m, p)| env.api.call(m, p, Some("null"))))
            .await;
    for ((m, p), r) in burst.iter().zip(&replies) {
        assert!(
            matches!(r.status, 202 | 204 | 404),
            "{m} {p}: {} {}",
            r.status,
            r.text
        );
        if r.status == 404 {
            // Only a task restart can miss its task (while the connector is stopped).
            assert!(p.contains("tasks/0/restart"), "{m} {p}: {}", r.text);
        }
    }
    // Settle on a known target state.
    let r = env.api.call("PUT", &path("resume"), None).await;
    assert_eq!(r.status, 202);
    let st = env.api.wait_tasks(&name, 1, "RUNNING").await;
    assert_eq!(st["connector"]["state"], "RUNNING");

    // Delete racing with reads: reads see the connector or a 404, never anything else.
    let api = &env.api;
    let read_paths: Vec<String> = (0..10)
        .map(|i| {
            if i % 2 == 0 {
                format!("/connectors/{name}")
            } else {
                format!("/connectors/{name}/status")
            }
        })
        .collect();
    let reads = futures::future::join_all(read_paths.iter().map(|p| api.get(p)));
    let del_path = format!("/connectors/{name}");
    let delete = api.call("DELETE", &del_path, None);
    let (reads, del) = futures::future::join(reads, delete).await;
    assert_eq!(del.status, 204, "{}", del.text);
    for r in reads {
        assert!(matches!(r.status, 200 | 404), "{} {}", r.status, r.text);
    }
    assert_eq!(env.api.get("/connectors").await.body, json!([]));
}

/// DELETE hammered while the connector is being created: the create succeeds, one DELETE
/// wins, and nothing is left behind (no stored file that would resurrect it on restart).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_racing_delete_leaves_nothing_behind() {
    let mut env = Env::start().await;
    let topic = env.topic("race", 1);
    let api = &env.api;
    for i in 0..30 {
        let name = format!("{}-{i}", unique("cd"));
        let file = env.dir.path().join(format!("{name}.txt"));
        let body = json!({"name": name, "config": file_sink(&topic, &file, &[])}).to_string();
        let path = format!("/connectors/{name}");
        let deleter = async {
            loop {
                let r = api.call("DELETE", &path, None).await;
                match r.status {
                    204 => break,
                    404 => tokio::task::yield_now().await,
                    s => panic!("DELETE {name}: {s} {}", r.text),
                }
            }
        };
        let (created, ()) =
            futures::future::join(api.call("POST", "/connectors", Some(&body)), deleter).await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.body["name"], name.as_str(), "{}", created.text);
        assert_eq!(api.get(&path).await.status, 404);
    }
    assert_eq!(env.api.get("/connectors").await.body, json!([]));
    let stored: Vec<_> = std::fs::read_dir(env.dir.path().join("connectors"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .filter(|n| n.to_string_lossy().ends_with(".json"))
        .collect();
    assert!(
        stored.is_empty(),
        "deleted connectors still stored: {stored:?}"
    );
    env.restart_worker().await;
    assert_eq!(env.api.get("/connectors").await.body, json!([]));
}

/// Requests queued behind a DELETE (topics reset, lifecycle calls) must not write the deleted
/// connector back to the store, where it would come back on the next start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_queued_behind_delete_do_not_resurrect_it() {
    let mut env = Env::start().await;
    let name = unique("zombie");
    env.create_running(&name).await;
    let api = &env.api;
    let path = format!("/connectors/{name}");
    let reset = format!("{path}/topics/reset");
    let pause = format!("{path}/pause");
    let stop = format!("{path}/stop");
    let queued = futures::future::join_all((0..20).map(|i| {
        let (m, p) = match i % 3 {
            0 => ("PUT", &reset),
            1 => ("PUT", &pause),
            _ => ("PUT", &stop),
        };
        api.call(m, p, Some("null"))
    }));
    let (del, replies) = futures::future::join(api.call("DELETE", &path, None), queued).await;
    assert_eq!(del.status, 204, "{}", del.text);
    for r in replies {
        assert!(
            matches!(r.status, 202 | 204 | 404),
            "{} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(api.get(&path).await.status, 404);
    env.restart_worker().await;
    assert_eq!(
        env.api.get("/connectors").await.body,
        json!([]),
        "deleted connector came back after a restart"
    );
}

// ----- persistence -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_restart_keeps_connectors_in_target_state() {
    let mut env = Env::start().await;
    let running = unique("p-running");
    let paused = unique("p-paused");
    let stopped = unique("p-stopped");
    let patched = unique("p-patched");
    for n in [&running, &paused, &stopped, &patched] {
        env.create_running(n).await;
    }
    assert_eq!(
        env.api
            .call("PUT", &format!("/connectors/{paused}/pause"), None)
            .await
            .status,
        202
    );
    env.api.wait_tasks(&paused, 1, "PAUSED").await;
    assert_eq!(
        env.api
            .call("PUT", &format!("/connectors/{stopped}/stop"), None)
            .await
            .status,
        204
    );
    let r = env
        .api
        .call(
            "PATCH",
            &format!("/connectors/{patched}/config"),
            Some(r#"{"tasks.max": "2", "key.converter": null}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let patched_config = r.body["config"].clone();

    env.restart_worker().await;

    let mut names: Vec<String> =
        serde_json::from_value(env.api.get("/connectors").await.body).unwrap();
    names.sort();
    let mut want = vec![
        running.clone(),
        paused.clone(),
        stopped.clone(),
        patched.clone(),
    ];
    want.sort();
    assert_eq!(names, want);

    let st = env.api.wait_tasks(&running, 1, "RUNNING").await;
    assert_eq!(st["connector"]["state"], "RUNNING");
    let st = env.api.wait_tasks(&paused, 1, "PAUSED").await;
    assert_eq!(st["connector"]["state"], "PAUSED");
    let st = env.wait_connector(&stopped, "STOPPED", 0).await;
    assert_eq!(st["tasks"], json!([]));
    assert_eq!(
        env.api.get(&format!("/connectors/{stopped}")).await.body["tasks"],
        json!([])
    );
    env.api.wait_tasks(&patched, 2, "RUNNING").await;
    let cfg = env.api.get(&format!("/connectors/{patched}/config")).await;
    assert_eq!(cfg.body, patched_config);

    // Still controllable after the restart.
    assert_eq!(
        env.api
            .call(
                "PUT",
                &format!("/connectors/{stopped}/resume"),
                Some("null")
            )
            .await
            .status,
        202
    );
    env.api.wait_tasks(&stopped, 1, "RUNNING").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupt_connector_file_does_not_block_others() {
    let mut env = Env::start().await;
    let good = unique("good");
    env.create_running(&good).await;

    let dir = env.dir.path().join("connectors");
    assert!(dir.is_dir(), "state dir layout: {dir:?}");
    std::fs::write(dir.join("corrupt.json"), b"{ this is not json").unwrap();
    std::fs::write(dir.join("empty.json"), b"").unwrap();
    std::fs::write(dir.join("wrong-shape.json"), br#"{"name": 5}"#).unwrap();

    env.restart_worker().await;
    let r = env.api.get("/health").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["status"], "healthy");
    assert_eq!(env.api.get("/connectors").await.body, json!([good]));
    env.api.wait_tasks(&good, 1, "RUNNING").await;
    // New connectors can still be created.
    let more = unique("more");
    env.create_running(&more).await;
}
