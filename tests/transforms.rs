//! Transformations through the whole stack: config validation with each class's own keys, and
//! a FileStream connector unwrapping and routing Debezium change events on an in-process broker.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{committed, file_sink, lines, produce, unique, wait_until, Api, TestWorker};
use rdkafka::mocking::MockCluster;
use serde_json::{json, Value};
use sluice::configdef::ConfigInfos;
use sluice::connectors::Plugins;
use sluice::worker::WorkerConfig;

const UNWRAP: &str = "io.debezium.transforms.ExtractNewRecordState";
const ROUTER: &str = "org.apache.kafka.connect.transforms.RegexRouter";

fn config(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut c: BTreeMap<String, String> = [
        ("name", "files"),
        ("connector.class", "FileStreamSink"),
        ("topics", "pg.public.orders"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        c.insert(k.to_string(), v.to_string());
    }
    c
}

fn validate(c: &BTreeMap<String, String>) -> ConfigInfos {
    let worker = WorkerConfig::from_raw(BTreeMap::new()).expect("worker config");
    sluice::herder::validate::validate(&Plugins::builtin(), &worker, None, c).expect("validates")
}

fn errors(infos: &ConfigInfos, key: &str) -> Vec<String> {
    infos
        .configs
        .iter()
        .filter_map(|c| c.value.as_ref())
        .find(|v| v.name == key)
        .map(|v| v.errors.clone())
        .unwrap_or_else(|| panic!("{key} not in the result"))
}

#[test]
fn validate_checks_each_class_keys() {
    let infos = validate(&config(&[
        ("transforms", "unwrap,route"),
        ("transforms.unwrap.type", UNWRAP),
        (
            "transforms.unwrap.delete.tombstone.handling.mode",
            "rewrite",
        ),
        ("transforms.unwrap.add.fields", "op,source.ts_ms"),
        ("transforms.route.type", ROUTER),
        ("transforms.route.regex", "pg\\.public\\.(.*)"),
        ("transforms.route.replacement", "$1"),
    ]));
    assert_eq!(infos.error_count, 0, "{infos:?}");
    let def = infos
        .configs
        .iter()
        .filter_map(|c| c.definition.as_ref())
        .find(|d| d.name == "transforms.unwrap.delete.tombstone.handling.mode")
        .expect("the class's own keys are defined");
    assert_eq!(def.group, "Transforms: unwrap");
    assert_eq!(def.default_value.as_deref(), Some("tombstone"));

    let infos = validate(&config(&[
        ("transforms", "route,unwrap,cast,nope"),
        ("transforms.route.type", ROUTER),
        ("transforms.route.replacement", "$1"),
        ("transforms.unwrap.type", UNWRAP),
        ("transforms.unwrap.delete.tombstone.handling.mode", "keep"),
        (
            "transforms.cast.type",
            "org.apache.kafka.connect.transforms.Cast$Key",
        ),
        ("transforms.cast.spec", "id:int64,x:bytes"),
        ("transforms.nope.type", "com.example.Nope"),
        ("predicates", "p"),
        (
            "predicates.p.type",
            "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
        ),
        ("predicates.p.pattern", "(unclosed"),
    ]));
    assert_eq!(
        errors(&infos, "transforms.route.regex"),
        ["Missing required configuration \"transforms.route.regex\" which has no default value."]
    );
    assert_eq!(
        errors(&infos, "transforms.unwrap.delete.tombstone.handling.mode"),
        ["Invalid value keep for configuration transforms.unwrap.delete.tombstone.handling.mode: String must be one of: drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone"]
    );
    let cast = errors(&infos, "transforms.cast.spec");
    assert_eq!(cast.len(), 1);
    assert!(
        cast[0].starts_with("Invalid value x:bytes for configuration transforms.cast.spec: "),
        "{cast:?}"
    );
    assert_eq!(
        errors(&infos, "transforms.nope.type"),
        ["Invalid value com.example.Nope for configuration transforms.nope.type: Class com.example.Nope could not be found."]
    );
    let pattern = errors(&infos, "predicates.p.pattern");
    assert!(
        pattern[0].starts_with(
            "Invalid value (unclosed for configuration predicates.p.pattern: Invalid regex"
        ),
        "{pattern:?}"
    );
    assert_eq!(infos.error_count, 5, "{infos:?}");
}

/// A Debezium PostgreSQL change event without schemas (`value.converter.schemas.enable=false`).
fn event(op: &str, before: Value, after: Value) -> Vec<u8> {
    json!({"before": before, "after": after,
        "source": {"version":"3.0.7.Final","connector":"postgresql","name":"pg","ts_ms":1708678334000i64,
            "snapshot":"false","db":"shop","sequence":"[\"24023120\",\"24023128\"]","schema":"public",
            "table":"orders","txId":555,"lsn":24023128,"xmin":null},
        "transaction": null, "op": op, "ts_ms": 1708678334500i64})
    .to_string()
    .into_bytes()
}

fn row(id: i64, status: &str) -> Value {
    json!({"id": id, "price": "1.59", "status": status})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unwrap_and_route_debezium_events_into_a_file() {
    let mock = MockCluster::new(1).expect("mock cluster");
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&worker.url);

    let topic = unique("pg.public.orders");
    mock.create_topic(&topic, 1, 1).expect("topic");
    let file = dir.path().join("orders.txt");
    let mut cfg = file_sink(
        &topic,
        &file,
        &[
            ("transforms", "unwrap,route,topic"),
            ("transforms.unwrap.type", UNWRAP),
            ("transforms.unwrap.delete.tombstone.handling.mode", "drop"),
            ("transforms.unwrap.add.fields", "op,table"),
            ("transforms.route.type", ROUTER),
            ("transforms.route.regex", "pg\\.public\\.([a-z]+)-.*"),
            ("transforms.route.replacement", "cdc_$1"),
            // Makes the routed topic visible in the file.
            (
                "transforms.topic.type",
                "org.apache.kafka.connect.transforms.InsertField$Value",
            ),
            ("transforms.topic.topic.field", "routed_to"),
        ],
    );
    cfg["name"] = json!("orders-sink");
    api.create("orders-sink", &cfg).await;
    api.wait_tasks("orders-sink", 1, "RUNNING").await;

    // Offsets 0..=5: two creates, an update, a snapshot read, then a delete and its tombstone
    // (both dropped), so only a committed offset of 6 proves dropped records count as consumed.
    let key = |id: i64| Some(json!({ "id": id }).to_string());
    let records = vec![
        (
            key(1),
            Some(event("c", Value::Null, row(1, "new"))),
            Some(0),
        ),
        (
            key(2),
            Some(event("c", Value::Null, row(2, "new"))),
            Some(0),
        ),
        (
            key(1),
            Some(event("u", Value::Null, row(1, "paid"))),
            Some(0),
        ),
        (
            key(3),
            Some(event("r", Value::Null, row(3, "old"))),
            Some(0),
        ),
        (
            key(2),
            Some(event("d", row(2, "new"), Value::Null)),
            Some(0),
        ),
        (key(2), None, Some(0)),
    ];
    produce(&bootstrap, &topic, records).await;

    let got = wait_until(
        "unwrapped rows in the file",
        Duration::from_secs(30),
        || async {
            let l = lines(&file);
            (l.len() >= 4).then_some(l)
        },
    )
    .await;
    let rows: Vec<Value> = got
        .iter()
        .map(|l| serde_json::from_str(l).expect("each line is a JSON row"))
        .collect();
    let expected: Vec<Value> = [
        (1, "new", "c"),
        (2, "new", "c"),
        (1, "paid", "u"),
        (3, "old", "r"),
    ]
    .into_iter()
    .map(|(id, status, op)| {
        json!({"id": id, "price": "1.59", "status": status, "__op": op, "__table": "orders",
                "routed_to": "cdc_orders"})
    })
    .collect();
    assert_eq!(rows, expected);

    let group = "connect-orders-sink";
    wait_until(
        "dropped delete and tombstone committed",
        Duration::from_secs(30),
        || async { (committed(&bootstrap, group, &topic, 1) == vec![Some(6)]).then_some(()) },
    )
    .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        lines(&file).len(),
        4,
        "the delete and the tombstone were not written"
    );
    let status = api.get("/connectors/orders-sink/status").await;
    assert_eq!(
        status.body["tasks"][0]["state"], "RUNNING",
        "{}",
        status.text
    );

    // The transformations and predicates are listed after the converters.
    let r = api.get("/connector-plugins?connectorsOnly=false").await;
    assert_eq!(r.status, 200);
    let all = r.body.as_array().expect("array");
    let types: Vec<&str> = all
        .iter()
        .map(|p| p["type"].as_str().unwrap_or(""))
        .collect();
    let first = |t: &str| types.iter().position(|x| *x == t).unwrap_or(usize::MAX);
    let last = |t: &str| types.iter().rposition(|x| *x == t).unwrap_or(0);
    assert!(
        last("header_converter") < first("transformation"),
        "{types:?}"
    );
    assert!(last("transformation") < first("predicate"), "{types:?}");
    for (class, ty) in [
        (UNWRAP, "transformation"),
        (ROUTER, "transformation"),
        (
            "org.apache.kafka.connect.transforms.Cast$Key",
            "transformation",
        ),
        (
            "org.apache.kafka.connect.transforms.Filter",
            "transformation",
        ),
        (
            "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
            "predicate",
        ),
    ] {
        assert!(
            all.iter().any(|p| p["class"] == class && p["type"] == ty),
            "{class} missing: {}",
            r.text
        );
    }
    let only = api.get("/connector-plugins").await;
    assert!(only
        .body
        .as_array()
        .expect("array")
        .iter()
        .all(|p| p["type"] == "sink"));

    // Schema'd events (schemas.enable=true) in rewrite mode: rows carry `__deleted`, deletes
    // become their `before` row, and the FileStream sink prints the structs as JSON.
    let topic3 = unique("pg.public.parts");
    mock.create_topic(&topic3, 1, 1).expect("topic");
    let file3 = dir.path().join("parts.txt");
    let mut cfg = file_sink(
        &topic3,
        &file3,
        &[
            ("value.converter.schemas.enable", "true"),
            ("transforms", "unwrap"),
            ("transforms.unwrap.type", UNWRAP),
            (
                "transforms.unwrap.delete.tombstone.handling.mode",
                "rewrite",
            ),
        ],
    );
    cfg["name"] = json!("parts-sink");
    api.create("parts-sink", &cfg).await;
    api.wait_tasks("parts-sink", 1, "RUNNING").await;
    let with_schema = |op: &str, before: Value, after: Value| {
        let row = json!({"type":"struct","name":"pg.public.parts.Value","optional":true,"fields":[
            {"field":"id","type":"int64","optional":false},
            {"field":"status","type":"string","optional":true}]});
        let mut b = row.clone();
        b["field"] = json!("before");
        let mut a = row;
        a["field"] = json!("after");
        let schema = json!({"type":"struct","name":"pg.public.parts.Envelope","optional":false,"fields":[
            b, a, {"field":"op","type":"string","optional":false},
            {"field":"ts_ms","type":"int64","optional":true}]});
        let payload = json!({"before": before, "after": after, "op": op, "ts_ms": 1});
        Some(
            json!({"schema": schema, "payload": payload})
                .to_string()
                .into_bytes(),
        )
    };
    produce(
        &bootstrap,
        &topic3,
        vec![
            (
                key(7),
                with_schema("c", Value::Null, json!({"id": 7, "status": "new"})),
                Some(0),
            ),
            (
                key(7),
                with_schema("d", json!({"id": 7, "status": "new"}), Value::Null),
                Some(0),
            ),
            (key(7), None, Some(0)),
        ],
    )
    .await;
    let got = wait_until("schema'd rows", Duration::from_secs(30), || async {
        let l = lines(&file3);
        (l.len() >= 2).then_some(l)
    })
    .await;
    let rows: Vec<Value> = got
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON row"))
        .collect();
    assert_eq!(
        rows,
        [
            json!({"id": 7, "status": "new", "__deleted": "false"}),
            json!({"id": 7, "status": "new", "__deleted": "true"})
        ]
    );
    wait_until("tombstone committed", Duration::from_secs(30), || async {
        (committed(&bootstrap, "connect-parts-sink", &topic3, 1) == vec![Some(3)]).then_some(())
    })
    .await;

    // A transform failure is a record failure at stage TRANSFORMATION: with errors.tolerance=all
    // the bad record is skipped and the stream goes on.
    let topic2 = unique("pg.public.items");
    mock.create_topic(&topic2, 1, 1).expect("topic");
    let file2 = dir.path().join("items.txt");
    let mut cfg = file_sink(
        &topic2,
        &file2,
        &[
            ("transforms", "extract"),
            (
                "transforms.extract.type",
                "org.apache.kafka.connect.transforms.ExtractField$Value",
            ),
            ("transforms.extract.field", "id"),
            ("errors.tolerance", "all"),
        ],
    );
    cfg["name"] = json!("items-sink");
    api.create("items-sink", &cfg).await;
    api.wait_tasks("items-sink", 1, "RUNNING").await;
    produce(
        &bootstrap,
        &topic2,
        vec![
            (None, Some(b"{\"id\":1}".to_vec()), Some(0)),
            (None, Some(b"[\"not a map\"]".to_vec()), Some(0)),
            (None, Some(b"{\"id\":3}".to_vec()), Some(0)),
        ],
    )
    .await;
    let got = wait_until("extracted ids", Duration::from_secs(30), || async {
        let l = lines(&file2);
        (l.len() >= 2).then_some(l)
    })
    .await;
    assert_eq!(got, ["1", "3"]);
    wait_until("all three committed", Duration::from_secs(30), || async {
        (committed(&bootstrap, "connect-items-sink", &topic2, 1) == vec![Some(3)]).then_some(())
    })
    .await;
    worker.stop().await;
}

