//! Shared test harness: an in-process Sluice worker on a free port, Kafka helpers, polling.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use serde_json::Value;
use sluice::herder::Herder;
use sluice::logging::LogControl;
use sluice::worker::{Worker, WorkerConfig};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub mod lake;

/// The real broker's address from `scripts/services.sh`, or `None` to skip.
/// With `SLUICE_REQUIRE_SERVICES=1` (the test script sets it) a missing broker fails the test.
pub fn kafka_bootstrap() -> Option<String> {
    match std::env::var("KAFKA_BOOTSTRAP") {
        Ok(b) if !b.is_empty() => Some(b),
        _ => {
            if std::env::var("SLUICE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("KAFKA_BOOTSTRAP is not set but SLUICE_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped: KAFKA_BOOTSTRAP not set (run scripts/test.sh)");
            None
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A name unique to this test run.
pub fn unique(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        % 1_000_000_000;
    format!("{prefix}-{}-{t}-{n}", std::process::id())
}

/// An in-process worker.
pub struct TestWorker {
    /// `http://127.0.0.1:port`.
    pub url: String,
    /// Its herder.
    pub herder: Herder,
    /// Its state directory.
    pub state_dir: PathBuf,
    shutdown: Option<oneshot::Sender<()>>,
    join: Option<JoinHandle<()>>,
}

/// Worker settings every test wants: fast commits, short group timeouts.
pub fn test_props(bootstrap: &str, state_dir: &Path) -> BTreeMap<String, String> {
    [
        ("bootstrap.servers", bootstrap.to_string()),
        ("listeners", "http://127.0.0.1:0".into()),
        ("rest.advertised.host.name", "127.0.0.1".into()),
        ("state.dir", state_dir.display().to_string()),
        ("offset.flush.interval.ms", "500".into()),
        ("consumer.session.timeout.ms", "6000".into()),
        ("consumer.heartbeat.interval.ms", "1000".into()),
        ("task.shutdown.graceful.timeout.ms", "10000".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

impl TestWorker {
    /// Starts a worker with `extra` worker properties on top of [`test_props`].
    pub async fn start(bootstrap: &str, state_dir: &Path, extra: &[(&str, &str)]) -> TestWorker {
        Self::start_with(
            bootstrap,
            state_dir,
            extra,
            sluice::connectors::Plugins::builtin(),
        )
        .await
    }

    /// As [`TestWorker::start`], with a chosen plugin set.
    pub async fn start_with(
        bootstrap: &str,
        state_dir: &Path,
        extra: &[(&str, &str)],
        plugins: sluice::connectors::Plugins,
    ) -> TestWorker {
        let mut props = test_props(bootstrap, state_dir);
        for (k, v) in extra {
            props.insert(k.to_string(), v.to_string());
        }
        if let Ok(filter) = std::env::var("SLUICE_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let config = WorkerConfig::from_raw(props).expect("worker config");
        let logs = Arc::new(LogControl::detached("INFO", String::new()));
        let worker = Worker::bind_with_plugins(config, logs, plugins)
            .await
            .expect("bind");
        let url = format!("http://{}", worker.local_addr());
        let herder = worker.herder().clone();
        let (tx, rx) = oneshot::channel::<()>();
        let join = tokio::spawn(async move {
            worker
                .run(async move {
                    let _ = rx.await;
                })
                .await
                .expect("worker run");
        });
        let w = TestWorker {
            url,
            herder,
            state_dir: state_dir.to_path_buf(),
            shutdown: Some(tx),
            join: Some(join),
        };
        wait_until("worker healthy", Duration::from_secs(20), || async {
            w.herder.is_ready().then_some(())
        })
        .await;
        w
    }

    /// Graceful shutdown (flush + commit), waiting for it to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(j) = self.join.take() {
            j.await.expect("worker task");
        }
    }
}

/// Polls `f` every 100 ms until it returns `Some`, or panics after `timeout` naming `what`.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A small HTTP client for the REST API.
pub struct Api {
    /// Base URL.
    pub url: String,
    client: reqwest::Client,
}

/// Status and JSON body of a response (body `Null` when empty).
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Parsed body.
    pub body: Value,
    /// Raw body text.
    pub text: String,
    /// Response headers.
    pub headers: reqwest::header::HeaderMap,
}

impl Api {
    /// Client for a worker.
    pub fn new(url: &str) -> Api {
        Api {
            url: url.to_string(),
            client: reqwest::Client::new(),
        }
    }

    /// Sends a request; `body` is sent verbatim with `Content-Type: application/json`.
    pub async fn call(&self, method: &str, path: &str, body: Option<&str>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{path}", self.url))
            .header("Accept", "application/json");
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let res = req.send().await.expect("http request");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        Reply {
            status,
            body,
            text,
            headers,
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }

    /// `POST /connectors` with `{"name", "config"}`; asserts 201.
    pub async fn create(&self, name: &str, config: &Value) -> Reply {
        let body = serde_json::json!({"name": name, "config": config}).to_string();
        let r = self.call("POST", "/connectors", Some(&body)).await;
        assert_eq!(r.status, 201, "create {name} failed: {}", r.text);
        r
    }

    /// Waits until the connector's tasks are all in `state` (and there are `tasks` of them).
    pub async fn wait_tasks(&self, name: &str, tasks: usize, state: &str) -> Value {
        let path = format!("/connectors/{name}/status");
        wait_until(
            &format!("{name}: {tasks} task(s) {state}"),
            Duration::from_secs(60),
            || async {
                let r = self.get(&path).await;
                let ts = r.body["tasks"].as_array()?.clone();
                (ts.len() == tasks && ts.iter().all(|t| t["state"] == state)).then_some(r.body)
            },
        )
        .await
    }
}

/// Creates a topic on a real broker.
pub async fn create_topic(bootstrap: &str, topic: &str, partitions: i32) {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let opts = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
    let res = admin
        .create_topics(
            [&NewTopic::new(
                topic,
                partitions,
                TopicReplication::Fixed(1),
            )],
            &opts,
        )
        .await
        .expect("create topic");
    for r in res {
        r.expect("topic created");
    }
}

/// A record to produce: key, value (`None` = tombstone), fixed partition.
pub type Outgoing = (Option<String>, Option<Vec<u8>>, Option<i32>);

/// Produces `(key, value)` records (value `None` = tombstone), optionally to a fixed partition,
/// waiting for every delivery.
pub async fn produce(bootstrap: &str, topic: &str, records: impl IntoIterator<Item = Outgoing>) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let mut futs = Vec::new();
    for (k, v, p) in records {
        let producer = producer.clone();
        let topic = topic.to_string();
        futs.push(async move {
            let mut rec: FutureRecord<'_, str, [u8]> =
                FutureRecord::to(&topic).headers(OwnedHeaders::new().insert(Header {
                    key: "h",
                    value: Some("v"),
                }));
            if let Some(k) = k.as_deref() {
                rec = rec.key(k);
            }
            if let Some(v) = v.as_deref() {
                rec = rec.payload(v);
            }
            if let Some(p) = p {
                rec = rec.partition(p);
            }
            producer
                .send(rec, Duration::from_secs(30))
                .await
                .map_err(|(e, _)| e)
                .expect("delivery");
        });
    }
    // Bounded concurrency keeps memory low while staying fast.
    use futures::StreamExt;
    futures::stream::iter(futs)
        .buffer_unordered(1000)
        .collect::<Vec<_>>()
        .await;
}

/// Produces `n` JSON values `{"i": k}` for k in `from..from+n`, keyed by k.
pub async fn produce_json(bootstrap: &str, topic: &str, from: usize, n: usize) {
    produce(
        bootstrap,
        topic,
        (from..from + n).map(|i| {
            (
                Some(i.to_string()),
                Some(format!("{{\"i\":{i}}}").into_bytes()),
                None,
            )
        }),
    )
    .await;
}

/// Committed offsets of a group for a topic's partitions (`None` where nothing is committed).
pub fn committed(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> Vec<Option<i64>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition(topic, p);
    }
    let c = consumer
        .committed_offsets(tpl, Duration::from_secs(10))
        .expect("committed offsets");
    (0..partitions)
        .map(|p| match c.find_partition(topic, p).map(|e| e.offset()) {
            Some(Offset::Offset(o)) => Some(o),
            _ => None,
        })
        .collect()
}

/// Lines of a file (empty if missing).
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The `i` values in a FileStream output of `{"i": k}` records.
pub fn ids(path: &Path) -> Vec<usize> {
    lines(path)
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| v["i"].as_u64().map(|i| i as usize))
        .collect()
}

/// A FileStream sink config over `topic` writing to `file`, schemaless JSON values.
pub fn file_sink(topic: &str, file: &Path, extra: &[(&str, &str)]) -> Value {
    let mut config = serde_json::json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "file": file.display().to_string(),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "consumer.override.session.timeout.ms": "6000",
    });
    for (k, v) in extra {
        config[*k] = Value::String(v.to_string());
    }
    config
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A cheap xorshift so kill points differ run to run without a rand dependency.
pub fn jitter(seed: &mut u64, max_ms: u64) -> Duration {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    Duration::from_millis(*seed % max_ms)
}

/// `sluice serve` as a child process for the `kill -9` loops: fast offset flushes and a short
/// group session, so a killed worker's partitions come back quickly.
pub fn spawn_killable(bootstrap: &str, state: &Path, port: u16) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "serve",
            "--bootstrap-servers",
            bootstrap,
            "--listeners",
            &format!("http://127.0.0.1:{port}"),
            "--state-dir",
            &state.display().to_string(),
            "--override",
            "offset.flush.interval.ms=200",
            "--override",
            "consumer.session.timeout.ms=6000",
            "--override",
            "consumer.heartbeat.interval.ms=1000",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn sluice")
}
