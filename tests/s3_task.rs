//! The S3-Parquet `SinkTask` driven directly (no broker) against the local-directory store:
//! the worker-wide memory budget over 1,000 partitions, zombie fencing through the index, and
//! resuming from the index.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use common::lake;
use serde_json::value::RawValue;
use sluice::connectors::s3_parquet::budget::MemoryBudget;
use sluice::connectors::s3_parquet::task::S3ParquetSinkTask;
use sluice::connectors::{SinkError, SinkTask};
use sluice::data::{Data, SinkRecord, TopicPartition};

const TOPIC: &str = "orders";

fn task_config(lake: &std::path::Path, extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut c: BTreeMap<String, String> = [
        ("name", "mem"),
        (
            "connector.class",
            "io.sluice.connect.s3.S3ParquetSinkConnector",
        ),
        ("topics", TOPIC),
        ("s3.bucket.name", "lake"),
        ("flush.size", "1000000"),
        ("task.id", "0"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    c.insert("store.url".into(), format!("file://{}", lake.display()));
    for (k, v) in extra {
        c.insert(k.to_string(), v.to_string());
    }
    c
}

fn record(partition: i32, offset: i64) -> SinkRecord {
    let payload = format!(
        r#"{{"id":{offset},"partition":{partition},"note":"{}"}}"#,
        "n".repeat(200 + (offset % 50) as usize)
    );
    SinkRecord {
        topic: Arc::from(TOPIC),
        original_topic: Arc::from(TOPIC),
        partition,
        offset,
        timestamp: Some(1_750_000_000_000 + offset),
        key: None,
        value: Some(Data::Json {
            schema: None,
            payload: RawValue::from_string(payload).expect("json"),
        }),
        headers: vec![],
    }
}

/// Every (partition, id) in the lake, in file order.
fn rows(lake: &std::path::Path) -> Vec<(i64, i64)> {
    lake::read_dir(lake)
        .iter()
        .flat_map(|f| f.rows.iter())
        .map(|r| {
            (
                r["partition"].as_i64().unwrap_or(0),
                r["id"].as_i64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_thousand_partitions_stay_under_the_memory_budget() {
    const PARTITIONS: i32 = 1_000;
    const PER_PARTITION: i64 = 40;
    const LIMIT: usize = 4 << 20;
    let dir = tempfile::tempdir().unwrap();
    let budget = MemoryBudget::new(LIMIT);
    let mut task = S3ParquetSinkTask::with_budget(budget.clone());
    task.start(&task_config(dir.path(), &[]))
        .await
        .expect("start");
    let parts: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::new(TOPIC, p))
        .collect();
    assert!(task.open(&parts).await.expect("open").is_empty());

    // Batches of 500 records round-robin over the partitions, as a consumer would hand them.
    let mut peak = 0;
    let all: Vec<SinkRecord> = (0..PER_PARTITION)
        .flat_map(|o| (0..PARTITIONS).map(move |p| record(p, o)))
        .collect();
    for batch in all.chunks(500) {
        task.put(batch).await.expect("put");
        peak = peak.max(budget.used());
        assert!(
            budget.used() <= LIMIT,
            "after a put the task holds {} bytes, over the {LIMIT}-byte budget",
            budget.used()
        );
    }
    // Open files were rotated early to stay in budget: many files, all rows once.
    let consumed: HashMap<TopicPartition, i64> =
        parts.iter().map(|tp| (tp.clone(), PER_PARTITION)).collect();
    let before_flush = lake::read_dir(dir.path()).len();
    assert!(before_flush > 0, "the budget forced early rotations");
    let durable = task.flush(&consumed).await.expect("flush");
    // Files still open are not durable: the flush reports only committed positions.
    assert!(durable.values().all(|&o| o <= PER_PARTITION));
    // What is still open stays in memory (and would be re-read by the next owner); what the
    // flush reports durable is exactly what the committed files hold.
    let mut got = rows(dir.path());
    got.sort_unstable();
    let total = got.len();
    got.dedup();
    assert_eq!(total, got.len(), "no duplicate rows");
    for (tp, off) in &durable {
        let n = got
            .iter()
            .filter(|(p, _)| *p == tp.partition as i64)
            .count() as i64;
        assert_eq!(
            n, *off,
            "{tp}: durable offset equals the rows in committed files"
        );
    }
    eprintln!(
        "peak budget use {peak} of {LIMIT} bytes; {before_flush} files for {} rows",
        total
    );
    task.stop().await.expect("stop");
    assert_eq!(budget.used(), 0, "a stopped task releases its share");
}

#[tokio::test]
async fn a_zombie_cannot_commit_after_a_new_owner_claims_the_partition() {
    let dir = tempfile::tempdir().unwrap();
    let config = task_config(dir.path(), &[("flush.size", "10")]);
    let tp = TopicPartition::new(TOPIC, 0);

    let mut old = S3ParquetSinkTask::with_budget(MemoryBudget::new(64 << 20));
    old.start(&config).await.expect("start old");
    old.open(std::slice::from_ref(&tp)).await.expect("open old");
    let first: Vec<SinkRecord> = (0..10).map(|o| record(0, o)).collect();
    old.put(&first).await.expect("old writes 0..10");

    // A rebalance gives the partition to a new task while the old one still runs.
    let mut new = S3ParquetSinkTask::with_budget(MemoryBudget::new(64 << 20));
    new.start(&config).await.expect("start new");
    let resumed = new.open(std::slice::from_ref(&tp)).await.expect("open new");
    assert_eq!(
        resumed.get(&tp),
        Some(&10),
        "the new owner resumes after the old one's commit"
    );

    // The zombie keeps going: its next commit is refused, nothing of it is published.
    let more: Vec<SinkRecord> = (10..20).map(|o| record(0, o)).collect();
    match old.put(&more).await {
        Err(SinkError::Fatal(m)) => assert!(m.contains("another writer took over"), "{m}"),
        other => panic!("the zombie's commit must be fenced, got {other:?}"),
    }
    new.put(&more).await.expect("the new owner writes 10..20");
    let mut got = rows(dir.path());
    got.sort_unstable();
    assert_eq!(got, (0..20).map(|o| (0, o)).collect::<Vec<_>>());
    let keys: Vec<String> = lake::read_dir(dir.path())
        .into_iter()
        .map(|f| f.key)
        .collect();
    assert_eq!(
        keys,
        [
            "topics/orders/partition=0/orders+0+0000000000.snappy.parquet",
            "topics/orders/partition=0/orders+0+0000000010.snappy.parquet"
        ]
    );

    // A third start resumes from the index, whatever the group says.
    let mut third = S3ParquetSinkTask::with_budget(MemoryBudget::new(64 << 20));
    third.start(&config).await.expect("start third");
    assert_eq!(
        third.open(std::slice::from_ref(&tp)).await.expect("open")[&tp],
        20
    );
    // Records the index already holds are skipped, not written twice.
    third
        .put(&more)
        .await
        .expect("replayed records are skipped");
    let flushed = third
        .flush(&[(tp.clone(), 20)].into_iter().collect())
        .await
        .expect("flush");
    assert_eq!(flushed[&tp], 20);
    assert_eq!(rows(dir.path()).len(), 20);
}

/// Interleaved schema versions (a rolling producer deploy): `schema.compatibility=BACKWARD`
/// projects older records into the newest file instead of rotating on every switch.
#[tokio::test]
async fn interleaved_schema_versions_do_not_explode_into_small_files() {
    use sluice::data::converter::{Converter, JsonConverter};
    let v1 = r#"{"type":"struct","name":"row","version":1,"fields":[{"field":"id","type":"int32"},{"field":"name","type":"string","optional":true}]}"#;
    let v2 = r#"{"type":"struct","name":"row","version":2,"fields":[{"field":"id","type":"int64"},{"field":"name","type":"string","optional":true},{"field":"email","type":"string","optional":true}]}"#;
    let mut conv = JsonConverter::new(true);
    let mut records = Vec::new();
    for o in 0..100i64 {
        let text = if o % 2 == 0 {
            format!(r#"{{"schema":{v1},"payload":{{"id":{o},"name":"n{o}"}}}}"#)
        } else {
            format!(r#"{{"schema":{v2},"payload":{{"id":{o},"name":"n{o}","email":"e{o}"}}}}"#)
        };
        let mut r = record(0, o);
        r.value = conv
            .to_connect(TOPIC, Some(text.as_bytes()))
            .expect("convert");
        records.push(r);
    }
    let tp = TopicPartition::new(TOPIC, 0);
    let mut files_by_mode = BTreeMap::new();
    for mode in ["NONE", "BACKWARD"] {
        let dir = tempfile::tempdir().unwrap();
        let config = task_config(
            dir.path(),
            &[
                ("flush.size", "100"),
                ("rotate.idle.ms", "1"),
                ("schema.compatibility", mode),
            ],
        );
        let mut task = S3ParquetSinkTask::with_budget(MemoryBudget::new(64 << 20));
        task.start(&config).await.expect("start");
        task.open(std::slice::from_ref(&tp)).await.expect("open");
        task.put(&records).await.expect("put");
        // The last open file goes out once the partition has been idle for rotate.idle.ms.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while rows(dir.path()).len() < 100 && std::time::Instant::now() < deadline {
            task.tick().await.expect("tick");
        }
        let files = lake::read_dir(dir.path());
        let rows: usize = files.iter().map(|f| f.rows.len()).sum();
        assert_eq!(rows, 100, "{mode}: every record once");
        if mode == "BACKWARD" {
            // The v1 record at offset 0 opens a v1 file; v2 at offset 1 rotates; every later
            // record fits the v2 file (v1 rows get email = null, id widened).
            assert_eq!(
                files.len(),
                2,
                "{:?}",
                files.iter().map(|f| &f.key).collect::<Vec<_>>()
            );
            let last = &files[1];
            assert_eq!(last.rows.len(), 99);
            assert!(
                last.columns.iter().any(|c| c == "id: Int64"),
                "{:?}",
                last.columns
            );
            let v1_row = last
                .rows
                .iter()
                .find(|r| r["id"] == 2)
                .expect("a projected v1 row");
            assert!(v1_row["email"].is_null(), "{v1_row}");
        }
        files_by_mode.insert(mode, files.len());
    }
    assert_eq!(
        files_by_mode["NONE"], 100,
        "NONE rotates on every switch, as Confluent does"
    );
}
