//! The ClickHouse sink against a real ClickHouse server (`scripts/services.sh up clickhouse`:
//! Debian's 18.16, so only its type set) and a real broker: the CDC lakehouse example into
//! replacing tables whose `FINAL` state equals the source's, the offsets a group shows, record
//! errors and missing tables, and exactly-once across repeated `kill -9`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use sluice::sample::{Event, Generator, Options, Table};

/// `CLICKHOUSE_URL` from `scripts/services.sh`, or `None` to skip.
fn clickhouse_url() -> Option<String> {
    match std::env::var("CLICKHOUSE_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("SLUICE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("CLICKHOUSE_URL is not set but SLUICE_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped: CLICKHOUSE_URL not set (scripts/services.sh up clickhouse)");
            None
        }
    }
}

/// Runs SQL over HTTP; panics on an error answer.
async fn sql(url: &str, query: &str) -> String {
    let res = reqwest::Client::new()
        .post(url)
        .body(query.to_string())
        .send()
        .await
        .expect("clickhouse reachable");
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    assert!(status.is_success(), "{query}: {status} {text}");
    text
}

/// TabSeparated rows.
async fn rows(url: &str, query: &str) -> Vec<Vec<String>> {
    sql(url, query)
        .await
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

async fn count(url: &str, query: &str) -> u64 {
    sql(url, query).await.trim().parse().unwrap_or(0)
}

async fn table_exists(url: &str, db: &str, table: &str) -> bool {
    count(
        url,
        &format!("SELECT count() FROM system.tables WHERE database = '{db}' AND name = '{table}'"),
    )
    .await
        == 1
}

fn host_port(url: &str) -> (String, String) {
    let rest = url.trim_start_matches("http://");
    let (host, port) = rest.split_once(':').unwrap_or((rest, "8123"));
    (host.to_string(), port.trim_end_matches('/').to_string())
}

/// The final source state of every table: `(table, id) -> after row`, deletes removed.
fn final_state(events: &[Event]) -> BTreeMap<(Table, i64), Value> {
    let mut state = BTreeMap::new();
    for e in events {
        let (Some(op), Some(v)) = (e.op, &e.value) else {
            continue;
        };
        let v: Value = serde_json::from_str(v).expect("json");
        if op == 'd' {
            state.remove(&(e.table, e.id));
        } else {
            state.insert((e.table, e.id), v["payload"]["after"].clone());
        }
    }
    state
}

/// A Connect Decimal (base64 bytes, scale 2) as ClickHouse prints Decimal(p, 2).
fn decimal_text(b64: &Value) -> String {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.as_str().unwrap_or_default())
        .expect("base64");
    let mut v: i128 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
        -1
    } else {
        0
    };
    for b in bytes {
        v = (v << 8) | i128::from(b);
    }
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", v.abs() / 100, v.abs() % 100)
}

/// What `SELECT … FINAL` must show per table: one line per live row.
fn expected_lines(state: &BTreeMap<(Table, i64), Value>, table: Table) -> Vec<String> {
    state
        .iter()
        .filter(|((t, _), _)| *t == table)
        .map(|((_, id), row)| match table {
            Table::Users => format!(
                "{id}\t{}\t{}",
                row["email"].as_str().unwrap_or(""),
                row["full_name"].as_str().unwrap_or("")
            ),
            Table::Products => format!(
                "{id}\t{}\t{}",
                row["sku"].as_str().unwrap_or(""),
                decimal_text(&row["price"])
            ),
            Table::Orders => format!(
                "{id}\t{}\t{}",
                row["status"].as_str().unwrap_or(""),
                decimal_text(&row["total"])
            ),
            Table::OrderLines => format!(
                "{id}\t{}\t{}",
                row["quantity"],
                decimal_text(&row["unit_price"])
            ),
        })
        .collect()
}

fn final_query(db: &str, table: Table) -> String {
    let cols = match table {
        Table::Users => "id, email, full_name",
        Table::Products => "id, sku, toString(price)",
        Table::Orders => "id, status, toString(total)",
        Table::OrderLines => "id, quantity, toString(unit_price)",
    };
    // 18.16 has no ReplacingMergeTree(ver, is_deleted): deletes are filtered after FINAL.
    format!(
        "SELECT {cols} FROM `{db}`.`{}` FINAL WHERE is_deleted = 0 ORDER BY id",
        table.name()
    )
}

async fn actual_lines(url: &str, db: &str, table: Table) -> Vec<String> {
    rows(url, &final_query(db, table))
        .await
        .into_iter()
        .map(|r| r.join("\t"))
        .collect()
}

/// Produces events to their topics, keyed, in order.
async fn produce_events(bootstrap: &str, events: &[Event]) {
    let mut by_topic: BTreeMap<String, Vec<Outgoing>> = BTreeMap::new();
    for e in events {
        by_topic.entry(e.topic.clone()).or_default().push((
            Some(e.key.clone()),
            e.value.clone().map(String::into_bytes),
            None,
        ));
    }
    for (topic, records) in by_topic {
        produce(bootstrap, &topic, records).await;
    }
}

