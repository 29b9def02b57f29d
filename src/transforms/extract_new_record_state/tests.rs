//! ExtractNewRecordState on Debezium PostgreSQL change events (envelope as in the Debezium
//! PostgreSQL docs: `pg.public.orders.Envelope` with the `io.debezium.connector.postgresql.Source`
//! block), converted by the real JsonConverter with and without schemas.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::*;
use crate::data::converter::{Converters, JSON_CONVERTER};
use crate::data::ConverterKind;
use crate::transforms::tests::{as_json, props, struct_of};
use crate::transforms::{TransformChain, EXTRACT_NEW_RECORD_STATE};

fn row_schema_json() -> Json {
    json!({"type":"struct","name":"pg.public.orders.Value","optional":true,"fields":[
        {"field":"id","type":"int64","optional":false},
        {"field":"price","type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal",
         "version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}},
        {"field":"qty_any","type":"struct","optional":true,"name":"io.debezium.data.VariableScaleDecimal",
         "version":1,"fields":[{"field":"scale","type":"int32","optional":false},{"field":"value","type":"bytes","optional":false}]},
        {"field":"created","type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1},
        {"field":"updated","type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1},
        {"field":"day","type":"int32","optional":true,"name":"io.debezium.time.Date","version":1},
        {"field":"attrs","type":"string","optional":true,"name":"io.debezium.data.Json","version":1},
        {"field":"uid","type":"string","optional":true,"name":"io.debezium.data.Uuid","version":1},
        {"field":"status","type":"string","optional":false,"default":"new"},
        {"field":"region","type":"string","optional":true}
    ]})
}

fn envelope_schema() -> Json {
    let mut before = row_schema_json();
    before["field"] = json!("before");
    let mut after = row_schema_json();
    after["field"] = json!("after");
    json!({"type":"struct","name":"pg.public.orders.Envelope","version":2,"optional":false,"fields":[
        before, after,
        {"field":"source","type":"struct","name":"io.debezium.connector.postgresql.Source","optional":false,"fields":[
            {"field":"version","type":"string","optional":false},
            {"field":"connector","type":"string","optional":false},
            {"field":"name","type":"string","optional":false},
            {"field":"ts_ms","type":"int64","optional":false},
            {"field":"snapshot","type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,
             "parameters":{"allowed":"true,first,first_in_data_collection,last_in_data_collection,last,false,incremental"},"default":"false"},
            {"field":"db","type":"string","optional":false},
            {"field":"sequence","type":"string","optional":true},
            {"field":"ts_us","type":"int64","optional":true},
            {"field":"ts_ns","type":"int64","optional":true},
            {"field":"schema","type":"string","optional":false},
            {"field":"table","type":"string","optional":false},
            {"field":"txId","type":"int64","optional":true},
            {"field":"lsn","type":"int64","optional":true},
            {"field":"xmin","type":"int64","optional":true}]},
        {"field":"transaction","type":"struct","name":"event.block","version":1,"optional":true,"fields":[
            {"field":"id","type":"string","optional":false},
            {"field":"total_order","type":"int64","optional":false},
            {"field":"data_collection_order","type":"int64","optional":false}]},
        {"field":"op","type":"string","optional":false},
        {"field":"ts_ms","type":"int64","optional":true},
        {"field":"ts_us","type":"int64","optional":true},
        {"field":"ts_ns","type":"int64","optional":true}
    ]})
}

fn key_schema() -> Json {
    json!({"type":"struct","name":"pg.public.orders.Key","optional":false,"fields":[
        {"field":"id","type":"int64","optional":false}]})
}

fn row(id: i64, region: &str) -> Json {
    json!({"id":id,"price":"AJ8=","qty_any":{"scale":3,"value":"AeI="},
        "created":1708678334431487i64,"updated":"2024-02-23T08:52:14.431487Z","day":19776,
        "attrs":"{\"a\":1}","uid":"9f1c4a7e-4e0b-4d55-9a1e-2b1f3c5d6e7f","status":"paid","region":region})
}

/// `before` of an update/delete under REPLICA IDENTITY DEFAULT: the key columns only.
fn key_only_row(id: i64) -> Json {
    json!({"id":id,"price":null,"qty_any":null,"created":null,"updated":null,"day":null,
        "attrs":null,"uid":null,"status":"new","region":null})
}

fn source(snapshot: &str, lsn: i64) -> Json {
    json!({"version":"3.0.7.Final","connector":"postgresql","name":"pg","ts_ms":1708678334000i64,
        "snapshot":snapshot,"db":"shop","sequence":format!("[\"{}\",\"{lsn}\"]", lsn - 8),
        "ts_us":1708678334000000i64,"ts_ns":1708678334000000000i64,"schema":"public","table":"orders",
        "txId":555,"lsn":lsn,"xmin":null})
}

/// One change event's value payload.
fn payload(op: &str, before: Json, after: Json, snapshot: &str) -> Json {
    json!({"before":before,"after":after,"source":source(snapshot, 24023128),
        "transaction":null,"op":op,"ts_ms":1708678334500i64,"ts_us":1708678334500000i64,
        "ts_ns":1708678334500000000i64})
}

fn create(id: i64) -> Json {
    payload("c", Json::Null, row(id, "eu"), "false")
}
fn read(id: i64) -> Json {
    payload("r", Json::Null, row(id, "eu"), "first")
}
fn update(id: i64) -> Json {
    payload("u", key_only_row(id), row(id, "us"), "false")
}
fn delete(id: i64) -> Json {
    let mut before = key_only_row(id);
    before["region"] = json!("eu");
    payload("d", before, Json::Null, "false")
}
fn truncate() -> Json {
    json!({"source":source("false", 24023200),"op":"t","ts_ms":1708678334600i64,
        "ts_us":null,"ts_ns":null,"before":null,"after":null,"transaction":null})
}

/// Kafka bytes → SinkRecord through the JsonConverter, as the task loop does.
struct Events {
    key: Box<dyn crate::data::Converter>,
    value: Box<dyn crate::data::Converter>,
    schemas: bool,
    offset: i64,
}

impl Events {
    fn new(schemas: bool) -> Events {
        let cfg: BTreeMap<String, String> =
            [("schemas.enable".to_string(), schemas.to_string())].into();
        Events {
            key: Converters::build(JSON_CONVERTER, &cfg, ConverterKind::Key).unwrap(),
            value: Converters::build(JSON_CONVERTER, &cfg, ConverterKind::Value).unwrap(),
            schemas,
            offset: 0,
        }
    }

    fn wire(&self, schema: Json, payload: &Json) -> Vec<u8> {
        if self.schemas {
            json!({"schema": schema, "payload": payload})
                .to_string()
                .into_bytes()
        } else {
            payload.to_string().into_bytes()
        }
    }

    /// A record with key `{id}` (or a null key) and this value payload (`None`: tombstone).
    fn record(&mut self, id: Option<i64>, value: Option<&Json>) -> SinkRecord {
        let key_bytes = id.map(|id| self.wire(key_schema(), &json!({ "id": id })));
        let value_bytes = value.map(|v| self.wire(envelope_schema(), v));
        self.offset += 1;
        SinkRecord {
            topic: Arc::from("pg.public.orders"),
            original_topic: Arc::from("pg.public.orders"),
            partition: 0,
            offset: self.offset,
            timestamp: Some(1_708_678_334_600),
            key: self
                .key
                .to_connect("pg.public.orders", key_bytes.as_deref())
                .unwrap(),
            value: self
                .value
                .to_connect("pg.public.orders", value_bytes.as_deref())
                .unwrap(),
            headers: Vec::new(),
        }
    }
}

fn unwrap(pairs: &[(&str, &str)]) -> TransformChain {
    let mut config = props(&[
        ("transforms", "unwrap"),
        ("transforms.unwrap.type", EXTRACT_NEW_RECORD_STATE),
    ]);
    for (k, v) in pairs {
        config.insert(format!("transforms.unwrap.{k}"), v.to_string());
    }
    TransformChain::from_config(&config).unwrap()
}

fn field_names(schema: &Schema) -> Vec<&str> {
    schema.fields().iter().map(|f| f.name.as_str()).collect()
}

const ROW_FIELDS: [&str; 10] = [
    "id", "price", "qty_any", "created", "updated", "day", "attrs", "uid", "status", "region",
];

#[test]
fn default_mode_unwraps_rows_and_turns_deletes_into_null_values() {
    let mut ev = Events::new(true);
    let mut t = unwrap(&[]);
    let c = t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .unwrap();
    let (s, v) = struct_of(c.value.as_ref());
    assert_eq!(s.name.as_deref(), Some("pg.public.orders.Value"));
    assert_eq!(field_names(&s), ROW_FIELDS);
    assert_eq!(v[0], Value::Int(1));
    assert_eq!(
        as_json(c.value.as_ref()).1,
        row(1, "eu"),
        "logical values survive as they came"
    );
    // As in Debezium, the row is a required copy of the `after` schema, built once.
    assert!(!s.optional);
    let r = t
        .apply(ev.record(Some(2), Some(&read(2))))
        .unwrap()
        .unwrap();
    let (s2, _) = struct_of(r.value.as_ref());
    assert!(Arc::ptr_eq(&s, &s2), "no schema is built per record");
    assert_eq!(
        as_json(c.key.as_ref()).1,
        json!({"id": 1}),
        "the key is untouched"
    );

    let u = t
        .apply(ev.record(Some(1), Some(&update(1))))
        .unwrap()
        .unwrap();
    assert_eq!(as_json(u.value.as_ref()).1["region"], "us");

    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    assert!(d.value.is_none(), "a delete becomes a null value");
    assert_eq!(as_json(d.key.as_ref()).1, json!({"id": 1}));
    assert!(
        t.apply(ev.record(Some(1), None)).unwrap().is_none(),
        "source tombstone dropped"
    );
    assert!(
        t.apply(ev.record(None, Some(&truncate())))
            .unwrap()
            .is_none(),
        "truncate dropped"
    );
    assert_eq!(&*d.topic, "pg.public.orders");
}

#[test]
fn rewrite_modes_add_deleted_as_a_string() {
    let mut ev = Events::new(true);
    let mut t = unwrap(&[("delete.tombstone.handling.mode", "rewrite")]);
    let c = t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .unwrap();
    let (s, v) = struct_of(c.value.as_ref());
    let mut expected: Vec<&str> = ROW_FIELDS.to_vec();
    expected.push("__deleted");
    assert_eq!(field_names(&s), expected);
    assert_eq!(
        s.name.as_deref(),
        Some("pg.public.orders.Value"),
        "basics are copied"
    );
    let deleted = s.field("__deleted").unwrap();
    assert_eq!(deleted.schema.kind, Kind::String);
    assert!(deleted.schema.optional);
    assert_eq!(v[10], Value::String("false".into()));

    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    let (ds, dv) = struct_of(d.value.as_ref());
    assert!(
        Arc::ptr_eq(&s, &ds),
        "before and after share one cached output schema"
    );
    assert_eq!(dv[0], Value::Int(1));
    assert_eq!(dv[9], Value::String("eu".into()));
    assert_eq!(dv[10], Value::String("true".into()));
    assert!(
        t.apply(ev.record(Some(1), None)).unwrap().is_none(),
        "rewrite drops tombstones"
    );

    let mut t = unwrap(&[("delete.tombstone.handling.mode", "rewrite-with-tombstone")]);
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    assert_eq!(as_json(d.value.as_ref()).1["__deleted"], "true");
    let tomb = t.apply(ev.record(Some(1), None)).unwrap().unwrap();
    assert!(tomb.value.is_none());
    assert_eq!(as_json(tomb.key.as_ref()).1, json!({"id": 1}));
}

#[test]
fn drop_and_delete_to_tombstone_modes() {
    let mut ev = Events::new(true);
    let mut t = unwrap(&[("delete.tombstone.handling.mode", "drop")]);
    assert!(t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .is_some());
    assert!(t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .is_none());
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_none());

    let mut t = unwrap(&[("delete.tombstone.handling.mode", "delete-to-tombstone")]);
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    assert!(d.value.is_none());
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_none());
    let e = TransformChain::from_config(&props(&[
        ("transforms", "u"),
        ("transforms.u.type", EXTRACT_NEW_RECORD_STATE),
        ("transforms.u.delete.tombstone.handling.mode", "keep"),
    ]))
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("String must be one of: drop, tombstone"),
        "{e}"
    );
}

