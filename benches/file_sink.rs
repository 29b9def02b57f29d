//! Throughput and memory of the sink runtime with the FileStream sink.
//!
//! `cargo bench --bench file_sink` (release build). Starts librdkafka's in-process mock broker
//! in this process (or uses `KAFKA_BOOTSTRAP` when set), fills a topic, runs the `sluice`
//! binary as a separate process against it, and reports records/s, MB/s and the Sluice
//! process's peak RSS. Sizes: `BENCH_RECORDS` (default 1,000,000), `BENCH_PARTITIONS` (4),
//! `BENCH_TASKS` (1).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;
use serde_json::{json, Value};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Peak and current RSS of a process in MiB, from /proc.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (kib("VmHWM:") / 1024.0, kib("VmRSS:") / 1024.0)
}

fn main() {
    let records = env_usize("BENCH_RECORDS", 1_000_000);
    let partitions = env_usize("BENCH_PARTITIONS", 4) as i32;
    let tasks = env_usize("BENCH_TASKS", 1);
    let topic = "bench";

    let mock;
    let bootstrap = match std::env::var("KAFKA_BOOTSTRAP") {
        Ok(b) if !b.is_empty() => b,
        _ => {
            mock = MockCluster::new(1).expect("mock cluster");
            mock.create_topic(topic, partitions, 1).expect("topic");
            mock.bootstrap_servers()
        }
    };

    // A Debezium-unwrapped-sized JSON row, about 120 bytes.
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .create()
        .expect("producer");
    let started = Instant::now();
    let mut bytes = 0usize;
    for i in 0..records {
        let value = format!(
            r#"{{"id":{i},"customer_id":{},"status":"shipped","amount":"{}.{:02}","updated_at":1732200000000{}}}"#,
            i % 9973,
            i % 1000,
            i % 100,
            i % 10
        );
        bytes += value.len();
        let key = i.to_string();
        let mut rec = BaseRecord::to(topic).key(&key).payload(&value);
        loop {
            match producer.send(rec) {
                Ok(()) => break,
                Err((_, r)) => {
                    rec = r;
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }
    producer.flush(Duration::from_secs(120)).expect("flush");
    let produce_secs = started.elapsed().as_secs_f64();
    eprintln!(
        "produced {records} records ({:.1} MB) in {produce_secs:.2}s",
        bytes as f64 / 1e6
    );

    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args([
            "serve",
            "--bootstrap-servers",
            &bootstrap,
            "--listeners",
            &format!("http://127.0.0.1:{port}"),
            "--state-dir",
            &dir.path().display().to_string(),
            "--override",
            "offset.flush.interval.ms=1000",
            "--log-level",
            "WARN",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sluice");
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::blocking::Client::new();
    let wait_start = Instant::now();
    while client
        .get(format!("{base}/health"))
        .send()
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(
            wait_start.elapsed() < Duration::from_secs(30),
            "sluice did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, idle_rss) = rss_mib(pid);
    let out = dir.path().join("out.jsonl");
    let body = json!({"name": "bench", "config": {
        "connector.class": "FileStreamSink",
        "tasks.max": tasks.to_string(),
        "topics": topic,
        "file": out.display().to_string(),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
    }});
    let r = client
        .post(format!("{base}/connectors"))
        .json(&body)
        .send()
        .expect("create");
    assert_eq!(r.status().as_u16(), 201);

    // Time from the first consumed record to the last one committed (excludes the group join).
    let consumed = |client: &reqwest::blocking::Client| -> (i64, i64) {
        let mut c = 0;
        let mut k = 0;
        for t in 0..tasks {
            let v: Value = client
                .get(format!("{base}/connectors/bench/tasks/{t}/offsets"))
                .send()
                .and_then(|r| r.json())
                .unwrap_or(Value::Null);
            for p in v["partitions"].as_array().cloned().unwrap_or_default() {
                c += p["consumed"].as_i64().unwrap_or(0);
                k += p["committed"].as_i64().unwrap_or(0);
            }
        }
        (c, k)
    };
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first: Option<Instant> = None;
    loop {
        let (c, k) = consumed(&client);
        if c > 0 && first.is_none() {
            first = Some(Instant::now());
        }
        if k >= records as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "timed out at consumed={c} committed={k}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let secs = first.map(|f| f.elapsed().as_secs_f64()).unwrap_or(f64::NAN);
    let (peak_rss, rss) = rss_mib(pid);
    let _ = child.kill();
    let _ = child.wait();
    let lines = std::fs::read_to_string(&out)
        .map(|s| s.lines().count())
        .unwrap_or(0);
    assert_eq!(lines, records, "every record written once");
    println!(
        "file_sink: {records} records, {partitions} partitions, {tasks} task(s): {:.0} records/s, {:.1} MB/s (value bytes); sluice RSS idle {idle_rss:.1} MiB, peak {peak_rss:.1} MiB, end {rss:.1} MiB",
        records as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}
