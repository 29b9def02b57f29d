//! The CDC lakehouse example (`connectors/cdc-lakehouse-s3.json`) end to end: Debezium-shaped
//! change events of four tables, unwrapped and routed by table, land in a real S3 API server as
//! `cdc_events/<table>/year=/month=/day=/<table>+<p>+<offset>.zstd.parquet`, exactly once, with
//! the types ClickHouse (chDB), DuckDB and pyarrow expect.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use common::lake;
use common::*;
use serde_json::{json, Value};
use sluice::sample::{Generator, Options, Table};

const EVENTS: usize = 3_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdc_events_land_by_table_and_day_exactly_once() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bucket = unique("cdclake").to_lowercase();
    lake::create_bucket(&endpoint, &bucket).await;
    let prefix = unique("shop").replace('-', "_");

    // Ten minutes between events: 3,000 events spread over about 21 days.
    let events: Vec<_> = Generator::new(Options {
        topic_prefix: prefix.clone(),
        step_ms: 600_000,
        start_ms: 1_735_689_600_000, // 2025-01-01T00:00:00Z
        ..Options::default()
    })
    .take(EVENTS)
    .collect();
    let mut by_topic: BTreeMap<String, Vec<Outgoing>> = BTreeMap::new();
    let mut expected: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    let mut days = BTreeSet::new();
    for (i, e) in events.iter().enumerate() {
        by_topic.entry(e.topic.clone()).or_default().push((
            Some(e.key.clone()),
            e.value.clone().map(String::into_bytes),
            Some(0),
        ));
        if let Some(op) = e.op {
            let ts = 1_735_689_600_000 + i as i64 * 600_000;
            let t = chrono::DateTime::from_timestamp_millis(ts).unwrap();
            days.insert(format!(
                "{}/{}",
                e.table.name(),
                t.format("year=%Y/month=%m/day=%d")
            ));
            *expected
                .entry(e.table.name())
                .or_default()
                .entry(format!("{}:{op}", e.id))
                .or_default() += 1;
        }
    }
    for t in Table::ALL {
        create_topic(&bootstrap, &format!("{prefix}.public.{}", t.name()), 2).await;
    }
    for (topic, records) in by_topic {
        produce(&bootstrap, &topic, records).await;
    }

    // The shipped example, pointed at the test server.
    let example: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/connectors/cdc-lakehouse-s3.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut config = example["config"].clone();
    let (key, secret, region) = lake::s3_credentials();
    let escaped = prefix.replace('.', "\\.");
    for (k, v) in [
        ("s3.bucket.name", bucket.as_str()),
        ("store.url", endpoint.as_str()),
        ("s3.region", region.as_str()),
        ("aws.access.key.id", key.as_str()),
        ("aws.secret.access.key", secret.as_str()),
        ("flush.size", "400"),
        // The example rotates every 15 minutes of record time; these events are minutes apart,
        // so a day keeps files from holding one row each.
        ("rotate.interval.ms", "86400000"),
        ("rotate.idle.ms", "500"),
        ("consumer.override.session.timeout.ms", "6000"),
    ] {
        config[k] = json!(v);
    }
    config["topics.regex"] = json!(format!(
        "{escaped}\\.public\\.(orders|order_lines|users|products)"
    ));
    config["transforms.route.regex"] = json!(format!("{escaped}\\.public\\.(.*)"));
    config["errors.deadletterqueue.topic.name"] = json!(format!("{prefix}-dlq"));

    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let name = unique("cdc-lakehouse");
    let r = api.create(&name, &config).await;
    assert_eq!(r.status, 201, "{}", r.text);
    api.wait_tasks(&name, 2, "RUNNING").await;

    let expected_rows: usize = expected.values().flat_map(|m| m.values()).sum();
    let store = lake::s3_store(&endpoint, &bucket).await;
    let files = wait_until(
        "every change event in S3",
        Duration::from_secs(120),
        || async {
            let files = lake::read_store(store.as_ref(), "cdc_events/").await;
            (files.iter().map(|f| f.rows.len()).sum::<usize>() >= expected_rows).then_some(files)
        },
    )
    .await;

    // Layout: cdc_events/<table>/year=/month=/day=/<table>+<p>+<offset, 10 digits>.zstd.parquet
    let mut seen_days = BTreeSet::new();
    for f in &files {
        let parts: Vec<&str> = f.key.split('/').collect();
        assert_eq!(parts.len(), 6, "{}", f.key);
        assert_eq!(parts[0], "cdc_events");
        let table = parts[1];
        let file = parts[5];
        let rest = file
            .strip_prefix(&format!("{table}+"))
            .unwrap_or_else(|| panic!("{file}"));
        let (partition, offset) = rest.split_once('+').unwrap();
        assert!(partition == "0" || partition == "1", "{file}");
        let offset = offset.strip_suffix(".zstd.parquet").unwrap();
        assert_eq!(offset.len(), 10, "{file}");
        assert_eq!(
            f.metadata["sluice.offset.first"].parse::<i64>().unwrap(),
            offset.parse::<i64>().unwrap()
        );
        seen_days.insert(format!("{table}/{}/{}/{}", parts[2], parts[3], parts[4]));
    }
    assert_eq!(
        seen_days, days,
        "directories follow source.ts_ms (UTC days)"
    );

    // Exactly once: every change event is one row (deletes rewritten with __deleted=true).
    let mut got: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    let mut lsns = BTreeSet::new();
    let mut rows = 0;
    for f in &files {
        let table = f.key.split('/').nth(1).unwrap().to_string();
        for r in &f.rows {
            rows += 1;
            let op = r["__op"].as_str().unwrap();
            assert_eq!(
                r["__deleted"].as_str().unwrap(),
                if op == "d" { "true" } else { "false" }
            );
            *got.entry(table.clone())
                .or_default()
                .entry(format!("{}:{op}", r["id"]))
                .or_default() += 1;
            assert!(
                lsns.insert(r["__lsn"].to_string()),
                "one row per change event: {r}"
            );
        }
    }
    assert_eq!(rows, expected_rows, "no duplicates");
    let expected: BTreeMap<String, BTreeMap<String, usize>> = expected
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(got, expected);

    // Independent readers: ClickHouse (chDB) types for the orders table.
    let path = format!("s3://{bucket}/cdc_events/orders");
    if let Some(out) = lake::python_reader("chdb", &path, Some(&endpoint)) {
        let types: BTreeMap<String, String> = out["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_string(),
                    c["type"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        // Required columns stay non-Nullable; the reader runs with session_timezone='UTC', so
        // MicroTimestamp (wall time, no zone in Arrow) also shows as UTC.
        assert_eq!(types["id"], "Int64", "{types:?}");
        assert_eq!(types["status"], "String", "{types:?}");
        assert_eq!(types["total"], "Nullable(Decimal(12, 2))", "{types:?}");
        assert_eq!(types["created_at"], "DateTime64(6, 'UTC')", "{types:?}");
        assert_eq!(
            types["updated_at"], "Nullable(DateTime64(6, 'UTC'))",
            "{types:?}"
        );
        assert_eq!(types["__lsn"], "Nullable(Int64)", "{types:?}");
        assert_eq!(
            out["rows"].as_u64(),
            Some(got["orders"].values().sum::<usize>() as u64)
        );
    }
    for reader in ["duckdb", "pyarrow"] {
        if let Some(out) = lake::python_reader(reader, &path, Some(&endpoint)) {
            assert_eq!(
                out["rows"].as_u64(),
                Some(got["orders"].values().sum::<usize>() as u64),
                "{reader}"
            );
        }
    }
    worker.stop().await;
}
