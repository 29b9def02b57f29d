//! FileStream sink and the task runtime against a real Kafka-protocol broker (tansu, started by
//! `scripts/services.sh`): records flow, offsets are committed per task, pause/resume,
//! stop → alter/reset offsets → resume, poison records, two tasks on four partitions.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::*;
use serde_json::{json, Value};

const LONG: Duration = Duration::from_secs(90);

/// Waits until the file holds `n` distinct ids.
async fn wait_ids(path: &std::path::Path, n: usize) -> Vec<usize> {
    wait_until(
        &format!("{n} distinct records in {}", path.display()),
        LONG,
        || async {
            let ids = ids(path);
            let distinct: BTreeSet<usize> = ids.iter().copied().collect();
            (distinct.len() >= n).then_some(ids)
        },
    )
    .await
}

/// Sum of committed offsets of the connector's group over `partitions` partitions.
fn committed_sum(bootstrap: &str, group: &str, topic: &str, partitions: i32) -> i64 {
    committed(bootstrap, group, topic, partitions)
        .iter()
        .map(|o| o.unwrap_or(0))
        .sum()
}

async fn wait_committed(bootstrap: &str, group: &str, topic: &str, partitions: i32, total: i64) {
    let (b, g, t) = (bootstrap.to_string(), group.to_string(), topic.to_string());
    wait_until(&format!("group {group} committed {total}"), LONG, || {
        let (b, g, t) = (b.clone(), g.clone(), t.clone());
        async move {
            let sum = tokio::task::spawn_blocking(move || committed_sum(&b, &g, &t, partitions))
                .await
                .unwrap();
            (sum == total).then_some(())
        }
    })
    .await
}

