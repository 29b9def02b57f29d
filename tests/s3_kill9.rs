//! Exactly-once across crashes: the `sluice` binary is killed with SIGKILL at random points
//! of a run, eleven times, while an S3-Parquet sink writes to a real S3 API server (or a local
//! directory without one); afterwards every record is in exactly one Parquet file.

mod common;

use std::time::Duration;

use common::lake;
use common::*;
use serde_json::json;

const RECORDS: usize = 12_000;
const KILLS: usize = 11;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_repeatedly_leaves_every_record_exactly_once() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let topic = unique("s3kill9");
    let name = unique("s3kill9-sink");
    create_topic(&bootstrap, &topic, 3).await;

    let mut config = json!({
        "connector.class": "io.sluice.connect.s3.S3ParquetSinkConnector",
        "tasks.max": "1",
        "topics": topic,
        "s3.bucket.name": "lake",
        "flush.size": "50",
        "rotate.idle.ms": "300",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "consumer.override.session.timeout.ms": "6000",
        "consumer.override.max.poll.records": "200",
    });
    let endpoint = std::env::var("S3_ENDPOINT").ok().filter(|e| !e.is_empty());
    let bucket = unique("kill9").to_lowercase();
    let store = match &endpoint {
        Some(e) => {
            lake::create_bucket(e, &bucket).await;
            let (key, secret, region) = lake::s3_credentials();
            config["s3.bucket.name"] = json!(bucket);
            config["store.url"] = json!(e);
            config["s3.region"] = json!(region);
            config["aws.access.key.id"] = json!(key);
            config["aws.secret.access.key"] = json!(secret);
            lake::s3_store(e, &bucket).await
        }
        None => {
            let root = dir.path().join("lake");
            config["store.url"] = json!(format!("file://{}", root.display()));
            lake::local_store(&root).await
        }
    };

    // Each round produces its share of the input before the worker starts, so every kill
    // lands while that share is being written.
    let chunk = RECORDS / (KILLS + 1);
    let produce_chunk = |c: usize| {
        let (b, t) = (bootstrap.clone(), topic.clone());
        async move {
            produce(
                &b,
                &t,
                (c * chunk..(c + 1) * chunk).map(|i| {
                    (
                        Some(i.to_string()),
                        Some(
                            format!("{{\"i\":{i},\"pad\":\"{}\"}}", "x".repeat(i % 50))
                                .into_bytes(),
                        ),
                        None,
                    )
                }),
            )
            .await;
        }
    };

    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut created = false;
    let mut rows_at_kill = Vec::new();
    let mut produced_at_kill = Vec::new();
    for round in 0..KILLS {
        produce_chunk(round).await;
        produced_at_kill.push((round + 1) * chunk);
        let port = free_port();
        let mut child = spawn_killable(&bootstrap, &state, port);
        let api = Api::new(&format!("http://127.0.0.1:{port}"));
        wait_until("sluice healthy", Duration::from_secs(30), || async {
            let res = reqwest::get(format!("{}/health", api.url)).await.ok()?;
            (res.status().as_u16() == 200).then_some(())
        })
        .await;
        if !created {
            api.create(&name, &config).await;
            created = true;
        }
        api.wait_tasks(&name, 1, "RUNNING").await;
        // Wait until this run has committed new files (the group join after a kill takes a
        // session timeout), then kill somewhere between "just wrote" and "well into writing".
        // Listing is cheap; reading every file back per poll would let the run finish first.
        let parquet_keys = || async {
            let keys = store.list("topics/").await.unwrap_or_default();
            keys.iter()
                .filter(|k| k.ends_with(".parquet") && !k.contains("/.sluice/"))
                .count()
        };
        let before = parquet_keys().await;
        wait_until("this run wrote files", Duration::from_secs(90), || async {
            (parquet_keys().await > before).then_some(())
        })
        .await;
        tokio::time::sleep(jitter(&mut seed, 300)).await;
        child.kill().expect("kill -9");
        child.wait().unwrap();
        let files = lake::read_store(store.as_ref(), "topics/").await;
        rows_at_kill.push(files.iter().map(|f| f.rows.len()).sum::<usize>());
        eprintln!(
            "round {round}: killed with {} of {} produced rows in files",
            rows_at_kill[round], produced_at_kill[round]
        );
    }
    produce_chunk(KILLS).await;

    // A last run finishes the input.
    let port = free_port();
    let mut child = spawn_killable(&bootstrap, &state, port);
    let api = Api::new(&format!("http://127.0.0.1:{port}"));
    wait_until("sluice healthy", Duration::from_secs(30), || async {
        let res = reqwest::get(format!("{}/health", api.url)).await.ok()?;
        (res.status().as_u16() == 200).then_some(())
    })
    .await;
    let files = wait_until(
        "every record in files",
        Duration::from_secs(180),
        || async {
            let files = lake::read_store(store.as_ref(), "topics/").await;
            (files.iter().map(|f| f.rows.len()).sum::<usize>() >= RECORDS).then_some(files)
        },
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();

    let mut ids: Vec<i64> = lake::ids_by_partition(&files)
        .into_values()
        .flatten()
        .collect();
    ids.sort_unstable();
    let total = ids.len();
    ids.dedup();
    assert_eq!(total, RECORDS, "no duplicate rows across {KILLS} kills");
    assert_eq!(
        ids,
        (0..RECORDS as i64).collect::<Vec<_>>(),
        "no record lost"
    );
    let mid_write = rows_at_kill
        .iter()
        .zip(&produced_at_kill)
        .filter(|(rows, produced)| rows < produced)
        .count();
    assert!(
        mid_write * 2 >= KILLS,
        "most kills must land while records were still being written: rows {rows_at_kill:?}, produced {produced_at_kill:?}"
    );
    // Files of a partition tile its offsets: no overlap, no gap.
    let mut by_partition: std::collections::BTreeMap<String, Vec<(i64, i64)>> = Default::default();
    for f in &files {
        by_partition
            .entry(f.metadata["sluice.partition"].clone())
            .or_default()
            .push((
                f.metadata["sluice.offset.first"].parse().unwrap(),
                f.metadata["sluice.offset.last"].parse().unwrap(),
            ));
    }
    for (p, mut ranges) in by_partition {
        ranges.sort_unstable();
        for w in ranges.windows(2) {
            assert_eq!(w[0].1 + 1, w[1].0, "partition {p}: {ranges:?}");
        }
    }
}
