//! Shared test helpers and the chain/catalog tests.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value as Json};

use super::*;
use crate::configdef::ParsedConfig;
use crate::data::{Data, Header, Schema, SchemaRef, SinkRecord, Value};

/// A record on partition 0, offset 7, timestamp 2024-02-23T08:52:14.431Z.
pub(crate) fn record(topic: &str, key: Option<Data>, value: Option<Data>) -> SinkRecord {
    SinkRecord {
        topic: Arc::from(topic),
        original_topic: Arc::from(topic),
        partition: 0,
        offset: 7,
        timestamp: Some(1_708_678_334_431),
        key,
        value,
        headers: Vec::new(),
    }
}

pub(crate) fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Builds one transformation of `class` from its own keys.
pub(crate) fn transform(class: &str, own: &BTreeMap<String, String>) -> Box<dyn Transformation> {
    try_transform(class, own).unwrap_or_else(|e| panic!("{class}: {e}"))
}

pub(crate) fn try_transform(
    class: &str,
    own: &BTreeMap<String, String>,
) -> Result<Box<dyn Transformation>, String> {
    let plugin = catalog::find_transform(class).ok_or("unknown class")?;
    let catalog::Builder::Transform(build) = plugin.build else {
        return Err("not a transformation".into());
    };
    build(
        &ParsedConfig::new(&[&plugin.def], own),
        Side::of_class(class),
    )
}

/// JsonConverter data with a schema (schemas.enable=true), as the converter hands it over.
pub(crate) fn json_data(schema: &SchemaRef, payload: Json) -> Data {
    Data::Json {
        schema: Some(schema.clone()),
        payload: serde_json::value::to_raw_value(&payload).expect("raw"),
    }
}

/// Schemaless JSON data (schemas.enable=false).
pub(crate) fn schemaless(payload: Json) -> Data {
    Data::Json {
        schema: None,
        payload: serde_json::value::to_raw_value(&payload).expect("raw"),
    }
}

pub(crate) fn schema(j: Json) -> SchemaRef {
    Arc::new(Schema::from_connect_json(&j).expect("schema"))
}

/// A side's data as (schema JSON, value JSON) for assertions: JsonConverter's encoding.
pub(crate) fn as_json(data: Option<&Data>) -> (Option<Json>, Json) {
    match data {
        None => (None, Json::Null),
        Some(d) => {
            let (s, v) = d.to_value().expect("decodable");
            match s {
                Some(s) => (Some(s.to_connect_json()), crate::data::json::encode(&v, &s)),
                None => (None, v.to_json()),
            }
        }
    }
}

/// The schema'd struct data of a value side.
pub(crate) fn struct_of(data: Option<&Data>) -> (SchemaRef, Vec<Value>) {
    match data {
        Some(Data::Value {
            schema: Some(s),
            value: Value::Struct(v),
        }) => (s.clone(), v.clone()),
        other => panic!("expected a struct with a schema, got {other:?}"),
    }
}

fn row_schema() -> SchemaRef {
    schema(
        json!({"type":"struct","name":"row","optional":false,"fields":[
            {"field":"id","type":"int64","optional":false},
            {"field":"name","type":"string","optional":true},
            {"field":"price","type":"double","optional":true}
        ]}),
    )
}

#[test]
fn embedded_schemas_load_and_are_listed() {
    let plugins = catalog::plugins();
    assert_eq!(plugins.len(), 16);
    let t = transformation_classes();
    assert!(t.contains(&"org.apache.kafka.connect.transforms.InsertField$Key"));
    assert!(t.contains(&"org.apache.kafka.connect.transforms.InsertField$Value"));
    assert!(t.contains(&EXTRACT_NEW_RECORD_STATE));
    assert!(t.contains(&REGEX_ROUTER));
    assert!(t.windows(2).all(|w| w[0] < w[1]), "sorted: {t:?}");
    assert_eq!(t.len(), 8 * 2 + 5);
    assert_eq!(
        predicate_classes(),
        [HAS_HEADER_KEY, RECORD_IS_TOMBSTONE, TOPIC_NAME_MATCHES]
    );
    assert!(transform_def(TOPIC_NAME_MATCHES).is_none());
    assert!(predicate_def(TOPIC_NAME_MATCHES).is_some());
    let def = transform_def("org.apache.kafka.connect.transforms.Cast$Key").expect("cast");
    assert_eq!(def.plugin_type().as_str(), "transformation");
    let spec = def.keys().find(|k| k.name == "spec").expect("spec");
    assert!(spec.required);
}

#[test]
fn chain_reads_connect_config_in_order() {
    let config = props(&[
        ("transforms", "route, insert"),
        ("transforms.route.type", REGEX_ROUTER),
        ("transforms.route.regex", "(.*)"),
        ("transforms.route.replacement", "x_$1"),
        (
            "transforms.insert.type",
            "org.apache.kafka.connect.transforms.InsertField$Value",
        ),
        ("transforms.insert.topic.field", "t"),
    ]);
    let mut chain = TransformChain::from_config(&config).unwrap();
    assert_eq!(chain.aliases().collect::<Vec<_>>(), ["route", "insert"]);
    let r = record("orders", None, Some(schemaless(json!({"a": 1}))));
    let out = chain.apply(r).unwrap().unwrap();
    assert_eq!(&*out.topic, "x_orders");
    // InsertField ran after the router: it sees the new topic.
    assert_eq!(
        as_json(out.value.as_ref()).1,
        json!({"a": 1, "t": "x_orders"})
    );

    // Reversed order: the field holds the original topic.
    let mut config = config;
    config.insert("transforms".into(), "insert,route".into());
    let mut chain = TransformChain::from_config(&config).unwrap();
    let r = record("orders", None, Some(schemaless(json!({"a": 1}))));
    let out = chain.apply(r).unwrap().unwrap();
    assert_eq!(
        as_json(out.value.as_ref()).1,
        json!({"a": 1, "t": "orders"})
    );
    assert!(TransformChain::from_config(&props(&[])).unwrap().is_empty());
}