#[test]
fn add_fields_with_prefix_and_renames() {
    let mut ev = Events::new(true);
    let mut t = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite"),
        (
            "add.fields",
            "op,table,lsn,source.ts_ms,ts_ms,db:DATABASE,id",
        ),
    ]);
    let c = t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .unwrap();
    let (s, v) = struct_of(c.value.as_ref());
    assert_eq!(
        field_names(&s)[10..],
        [
            "__deleted",
            "__op",
            "__table",
            "__lsn",
            "__source_ts_ms",
            "__ts_ms",
            "__DATABASE",
            "__id"
        ]
    );
    assert_eq!(
        v[10..],
        [
            Value::String("false".into()),
            Value::String("c".into()),
            Value::String("orders".into()),
            Value::Int(24023128),
            Value::Int(1708678334000),
            Value::Int(1708678334500),
            Value::String("shop".into()),
            // transaction.id: the transaction block is null outside transaction metadata.
            Value::Null,
        ]
    );
    for f in &s.fields()[11..] {
        assert!(f.schema.optional, "{} is an optional copy", f.name);
    }
    assert_eq!(s.field("__lsn").unwrap().schema.kind, Kind::Int64);
    // Deletes get the metadata too in rewrite mode.
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    let j = as_json(d.value.as_ref()).1;
    assert_eq!((&j["__op"], &j["__deleted"]), (&json!("d"), &json!("true")));

    let mut t = unwrap(&[
        ("add.fields", "op,source.ts_ms"),
        ("add.fields.prefix", "cdc_"),
    ]);
    let u = t
        .apply(ev.record(Some(1), Some(&update(1))))
        .unwrap()
        .unwrap();
    let j = as_json(u.value.as_ref()).1;
    assert_eq!(j["cdc_op"], "u");
    assert_eq!(j["cdc_source_ts_ms"], 1708678334000i64);
    assert!(
        j.get("__deleted").is_none(),
        "no __deleted outside rewrite modes"
    );
    // In tombstone mode a delete is a null value, metadata or not.
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    assert!(d.value.is_none());
}