#[test]
fn plugin_config_serves_a_transformations_own_keys() {
    let plugins = sluice::connectors::Plugins::builtin();
    let keys = sluice::herder::validate::plugin_config(
        &plugins,
        "org.apache.kafka.connect.transforms.RegexRouter",
    )
    .unwrap();
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    assert!(
        names.contains(&"regex") && names.contains(&"replacement"),
        "{names:?}"
    );
    let keys = sluice::herder::validate::plugin_config(
        &plugins,
        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
    )
    .unwrap();
    assert!(keys.iter().any(|k| k.name == "pattern"));
    assert!(sluice::herder::validate::plugin_config(&plugins, "com.example.Nope").is_err());
}

/// A payload that does not match its schema fails the task with a trace naming the topic,
/// partition, offset and field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_that_does_not_fit_its_schema_is_reported_with_its_coordinates() {
    let mock = MockCluster::new(1).expect("mock cluster");
    let bootstrap = mock.bootstrap_servers();
    let dir = tempfile::tempdir().expect("tempdir");
    let worker = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&worker.url);
    let topic = unique("pg.public.bad");
    mock.create_topic(&topic, 1, 1).expect("topic");
    let row_schema = json!({"type":"struct","optional":true,"name":"pg.public.bad.Value","fields":[
        {"field":"id","type":"int64","optional":false}]});
    let schema = json!({"type":"struct","optional":false,"name":"pg.public.bad.Envelope","fields":[
        {"field":"before","type":"struct","optional":true,"fields":row_schema["fields"]},
        {"field":"after","type":"struct","optional":true,"fields":row_schema["fields"]},
        {"field":"op","type":"string","optional":false}]});
    let msg = |id: Value| {
        json!({"schema": schema, "payload": {"before": null, "after": {"id": id}, "op": "c"}})
            .to_string()
            .into_bytes()
    };
    produce(
        &bootstrap,
        &topic,
        vec![
            (None, Some(msg(json!(1))), Some(0)),
            (None, Some(msg(json!("one"))), Some(0)),
        ],
    )
    .await;
    let mut cfg = file_sink(
        &topic,
        &dir.path().join("out.txt"),
        &[
            ("value.converter.schemas.enable", "true"),
            ("transforms", "unwrap"),
            ("transforms.unwrap.type", UNWRAP),
        ],
    );
    cfg["name"] = json!("bad-sink");
    api.create("bad-sink", &cfg).await;
    let st = api.wait_tasks("bad-sink", 1, "FAILED").await;
    let trace = st["tasks"][0]["trace"].as_str().unwrap();
    for part in [
        topic.as_str(),
        "partition=0",
        "offset=1",
        "$.after.id",
        "TRANSFORMATION",
        "INT64",
    ] {
        assert!(trace.contains(part), "trace lacks {part}: {trace}");
    }
    worker.stop().await;
}