#[test]
fn predicates_and_negate_gate_transforms() {
    let config = props(&[
        ("transforms", "dropTombstones,onlyOrders"),
        ("transforms.dropTombstones.type", FILTER),
        ("transforms.dropTombstones.predicate", "isTombstone"),
        ("transforms.onlyOrders.type", FILTER),
        ("transforms.onlyOrders.predicate", "isOrders"),
        ("transforms.onlyOrders.negate", "true"),
        ("predicates", "isTombstone,isOrders,hasH"),
        ("predicates.isTombstone.type", RECORD_IS_TOMBSTONE),
        ("predicates.isOrders.type", TOPIC_NAME_MATCHES),
        ("predicates.isOrders.pattern", "orders|orders_v[0-9]+"),
        ("predicates.hasH.type", HAS_HEADER_KEY),
        ("predicates.hasH.name", "h"),
    ]);
    let mut chain = TransformChain::from_config(&config).unwrap();
    let v = || Some(Data::String("x".into()));
    assert!(chain.apply(record("orders", None, v())).unwrap().is_some());
    assert!(chain
        .apply(record("orders_v2", None, v()))
        .unwrap()
        .is_some());
    assert!(
        chain
            .apply(record("orders_v2x", None, v()))
            .unwrap()
            .is_none(),
        "TopicNameMatches needs the whole name to match; negated, the filter applies"
    );
    assert!(chain.apply(record("orders", None, None)).unwrap().is_none());

    let config = props(&[
        ("transforms", "f"),
        ("transforms.f.type", FILTER),
        ("transforms.f.predicate", "hasH"),
        ("predicates", "hasH"),
        ("predicates.hasH.type", HAS_HEADER_KEY),
        ("predicates.hasH.name", "h"),
    ]);
    let mut chain = TransformChain::from_config(&config).unwrap();
    let mut r = record("t", None, v());
    assert!(chain.apply(r.clone()).unwrap().is_some());
    r.headers.push(Header {
        key: "h".into(),
        value: None,
    });
    assert!(chain.apply(r).unwrap().is_none());
}

#[test]
fn chain_config_errors_name_the_alias() {
    let err = |pairs: &[(&str, &str)]| {
        TransformChain::from_config(&props(pairs))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(&[("transforms", "a"), ("transforms.a.type", "com.nope.T")]),
        "Invalid value com.nope.T for configuration transforms.a.type: Class com.nope.T could not be found."
    );
    assert_eq!(
        err(&[("transforms", "a")]),
        "Missing required configuration \"transforms.a.type\" which has no default value."
    );
    assert_eq!(
        err(&[("transforms", "a"), ("transforms.a.type", TOPIC_NAME_MATCHES)]),
        "Invalid value org.apache.kafka.connect.transforms.predicates.TopicNameMatches for configuration transforms.a.type: Class org.apache.kafka.connect.transforms.predicates.TopicNameMatches could not be found."
    );
    assert_eq!(
        err(&[
            ("transforms", "a"),
            ("transforms.a.type", FILTER),
            ("transforms.a.predicate", "p")
        ]),
        "Invalid value p for configuration transforms.a.predicate: Predicate alias p is not listed in predicates"
    );
    assert_eq!(
        err(&[("transforms", "a"), ("transforms.a.type", FILTER), ("transforms.a.negate", "true")]),
        "Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated."
    );
    let e = err(&[("transforms", "r"), ("transforms.r.type", REGEX_ROUTER)]);
    assert_eq!(
        e,
        format!("Invalid configuration of transformation 'r' ({REGEX_ROUTER}): Missing required configuration \"regex\" which has no default value.")
    );
    let e = err(&[
        ("transforms", "r"),
        ("transforms.r.type", REGEX_ROUTER),
        ("transforms.r.regex", "(a"),
        ("transforms.r.replacement", "x"),
    ]);
    assert!(
        e.contains("Invalid value (a for configuration regex: Invalid regex"),
        "{e}"
    );
    let e = err(&[
        ("transforms", "t"),
        (
            "transforms.t.type",
            "org.apache.kafka.connect.transforms.TimestampConverter$Value",
        ),
        ("transforms.t.target.type", "string"),
    ]);
    assert!(e.ends_with("TimestampConverter requires format option to be specified when using string timestamps"), "{e}");
}

#[test]
fn transform_failures_carry_the_stage_class() {
    let config = props(&[
        ("transforms", "x"),
        (
            "transforms.x.type",
            "org.apache.kafka.connect.transforms.ExtractField$Value",
        ),
        ("transforms.x.field", "nope"),
    ]);
    let mut chain = TransformChain::from_config(&config).unwrap();
    let s = row_schema();
    let r = record(
        "t",
        None,
        Some(json_data(&s, json!({"id": 1, "name": "a", "price": 1.5}))),
    );
    let e = chain.apply(r).unwrap_err();
    assert_eq!(e.alias, "x");
    assert_eq!(
        e.class,
        "org.apache.kafka.connect.transforms.ExtractField$Value"
    );
    assert_eq!(e.error.to_string(), "Unknown field: nope");
    assert_eq!(e.error.exception_class(), DATA_EXCEPTION);
}