#[test]
fn add_headers_and_the_tombstone_op_header() {
    let mut ev = Events::new(true);
    let mut t = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite-with-tombstone"),
        ("add.headers", "op,source.lsn,db"),
        ("add.headers.prefix", "dbz."),
    ]);
    let c = t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .unwrap();
    let keys: Vec<&str> = c.headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["dbz.op", "dbz.source_lsn", "dbz.db"]);
    assert_eq!(c.headers[0].value, Some(Data::String("c".into())));
    match &c.headers[1].value {
        Some(Data::Value {
            schema: Some(s),
            value,
        }) => {
            assert_eq!(*value, Value::Int(24023128));
            assert_eq!(s.kind, Kind::Int64);
            assert!(s.optional);
        }
        other => panic!("{other:?}"),
    }
    let tomb = t.apply(ev.record(Some(1), None)).unwrap().unwrap();
    assert_eq!(tomb.headers.len(), 1);
    assert_eq!(tomb.headers[0].key, "dbz.op");
    assert_eq!(tomb.headers[0].value, Some(Data::String("d".into())));
}

#[test]
fn route_by_field_uses_after_or_before_for_deletes() {
    let mut ev = Events::new(true);
    let mut t = unwrap(&[("route.by.field", "region")]);
    let c = t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .unwrap();
    assert_eq!(&*c.topic, "eu");
    let u = t
        .apply(ev.record(Some(1), Some(&update(1))))
        .unwrap()
        .unwrap();
    assert_eq!(&*u.topic, "us");
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    assert_eq!(&*d.topic, "eu", "deletes route by the before row");
    assert!(d.value.is_none());
    let mut t = unwrap(&[("route.by.field", "nope")]);
    let e = t.apply(ev.record(Some(1), Some(&create(1)))).unwrap_err();
    assert_eq!(e.error.to_string(), "nope is not a valid field name");
}

