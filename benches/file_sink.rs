//! Throughput and memory of the sink runtime with the FileStream sink.
//!
//! `cargo bench --bench file_sink` (release build). Starts librdkafka's in-process mock broker
//! in this process (or uses `KAFKA_BOOTSTRAP` when set), fills a topic, runs the `sluice`
//! binary as a separate process against it, and reports records/s, MB/s and the Sluice
//! process's peak RSS. Sizes: `BENCH_RECORDS` (default 300,000), `BENCH_PARTITIONS` (8),
//! `BENCH_TASKS` (1). The mock broker keeps only about 5 MB per partition, so larger runs need
//! more partitions or a real broker (`KAFKA_BOOTSTRAP`).

use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;
use serde_json::json;

mod support;
use support::{cpu_secs, create_topic, env_usize, rss_mib, spawn_sluice, wait_committed};

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this too, as a quick smoke run.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let records = env_usize("BENCH_RECORDS", if benchmarking { 300_000 } else { 20_000 });
    let partitions = env_usize("BENCH_PARTITIONS", 8) as i32;
    let tasks = env_usize("BENCH_TASKS", 1);
    let topic = format!("bench-{}", std::process::id());
    let topic = topic.as_str();

    let mock;
    let bootstrap = match std::env::var("KAFKA_BOOTSTRAP") {
        Ok(b) if !b.is_empty() => {
            create_topic(&b, topic, partitions);
            b
        }
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
    let (mut child, base) = spawn_sluice(env!("CARGO_BIN_EXE_sluice"), &bootstrap, dir.path(), &[]);
    let pid = child.id();
    let client = reqwest::blocking::Client::new();
    let (_, idle_rss) = rss_mib(pid);
    let cpu_before = cpu_secs(pid);
    let out = dir.path().join("out.jsonl");
    // A fresh name (and so a fresh group) per run: a killed earlier run's members would stall
    // the group until their session times out.
    let name = format!("bench-{}", std::process::id());
    let body = json!({"name": name, "config": {
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

    // Throughput from the first consumed record to the last one (excludes the group join);
    // commit latency reported on its own.
    let progress = wait_committed(
        &base,
        &name,
        tasks,
        records,
        &mut child,
        Duration::from_secs(600),
    );
    let cpu = cpu_secs(pid) - cpu_before;
    let (first, done, committed_at) = (progress.first, progress.all_consumed, progress.committed);
    let peak_during = progress.peak_rss_sampled;
    let secs = done.duration_since(first).as_secs_f64().max(1e-3);
    let (peak_rss, rss) = rss_mib(pid);
    let _ = child.kill();
    let _ = child.wait();
    let lines = std::fs::read_to_string(&out)
        .map(|s| s.lines().count())
        .unwrap_or(0);
    assert_eq!(lines, records, "every record written once");
    println!(
        "file_sink: {records} records, {partitions} partitions, {tasks} task(s): {:.0} records/s, {:.1} MB/s of values (first to last record consumed, {secs:.2}s); last commit {:.2}s later; sluice CPU {:.2} µs/record; sluice RSS idle {idle_rss:.1} MiB, peak {peak_rss:.1} MiB (sampled {peak_during:.1}), end {rss:.1} MiB",
        records as f64 / secs,
        bytes as f64 / 1e6 / secs,
        committed_at.duration_since(done).as_secs_f64(),
        cpu * 1e6 / records as f64
    );
}