fn offsets_sum(body: &Value) -> i64 {
    body["offsets"]
        .as_array()
        .expect("offsets array")
        .iter()
        .map(|o| o["offset"]["kafka_offset"].as_i64().expect("kafka_offset"))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_thousand_records_flow_and_offsets_are_committed() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("flow");
    let name = unique("flow-sink");
    create_topic(&bootstrap, &topic, 3).await;
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    api.create(&name, &file_sink(&topic, &out, &[])).await;
    api.wait_tasks(&name, 1, "RUNNING").await;

    produce_json(&bootstrap, &topic, 0, 10_000).await;
    let got = wait_ids(&out, 10_000).await;
    let distinct: BTreeSet<usize> = got.iter().copied().collect();
    assert_eq!(
        distinct,
        (0..10_000).collect(),
        "every record exactly as produced"
    );
    assert_eq!(got.len(), 10_000, "no duplicates in a clean run");

    // Committed offsets: the group (as any Kafka tool sees it) and the REST API agree.
    let group = format!("connect-{name}");
    wait_committed(&bootstrap, &group, &topic, 3, 10_000).await;
    let r = api.get(&format!("/connectors/{name}/offsets")).await;
    assert_eq!(r.status, 200);
    assert_eq!(offsets_sum(&r.body), 10_000, "{}", r.text);
    let per_partition = committed(&bootstrap, &group, &topic, 3);
    for o in r.body["offsets"].as_array().unwrap() {
        assert_eq!(o["partition"]["kafka_topic"], topic.as_str());
        let p = o["partition"]["kafka_partition"].as_i64().unwrap() as usize;
        assert_eq!(
            Some(o["offset"]["kafka_offset"].as_i64().unwrap()),
            per_partition[p]
        );
    }

    // The per-task view: consumed == durable == committed on every partition.
    let r = api
        .get(&format!("/connectors/{name}/tasks/0/offsets"))
        .await;
    let parts = r.body["partitions"].as_array().unwrap();
    assert_eq!(parts.len(), 3);
    for p in parts {
        assert_eq!(p["consumed"], p["committed"], "{p}");
        assert_eq!(p["durable"], p["committed"], "{p}");
    }
    let topics = api.get(&format!("/connectors/{name}/topics")).await;
    assert_eq!(topics.body[&name]["topics"], json!([topic]));
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pause_keeps_records_back_and_resume_delivers_them() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("pause");
    let name = unique("pause-sink");
    create_topic(&bootstrap, &topic, 2).await;
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    api.create(&name, &file_sink(&topic, &out, &[])).await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    produce_json(&bootstrap, &topic, 0, 100).await;
    wait_ids(&out, 100).await;

    let r = api
        .call("PUT", &format!("/connectors/{name}/pause"), Some("null"))
        .await;
    assert_eq!(r.status, 202);
    api.wait_tasks(&name, 1, "PAUSED").await;
    produce_json(&bootstrap, &topic, 100, 100).await;
    // Absence can only be shown over a window; the records are on the broker already.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(ids(&out).len(), 100, "a paused connector must not write");
    let st = api.get(&format!("/connectors/{name}/status")).await;
    assert_eq!(st.body["connector"]["state"], "PAUSED");

    let r = api
        .call("PUT", &format!("/connectors/{name}/resume"), Some("null"))
        .await;
    assert_eq!(r.status, 202);
    api.wait_tasks(&name, 1, "RUNNING").await;
    let got = wait_ids(&out, 200).await;
    assert_eq!(
        got.iter().copied().collect::<BTreeSet<_>>(),
        (0..200).collect()
    );
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stop_alter_offsets_resume_rereads_and_reset_starts_over() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("offsets");
    let name = unique("offsets-sink");
    create_topic(&bootstrap, &topic, 1).await;
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    api.create(&name, &file_sink(&topic, &out, &[])).await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    produce_json(&bootstrap, &topic, 0, 50).await;
    wait_ids(&out, 50).await;
    let group = format!("connect-{name}");
    wait_committed(&bootstrap, &group, &topic, 1, 50).await;

    // Offsets may only change while STOPPED.
    let body = json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": {"kafka_offset": 40}}]}).to_string();
    let r = api
        .call("PATCH", &format!("/connectors/{name}/offsets"), Some(&body))
        .await;
    assert_eq!(r.status, 400);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .starts_with("Connectors must be in the STOPPED state"));

    let r = api
        .call("PUT", &format!("/connectors/{name}/stop"), Some("null"))
        .await;
    assert_eq!(r.status, 204);
    let st = api.get(&format!("/connectors/{name}/status")).await;
    assert_eq!(st.body["connector"]["state"], "STOPPED");
    assert_eq!(st.body["tasks"], json!([]));

    let r = api
        .call("PATCH", &format!("/connectors/{name}/offsets"), Some(&body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("have been altered successfully"));
    let r = api.get(&format!("/connectors/{name}/offsets")).await;
    assert_eq!(offsets_sum(&r.body), 40, "{}", r.text);
    assert_eq!(committed(&bootstrap, &group, &topic, 1), vec![Some(40)]);

    // Resume re-reads offsets 40..50: ten records appear a second time.
    let r = api
        .call("PUT", &format!("/connectors/{name}/resume"), None)
        .await;
    assert_eq!(r.status, 202);
    wait_until("records 40..50 written twice", LONG, || async {
        (ids(&out).len() == 60).then_some(())
    })
    .await;
    let again: Vec<usize> = ids(&out)[50..].to_vec();
    assert_eq!(again, (40..50).collect::<Vec<_>>());
    wait_committed(&bootstrap, &group, &topic, 1, 50).await;

    // DELETE offsets: the group is deleted, a resumed connector starts from the beginning.
    api.call("PUT", &format!("/connectors/{name}/stop"), None)
        .await;
    let r = api
        .call("DELETE", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("have been reset successfully"));
    let r = api.get(&format!("/connectors/{name}/offsets")).await;
    assert_eq!(r.body, json!({"offsets": []}), "{}", r.text);
    // Idempotent.
    let r = api
        .call("DELETE", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    api.call("PUT", &format!("/connectors/{name}/resume"), None)
        .await;
    wait_until("all 50 records re-read after reset", LONG, || async {
        (ids(&out).len() == 110).then_some(())
    })
    .await;
    assert_eq!(ids(&out)[60..].to_vec(), (0..50).collect::<Vec<_>>());
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn poison_record_fails_the_task_and_commits_nothing_after_it() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("poison");
    let name = unique("poison-none");
    create_topic(&bootstrap, &topic, 1).await;
    let mut records: Vec<Outgoing> = (0..10)
        .map(|i| (None, Some(format!("{{\"i\":{i}}}").into_bytes()), Some(0)))
        .collect();
    records.push((None, Some(b"{not json".to_vec()), Some(0)));
    records.extend((11..20).map(|i| (None, Some(format!("{{\"i\":{i}}}").into_bytes()), Some(0))));
    // Sequential sends keep the order within the partition.
    for r in records {
        produce(&bootstrap, &topic, [r]).await;
    }
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    api.create(&name, &file_sink(&topic, &out, &[])).await;
    let st = api.wait_tasks(&name, 1, "FAILED").await;
    let trace = st["tasks"][0]["trace"]
        .as_str()
        .expect("a FAILED task has a trace");
    assert!(
        trace.contains("Tolerance exceeded in error handler"),
        "{trace}"
    );
    assert!(trace.contains("VALUE_CONVERTER"), "{trace}");
    assert!(trace.contains("offset=10"), "{trace}");
    assert_eq!(st["connector"]["state"], "RUNNING");
    assert_eq!(
        ids(&out),
        (0..10).collect::<Vec<_>>(),
        "everything before the poison record"
    );
    assert_eq!(
        committed(&bootstrap, &format!("connect-{name}"), &topic, 1),
        vec![Some(10)],
        "committed up to the poison record, nothing after it"
    );
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tolerated_poison_goes_to_the_dlq_with_context_headers() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("dlq-src");
    let dlq = unique("dlq");
    let name = unique("poison-all");
    create_topic(&bootstrap, &topic, 1).await;
    for i in 0..20 {
        let v = if i == 7 {
            b"{oops".to_vec()
        } else {
            format!("{{\"i\":{i}}}").into_bytes()
        };
        produce(
            &bootstrap,
            &topic,
            [(Some(format!("k{i}")), Some(v), Some(0))],
        )
        .await;
    }
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    let config = file_sink(
        &topic,
        &out,
        &[
            ("errors.tolerance", "all"),
            ("errors.log.enable", "true"),
            ("errors.deadletterqueue.topic.name", &dlq),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
            ("errors.deadletterqueue.context.headers.enable", "true"),
        ],
    );
    api.create(&name, &config).await;
    let got = wait_ids(&out, 19).await;
    assert_eq!(got, (0..20).filter(|&i| i != 7).collect::<Vec<_>>());
    wait_committed(&bootstrap, &format!("connect-{name}"), &topic, 1, 20).await;
    let st = api.get(&format!("/connectors/{name}/status")).await;
    assert_eq!(st.body["tasks"][0]["state"], "RUNNING");

    // The DLQ holds the original bytes, key and headers, plus Connect's context headers.
    let dlq_records = read_all(&bootstrap, &dlq, 1).await;
    assert_eq!(dlq_records.len(), 1);
    let (key, value, headers) = &dlq_records[0];
    assert_eq!(key.as_deref(), Some(&b"k7"[..]));
    assert_eq!(value.as_deref(), Some(&b"{oops"[..]));
    let h = |k: &str| {
        headers
            .iter()
            .find(|(hk, _)| hk == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(h("h").as_deref(), Some("v"), "original headers kept");
    assert_eq!(h("__connect.errors.topic").as_deref(), Some(topic.as_str()));
    assert_eq!(h("__connect.errors.partition").as_deref(), Some("0"));
    assert_eq!(h("__connect.errors.offset").as_deref(), Some("7"));
    assert_eq!(
        h("__connect.errors.connector.name").as_deref(),
        Some(name.as_str())
    );
    assert_eq!(h("__connect.errors.task.id").as_deref(), Some("0"));
    assert_eq!(
        h("__connect.errors.stage").as_deref(),
        Some("VALUE_CONVERTER")
    );
    assert_eq!(
        h("__connect.errors.exception.class.name").as_deref(),
        Some("org.apache.kafka.connect.errors.DataException")
    );
    assert!(h("__connect.errors.exception.message")
        .unwrap()
        .contains("serialization error"));
    w.stop().await;
}

/// Key, value and headers of a record read back.
type ReadRecord = (Option<Vec<u8>>, Option<Vec<u8>>, Vec<(String, String)>);

/// Reads a whole topic with a fresh group (does not rely on the high watermark).
async fn read_all(bootstrap: &str, topic: &str, expected: usize) -> Vec<ReadRecord> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::Headers;
    use rdkafka::Message;
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique("reader"))
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "6000")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let mut out = Vec::new();
    let deadline = std::time::Instant::now() + LONG;
    while out.len() < expected && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let headers = m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| {
                            (
                                h.key.to_string(),
                                String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push((
                m.key().map(<[u8]>::to_vec),
                m.payload().map(<[u8]>::to_vec),
                headers,
            ));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_tasks_share_four_partitions() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("two-tasks");
    let name = unique("two-tasks-sink");
    create_topic(&bootstrap, &topic, 4).await;
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    api.create(&name, &file_sink(&topic, &out, &[("tasks.max", "2")]))
        .await;
    api.wait_tasks(&name, 2, "RUNNING").await;
    // Both tasks hold two partitions once the group has settled.
    wait_until("2 partitions per task", LONG, || async {
        let a = api
            .get(&format!("/connectors/{name}/tasks/0/offsets"))
            .await;
        let b = api
            .get(&format!("/connectors/{name}/tasks/1/offsets"))
            .await;
        let (na, nb) = (
            a.body["partitions"].as_array()?.len(),
            b.body["partitions"].as_array()?.len(),
        );
        (na == 2 && nb == 2).then_some(())
    })
    .await;
    let info = api.get(&format!("/connectors/{name}")).await;
    assert_eq!(
        info.body["tasks"],
        json!([{"connector": name, "task": 0}, {"connector": name, "task": 1}])
    );
    let cfg = api.get(&format!("/connectors/{name}/tasks")).await;
    assert_eq!(cfg.body.as_array().unwrap().len(), 2);

    for p in 0..4 {
        produce(
            &bootstrap,
            &topic,
            (0..500).map(|i| {
                (
                    None,
                    Some(format!("{{\"i\":{}}}", p * 500 + i).into_bytes()),
                    Some(p),
                )
            }),
        )
        .await;
    }
    let got = wait_ids(&out, 2000).await;
    assert_eq!(
        got.iter().copied().collect::<BTreeSet<_>>(),
        (0..2000).collect()
    );
    wait_committed(&bootstrap, &format!("connect-{name}"), &topic, 4, 2000).await;
    for p in committed(&bootstrap, &format!("connect-{name}"), &topic, 4) {
        assert_eq!(p, Some(500));
    }
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn connectors_survive_a_worker_restart_and_resume_where_they_were() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("restart");
    let name = unique("restart-sink");
    create_topic(&bootstrap, &topic, 2).await;
    let out = dir.path().join("out.txt");
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    api.create(&name, &file_sink(&topic, &out, &[])).await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    produce_json(&bootstrap, &topic, 0, 300).await;
    wait_ids(&out, 300).await;
    // Graceful stop flushes and commits everything written.
    w.stop().await;
    wait_committed(&bootstrap, &format!("connect-{name}"), &topic, 2, 300).await;

    produce_json(&bootstrap, &topic, 300, 300).await;
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    api.wait_tasks(&name, 1, "RUNNING").await;
    let got = wait_ids(&out, 600).await;
    assert_eq!(got.len(), 600, "a graceful restart re-delivers nothing");
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_null_offset_resets_one_partition_only() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("nullreset");
    let name = unique("nullreset-sink");
    create_topic(&bootstrap, &topic, 2).await;
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    api.create(&name, &file_sink(&topic, &out, &[])).await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    for p in 0..2 {
        produce(
            &bootstrap,
            &topic,
            (0..10).map(|i| {
                (
                    None,
                    Some(format!("{{\"i\":{}}}", p * 10 + i).into_bytes()),
                    Some(p),
                )
            }),
        )
        .await;
    }
    wait_ids(&out, 20).await;
    let group = format!("connect-{name}");
    wait_committed(&bootstrap, &group, &topic, 2, 20).await;
    api.call("PUT", &format!("/connectors/{name}/stop"), None)
        .await;

    let body = json!({"offsets": [
        {"partition": {"kafka_topic": topic, "kafka_partition": 0}, "offset": null},
        {"partition": {"kafka_topic": topic, "kafka_partition": "1"}, "offset": {"kafka_offset": "5"}}
    ]})
    .to_string();
    let r = api
        .call("PATCH", &format!("/connectors/{name}/offsets"), Some(&body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        committed(&bootstrap, &group, &topic, 2),
        vec![None, Some(5)]
    );
    let r = api.get(&format!("/connectors/{name}/offsets")).await;
    assert_eq!(
        r.body,
        json!({"offsets": [{"partition": {"kafka_topic": topic, "kafka_partition": 1}, "offset": {"kafka_offset": 5}}]})
    );

    // Partition 0 starts over (auto.offset.reset=earliest), partition 1 from offset 5.
    api.call("PUT", &format!("/connectors/{name}/resume"), None)
        .await;
    wait_until("15 records re-read", LONG, || async {
        (ids(&out).len() == 35).then_some(())
    })
    .await;
    let mut again = ids(&out)[20..].to_vec();
    again.sort_unstable();
    assert_eq!(again, (0..10).chain(15..20).collect::<Vec<_>>());
    w.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn topics_regex_follows_matching_topics_including_new_ones() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique("rx").replace('-', "_");
    let (a, b, later, other) = (
        format!("{prefix}.a"),
        format!("{prefix}.b"),
        format!("{prefix}.later"),
        format!("{prefix}_other"),
    );
    for t in [&a, &b, &other] {
        create_topic(&bootstrap, t, 1).await;
    }
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    let mut config = file_sink(
        "unused",
        &out,
        &[("consumer.override.metadata.max.age.ms", "1000")],
    );
    config.as_object_mut().unwrap().remove("topics");
    config["topics.regex"] = json!(format!("{}\\..*", prefix));
    api.create(&unique("rx-sink"), &config).await;
    produce_json(&bootstrap, &a, 0, 10).await;
    produce_json(&bootstrap, &b, 10, 10).await;
    produce_json(&bootstrap, &other, 1000, 10).await;
    wait_ids(&out, 20).await;
    // A topic created later is picked up at the next metadata refresh.
    create_topic(&bootstrap, &later, 1).await;
    produce_json(&bootstrap, &later, 20, 10).await;
    let got = wait_ids(&out, 30).await;
    assert_eq!(
        got.iter().copied().collect::<BTreeSet<_>>(),
        (0..30).collect(),
        "only matching topics"
    );
    w.stop().await;
}