#[test]
fn legacy_options_map_to_current_behaviour() {
    let mut ev = Events::new(true);
    // rewrite + drop.tombstones=false = rewrite-with-tombstone.
    let mut t = unwrap(&[
        ("delete.handling.mode", "rewrite"),
        ("drop.tombstones", "false"),
    ]);
    let c = t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .unwrap();
    assert_eq!(as_json(c.value.as_ref()).1["__deleted"], "false");
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_some());
    // Old default: delete.handling.mode=drop, drop.tombstones=true.
    let mut t = unwrap(&[("drop.tombstones", "true")]);
    assert!(t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .is_none());
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_none());
    // none + true = tombstone.
    let mut t = unwrap(&[("delete.handling.mode", "none")]);
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    assert!(d.value.is_none());
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_none());
    // The two combinations without a current equivalent keep the source tombstones.
    let mut t = unwrap(&[
        ("delete.handling.mode", "none"),
        ("drop.tombstones", "false"),
    ]);
    assert!(t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap()
        .value
        .is_none());
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_some());
    let mut t = unwrap(&[("drop.tombstones", "false")]);
    assert!(t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .is_none());
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_some());
    // The current option wins over the legacy ones.
    let mut t = unwrap(&[
        ("delete.tombstone.handling.mode", "drop"),
        ("delete.handling.mode", "rewrite"),
        ("drop.tombstones", "false"),
    ]);
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_none());
    assert!(t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .is_none());
    assert_eq!(Handling::legacy("drop", true), Handling::mode("drop"));
    assert_eq!(Handling::legacy("rewrite", true), Handling::mode("rewrite"));
    assert_eq!(
        Handling::legacy("rewrite", false),
        Handling::mode("rewrite-with-tombstone")
    );
    assert_eq!(Handling::legacy("none", true), Handling::mode("tombstone"));
}

