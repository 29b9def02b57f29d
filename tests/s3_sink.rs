//! The S3-Parquet sink on a real broker, writing to a local directory and to a real S3 API
//! server (moto): layout, exactly-once offsets, time-driven rotation, readers, faults.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::lake::{self, LakeFile};
use common::*;
use serde_json::{json, Value};

/// A sink config in the Confluent form users paste today, with `extra` on top.
fn s3_sink(topic: &str, extra: &[(&str, &str)]) -> Value {
    let mut config = json!({
        "connector.class": "io.confluent.connect.s3.S3SinkConnector",
        "format.class": "io.confluent.connect.s3.format.parquet.ParquetFormat",
        "tasks.max": "1",
        "topics": topic,
        "s3.bucket.name": "lake",
        "s3.region": "us-east-1",
        "flush.size": "100",
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

/// `n` schemaless records `{"i": k, "name": "n<k>"}` for k in `from..from+n`, keyed by k.
async fn produce_rows(bootstrap: &str, topic: &str, from: usize, n: usize) {
    produce(
        bootstrap,
        topic,
        (from..from + n).map(|i| {
            (
                Some(i.to_string()),
                Some(format!("{{\"i\":{i},\"name\":\"n{i}\"}}").into_bytes()),
                None,
            )
        }),
    )
    .await;
}

fn all_ids(files: &[LakeFile]) -> Vec<i64> {
    let mut ids: Vec<i64> = lake::ids_by_partition(files)
        .into_values()
        .flatten()
        .collect();
    ids.sort_unstable();
    ids
}

fn file_url(dir: &std::path::Path) -> String {
    format!("file://{}", dir.display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_dir_layout_rotation_and_offsets() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let topic = unique("s3local");
    let name = unique("s3local-sink");
    create_topic(&bootstrap, &topic, 3).await;
    produce_rows(&bootstrap, &topic, 0, 1000).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let url = file_url(&lake_dir);
    api.create(
        &name,
        &s3_sink(&topic, &[("store.url", &url), ("rotate.idle.ms", "1000")]),
    )
    .await;
    api.wait_tasks(&name, 1, "RUNNING").await;

    let files = wait_until(
        "all 1000 rows in files",
        Duration::from_secs(60),
        || async {
            let files = lake::read_dir(&lake_dir);
            (all_ids(&files).len() >= 1000).then_some(files)
        },
    )
    .await;
    assert_eq!(
        all_ids(&files),
        (0..1000).collect::<Vec<i64>>(),
        "every record exactly once"
    );

    // Keys: <topics.dir>/<topic>/partition=<p>/<topic>+<p>+<start, 10 digits>.snappy.parquet
    let re = regex::Regex::new(&format!(
        r"^topics/{t}/partition=(\d)/{t}\+(\d)\+(\d{{10}})\.snappy\.parquet$",
        t = regex::escape(&topic)
    ))
    .unwrap();
    let mut per_partition: BTreeMap<i32, Vec<&LakeFile>> = BTreeMap::new();
    for f in &files {
        let c = re
            .captures(&f.key)
            .unwrap_or_else(|| panic!("unexpected key {}", f.key));
        assert_eq!(c[1], c[2], "directory and file name agree on the partition");
        let start: i64 = c[3].parse().unwrap();
        assert_eq!(
            f.metadata["sluice.offset.first"],
            start.to_string(),
            "{}",
            f.key
        );
        assert_eq!(f.metadata["sluice.topic"], topic);
        assert_eq!(f.metadata["sluice.records"], f.rows.len().to_string());
        assert!(f.metadata.contains_key("sluice.version"));
        assert!(
            f.rows.len() <= 100,
            "flush.size caps files: {}",
            f.rows.len()
        );
        per_partition
            .entry(c[1].parse().unwrap())
            .or_default()
            .push(f);
    }
    // Within a partition, files tile the offsets: each starts where the previous ended.
    for (p, fs) in &per_partition {
        let mut next = 0i64;
        for f in fs {
            let first: i64 = f.metadata["sluice.offset.first"].parse().unwrap();
            let last: i64 = f.metadata["sluice.offset.last"].parse().unwrap();
            assert_eq!(
                first, next,
                "partition {p}: gap or overlap before {}",
                f.key
            );
            assert_eq!(last - first + 1, f.rows.len() as i64);
            next = last + 1;
        }
    }
    assert!(
        files[0].columns.iter().any(|c| c == "i: Int64"),
        "{:?}",
        files[0].columns
    );

    // The group offset mirrors what is in files (AKHQ lag is real).
    let group = format!("connect-{name}");
    let ends: Vec<Option<i64>> = per_partition
        .values()
        .map(|fs| {
            Some(
                fs.last().unwrap().metadata["sluice.offset.last"]
                    .parse::<i64>()
                    .unwrap()
                    + 1,
            )
        })
        .collect();
    wait_until(
        "group offsets at the files' ends",
        Duration::from_secs(30),
        || async { (committed(&bootstrap, &group, &topic, 3) == ends).then_some(()) },
    )
    .await;
    // Nothing else is visible beside the layout: staging lives under the hidden .sluice/.
    assert!(lake_dir.join("topics/.sluice").is_dir());
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_debezium_events_daily_partitions_readable_by_pyarrow_duckdb_chdb() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let bucket = unique("cdc").to_lowercase();
    lake::create_bucket(&endpoint, &bucket).await;
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("pg.public.all_types");
    let name = unique("cdc-lake");
    create_topic(&bootstrap, &topic, 1).await;

    // Real Debezium 3.6 events (JSON with schemas) of the all_types table.
    let fixture = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/debezium/envelope.jsonl"
    ))
    .unwrap();
    // `value_schema` names an entry of json-schemas.json (schema JSON text); `value` is the
    // payload's JSON text.
    let schemas: std::collections::HashMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/debezium/json-schemas.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut expected_days = BTreeSet::new();
    let mut records = Vec::new();
    // The fixture's events, three times, with `source.ts_ms` moved 0, 1 and 2 days later, so
    // the daily partitioner has several directories to fill.
    let lines: Vec<&str> = fixture.lines().collect();
    for (copy, line) in (0..3i64).flat_map(|c| lines.iter().map(move |l| (c, l))) {
        let rec: Value = serde_json::from_str(line).unwrap();
        if rec["table"] != "all_types" || rec["value"].is_null() {
            continue;
        }
        let mut payload: Value = serde_json::from_str(rec["value"].as_str().unwrap()).unwrap();
        let schema: Value =
            serde_json::from_str(&schemas[rec["value_schema"].as_str().unwrap()]).unwrap();
        let ts_ms = payload["source"]["ts_ms"].as_i64().unwrap() + copy * 86_400_000;
        payload["source"]["ts_ms"] = json!(ts_ms);
        let day = chrono::DateTime::from_timestamp_millis(ts_ms).unwrap();
        expected_days.insert(day.format("year=%Y/month=%m/day=%d").to_string());
        let value = json!({"schema": schema, "payload": payload});
        records.push((None, Some(value.to_string().into_bytes()), None));
    }
    let n = records.len();
    assert!(n >= 15, "fixture has events");
    produce(&bootstrap, &topic, records).await;

    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let (key, secret, _) = lake::s3_credentials();
    api.create(
        &name,
        &s3_sink(
            &topic,
            &[
                ("s3.bucket.name", &bucket),
                ("store.url", &endpoint),
                ("aws.access.key.id", &key),
                ("aws.secret.access.key", &secret),
                ("topics.dir", "cdc_events"),
                ("value.converter.schemas.enable", "true"),
                (
                    "partitioner.class",
                    "io.confluent.connect.storage.partitioner.TimeBasedPartitioner",
                ),
                ("path.format", "'year'=YYYY/'month'=MM/'day'=dd"),
                ("partition.duration.ms", "86400000"),
                ("locale", "en-US"),
                ("timezone", "UTC"),
                ("timestamp.extractor", "RecordField"),
                ("timestamp.field", "source.ts_ms"),
                ("flush.size", "5"),
                ("rotate.idle.ms", "500"),
                ("parquet.codec", "zstd"),
            ],
        ),
    )
    .await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    let store = lake::s3_store(&endpoint, &bucket).await;
    let files = wait_until("every event in S3", Duration::from_secs(60), || async {
        let files = lake::read_store(store.as_ref(), "cdc_events/").await;
        (files.iter().map(|f| f.rows.len()).sum::<usize>() >= n).then_some(files)
    })
    .await;
    assert_eq!(
        files.iter().map(|f| f.rows.len()).sum::<usize>(),
        n,
        "no duplicates"
    );
    let days: BTreeSet<String> = files
        .iter()
        .map(|f| {
            let rest = f.key.strip_prefix(&format!("cdc_events/{topic}/")).unwrap();
            rest.rsplit_once('/').unwrap().0.to_string()
        })
        .collect();
    assert_eq!(
        days, expected_days,
        "directories follow source.ts_ms in UTC"
    );
    assert!(
        files.iter().all(|f| f.key.ends_with(".zstd.parquet")),
        "{:?}",
        files[0].key
    );
    assert!(
        files[0]
            .columns
            .iter()
            .any(|c| c.starts_with("after: Struct")),
        "envelope kept as nested columns: {:?}",
        files[0].columns
    );

    // Independent readers see the same rows with proper types.
    let s3_path = format!("s3://{bucket}/cdc_events/{topic}");
    for reader in ["pyarrow", "duckdb", "chdb"] {
        let Some(out) = lake::python_reader(reader, &s3_path, Some(&endpoint)) else {
            continue;
        };
        assert_eq!(out["rows"].as_u64(), Some(n as u64), "{reader}: {out}");
        let types: Vec<String> = out["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                format!(
                    "{}: {}",
                    c["name"].as_str().unwrap(),
                    c["type"].as_str().unwrap()
                )
            })
            .collect();
        assert!(
            types.iter().any(|t| t.starts_with("op: ")),
            "{reader}: {types:?}"
        );
    }
    worker.stop().await;
}

