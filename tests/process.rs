//! The `sluice` binary as a user runs it: worker config errors, SIGTERM, and `kill -9`
//! mid-stream followed by a restart with no record lost.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::*;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_sluice");

fn spawn(bootstrap: &str, state: &Path, port: u16, flush_ms: u64) -> Child {
    Command::new(BIN)
        .args([
            "serve",
            "--bootstrap-servers",
            bootstrap,
            "--listeners",
            &format!("http://127.0.0.1:{port}"),
            "--state-dir",
            &state.display().to_string(),
            "--override",
            &format!("offset.flush.interval.ms={flush_ms}"),
            "--override",
            "consumer.session.timeout.ms=6000",
            "--override",
            "consumer.heartbeat.interval.ms=1000",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn sluice")
}

async fn wait_healthy(api: &Api) {
    wait_until("sluice healthy", Duration::from_secs(30), || async {
        let res = reqwest::get(format!("{}/health", api.url)).await.ok()?;
        (res.status().as_u16() == 200).then_some(())
    })
    .await;
}

#[test]
fn invalid_worker_config_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let props = dir.path().join("worker.properties");
    std::fs::write(
        &props,
        "bootstrap.servers=localhost:1\noffset.flush.interval.ms=often\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", props.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("offset.flush.interval.ms"), "{err}");

    let out = Command::new(BIN)
        .args(["serve", "--override", "rest.port=notaport"])
        .env("CONNECT_STATE_DIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("rest.port"));

    let out = Command::new(BIN)
        .args(["serve", "/nonexistent/worker.properties"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/worker.properties"));
}

#[test]
fn validate_command_reports_errors_offline() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(
        &good,
        json!({"name": "f", "config": {"connector.class": "FileStreamSink", "topics": "t", "file": "/tmp/x"}}).to_string(),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["validate", good.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        json!({"connector.class": "FileStreamSink", "name": "b", "tasks.max": "0"}).to_string(),
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["validate", bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Must configure one of topics or topics.regex"),
        "{text}"
    );
    assert!(
        text.contains("Invalid value 0 for configuration tasks.max: Value must be at least 1"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_flushes_commits_and_exits_zero() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("term");
    let name = unique("term-sink");
    create_topic(&bootstrap, &topic, 2).await;
    let port = free_port();
    // A commit interval far beyond the test: only the shutdown path can commit.
    let mut child = spawn(&bootstrap, dir.path(), port, 600_000);
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    wait_healthy(&api).await;
    let out = dir.path().join("out.txt");
    let config = file_sink(&topic, &out, &[]);
    api.create(&name, &config).await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    produce_json(&bootstrap, &topic, 0, 1000).await;
    // Consumed, but not yet flushed: the file sink writes on flush, which only shutdown triggers.
    wait_until("1000 records consumed", Duration::from_secs(60), || async {
        let r = api
            .get(&format!("/connectors/{name}/tasks/0/offsets"))
            .await;
        let consumed: i64 = r.body["partitions"]
            .as_array()?
            .iter()
            .map(|p| p["consumed"].as_i64().unwrap_or(0))
            .sum();
        (consumed == 1000).then_some(())
    })
    .await;
    assert!(
        ids(&out).len() < 1000,
        "nothing forced a flush before SIGTERM"
    );

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let status = wait_until(
        "sluice exits after SIGTERM",
        Duration::from_secs(30),
        || {
            let s = child.try_wait().unwrap();
            async move { s }
        },
    )
    .await;
    assert_eq!(status.code(), Some(0));
    let sum: i64 = committed(&bootstrap, &format!("connect-{name}"), &topic, 2)
        .iter()
        .map(|o| o.unwrap_or(0))
        .sum();
    assert_eq!(
        sum, 1000,
        "everything consumed was flushed and committed on shutdown"
    );
    let mut got = ids(&out);
    got.sort_unstable();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_dash_nine_mid_stream_loses_nothing() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("kill9");
    let name = unique("kill9-sink");
    create_topic(&bootstrap, &topic, 3).await;
    let port = free_port();
    let mut child = spawn(&bootstrap, dir.path(), port, 300);
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    wait_healthy(&api).await;
    let out = dir.path().join("out.txt");
    api.create(&name, &file_sink(&topic, &out, &[])).await;
    api.wait_tasks(&name, 1, "RUNNING").await;

    // Produce in the background and kill Sluice while records are flowing.
    let (b, t) = (bootstrap.clone(), topic.clone());
    // Paced, so the kill lands while records are still arriving.
    let producer = tokio::spawn(async move {
        for chunk in 0..50 {
            produce_json(&b, &t, chunk * 200, 200).await;
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    wait_until("some records written", Duration::from_secs(60), || async {
        (ids(&out).len() >= 2000).then_some(())
    })
    .await;
    child.kill().expect("kill -9");
    child.wait().unwrap();
    let written_before = ids(&out).len();
    producer.await.unwrap();

    // Restart on the same state directory: the connector comes back by itself.
    let port = free_port();
    let mut child = spawn(&bootstrap, dir.path(), port, 300);
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    wait_healthy(&api).await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    let got = wait_until(
        "all 10000 records after restart",
        Duration::from_secs(120),
        || async {
            let ids = ids(&out);
            let distinct: BTreeSet<usize> = ids.iter().copied().collect();
            (distinct.len() == 10_000).then_some(distinct)
        },
    )
    .await;
    assert_eq!(got, (0..10_000).collect(), "no record lost across kill -9");
    assert!(
        written_before < 10_000,
        "the kill happened mid-stream ({written_before} written)"
    );
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_levels_change_at_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("stderr.log");
    let port = free_port();
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--bootstrap-servers",
            "127.0.0.1:1",
            "--listeners",
            &format!("http://127.0.0.1:{port}"),
            "--state-dir",
            &dir.path().display().to_string(),
        ])
        .env_remove("RUST_LOG")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    wait_healthy(&api).await;
    api.get("/connectors?probe=before").await;
    let r = api
        .call(
            "PUT",
            "/admin/loggers/sluice.rest",
            Some(r#"{"level":"DEBUG"}"#),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v == "sluice.rest"),
        "{}",
        r.text
    );
    api.get("/connectors?probe=after").await;
    let text = wait_until("the debug line", Duration::from_secs(10), || {
        let t = std::fs::read_to_string(&log).unwrap_or_default();
        async move { t.contains("probe=after").then_some(t) }
    })
    .await;
    assert!(
        !text.contains("probe=before"),
        "DEBUG was off before the change"
    );
    let r = api.get("/admin/loggers/sluice.rest").await;
    assert_eq!(r.body["level"], "DEBUG");
    assert!(r.body["last_modified"].as_i64().unwrap() > 0);
    child.kill().unwrap();
    child.wait().unwrap();
}