#[test]
fn schemaless_envelopes_are_unwrapped_too() {
    let mut ev = Events::new(false);
    let mut t = unwrap(&[
        ("delete.tombstone.handling.mode", "rewrite"),
        ("add.fields", "op,table,source.ts_ms,transaction.id"),
        ("add.headers", "op"),
    ]);
    let c = t
        .apply(ev.record(Some(1), Some(&create(1))))
        .unwrap()
        .unwrap();
    let (schema, j) = as_json(c.value.as_ref());
    assert!(schema.is_none());
    let mut expected = row(1, "eu");
    expected["__deleted"] = json!("false");
    expected["__op"] = json!("c");
    expected["__table"] = json!("orders");
    expected["__source_ts_ms"] = json!(1708678334000i64);
    expected["__transaction_id"] = Json::Null;
    assert_eq!(j, expected);
    assert_eq!(c.headers[0].value, Some(Data::String("c".into())));
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    let j = as_json(d.value.as_ref()).1;
    assert_eq!(
        (j["id"].clone(), j["__deleted"].clone(), j["__op"].clone()),
        (json!(1), json!("true"), json!("d"))
    );
    assert!(t.apply(ev.record(Some(1), None)).unwrap().is_none());
    assert!(t
        .apply(ev.record(None, Some(&truncate())))
        .unwrap()
        .is_none());

    let mut t = unwrap(&[("route.by.field", "region")]);
    let u = t
        .apply(ev.record(Some(1), Some(&update(1))))
        .unwrap()
        .unwrap();
    assert_eq!(&*u.topic, "us");
    assert_eq!(as_json(u.value.as_ref()).1, row(1, "us"));
    let d = t
        .apply(ev.record(Some(1), Some(&delete(1))))
        .unwrap()
        .unwrap();
    assert!(d.value.is_none());
    assert_eq!(&*d.topic, "eu");
}