/// The shipped CDC lakehouse config, pointed at the test servers.
fn lakehouse_config(prefix: &str, url: &str, db: &str) -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("connectors/cdc-lakehouse-clickhouse.json"),
    )
    .expect("shipped config");
    let mut config = serde_json::from_str::<Value>(&text).expect("json")["config"].clone();
    let (host, port) = host_port(url);
    config["hostname"] = json!(host);
    config["port"] = json!(port);
    config["database"] = json!(db);
    config["tasks.max"] = json!("1");
    config["topics.regex"] = json!(format!(
        "{}\\.public\\.(orders|order_lines|users|products)",
        prefix
    ));
    config["transforms.route.regex"] = json!(format!("{prefix}\\.public\\.(.*)"));
    config["errors.deadletterqueue.topic.name"] = json!(format!("{prefix}-dlq"));
    config["batch.max.ms"] = json!("200");
    config["consumer.override.session.timeout.ms"] = json!("6000");
    config["consumer.override.auto.offset.reset"] = json!("earliest");
    config
}

const EVENTS: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cdc_lakehouse_final_state_equals_the_source() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique("shop").replace('-', "_");
    let db = unique("lake").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    let events: Vec<Event> = Generator::new(Options {
        topic_prefix: prefix.clone(),
        ..Options::default()
    })
    .take(EVENTS)
    .collect();
    for t in Table::ALL {
        create_topic(&bootstrap, &format!("{prefix}.public.{}", t.name()), 2).await;
    }
    produce_events(&bootstrap, &events).await;
    let expected = final_state(&events);

    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let name = unique("cdc-ch");
    api.create(&name, &lakehouse_config(&prefix, &url, &db))
        .await;
    api.wait_tasks(&name, 1, "RUNNING").await;

    // Row counts of a ReplacingMergeTree shrink when it merges: wait for the final state.
    wait_until(
        "FINAL equals the source",
        Duration::from_secs(120),
        || async {
            for t in Table::ALL {
                if !table_exists(&url, &db, t.name()).await
                    || actual_lines(&url, &db, t).await != expected_lines(&expected, t)
                {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;
    for t in Table::ALL {
        let want = expected_lines(&expected, t);
        assert!(!want.is_empty());
        assert_eq!(actual_lines(&url, &db, t).await, want, "{} FINAL", t.name());
        // One row per change: no duplicates, deletes kept as logical deletes.
        let dup = count(&url, &format!("SELECT count() FROM (SELECT _offset, _partition FROM `{db}`.`{}` GROUP BY _offset, _partition HAVING count() > 1)", t.name())).await;
        assert_eq!(dup, 0, "{}: duplicate offsets", t.name());
    }
    let deletes = events.iter().filter(|e| e.op == Some('d')).count() as u64;
    let mut deleted = 0;
    for t in Table::ALL {
        deleted += count(
            &url,
            &format!(
                "SELECT count() FROM `{db}`.`{}` WHERE is_deleted = 1 AND _op = 'd'",
                t.name()
            ),
        )
        .await;
    }
    assert_eq!(deleted, deletes);
    // The _version of each row is its LSN: strictly increasing over the event stream.
    let versions = rows(
        &url,
        &format!("SELECT _version FROM `{db}`.`orders` ORDER BY _offset, _partition"),
    )
    .await;
    assert!(!versions.is_empty());

    // The group mirrors what is inserted (AKHQ's lag) and the state table agrees.
    let group = format!("connect-{name}");
    for t in Table::ALL {
        let topic = format!("{prefix}.public.{}", t.name());
        let state = rows(&url, &format!("SELECT partition, argMax(max_offset, seq) + 1, argMax(state, seq) FROM `{db}`.sluice_connect_state WHERE connector = '{name}' AND topic = '{topic}' GROUP BY partition ORDER BY partition")).await;
        assert!(state.iter().all(|r| r[2] == "AFTER"), "{state:?}");
        let committed = wait_until("group offsets committed", Duration::from_secs(30), || {
            let (b, g, t) = (bootstrap.clone(), group.clone(), topic.clone());
            async move {
                let c = committed(&b, &g, &t, 2);
                c.iter().all(Option::is_some).then_some(c)
            }
        })
        .await;
        for r in &state {
            let p: usize = r[0].parse().unwrap();
            let next: i64 = r[1].parse().unwrap();
            assert!(
                committed[p].unwrap() >= next,
                "{topic}-{p}: group {committed:?} vs state {state:?}"
            );
        }
    }
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_records_go_to_the_error_handler_and_missing_tables_fail_the_task() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique("errs").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    sql(&url, &format!("CREATE TABLE `{db}`.small (id Int64, v Int8, note Nullable(String)) ENGINE = MergeTree ORDER BY id")).await;
    let topic = unique("small");
    create_topic(&bootstrap, &topic, 1).await;
    let schema = json!({"type": "struct", "fields": [
        {"field": "id", "type": "int64", "optional": false},
        {"field": "v", "type": "int32", "optional": false},
        {"field": "note", "type": "string", "optional": true}]});
    let records: Vec<Outgoing> = (0..20)
        .map(|i| {
            // Every fifth value overflows Int8.
            let v = if i % 5 == 4 { 1000 } else { i };
            let value = json!({"schema": schema, "payload": {"id": i, "v": v, "note": null}});
            (
                Some(i.to_string()),
                Some(value.to_string().into_bytes()),
                None,
            )
        })
        .collect();
    produce(&bootstrap, &topic, records).await;
    let (host, port) = host_port(&url);
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let config = json!({
        "connector.class": "com.clickhouse.kafka.connect.ClickHouseSinkConnector",
        "tasks.max": "1", "topics": topic, "hostname": host, "port": port, "database": db,
        "topic2TableMap": format!("{topic}=small"),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
        "errors.tolerance": "all", "errors.log.enable": "true",
        "consumer.override.session.timeout.ms": "6000",
        "consumer.override.auto.offset.reset": "earliest",
        "batch.max.ms": "100",
    });
    let name = unique("ch-errs");
    api.create(&name, &config).await;
    wait_until("16 good rows", Duration::from_secs(60), || async {
        (count(&url, &format!("SELECT count() FROM `{db}`.small")).await == 16).then_some(())
    })
    .await;
    let ids = rows(&url, &format!("SELECT id FROM `{db}`.small ORDER BY id")).await;
    let ids: Vec<i64> = ids.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ids, (0..20).filter(|i| i % 5 != 4).collect::<Vec<i64>>());
    let group = format!("connect-{name}");
    wait_until(
        "offsets past the bad records",
        Duration::from_secs(30),
        || async { (committed(&bootstrap, &group, &topic, 1)[0] == Some(20)).then_some(()) },
    )
    .await;

    // A table that does not exist, without auto.create: the task fails with a clear trace.
    let other = unique("missing");
    create_topic(&bootstrap, &other, 1).await;
    produce(
        &bootstrap,
        &other,
        [(
            Some("1".into()),
            Some(
                json!({"schema": schema, "payload": {"id": 1, "v": 1, "note": "x"}})
                    .to_string()
                    .into_bytes(),
            ),
            None,
        )],
    )
    .await;
    let mut config = config.clone();
    config["topics"] = json!(other);
    config["topic2TableMap"] = json!("");
    let name2 = unique("ch-missing");
    api.create(&name2, &config).await;
    let status = api.wait_tasks(&name2, 1, "FAILED").await;
    let trace = status["tasks"][0]["trace"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        trace.contains(&format!("Table {db}.{other} does not exist"))
            && trace.contains("auto.create=true"),
        "{trace}"
    );
    worker.stop().await;
}

/// A `sluice` process, killed (SIGKILL) when dropped, so a failing test leaves none behind.
struct Sluice(Child);

impl Sluice {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Sluice {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(bootstrap: &str, state: &Path, port: u16) -> Sluice {
    Sluice(spawn_killable(bootstrap, state, port))
}

const KILLS: usize = 6;
const KILL_EVENTS: usize = 6_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_during_inserts_leaves_each_change_once() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let prefix = unique("kill").replace('-', "_");
    let db = unique("kill9").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    let events: Vec<Event> = Generator::new(Options {
        topic_prefix: prefix.clone(),
        ..Options::default()
    })
    .take(KILL_EVENTS)
    .collect();
    for t in Table::ALL {
        create_topic(&bootstrap, &format!("{prefix}.public.{}", t.name()), 3).await;
    }
    let mut config = lakehouse_config(&prefix, &url, &db);
    // Small inserts, so every run makes many of them and kills land between BEFORE and AFTER.
    config["batch.max.rows"] = json!("40");
    config["batch.max.ms"] = json!("50");
    config["consumer.override.max.poll.records"] = json!("100");
    let name = unique("ch-kill9");
    // A twin connector writes the same topics as raw change rows (plain MergeTree, which never
    // collapses rows the way ReplacingMergeTree merges do): there, every change must be exactly
    // one row, counted per topic, partition and offset.
    let mut staging = config.clone();
    staging["table.mode"] = json!("staging");
    staging["transforms.route.replacement"] = json!("$1_changes");
    let staging_name = unique("ch-kill9-staging");
    let total = |url: String, db: String| async move {
        let mut n = 0;
        for t in Table::ALL {
            let table = format!("{}_changes", t.name());
            if table_exists(&url, &db, &table).await {
                n += count(&url, &format!("SELECT count() FROM `{db}`.`{table}`")).await;
            }
        }
        n
    };
    let chunk = KILL_EVENTS / (KILLS + 1);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    let mut created = false;
    let mut at_kill = Vec::new();
    for round in 0..KILLS {
        produce_events(&bootstrap, &events[round * chunk..(round + 1) * chunk]).await;
        let port = free_port();
        let mut child = spawn(&bootstrap, &state, port);
        let api = Api::new(&format!("http://127.0.0.1:{port}"));
        wait_until("sluice healthy", Duration::from_secs(30), || async {
            let res = reqwest::get(format!("{}/health", api.url)).await.ok()?;
            (res.status().as_u16() == 200).then_some(())
        })
        .await;
        if !created {
            api.create(&name, &config).await;
            api.create(&staging_name, &staging).await;
            created = true;
        }
        api.wait_tasks(&name, 1, "RUNNING").await;
        api.wait_tasks(&staging_name, 1, "RUNNING").await;
        let before = total(url.clone(), db.clone()).await;
        wait_until(
            "this run inserted rows",
            Duration::from_secs(90),
            || async { (total(url.clone(), db.clone()).await > before).then_some(()) },
        )
        .await;
        tokio::time::sleep(jitter(&mut seed, 400)).await;
        child.kill();
        let n = total(url.clone(), db.clone()).await;
        eprintln!("round {round}: killed with {n} rows inserted");
        at_kill.push(n);
    }
    produce_events(&bootstrap, &events[KILLS * chunk..]).await;
    let port = free_port();
    let mut child = spawn(&bootstrap, &state, port);
    let changes = events.iter().filter(|e| e.value.is_some()).count() as u64;
    wait_until(
        "every change inserted",
        Duration::from_secs(180),
        || async { (total(url.clone(), db.clone()).await >= changes).then_some(()) },
    )
    .await;
    let expected = final_state(&events);
    wait_until(
        "replacing tables FINAL equal the source",
        Duration::from_secs(60),
        || async {
            for t in Table::ALL {
                if actual_lines(&url, &db, t).await != expected_lines(&expected, t) {
                    return None;
                }
            }
            Some(())
        },
    )
    .await;
    // Let a late duplicate show up if there were one.
    tokio::time::sleep(Duration::from_secs(2)).await;
    child.kill();
    // Per offset first: a duplicate there is the sink's; per key and version (below) it could
    // also be the producer's retry.
    let mut duplicated = Vec::new();
    for t in Table::ALL {
        duplicated.extend(rows(&url, &format!("SELECT _topic, _partition, _offset, count() FROM `{db}`.`{}_changes` GROUP BY _topic, _partition, _offset HAVING count() != 1 ORDER BY _topic, _partition, _offset", t.name())).await);
    }
    if !duplicated.is_empty() {
        let history = rows(&url, &format!("SELECT connector, topic, partition, min_offset, max_offset, state, seq FROM `{db}`.sluice_connect_state ORDER BY connector, topic, partition, seq")).await;
        panic!(
            "{} offsets written more than once after {KILLS} kills ({at_kill:?}): {duplicated:?}\nstate table:\n{}",
            duplicated.len(),
            history.iter().map(|r| r.join(" ")).collect::<Vec<_>>().join("\n")
        );
    }
    assert_eq!(
        total(url.clone(), db.clone()).await,
        changes,
        "one row per change, after {KILLS} kills: {at_kill:?}"
    );
    for t in Table::ALL {
        let dup = count(&url, &format!("SELECT count() FROM (SELECT _topic, _partition, _offset FROM `{db}`.`{}_changes` GROUP BY _topic, _partition, _offset HAVING count() != 1)", t.name())).await;
        assert_eq!(dup, 0, "{}: a change twice", t.name());
        // Per key and version (the LSN) too.
        let dup = count(&url, &format!("SELECT count() FROM (SELECT `after.id`, `before.id`, `source.lsn` FROM `{db}`.`{}_changes` GROUP BY `after.id`, `before.id`, `source.lsn` HAVING count() != 1)", t.name())).await;
        assert_eq!(dup, 0, "{}: a key/version twice", t.name());
    }
    // Most kills landed while the round's rows were still being inserted.
    let produced: Vec<u64> = (0..KILLS)
        .map(|r| {
            events[..(r + 1) * chunk]
                .iter()
                .filter(|e| e.value.is_some())
                .count() as u64
        })
        .collect();
    let mid = at_kill.iter().zip(&produced).filter(|(n, p)| n < p).count();
    assert!(
        mid * 2 >= KILLS,
        "kills must land while rows were being inserted: rows {at_kill:?}, produced {produced:?}"
    );
}

/// A `{"id": i}` record with its schema, keyed by `i`.
fn id_record(i: i64) -> Outgoing {
    let schema =
        json!({"type": "struct", "fields": [{"field": "id", "type": "int64", "optional": false}]});
    let v = json!({"schema": schema, "payload": {"id": i}});
    (Some(i.to_string()), Some(v.to_string().into_bytes()), None)
}

/// An exactly-once staging connector writing `topic` into table `ids`.
fn ids_config(topic: &str, url: &str, db: &str) -> Value {
    let (host, port) = host_port(url);
    json!({
        "connector.class": "io.sluice.connect.clickhouse.ClickHouseSinkConnector",
        "tasks.max": "1", "topics": topic, "hostname": host, "port": port, "database": db,
        "exactlyOnce": "true", "auto.create": "true", "table.mode": "staging",
        "topic2TableMap": format!("{topic}=ids"),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
        "consumer.override.session.timeout.ms": "6000",
        "consumer.override.auto.offset.reset": "earliest",
        "batch.max.ms": "100",
    })
}

/// Rows in table `ids` (0 while it does not exist).
async fn ids_rows(url: &str, db: &str) -> u64 {
    if !table_exists(url, db, "ids").await {
        return 0;
    }
    count(url, &format!("SELECT count() FROM `{db}`.ids")).await
}

/// The latest state row (min, max, state) of a connector's topic (none before the table exists).
async fn state_row(url: &str, db: &str, connector: &str, topic: &str) -> Vec<Vec<String>> {
    if !table_exists(url, db, "sluice_connect_state").await {
        return Vec::new();
    }
    rows(url, &format!("SELECT argMax(min_offset, seq), argMax(max_offset, seq), argMax(state, seq) FROM `{db}`.sluice_connect_state WHERE connector = '{connector}' AND topic = '{topic}'")).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offsets_api_rewrites_the_state_table() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique("offs").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    let topic = unique("offs");
    create_topic(&bootstrap, &topic, 1).await;
    produce(&bootstrap, &topic, (0..30).map(id_record)).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let name = unique("ch-offs");
    api.create(&name, &ids_config(&topic, &url, &db)).await;
    let ids = || ids_rows(&url, &db);
    wait_until("30 rows", Duration::from_secs(60), || async {
        (ids().await == 30).then_some(())
    })
    .await;
    let state_row = || state_row(&url, &db, &name, &topic);
    assert_eq!(state_row().await[0][2], "AFTER");
    assert_eq!(state_row().await[0][1], "29");

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
    assert_eq!(state_row().await[0], ["20", "19", "SET"]);
    let group = format!("connect-{name}");
    assert_eq!(committed(&bootstrap, &group, &topic, 1)[0], Some(20));
    // Resumed at 20 (the operator's choice): offsets 20..29 are written again, nothing else.
    assert_eq!(
        api.call("PUT", &format!("/connectors/{name}/resume"), None)
            .await
            .status,
        202
    );
    wait_until("rows 20..29 again", Duration::from_secs(60), || async {
        (ids().await == 40).then_some(())
    })
    .await;
    let again = rows(
        &url,
        &format!(
            "SELECT _offset FROM `{db}`.ids GROUP BY _offset HAVING count() = 2 ORDER BY _offset"
        ),
    )
    .await;
    let again: Vec<i64> = again.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(again, (20..30).collect::<Vec<i64>>());

    assert_eq!(
        api.call("PUT", &format!("/connectors/{name}/stop"), None)
            .await
            .status,
        204
    );
    api.wait_tasks(&name, 0, "RUNNING").await;
    let r = api
        .call("DELETE", &format!("/connectors/{name}/offsets"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(state_row().await[0][2], "RESET");
    worker.stop().await;
}

/// Writes a state row as a crashed try would have left it: `BEFORE(min, max)`, newest.
async fn crashed_before(url: &str, db: &str, connector: &str, topic: &str, min: i64, max: i64) {
    let seq = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    sql(url, &format!("INSERT INTO `{db}`.sluice_connect_state (connector, topic, partition, min_offset, max_offset, state, seq) VALUES ('{connector}', '{topic}', 0, {min}, {max}, 'BEFORE', {seq})")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_insert_is_checked_over_its_whole_range() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique("unknown").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    let topic = unique("unknown");
    create_topic(&bootstrap, &topic, 1).await;
    produce(&bootstrap, &topic, (0..100).map(id_record)).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let name = unique("ch-unknown");
    // Inserts of at most 10 rows, so that re-reading a 100-offset range takes many of them.
    let mut config = ids_config(&topic, &url, &db);
    config["consumer.override.max.poll.records"] = json!("10");
    config["batch.max.rows"] = json!("10");
    config["batch.max.ms"] = json!("20");
    api.create(&name, &config).await;
    let ids = || ids_rows(&url, &db);
    let state_row = || state_row(&url, &db, &name, &topic);
    let after = |max: i64| {
        let state_row = &state_row;
        async move {
            let r = state_row().await;
            (r.first()
                .is_some_and(|r| r[1] == max.to_string() && r[2] == "AFTER"))
            .then_some(())
        }
    };
    wait_until("offsets 0..99 inserted", Duration::from_secs(60), || {
        after(99)
    })
    .await;
    assert_eq!(ids().await, 100);
    let restart = || async {
        let stop = api
            .call("PUT", &format!("/connectors/{name}/stop"), None)
            .await;
        assert_eq!(stop.status, 204);
        api.wait_tasks(&name, 0, "RUNNING").await;
    };
    let resume = || async {
        let r = api
            .call("PUT", &format!("/connectors/{name}/resume"), None)
            .await;
        assert_eq!(r.status, 202);
    };

    // As if the task had died between the insert of 0..99 and its AFTER: resumed at 0, the
    // whole range is checked, though the new inserts cover 10 offsets each.
    restart().await;
    crashed_before(&url, &db, &name, &topic, 0, 99).await;
    resume().await;
    produce(&bootstrap, &topic, (100..110).map(id_record)).await;
    wait_until("offsets 100..109 inserted", Duration::from_secs(60), || {
        after(109)
    })
    .await;
    let twice = count(
        &url,
        &format!("SELECT count() FROM (SELECT _offset FROM `{db}`.ids GROUP BY _offset HAVING count() != 1)"),
    )
    .await;
    assert_eq!(twice, 0, "offsets of the unknown range written twice");
    assert_eq!(ids().await, 110);

    // An unknown range of tombstones only (nothing to check) must not hold the partition.
    produce(
        &bootstrap,
        &topic,
        (110..120).map(|i| (Some(i.to_string()), None, None)),
    )
    .await;
    wait_until("tombstones passed", Duration::from_secs(60), || async {
        let group = format!("connect-{name}");
        (committed(&bootstrap, &group, &topic, 1)[0] == Some(120)).then_some(())
    })
    .await;
    restart().await;
    crashed_before(&url, &db, &name, &topic, 110, 119).await;
    resume().await;
    produce(&bootstrap, &topic, (120..125).map(id_record)).await;
    wait_until("offsets 120..124 inserted", Duration::from_secs(60), || {
        after(124)
    })
    .await;
    assert_eq!(ids().await, 115);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_evolve_adds_new_fields_as_columns() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique("evolve").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    sql(&url, &format!("CREATE TABLE `{db}`.people (id Int64, name Nullable(String)) ENGINE = MergeTree ORDER BY id")).await;
    let topic = unique("people");
    create_topic(&bootstrap, &topic, 1).await;
    let v1 = json!({"type": "struct", "fields": [
        {"field": "id", "type": "int64", "optional": false},
        {"field": "name", "type": "string", "optional": true}]});
    let v2 = json!({"type": "struct", "fields": [
        {"field": "id", "type": "int64", "optional": false},
        {"field": "name", "type": "string", "optional": true},
        {"field": "age", "type": "int32", "optional": true},
        {"field": "joined", "type": "int64", "optional": false, "name": "io.debezium.time.MicroTimestamp", "version": 1}]});
    let mut records: Vec<Outgoing> = (0..5)
        .map(|i| {
            let v = json!({"schema": v1, "payload": {"id": i, "name": format!("p{i}")}});
            (Some(i.to_string()), Some(v.to_string().into_bytes()), None)
        })
        .collect();
    records.extend((5..10).map(|i| {
        let v = json!({"schema": v2, "payload": {"id": i, "name": format!("p{i}"), "age": 30 + i, "joined": 1_700_000_000_000_000i64 + i}});
        (Some(i.to_string()), Some(v.to_string().into_bytes()), None)
    }));
    produce(&bootstrap, &topic, records).await;
    let (host, port) = host_port(&url);
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let config = json!({
        "connector.class": "io.sluice.connect.clickhouse.ClickHouseSinkConnector",
        "tasks.max": "1", "topics": topic, "hostname": host, "port": port, "database": db,
        "auto.evolve": "true", "topic2TableMap": format!("{topic}=people"),
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
        "consumer.override.session.timeout.ms": "6000",
        "consumer.override.auto.offset.reset": "earliest",
        "batch.max.ms": "100",
    });
    api.create(&unique("ch-evolve"), &config).await;
    wait_until("10 rows", Duration::from_secs(60), || async {
        (count(&url, &format!("SELECT count() FROM `{db}`.people")).await == 10).then_some(())
    })
    .await;
    let cols = rows(
        &url,
        &format!(
            "SELECT name, type FROM system.columns WHERE database = '{db}' AND table = 'people'"
        ),
    )
    .await;
    let cols: Vec<String> = cols.iter().map(|r| r.join(" ")).collect();
    // 18.16 has no DateTime64: MicroTimestamp becomes raw µs in Int64.
    assert_eq!(
        cols,
        [
            "id Int64",
            "name Nullable(String)",
            "age Nullable(Int32)",
            "joined Nullable(Int64)"
        ]
    );
    let got = rows(&url, &format!("SELECT id, ifNull(toString(age), 'null'), ifNull(toString(joined), 'null') FROM `{db}`.people ORDER BY id")).await;
    assert_eq!(got[0], ["0", "null", "null"]);
    assert_eq!(got[9], ["9", "39", "1700000000000009"]);
    worker.stop().await;
}

/// A TCP forwarder to ClickHouse that can be cut: while down it drops every connection.
struct Link {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    epoch: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Link {
    async fn start(target: String) -> Link {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(AtomicBool::new(true));
        let epoch = std::sync::Arc::new(AtomicU64::new(0));
        let (u, e) = (up.clone(), epoch.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !u.load(Ordering::SeqCst) {
                    continue; // dropped: the client sees a closed connection
                }
                let (target, e, born) = (target.clone(), e.clone(), e.load(Ordering::SeqCst));
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(&target).await else {
                        return;
                    };
                    let pipe = tokio::io::copy_bidirectional(&mut client, &mut server);
                    // Cutting the link also ends connections opened before the cut.
                    let cut = async {
                        while e.load(Ordering::SeqCst) == born {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                    };
                    tokio::select! { _ = pipe => {}, _ = cut => {} }
                });
            }
        });
        Link { port, up, epoch }
    }

    fn set(&self, up: bool) {
        use std::sync::atomic::Ordering;
        self.up.store(up, Ordering::SeqCst);
        if !up {
            self.epoch.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clickhouse_outage_is_retried_with_a_trace_and_nothing_committed_past_it() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique("outage").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    let topic = unique("outage");
    create_topic(&bootstrap, &topic, 1).await;
    let schema =
        json!({"type": "struct", "fields": [{"field": "id", "type": "int64", "optional": false}]});
    let batch = |from: i64, to: i64| -> Vec<Outgoing> {
        (from..to)
            .map(|i| {
                let v = json!({"schema": schema, "payload": {"id": i}});
                (Some(i.to_string()), Some(v.to_string().into_bytes()), None)
            })
            .collect()
    };
    let (_, port) = host_port(&url);
    let link = Link::start(format!("127.0.0.1:{port}")).await;
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let name = unique("ch-outage");
    let config = json!({
        "connector.class": "io.sluice.connect.clickhouse.ClickHouseSinkConnector",
        "tasks.max": "1", "topics": topic, "hostname": "127.0.0.1", "port": link.port.to_string(),
        "database": db, "exactlyOnce": "true", "auto.create": "true", "table.mode": "staging",
        "topic2TableMap": format!("{topic}=ids"), "timeoutSeconds": "5", "retryCount": "1",
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "true",
        "consumer.override.session.timeout.ms": "6000",
        "consumer.override.auto.offset.reset": "earliest",
        "batch.max.ms": "100",
    });
    produce(&bootstrap, &topic, batch(0, 10)).await;
    api.create(&name, &config).await;
    let ids = || async {
        if !table_exists(&url, &db, "ids").await {
            return 0;
        }
        count(&url, &format!("SELECT count() FROM `{db}`.ids")).await
    };
    wait_until("10 rows", Duration::from_secs(60), || async {
        (ids().await == 10).then_some(())
    })
    .await;
    let group = format!("connect-{name}");
    wait_until("10 committed", Duration::from_secs(30), || async {
        (committed(&bootstrap, &group, &topic, 1)[0] == Some(10)).then_some(())
    })
    .await;

    // ClickHouse unreachable: the task keeps RUNNING, says why in its trace, commits nothing new.
    link.set(false);
    produce(&bootstrap, &topic, batch(10, 30)).await;
    let status = format!("/connectors/{name}/status");
    let trace = wait_until("a retry trace", Duration::from_secs(60), || async {
        let r = api.get(&status).await;
        let t = &r.body["tasks"][0];
        (t["state"] == "RUNNING")
            .then(|| t["trace"].as_str().map(str::to_string))
            .flatten()
    })
    .await;
    assert!(trace.contains("Retrying a failed write"), "{trace}");
    assert!(
        trace.contains("unreachable") || trace.contains("ClickHouse"),
        "{trace}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(committed(&bootstrap, &group, &topic, 1)[0], Some(10));
    assert_eq!(ids().await, 10);

    // Back: it recovers on its own, exactly once.
    link.set(true);
    wait_until("30 rows", Duration::from_secs(90), || async {
        (ids().await == 30).then_some(())
    })
    .await;
    wait_until(
        "30 committed and the trace cleared",
        Duration::from_secs(30),
        || async {
            let r = api.get(&status).await;
            (committed(&bootstrap, &group, &topic, 1)[0] == Some(30)
                && r.body["tasks"][0]["trace"].is_null())
            .then_some(())
        },
    )
    .await;
    let dup = count(&url, &format!("SELECT count() FROM (SELECT _offset FROM `{db}`.ids GROUP BY _offset HAVING count() != 1)")).await;
    assert_eq!(dup, 0);
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemaless_json_fills_18_16_types_by_name() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique("types").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    sql(
        &url,
        &format!(
            "CREATE TABLE `{db}`.t (id Int64, small Int16, name String, score Nullable(Float64), \
         price Decimal(10, 2), uid UUID, status Enum8('pending' = 1, 'paid' = 2), \
         tags Array(String), code FixedString(3), day Date, at DateTime, \
         ingested DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY id"
        ),
    )
    .await;
    let topic = unique("types");
    create_topic(&bootstrap, &topic, 1).await;
    let records: Vec<Outgoing> = (0..3)
        .map(|i| {
            let v = json!({"id": i, "small": -300 * i, "name": format!("n{i}"),
                "score": if i == 1 { Value::Null } else { json!(1.5 * i as f64) },
                "price": format!("{}.{:02}", 10 + i, i), "uid": format!("00112233-4455-6677-8899-aabbccddee{i:02x}"),
                "status": if i % 2 == 0 { "pending" } else { "paid" }, "tags": ["a", format!("t{i}")],
                "code": "ab", "day": 19_776 + i, "at": 1_708_678_334 + i, "unknown": "ignored"});
            (Some(i.to_string()), Some(v.to_string().into_bytes()), None)
        })
        .collect();
    produce(&bootstrap, &topic, records).await;
    let (host, port) = host_port(&url);
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    api.create(
        &unique("ch-types"),
        &json!({
            "connector.class": "com.clickhouse.kafka.connect.ClickHouseSinkConnector",
            "tasks.max": "1", "topics": topic, "hostname": host, "port": port, "database": db,
            "topic2TableMap": format!("{topic}=t"),
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "false",
            "consumer.override.session.timeout.ms": "6000",
            "consumer.override.auto.offset.reset": "earliest",
            "batch.max.ms": "100",
        }),
    )
    .await;
    wait_until("3 rows", Duration::from_secs(60), || async {
        (count(&url, &format!("SELECT count() FROM `{db}`.t")).await == 3).then_some(())
    })
    .await;
    let got = rows(&url, &format!(
        "SELECT id, small, name, ifNull(toString(score), 'null'), toString(price), toString(uid), \
         toString(status), arrayStringConcat(tags, ','), hex(code), toString(day), \
         toString(toUnixTimestamp(at)), ingested > toDateTime('2020-01-01 00:00:00') FROM `{db}`.t ORDER BY id"
    ))
    .await;
    assert_eq!(
        got[1],
        [
            "1",
            "-300",
            "n1",
            "null",
            "11.01",
            "00112233-4455-6677-8899-aabbccddee01",
            "paid",
            "a,t1",
            "616200",
            "2024-02-24",
            "1708678335",
            "1"
        ]
    );
    assert_eq!(got[2][3], "3");
    assert_eq!(got[0][6], "pending");
    worker.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignore_partitions_when_batching_inserts_every_partition_once() {
    let (Some(bootstrap), Some(url)) = (kafka_bootstrap(), clickhouse_url()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = unique("mixed").replace('-', "_");
    sql(&url, &format!("CREATE DATABASE `{db}`")).await;
    sql(&url, &format!("CREATE TABLE `{db}`.m (id Int64, _partition Int32, _offset Int64) ENGINE = MergeTree ORDER BY id")).await;
    let topic = unique("mixed");
    create_topic(&bootstrap, &topic, 3).await;
    let schema =
        json!({"type": "struct", "fields": [{"field": "id", "type": "int64", "optional": false}]});
    let records: Vec<Outgoing> = (0..300)
        .map(|i| {
            let v = json!({"schema": schema, "payload": {"id": i}});
            (
                Some(i.to_string()),
                Some(v.to_string().into_bytes()),
                Some(i % 3),
            )
        })
        .collect();
    produce(&bootstrap, &topic, records).await;
    let (host, port) = host_port(&url);
    let worker = TestWorker::start(&bootstrap, &dir.path().join("state"), &[]).await;
    let api = Api::new(&worker.url);
    let name = unique("ch-mixed");
    api.create(
        &name,
        &json!({
            "connector.class": "io.sluice.connect.clickhouse.ClickHouseSinkConnector",
            "tasks.max": "1", "topics": topic, "hostname": host, "port": port, "database": db,
            "topic2TableMap": format!("{topic}=m"), "ignorePartitionsWhenBatching": "true",
            "insert.parallelism": "1", "batch.max.rows": "1000", "batch.max.ms": "300",
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter.schemas.enable": "true",
            "consumer.override.session.timeout.ms": "6000",
            "consumer.override.auto.offset.reset": "earliest",
        }),
    )
    .await;
    wait_until("300 rows", Duration::from_secs(60), || async {
        (count(&url, &format!("SELECT count() FROM `{db}`.m")).await == 300).then_some(())
    })
    .await;
    let per = rows(&url, &format!("SELECT _partition, count(), uniqExact(_offset) FROM `{db}`.m GROUP BY _partition ORDER BY _partition")).await;
    assert_eq!(
        per,
        [
            ["0", "100", "100"],
            ["1", "100", "100"],
            ["2", "100", "100"]
        ]
    );
    let group = format!("connect-{name}");
    wait_until("all committed", Duration::from_secs(30), || async {
        (committed(&bootstrap, &group, &topic, 3) == [Some(100), Some(100), Some(100)])
            .then_some(())
    })
    .await;
    worker.stop().await;
}
