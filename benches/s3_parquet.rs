//! Throughput, CPU and memory of the S3-Parquet sink on Debezium-shaped CDC events.
//!
//! `cargo bench --bench s3_parquet` (release build) against the broker in `KAFKA_BOOTSTRAP`
//! (`scripts/services.sh up kafka s3` starts one, and moto for `BENCH_TARGET=s3`). Fills four
//! topics (`users`, `products`, `orders`, `order_lines`, as `sluice::sample` generates them:
//! creates, updates, deletes and tombstones), then runs the `sluice` binary as a separate
//! process with the CDC lakehouse pipeline (ExtractNewRecordState, daily TimeBased partitioner
//! on `__source_ts_ms`, zstd) and reports events/s, MB/s, CPU per event and peak RSS, and checks
//! that every row landed once.
//!
//! Knobs: `BENCH_RECORDS` (default 300,000), `BENCH_PARTITIONS` per topic (2),
//! `BENCH_SCHEMAS` (`0`: schemaless JSON, the default; `1`: JSON with schemas),
//! `BENCH_TARGET` (`local`, the default, or `s3` with `S3_ENDPOINT`), `BENCH_TASKS` (1),
//! `BENCH_FLUSH_SIZE` (50,000), `BENCH_CONFIG` (`k=v,k=v` added to the connector config). Without `KAFKA_BOOTSTRAP`, librdkafka's in-process mock broker
//! is used (it keeps only about 5 MB per partition: small runs only).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use parquet::file::reader::{FileReader, SerializedFileReader};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::ClientConfig;
use serde_json::json;
use sluice::connectors::s3_parquet::storage::{self, ObjectStore, StoreConfig};
use sluice::sample::{Generator, Options, Table};