/// An HTTP server answering every request as S3 does to an unknown access key; its URL.
async fn deny_everything() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let _ = client.read(&mut buf).await;
                let body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>";
                let _ = client
                    .write_all(
                        format!(
                            "HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .as_bytes(),
                    )
                    .await;
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// A TCP proxy in front of the S3 server that can answer `503 Slow Down` to everything.
struct FlakyProxy {
    port: u16,
    broken: Arc<AtomicBool>,
}

impl FlakyProxy {
    async fn start(upstream: &str) -> FlakyProxy {
        let upstream = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let broken = Arc::new(AtomicBool::new(false));
        let flag = broken.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                let flag = flag.clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    use tokio::io::{AsyncReadExt, AsyncWriteExt};
                    if flag.load(Ordering::SeqCst) {
                        let mut buf = [0u8; 4096];
                        let _ = client.read(&mut buf).await;
                        let body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>";
                        let _ = client
                            .write_all(
                                format!(
                                    "HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                                    body.len()
                                )
                                .as_bytes(),
                            )
                            .await;
                        return;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    // Pooled connections are cut when the proxy breaks.
                    let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                    let watch = async {
                        while !flag.load(Ordering::SeqCst) {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! {
                        _ = copy => {}
                        _ = watch => {}
                    }
                });
            }
        });
        FlakyProxy { port, broken }
    }

    fn set_broken(&self, b: bool) {
        self.broken.store(b, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_outage_is_retried_with_a_trace_commits_nothing_and_recovers() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let bucket = unique("outage").to_lowercase();
    lake::create_bucket(&endpoint, &bucket).await;
    let proxy = FlakyProxy::start(&endpoint).await;
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("s3outage");
    let name = unique("s3outage-sink");
    create_topic(&bootstrap, &topic, 1).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let (key, secret, _) = lake::s3_credentials();
    let proxied = format!("http://127.0.0.1:{}", proxy.port);
    api.create(
        &name,
        &s3_sink(
            &topic,
            &[
                ("s3.bucket.name", &bucket),
                ("store.url", &proxied),
                ("aws.access.key.id", &key),
                ("aws.secret.access.key", &secret),
                ("flush.size", "50"),
                ("s3.part.retries", "1"),
                ("s3.retry.backoff.ms", "50"),
            ],
        ),
    )
    .await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    let store = lake::s3_store(&endpoint, &bucket).await;
    produce_rows(&bootstrap, &topic, 0, 200).await;
    wait_until("first 200 rows", Duration::from_secs(60), || async {
        let files = lake::read_store(store.as_ref(), "topics/").await;
        (all_ids(&files).len() == 200).then_some(())
    })
    .await;
    let group = format!("connect-{name}");

    proxy.set_broken(true);
    produce_rows(&bootstrap, &topic, 200, 200).await;
    let status = wait_until(
        "the retry shows in the task trace",
        Duration::from_secs(60),
        || async {
            let s = api.get(&format!("/connectors/{name}/status")).await.body;
            let t = &s["tasks"][0];
            (t["state"] == "RUNNING"
                && t["trace"]
                    .as_str()
                    .is_some_and(|tr| tr.contains("Retrying")))
            .then_some(s)
        },
    )
    .await;
    let trace = status["tasks"][0]["trace"].as_str().unwrap();
    assert!(
        trace.contains("503") || trace.contains("SlowDown"),
        "{trace}"
    );
    // While S3 is down nothing new is committed.
    for _ in 0..10 {
        let c = committed(&bootstrap, &group, &topic, 1)[0].unwrap_or(0);
        assert!(c <= 200, "committed {c} while the store was down");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    proxy.set_broken(false);
    let files = wait_until(
        "all 400 rows after recovery",
        Duration::from_secs(90),
        || async {
            let files = lake::read_store(store.as_ref(), "topics/").await;
            (all_ids(&files).len() >= 400).then_some(files)
        },
    )
    .await;
    assert_eq!(
        all_ids(&files),
        (0..400).collect::<Vec<i64>>(),
        "no loss, no duplicates"
    );
    wait_until("trace cleared", Duration::from_secs(30), || async {
        let s = api.get(&format!("/connectors/{name}/status")).await.body;
        s["tasks"][0].get("trace").is_none().then_some(())
    })
    .await;
    wait_until(
        "offsets committed after recovery",
        Duration::from_secs(30),
        || async { (committed(&bootstrap, &group, &topic, 1)[0] == Some(400)).then_some(()) },
    )
    .await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_bucket_and_unwritable_directory_fail_the_task_clearly() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("s3bad");
    create_topic(&bootstrap, &topic, 1).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);

    let name = unique("unwritable");
    api.create(
        &name,
        &s3_sink(
            &topic,
            &[("store.url", "file:///proc/sluice-cannot-write-here")],
        ),
    )
    .await;
    let s = api.wait_tasks(&name, 1, "FAILED").await;
    let trace = s["tasks"][0]["trace"].as_str().unwrap();
    assert!(trace.contains("/proc/sluice-cannot-write-here"), "{trace}");

    if let Some(endpoint) = lake::s3_endpoint() {
        let (key, secret, _) = lake::s3_credentials();
        let name = unique("nobucket");
        api.create(
            &name,
            &s3_sink(
                &topic,
                &[
                    ("s3.bucket.name", "sluice-no-such-bucket"),
                    ("store.url", &endpoint),
                    ("aws.access.key.id", &key),
                    ("aws.secret.access.key", &secret),
                ],
            ),
        )
        .await;
        let s = api.wait_tasks(&name, 1, "FAILED").await;
        let trace = s["tasks"][0]["trace"].as_str().unwrap();
        assert!(trace.contains("Non-existent S3 bucket"), "{trace}");
        assert!(trace.contains("sluice-no-such-bucket"), "{trace}");
    }

    // Wrong credentials: what S3 and MinIO answer (403 InvalidAccessKeyId) fails the task with a
    // message naming the bucket and what to check. moto does not check credentials, so a fixed
    // responder plays the server here.
    let denied = deny_everything().await;
    let name = unique("badcreds");
    api.create(
        &name,
        &s3_sink(
            &topic,
            &[
                ("s3.bucket.name", "lake"),
                ("store.url", &denied),
                ("aws.access.key.id", "AKIAWRONG"),
                ("aws.secret.access.key", "wrong"),
                ("s3.part.retries", "0"),
            ],
        ),
    )
    .await;
    let s = api.wait_tasks(&name, 1, "FAILED").await;
    let trace = s["tasks"][0]["trace"].as_str().unwrap();
    assert!(trace.contains("Access denied to bucket lake"), "{trace}");
    assert!(trace.contains("access key"), "{trace}");

    // Other formats are refused at validation, with the key named.
    let mut bad = s3_sink(
        &topic,
        &[(
            "format.class",
            "io.confluent.connect.s3.format.json.JsonFormat",
        )],
    );
    bad["name"] = json!("s3bad-validate");
    let r = api
        .call(
            "PUT",
            "/connector-plugins/io.confluent.connect.s3.S3SinkConnector/config/validate",
            Some(&bad.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["error_count"], 1, "{}", r.text);
    let format_errors = r.body["configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["value"]["name"] == "format.class")
        .unwrap()["value"]["errors"]
        .clone();
    assert!(
        format_errors[0].as_str().unwrap().contains("Parquet"),
        "{format_errors}"
    );
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_records_and_tombstones_go_to_the_dlq() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let topic = unique("s3poison");
    let dlq = unique("s3poison-dlq");
    let name = unique("s3poison-sink");
    create_topic(&bootstrap, &topic, 1).await;
    create_topic(&bootstrap, &dlq, 1).await;
    let mut records: Vec<Outgoing> = (0..30)
        .map(|i| {
            (
                Some(i.to_string()),
                Some(format!("{{\"i\":{i}}}").into_bytes()),
                None,
            )
        })
        .collect();
    records.insert(
        10,
        (
            Some("x".into()),
            Some(b"\"a string, not a row\"".to_vec()),
            None,
        ),
    );
    records.insert(20, (Some("t".into()), None, None));
    produce(&bootstrap, &topic, records).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let url = file_url(&lake_dir);
    api.create(
        &name,
        &s3_sink(
            &topic,
            &[
                ("store.url", &url),
                ("flush.size", "10"),
                ("rotate.idle.ms", "500"),
                ("errors.tolerance", "all"),
                ("errors.deadletterqueue.topic.name", &dlq),
                ("errors.deadletterqueue.topic.replication.factor", "1"),
                ("errors.deadletterqueue.context.headers.enable", "true"),
            ],
        ),
    )
    .await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    let files = wait_until("the 30 good rows", Duration::from_secs(60), || async {
        let files = lake::read_dir(&lake_dir);
        (all_ids(&files).len() >= 30).then_some(files)
    })
    .await;
    assert_eq!(all_ids(&files), (0..30).collect::<Vec<i64>>());
    wait_until(
        "offset past the poison records",
        Duration::from_secs(30),
        || async {
            (committed(&bootstrap, &format!("connect-{name}"), &topic, 1)[0] == Some(32))
                .then_some(())
        },
    )
    .await;
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_and_delete_offsets_rewrite_the_index() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lake_dir = dir.path().join("lake");
    let topic = unique("s3patch");
    let name = unique("s3patch-sink");
    create_topic(&bootstrap, &topic, 1).await;
    produce_rows(&bootstrap, &topic, 0, 50).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let url = file_url(&lake_dir);
    api.create(
        &name,
        &s3_sink(&topic, &[("store.url", &url), ("flush.size", "10")]),
    )
    .await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    let group = format!("connect-{name}");
    wait_until("50 rows committed", Duration::from_secs(60), || async {
        (committed(&bootstrap, &group, &topic, 1)[0] == Some(50)).then_some(())
    })
    .await;
    let index_dir = lake_dir.join(format!("topics/.sluice/{name}/{topic}/0/index"));
    let latest = || {
        let mut entries: Vec<_> = std::fs::read_dir(&index_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        entries.sort();
        serde_json::from_slice::<Value>(&std::fs::read(entries.last().unwrap()).unwrap()).unwrap()
    };
    assert_eq!(latest()["next_offset"], 50);

    assert_eq!(
        api.call("PUT", &format!("/connectors/{name}/stop"), None)
            .await
            .status,
        204
    );
    api.wait_tasks(&name, 0, "RUNNING").await;
    let body = json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 20}}]});
    let r = api
        .call(
            "PATCH",
            &format!("/connectors/{name}/offsets"),
            Some(&body.to_string()),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["message"],
        "The offsets for this connector have been altered successfully"
    );
    let e = latest();
    assert_eq!(e["next_offset"], 20, "{e}");
    assert_eq!(e["kind"], "alter-offsets");
    assert_eq!(committed(&bootstrap, &group, &topic, 1)[0], Some(20));

    let r = api
        .call("DELETE", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["message"],
        "The offsets for this connector have been reset successfully"
    );
    assert!(latest()["next_offset"].is_null());

    // Resumed with no offsets anywhere: auto.offset.reset=earliest re-reads everything and
    // rewrites the same files (same boundaries, same keys).
    let before: BTreeSet<String> = lake::read_dir(&lake_dir)
        .into_iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(
        api.call("PUT", &format!("/connectors/{name}/resume"), None)
            .await
            .status,
        202
    );
    wait_until("re-read to the end", Duration::from_secs(60), || async {
        (latest()["next_offset"] == 50).then_some(())
    })
    .await;
    let files = lake::read_dir(&lake_dir);
    let after: BTreeSet<String> = files.iter().map(|f| f.key.clone()).collect();
    assert_eq!(before, after);
    assert_eq!(all_ids(&files), (0..50).collect::<Vec<i64>>());
    worker.stop().await;
}