#[test]
fn non_envelopes_pass_through_unchanged() {
    let mut t = unwrap(&[]);
    let plain_schema =
        crate::transforms::tests::schema(json!({"type":"struct","name":"heartbeat","fields":[
        {"field":"ts_ms","type":"int64","optional":false}]}));
    let data = crate::transforms::tests::json_data(&plain_schema, json!({"ts_ms": 1}));
    let r = crate::transforms::tests::record("__debezium-heartbeat.pg", None, Some(data.clone()));
    let out = t.apply(r).unwrap().unwrap();
    assert_eq!(out.value, Some(data), "not even decoded");
    let data = crate::transforms::tests::schemaless(json!({"a": 1}));
    let r = crate::transforms::tests::record("t", None, Some(data));
    let out = t.apply(r).unwrap().unwrap();
    assert_eq!(as_json(out.value.as_ref()).1, json!({"a": 1}));
    let r = crate::transforms::tests::record("t", None, Some(Data::String("x".into())));
    assert_eq!(
        t.apply(r).unwrap().unwrap().value,
        Some(Data::String("x".into()))
    );
}

#[test]
fn deletes_without_a_before_row_still_count_as_deletes() {
    for schemas in [true, false] {
        let mut ev = Events::new(schemas);
        let del = payload("d", Json::Null, Json::Null, "false");
        for mode in ["tombstone", "rewrite"] {
            let mut t = unwrap(&[("delete.tombstone.handling.mode", mode)]);
            let d = t.apply(ev.record(Some(1), Some(&del))).unwrap().unwrap();
            assert!(d.value.is_none(), "{mode}, schemas {schemas}");
        }
        let mut t = unwrap(&[("delete.tombstone.handling.mode", "drop")]);
        assert!(t.apply(ev.record(Some(1), Some(&del))).unwrap().is_none());
    }
}

#[test]
fn replace_null_with_default_when_rewriting() {
    let mut ev = Events::new(true);
    let mut before = key_only_row(1);
    // A raw null in a field whose schema has a default (the converter keeps the default).
    before["status"] = Json::Null;
    let del = payload("d", before, Json::Null, "false");
    let mut t = unwrap(&[("delete.tombstone.handling.mode", "rewrite")]);
    let d = t.apply(ev.record(Some(1), Some(&del))).unwrap().unwrap();
    assert_eq!(as_json(d.value.as_ref()).1["status"], "new");
}

#[test]
fn drop_fields_listed_in_a_header() {
    let mut ev = Events::new(true);
    let mut t = unwrap(&[("drop.fields.header.name", "dropped")]);
    let mut r = ev.record(Some(1), Some(&create(1)));
    r.headers.push(Header {
        key: "dropped".into(),
        value: Some(Data::String("[\"attrs\",\"status\",\"id\"]".into())),
    });
    let out = t.apply(r.clone()).unwrap().unwrap();
    let (s, _) = struct_of(out.value.as_ref());
    let names = field_names(&s);
    assert!(!names.contains(&"attrs"));
    // Required fields stay while the schema must remain compatible.
    assert!(names.contains(&"status") && names.contains(&"id"));
    let mut t = unwrap(&[
        ("drop.fields.header.name", "dropped"),
        ("drop.fields.keep.schema.compatible", "false"),
        ("drop.fields.from.key", "true"),
    ]);
    let out = t.apply(r).unwrap().unwrap();
    let (s, _) = struct_of(out.value.as_ref());
    assert!(!field_names(&s).contains(&"status"));
    let (ks, _) = struct_of(out.key.as_ref());
    assert!(ks.fields().is_empty(), "id dropped from the key too");
}