mod support;
use support::{cpu_secs, create_topic, env_usize, rss_mib, spawn_sluice, wait_committed};

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this too, as a smoke run.
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let records = env_usize("BENCH_RECORDS", if benchmarking { 300_000 } else { 8_000 });
    let partitions = env_usize("BENCH_PARTITIONS", 2) as i32;
    let tasks = env_usize("BENCH_TASKS", 1);
    let flush_size = env_usize("BENCH_FLUSH_SIZE", 50_000);
    let with_schemas = env_usize("BENCH_SCHEMAS", 0) == 1;
    let target = std::env::var("BENCH_TARGET").unwrap_or_else(|_| "local".into());
    let s3_endpoint = std::env::var("S3_ENDPOINT").ok().filter(|v| !v.is_empty());
    if target == "s3" && s3_endpoint.is_none() {
        eprintln!("s3_parquet: BENCH_TARGET=s3 needs S3_ENDPOINT (scripts/services.sh up s3)");
        std::process::exit(2);
    }
    let prefix = format!("bench{}", std::process::id());

    let mock;
    let bootstrap = match std::env::var("KAFKA_BOOTSTRAP") {
        Ok(b) if !b.is_empty() => {
            for t in Table::ALL {
                create_topic(&b, &format!("{prefix}.public.{}", t.name()), partitions);
            }
            b
        }
        _ => {
            mock = MockCluster::new(1).expect("mock cluster");
            for t in Table::ALL {
                mock.create_topic(&format!("{prefix}.public.{}", t.name()), partitions, 1)
                    .expect("topic");
            }
            mock.bootstrap_servers()
        }
    };

    // Produce; remember how many rows each table should end up with (tombstones are dropped by
    // ExtractNewRecordState, deletes become rows with `__deleted=true`).
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("linger.ms", "20")
        .set("batch.num.messages", "10000")
        .set("queue.buffering.max.messages", "1000000")
        .set("compression.type", "lz4")
        .create()
        .expect("producer");
    let started = Instant::now();
    let mut bytes = 0usize;
    let mut rows: BTreeMap<&'static str, usize> = BTreeMap::new();
    let generator = Generator::new(Options {
        topic_prefix: prefix.clone(),
        with_schemas,
        start_ms: 1_750_000_000_000,
        // Spread the events over about four days: a few daily directories per table.
        step_ms: (345_600_000 / records.max(1)) as i64,
        ..Options::default()
    });
    for event in generator.take(records) {
        bytes += event.key.len() + event.value.as_ref().map_or(0, String::len);
        if event.value.is_some() {
            *rows.entry(event.table.name()).or_default() += 1;
        }
        let mut rec = BaseRecord::to(&event.topic).key(&event.key);
        if let Some(v) = &event.value {
            rec = rec.payload(v);
        }
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
    eprintln!(
        "produced {records} events ({:.1} MB) in {:.2}s",
        bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    let (mut child, base) = spawn_sluice(env!("CARGO_BIN_EXE_sluice"), &bootstrap, dir.path(), &[]);
    let pid = child.id();
    let client = reqwest::blocking::Client::new();
    let (_, idle_rss) = rss_mib(pid);
    let cpu_before = cpu_secs(pid);
    let bucket = format!("bench-{}", std::process::id());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (access_key, secret, region) = (
        env_or("AWS_ACCESS_KEY_ID", "test"),
        env_or("AWS_SECRET_ACCESS_KEY", "testtest"),
        env_or("AWS_REGION", "us-east-1"),
    );
    let store_config = StoreConfig {
        bucket: bucket.clone(),
        region: region.clone(),
        endpoint: s3_endpoint.clone().filter(|_| target == "s3"),
        path_style: true,
        access_key_id: Some(access_key.clone()),
        secret_access_key: Some(secret.clone()),
        part_size: 5 << 20,
        retries: 3,
        retry_backoff_ms: 100,
        local_root: (target != "s3").then(|| lake.clone()),
    };
    let store_url = match (&store_config.endpoint, target.as_str()) {
        (Some(e), "s3") => {
            rt.block_on(create_bucket(e, &bucket, &access_key, &secret, &region));
            e.clone()
        }
        _ => format!("file://{}", lake.display()),
    };
    let converter = "org.apache.kafka.connect.json.JsonConverter";
    // A fresh name (and so a fresh group) per run: a killed earlier run's members would stall
    // the group until their session times out.
    let name = format!("bench-{}", std::process::id());
    let body = json!({"name": name, "config": {
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
        "tasks.max": tasks.to_string(),
        "topics.regex": format!("{prefix}\\.public\\..*"),
        "s3.bucket.name": bucket,
        "s3.region": region,
        "store.url": store_url,
        "s3.path.style.access.enabled": "true",
        "aws.access.key.id": access_key,
        "aws.secret.access.key": secret,
        "topics.dir": "cdc_events",
        "flush.size": flush_size.to_string(),
        "rotate.idle.ms": "1000",
        "partitioner.class": "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
        "path.format": "'year'=YYYY/'month'=MM/'day'=dd",
        "partition.duration.ms": "86400000",
        "locale": "en-US",
        "timezone": "UTC",
        "timestamp.extractor": "RecordField",
        "timestamp.field": "__source_ts_ms",
        "parquet.codec": "zstd",
        "behavior.on.null.values": "ignore",
        "key.converter": converter,
        "key.converter.schemas.enable": with_schemas.to_string(),
        "value.converter": converter,
        "value.converter.schemas.enable": with_schemas.to_string(),
        "transforms": "unwrap",
        "transforms.unwrap.type": "io.debezium.transforms.ExtractNewRecordState",
        "transforms.unwrap.delete.tombstone.handling.mode": "rewrite",
        "transforms.unwrap.add.fields": "op,lsn,source.ts_ms",
    }});
    // BENCH_CONFIG="k=v,k=v" adds connector settings (e.g. consumer.override.* experiments).
    let mut body = body;
    for kv in std::env::var("BENCH_CONFIG").unwrap_or_default().split(',') {
        if let Some((k, v)) = kv.split_once('=') {
            body["config"][k.trim()] = json!(v.trim());
        }
    }
    let r = client
        .post(format!("{base}/connectors"))
        .json(&body)
        .send()
        .expect("create");
    assert_eq!(r.status().as_u16(), 201, "{}", r.text().unwrap_or_default());

    // Throughput from the first consumed record to the last one (excludes the group join);
    // the time until the last file is durable and committed reported on its own.
    let progress = wait_committed(
        &base,
        &name,
        tasks,
        records,
        &mut child,
        Duration::from_secs(900),
    );
    let cpu = cpu_secs(pid) - cpu_before;
    let (first, done, committed_at) = (progress.first, progress.all_consumed, progress.committed);
    let secs = done.duration_since(first).as_secs_f64().max(1e-3);
    let (peak_rss, rss) = rss_mib(pid);
    let _ = child.kill();
    let _ = child.wait();

    // Read every file's footer back: each row exactly once, per table.
    let store = rt
        .block_on(storage::open(&store_config))
        .expect("open store");
    let (found, files, lake_bytes) = rt.block_on(count_rows(store.as_ref()));
    let expected: BTreeMap<String, usize> = rows.iter().map(|(t, n)| (t.to_string(), *n)).collect();
    assert_eq!(found, expected, "rows per table in the lake");
    println!(
        "s3_parquet: {records} events ({}), {} topics x {partitions} partitions, {tasks} task(s), target {target}: {:.0} events/s, {:.1} MB/s of JSON (first to last event consumed, {secs:.2}s); last file committed {:.2}s later; {files} files, {:.1} MB Parquet; sluice CPU {:.2} µs/event ({:.0} events per CPU-second); RSS idle {idle_rss:.1} MiB, peak {peak_rss:.1} MiB, end {rss:.1} MiB",
        if with_schemas { "JSON with schemas" } else { "schemaless JSON" },
        Table::ALL.len(),
        records as f64 / secs,
        bytes as f64 / 1e6 / secs,
        committed_at.duration_since(done).as_secs_f64(),
        lake_bytes as f64 / 1e6,
        cpu * 1e6 / records as f64,
        records as f64 / cpu.max(1e-6),
    );
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// Rows per table (the topic directory under `cdc_events/`), file count and bytes.
async fn count_rows(store: &dyn ObjectStore) -> (BTreeMap<String, usize>, usize, usize) {
    let mut rows: BTreeMap<String, usize> = BTreeMap::new();
    let (mut files, mut total) = (0, 0);
    for key in store.list("cdc_events/").await.expect("list") {
        if !key.ends_with(".parquet") || key.contains("/.sluice/") {
            continue;
        }
        let bytes: Bytes = store.get(&key).await.expect("get").expect("listed object");
        total += bytes.len();
        files += 1;
        let reader = SerializedFileReader::new(bytes).expect("parquet footer");
        let table = key.split('/').nth(1).unwrap_or_default();
        let table = table.rsplit('.').next().unwrap_or(table).to_string();
        *rows.entry(table).or_default() += reader.metadata().file_metadata().num_rows() as usize;
    }
    (rows, files, total)
}

async fn create_bucket(endpoint: &str, bucket: &str, key: &str, secret: &str, region: &str) {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            key, secret, None, None, "bench",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
}
