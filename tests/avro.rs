//! `io.confluent.connect.avro.AvroConverter`: Debezium-shaped Avro written by an independent
//! encoder (fastavro fixtures in tests/data/avro, see gen_fixtures.py), framed in Confluent's
//! wire format and decoded to exact Connect values; Schema Registry errors; and the converter
//! end to end in a FileStream connector on the real broker.
//!
//! The registry is an in-process double of the Confluent Schema Registry REST API (the
//! endpoints the converter uses, with the real error bodies and basic auth), because no real
//! registry can be installed here: Confluent's is a Java distribution outside the reachable
//! package registries, and Aiven's karapace is not on PyPI. With `SCHEMA_REGISTRY_URL` set, the
//! end-to-end test uses that registry instead.

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::datatypes::i256;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use common::*;
use serde_json::{json, Value as Json};
use sluice::data::avro::{wire, RegistryClient, RegistryConfig, SchemaReference, AVRO_CONVERTER};
use sluice::data::{
    ConvertError, Converter, ConverterKind, Converters, Data, Decimal, Kind, Logical, Schema,
    SchemaRef, Value,
};

// ---------------------------------------------------------------------------------------------
// A Schema Registry double

#[derive(Default)]
struct Registry {
    /// Schema id - 1 → (schema text, schemaType, references).
    schemas: Vec<(String, Option<String>, Vec<Json>)>,
    /// Subject → ids by version - 1.
    subjects: BTreeMap<String, Vec<i32>>,
    /// Expected `Authorization` header, when auth is on.
    auth: Option<String>,
    /// Answer every request with this status (a failing registry).
    fail_with: Option<u16>,
    /// `GET /schemas/ids/{id}` calls per id.
    by_id_calls: BTreeMap<i32, usize>,
    /// `POST /subjects/{subject}` (version lookup) calls.
    lookups: usize,
}

type Shared = Arc<Mutex<Registry>>;

/// A Confluent Schema Registry double on 127.0.0.1, serving until dropped.
struct MockRegistry {
    url: String,
    state: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

fn sr_reply(status: StatusCode, body: Json) -> Response {
    (
        status,
        [("content-type", "application/vnd.schemaregistry.v1+json")],
        body.to_string(),
    )
        .into_response()
}

fn sr_error(status: StatusCode, code: i64, message: &str) -> Response {
    sr_reply(status, json!({"error_code": code, "message": message}))
}

/// Auth and failure injection, as the real registry's filters would answer.
fn gate(st: &Registry, headers: &HeaderMap) -> Option<Response> {
    if let Some(code) = st.fail_with {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return Some(sr_error(status, i64::from(code) * 100, "Injected failure"));
    }
    if let Some(expected) = &st.auth {
        let got = headers.get("authorization").and_then(|v| v.to_str().ok());
        if got != Some(expected.as_str()) {
            return Some(sr_error(StatusCode::UNAUTHORIZED, 401, "Unauthorized"));
        }
    }
    None
}

fn same_schema(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Json>(a),
        serde_json::from_str::<Json>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

fn schema_json(id: i32, (schema, ty, refs): &(String, Option<String>, Vec<Json>)) -> Json {
    let mut j = json!({"id": id, "schema": schema});
    if let Some(t) = ty {
        j["schemaType"] = json!(t);
    }
    if !refs.is_empty() {
        j["references"] = json!(refs);
    }
    j
}

async fn register(
    State(st): State<Shared>,
    UrlPath(subject): UrlPath<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut st = st.lock().unwrap();
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    let Ok(req) = serde_json::from_str::<Json>(&body) else {
        return sr_error(StatusCode::BAD_REQUEST, 400, "Unrecognized request body");
    };
    let Some(schema) = req["schema"].as_str().map(str::to_string) else {
        return sr_error(StatusCode::UNPROCESSABLE_ENTITY, 42201, "Empty schema");
    };
    let ty = req["schemaType"]
        .as_str()
        .filter(|t| *t != "AVRO")
        .map(str::to_string);
    if ty.is_none() && serde_json::from_str::<Json>(&schema).is_err() {
        return sr_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            42201,
            "Either the input schema or one of its references is invalid",
        );
    }
    let refs = req["references"].as_array().cloned().unwrap_or_default();
    let id = match st
        .schemas
        .iter()
        .position(|(s, t, r)| same_schema(s, &schema) && *t == ty && *r == refs)
    {
        Some(i) => i as i32 + 1,
        None => {
            st.schemas.push((schema, ty, refs));
            st.schemas.len() as i32
        }
    };
    let versions = st.subjects.entry(subject).or_default();
    if !versions.contains(&id) {
        versions.push(id);
    }
    sr_reply(StatusCode::OK, json!({ "id": id }))
}

async fn by_id(
    State(st): State<Shared>,
    UrlPath(id): UrlPath<i32>,
    headers: HeaderMap,
) -> Response {
    let mut st = st.lock().unwrap();
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    *st.by_id_calls.entry(id).or_default() += 1;
    match usize::try_from(id - 1).ok().and_then(|i| st.schemas.get(i)) {
        Some(s) => {
            let mut j = schema_json(id, s);
            j.as_object_mut().unwrap().remove("id");
            sr_reply(StatusCode::OK, j)
        }
        None => sr_error(
            StatusCode::NOT_FOUND,
            40403,
            &format!("Schema {id} not found"),
        ),
    }
}

async fn subject_version(
    State(st): State<Shared>,
    UrlPath((subject, version)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let st = st.lock().unwrap();
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    let Some(ids) = st.subjects.get(&subject) else {
        return sr_error(
            StatusCode::NOT_FOUND,
            40401,
            &format!("Subject '{subject}' not found."),
        );
    };
    let v = if version == "latest" {
        ids.len()
    } else {
        version.parse().unwrap_or(0)
    };
    match v.checked_sub(1).and_then(|i| ids.get(i)) {
        Some(&id) => {
            let mut j = schema_json(id, &st.schemas[id as usize - 1]);
            j["subject"] = json!(subject);
            j["version"] = json!(v);
            sr_reply(StatusCode::OK, j)
        }
        None => sr_error(
            StatusCode::NOT_FOUND,
            40402,
            &format!("Version {version} not found."),
        ),
    }
}

async fn lookup(
    State(st): State<Shared>,
    UrlPath(subject): UrlPath<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut st = st.lock().unwrap();
    if let Some(r) = gate(&st, &headers) {
        return r;
    }
    st.lookups += 1;
    let schema = serde_json::from_str::<Json>(&body)
        .ok()
        .and_then(|b| b["schema"].as_str().map(str::to_string))
        .unwrap_or_default();
    let Some(ids) = st.subjects.get(&subject) else {
        return sr_error(
            StatusCode::NOT_FOUND,
            40401,
            &format!("Subject '{subject}' not found."),
        );
    };
    for (i, &id) in ids.iter().enumerate() {
        if same_schema(&st.schemas[id as usize - 1].0, &schema) {
            let mut j = schema_json(id, &st.schemas[id as usize - 1]);
            j["subject"] = json!(subject);
            j["version"] = json!(i + 1);
            return sr_reply(StatusCode::OK, j);
        }
    }
    sr_error(StatusCode::NOT_FOUND, 40403, "Schema not found")
}

impl MockRegistry {
    fn start() -> MockRegistry {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/schemas/ids/{id}", get(by_id))
            .route("/subjects/{subject}", post(lookup))
            .route("/subjects/{subject}/versions", post(register))
            .route(
                "/subjects/{subject}/versions/{version}",
                get(subject_version),
            )
            .with_state(state.clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<SocketAddr>();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        MockRegistry {
            url: format!("http://{addr}"),
            state,
            _stop: stop,
        }
    }

    fn require_basic_auth(&self, user: &str, password: &str) {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.state.lock().unwrap().auth = Some(format!("Basic {token}"));
    }

    fn fail_with(&self, status: Option<u16>) {
        self.state.lock().unwrap().fail_with = status;
    }

    fn by_id_calls(&self, id: i32) -> usize {
        self.state
            .lock()
            .unwrap()
            .by_id_calls
            .get(&id)
            .copied()
            .unwrap_or(0)
    }

    fn lookups(&self) -> usize {
        self.state.lock().unwrap().lookups
    }
}

// ---------------------------------------------------------------------------------------------
// helpers

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/avro")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Registers a schema through Sluice's own client (so `register` is exercised too).
fn register_schema(
    url: &str,
    subject: &str,
    schema: &str,
    ty: Option<&str>,
    refs: &[SchemaReference],
) -> i32 {
    let client = RegistryClient::new(&RegistryConfig::new(vec![url.to_string()])).unwrap();
    block(client.register(subject, schema, ty, refs)).expect("register")
}

fn converter(kind: ConverterKind, props: &[(&str, &str)]) -> Box<dyn Converter> {
    let p: BTreeMap<String, String> = props
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Converters::build(AVRO_CONVERTER, &p, kind).expect("converter")
}

fn value_of(d: Option<Data>) -> (SchemaRef, Value) {
    match d {
        Some(Data::Value {
            schema: Some(s),
            value,
        }) => (s, value),
        other => panic!("expected a value with a schema, got {other:?}"),
    }
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn i(x: i64) -> Value {
    Value::Int(x)
}

fn dec(unscaled: i128, scale: i32) -> Value {
    Value::Decimal(Decimal {
        unscaled: i256::from_i128(unscaled),
        scale,
    })
}

fn field<'a>(schema: &'a Schema, name: &str) -> &'a Schema {
    &schema
        .field(name)
        .unwrap_or_else(|| panic!("no field {name}"))
        .schema
}

const UID: &str = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";

fn row_inserted() -> Value {
    Value::Struct(vec![
        i(1),
        i(42),
        dec(12345, 2),
        i(1_700_000_000_123_456),
        i(19700),
        s("2023-11-14T22:13:20.123456Z"),
        s(UID),
        s(r#"{"gift": true}"#),
        s("paid"),
        Value::Array(vec![s("a"), Value::Null, s("b")]),
        i(3),
        Value::Struct(vec![i(3), Value::Bytes(vec![0x01, 0xe2, 0x40])]),
    ])
}

fn row_updated() -> Value {
    Value::Struct(vec![
        i(1),
        i(42),
        dec(-5, 2),
        i(1_700_000_000_123_456),
        Value::Null,
        Value::Null,
        s(UID),
        Value::Null,
        s("shipped"),
        Value::Array(vec![]),
        i(3),
        Value::Null,
    ])
}

fn source(ts_ms: i64, lsn: i64) -> Value {
    Value::Struct(vec![
        s("2.7.3.Final"),
        s("postgresql"),
        s("pg"),
        i(ts_ms),
        // Written as null in the update: the schema default "false" is taken.
        s("false"),
        s("inventory"),
        s(r#"["24023928","24023928"]"#),
        s("public"),
        s("orders"),
        i(767),
        i(lsn),
        Value::Null,
    ])
}

// ---------------------------------------------------------------------------------------------
// tests

#[test]
fn debezium_postgres_envelope_decodes_to_exact_values() {
    let reg = MockRegistry::start();
    let key_id = register_schema(
        &reg.url,
        "pg.public.orders-key",
        &fixture_text("orders-key.avsc"),
        None,
        &[],
    );
    let value_id = register_schema(
        &reg.url,
        "pg.public.orders-value",
        &fixture_text("orders-envelope.avsc"),
        None,
        &[],
    );
    let props = [("schema.registry.url", reg.url.as_str())];
    let mut values = converter(ConverterKind::Value, &props);
    let mut keys = converter(ConverterKind::Key, &props);
    let topic = "pg.public.orders";

    let (key_schema, key) = value_of(
        keys.to_connect(
            topic,
            Some(&wire::frame(key_id, &fixture("orders-key-0.bin"))),
        )
        .unwrap(),
    );
    assert_eq!(key, Value::Struct(vec![i(1)]));
    assert_eq!(key_schema.name.as_deref(), Some("pg.public.orders.Key"));
    // No connect.version: the version comes from the registry (subject pg.public.orders-key).
    assert_eq!(key_schema.version, Some(1));

    let expected = [
        Value::Struct(vec![
            Value::Null,
            row_inserted(),
            source(1_700_000_000_000, 24_023_928),
            Value::Null,
            s("c"),
            i(1_700_000_000_456),
            i(1_700_000_000_456_789),
        ]),
        Value::Struct(vec![
            row_inserted(),
            row_updated(),
            source(1_700_000_001_000, 24_024_000),
            Value::Struct(vec![s("767:24024000"), i(2), i(1)]),
            s("u"),
            i(1_700_000_001_456),
            Value::Null,
        ]),
        Value::Struct(vec![
            row_updated(),
            Value::Null,
            source(1_700_000_002_000, 24_025_000),
            Value::Null,
            s("d"),
            i(1_700_000_002_456),
            Value::Null,
        ]),
    ];
    let mut schemas = Vec::new();
    for (n, want) in expected.iter().enumerate() {
        let bytes = wire::frame(value_id, &fixture(&format!("orders-envelope-{n}.bin")));
        let (schema, got) = value_of(values.to_connect(topic, Some(&bytes)).unwrap());
        assert_eq!(&got, want, "record {n}");
        schemas.push(schema);
    }
    // A tombstone is a null value.
    assert_eq!(values.to_connect(topic, None).unwrap(), None);
    // One registry fetch and one version lookup per schema id, one shared Connect schema.
    assert_eq!(reg.by_id_calls(value_id), 1);
    assert_eq!(reg.lookups(), 2);
    assert!(schemas.iter().all(|x| Arc::ptr_eq(x, &schemas[0])));

    let env = &schemas[0];
    assert_eq!(env.name.as_deref(), Some("pg.public.orders.Envelope"));
    assert_eq!(env.version, Some(1));
    let names: Vec<&str> = env.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "before",
            "after",
            "source",
            "transaction",
            "op",
            "ts_ms",
            "ts_us"
        ]
    );
    let after = field(env, "after");
    assert!(after.optional);
    assert_eq!(after.name.as_deref(), Some("pg.public.orders.Value"));
    assert_eq!(field(env, "before"), after);
    assert_eq!(
        field(after, "total").logical(),
        Some(Logical::Decimal {
            scale: 2,
            precision: Some(10)
        })
    );
    assert!(field(after, "total").optional);
    let created = field(after, "created_at");
    assert_eq!(created.logical(), Some(Logical::TimestampMicros));
    assert!(!created.optional);
    assert_eq!(created.version, Some(1));
    assert_eq!(field(after, "ship_date").logical(), Some(Logical::Date));
    assert_eq!(
        field(after, "updated_at").logical(),
        Some(Logical::ZonedTimestamp)
    );
    assert_eq!(field(after, "uid").logical(), Some(Logical::Uuid));
    assert_eq!(field(after, "attrs").logical(), Some(Logical::Json));
    let status = field(after, "status");
    assert_eq!(status.logical(), Some(Logical::Enum));
    assert_eq!(status.parameters["allowed"], "new,paid,shipped");
    assert_eq!(field(after, "qty").kind, Kind::Int16);
    let var = field(after, "price_var");
    assert_eq!(var.logical(), Some(Logical::VariableScaleDecimal));
    assert_eq!(var.doc.as_deref(), Some("Variable scaled decimal"));
    let Kind::Array(items) = &field(after, "tags").kind else {
        panic!("tags")
    };
    assert!(items.optional);
    let snapshot = field(field(env, "source"), "snapshot");
    assert!(snapshot.optional);
    assert_eq!(snapshot.default, Some(json!("false")));
    assert_eq!(
        field(env, "transaction").name.as_deref(),
        Some("event.block")
    );
    // The Connect schema is a valid JsonConverter schema (what sinks and the DLQ print).
    assert_eq!(
        Schema::from_connect_json(&env.to_connect_json()).unwrap(),
        **env
    );
}

#[test]
fn every_avro_type_maps_as_avrodata_does() {
    let reg = MockRegistry::start();
    let id = register_schema(
        &reg.url,
        "everything-value",
        &fixture_text("everything.avsc"),
        None,
        &[],
    );
    let mut c = converter(ConverterKind::Value, &[("schema.registry.url", &reg.url)]);
    let decode = |c: &mut Box<dyn Converter>, n: usize| {
        let bytes = wire::frame(id, &fixture(&format!("everything-{n}.bin")));
        value_of(c.to_connect("everything", Some(&bytes)).unwrap())
    };
    let (schema, v0) = decode(&mut c, 0);
    let (_, v1) = decode(&mut c, 1);
    assert_eq!(
        v0,
        Value::Struct(vec![
            Value::Boolean(true),
            i(-2_147_483_648),
            i(9_007_199_254_740_993),
            Value::Float(1.5),
            Value::Float(-0.1),
            s("héllo ✓"),
            Value::Bytes(vec![0, 255, 16]),
            Value::Bytes(vec![1, 2, 3, 4]),
            s("CLUBS"),
            Value::Array((-2..300).map(i).collect()),
            Value::Map(vec![(s("k1"), s("v1")), (s("k2"), s(""))]),
            Value::Struct(vec![Value::Null, i(77), Value::Null]),
            dec(-123_456_789, 4),
            i(19782),
            i(47_655_678),
            i(86_399_999_999),
            i(1_709_208_000_123),
            i(-1),
            s("123e4567-e89b-12d3-a456-426614174000"),
            Value::Struct(vec![i(5)]),
            Value::Struct(vec![i(6)]),
            i(-3),
        ])
    );
    assert_eq!(
        v1,
        Value::Struct(vec![
            Value::Boolean(false),
            i(0),
            i(-1),
            Value::Float(-0.0),
            Value::Float(1e300),
            s(""),
            Value::Bytes(vec![]),
            Value::Bytes(vec![255; 4]),
            s("SPADES"),
            Value::Array(vec![]),
            Value::Map(vec![]),
            Value::Struct(vec![
                Value::Null,
                Value::Null,
                Value::Bytes(vec![9, 8, 7, 6])
            ]),
            dec(1, 4),
            i(0),
            i(0),
            i(1),
            i(0),
            i(2_147_483_648_000_000),
            s("00000000-0000-0000-0000-000000000000"),
            Value::Struct(vec![i(-1)]),
            Value::Null,
            i(127),
        ])
    );
    assert_eq!(schema.name.as_deref(), Some("com.example.Everything"));
    assert_eq!(
        schema.parameters["io.confluent.connect.avro.record.doc"],
        "all Avro types"
    );
    assert_eq!(
        schema.parameters["io.confluent.connect.avro.field.doc.s"],
        "a string"
    );
    let u = field(&schema, "u");
    assert_eq!(u.name.as_deref(), Some("io.confluent.connect.avro.Union"));
    let branches: Vec<&str> = u.fields().iter().map(|f| f.name.as_str()).collect();
    assert_eq!(branches, ["string", "long", "Md5"]);
    let e = field(&schema, "e");
    assert_eq!(e.kind, Kind::String);
    assert_eq!(
        e.parameters["io.confluent.connect.avro.Enum"],
        "com.example.Suit"
    );
    assert_eq!(field(&schema, "fx").parameters["connect.fixed.size"], "4");
    assert_eq!(
        field(&schema, "dec_fixed").logical(),
        Some(Logical::Decimal {
            scale: 4,
            precision: Some(18)
        })
    );
    assert_eq!(field(&schema, "date").logical(), Some(Logical::Date));
    assert_eq!(
        field(&schema, "tmillis").logical(),
        Some(Logical::TimeMillis)
    );
    assert_eq!(
        field(&schema, "tsmillis").logical(),
        Some(Logical::TimestampMillisUtc)
    );
    // AvroData gives the micros types and uuid no Connect name.
    for plain in ["tmicros", "tsmicros", "uuid"] {
        assert_eq!(field(&schema, plain).name, None, "{plain}");
    }
    let small = field(&schema, "small");
    assert_eq!(small.kind, Kind::Int8);
    assert_eq!(small.default, Some(json!(7)));
    assert_eq!(
        small.parameters["io.confluent.connect.avro.field.default"],
        "true"
    );
}

#[test]
fn registry_errors_are_clear_and_classified() {
    let reg = MockRegistry::start();
    let id = register_schema(&reg.url, "t-value", r#""string""#, None, &[]);
    let hello = wire::frame(id, &[0x0a, b'h', b'e', b'l', b'l', b'o']);

    // Unknown id: a poison record naming the id, the URL and the registry's answer.
    let mut c = converter(ConverterKind::Value, &[("schema.registry.url", &reg.url)]);
    let e = c.to_connect("t", Some(&wire::frame(999, b""))).unwrap_err();
    assert!(matches!(e, ConvertError::Data(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!("Failed to fetch Avro schema id 999 for topic t: schema id 999 not found in the Schema Registry at {}: Schema 999 not found (error code 40403)", reg.url)
    );
    // Remembered for a while: the next record with that id does not ask again.
    assert!(c.to_connect("t", Some(&wire::frame(999, b""))).is_err());
    assert_eq!(reg.by_id_calls(999), 1);

    // Registry down: retriable, naming every URL tried.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let mut down = converter(ConverterKind::Value, &[("schema.registry.url", &dead)]);
    let e = down.to_connect("t", Some(&hello)).unwrap_err();
    assert!(matches!(e, ConvertError::Retriable(_)), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "Failed to fetch Avro schema id {id} for topic t: the Schema Registry is unreachable for schema id {id} (tried {dead})"
        )),
        "{msg}"
    );
    assert!(msg.to_lowercase().contains("connect"), "{msg}");

    // Fail-over: a dead first URL, a live second one.
    let both = format!("{dead},{}", reg.url);
    let mut c = converter(ConverterKind::Value, &[("schema.registry.url", &both)]);
    let (_, v) = value_of(c.to_connect("t", Some(&hello)).unwrap());
    assert_eq!(v, s("hello"));

    // A failing registry (503) is retriable too.
    reg.fail_with(Some(503));
    let mut c = converter(ConverterKind::Value, &[("schema.registry.url", &reg.url)]);
    let e = c.to_connect("t", Some(&hello)).unwrap_err();
    assert!(matches!(e, ConvertError::Retriable(_)), "{e:?}");
    assert!(e.to_string().contains("HTTP 503"), "{e}");
    reg.fail_with(None);

    // Basic auth: missing or wrong credentials are a configuration error, right ones work.
    reg.require_basic_auth("sr-user", "s3cret");
    let mut c = converter(ConverterKind::Value, &[("schema.registry.url", &reg.url)]);
    let e = c.to_connect("t", Some(&hello)).unwrap_err();
    assert!(matches!(e, ConvertError::Config(_)), "{e:?}");
    assert!(e.to_string().contains("HTTP 401: Unauthorized"), "{e}");
    assert!(e.to_string().contains("basic.auth.user.info"), "{e}");
    let mut c = converter(
        ConverterKind::Value,
        &[
            ("schema.registry.url", &reg.url),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "sr-user:wrong"),
        ],
    );
    assert!(matches!(
        c.to_connect("t", Some(&hello)).unwrap_err(),
        ConvertError::Config(_)
    ));
    let mut c = converter(
        ConverterKind::Value,
        &[
            ("schema.registry.url", &reg.url),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("schema.registry.basic.auth.user.info", "sr-user:s3cret"),
        ],
    );
    assert_eq!(
        value_of(c.to_connect("t", Some(&hello)).unwrap()).1,
        s("hello")
    );
    let with_creds = reg.url.replace("http://", "http://sr-user:s3cret@");
    let mut c = converter(
        ConverterKind::Value,
        &[("schema.registry.url", &with_creds)],
    );
    assert_eq!(
        value_of(c.to_connect("t", Some(&hello)).unwrap()).1,
        s("hello")
    );
}

#[test]
fn poison_records_have_clear_messages() {
    let reg = MockRegistry::start();
    let id = register_schema(
        &reg.url,
        "p-value",
        r#"{"type":"record","name":"P","fields":[{"name":"a","type":"long"},{"name":"b","type":{"type":"array","items":"string"}}]}"#,
        None,
        &[],
    );
    let mut c = converter(ConverterKind::Value, &[("schema.registry.url", &reg.url)]);

    let e = c.to_connect("p", Some(br#"{"a":1}"#)).unwrap_err();
    assert!(matches!(e, ConvertError::Data(_)));
    assert_eq!(
        e.to_string(),
        "Failed to deserialize data for topic p to Avro: Unknown magic byte 0x7b: the Confluent wire format starts with 0x00, a 4-byte schema id, then the Avro data (this looks like JSON: is the producer using JsonConverter?)"
    );
    // a = 1, then an array block of 1 string whose length runs past the end.
    let e = c
        .to_connect("p", Some(&wire::frame(id, &[0x02, 0x02, 0x20, b'x'])))
        .unwrap_err();
    assert!(matches!(e, ConvertError::Data(_)));
    assert_eq!(
        e.to_string(),
        format!("Failed to deserialize data for topic p to Avro (schema id {id}): string length 16 exceeds the 1 bytes left at $.b[0] (byte 2)")
    );

    // A Protobuf schema id under the Avro converter.
    let proto = register_schema(
        &reg.url,
        "proto-value",
        "syntax = \"proto3\"; message M { int32 a = 1; }",
        Some("PROTOBUF"),
        &[],
    );
    let e = c
        .to_connect("p", Some(&wire::frame(proto, &[0])))
        .unwrap_err();
    assert!(matches!(e, ConvertError::Data(_)));
    assert!(
        e.to_string().contains("is a PROTOBUF schema, not Avro"),
        "{e}"
    );
}

#[test]
fn schema_references_and_async_callers() {
    let reg = MockRegistry::start();
    register_schema(
        &reg.url,
        "color",
        r#"{"type":"enum","name":"com.x.Color","symbols":["RED","GREEN"]}"#,
        None,
        &[],
    );
    let refs = [SchemaReference {
        name: "com.x.Color".into(),
        subject: "color".into(),
        version: 1,
    }];
    let id = register_schema(
        &reg.url,
        "cars-value",
        r#"{"type":"record","name":"com.x.Car","fields":[{"name":"c","type":"Color"},{"name":"o","type":["null","Color"]}]}"#,
        None,
        &refs,
    );
    let url = reg.url.clone();
    // Converters are called on task threads; one called from async code must work too.
    block(async move {
        let mut c = converter(ConverterKind::Value, &[("schema.registry.url", &url)]);
        let (schema, v) = value_of(
            c.to_connect("cars", Some(&wire::frame(id, &[2, 0])))
                .unwrap(),
        );
        assert_eq!(v, Value::Struct(vec![s("GREEN"), Value::Null]));
        assert_eq!(field(&schema, "c").name.as_deref(), Some("com.x.Color"));
    });
}

#[test]
fn avro_converter_is_a_listed_and_valid_converter_but_no_header_converter() {
    let plugins = sluice::connectors::Plugins::builtin();
    let listed: Vec<(String, String)> = plugins
        .list(false)
        .into_iter()
        .map(|p| (p.class, p.plugin_type))
        .collect();
    assert!(listed.contains(&(AVRO_CONVERTER.to_string(), "converter".to_string())));
    assert!(!listed.contains(&(AVRO_CONVERTER.to_string(), "header_converter".to_string())));

    let worker = sluice::worker::WorkerConfig::from_raw(BTreeMap::new()).unwrap();
    let errors = |extra: &[(&str, &str)]| {
        let mut config: BTreeMap<String, String> = [
            ("connector.class", "FileStreamSink"),
            ("name", "a"),
            ("topics", "t"),
        ]
        .iter()
        .chain(extra)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        config.insert("tasks.max".into(), "1".into());
        let infos = sluice::herder::validate::validate(&plugins, &worker, None, &config).unwrap();
        infos
            .configs
            .iter()
            .filter_map(|c| c.value.as_ref())
            .filter(|v| !v.errors.is_empty())
            .map(|v| v.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        errors(&[
            ("key.converter", AVRO_CONVERTER),
            ("value.converter", AVRO_CONVERTER)
        ]),
        Vec::<String>::new()
    );
    assert_eq!(
        errors(&[("header.converter", AVRO_CONVERTER)]),
        ["header.converter"]
    );
    // Building it as a header converter says why.
    let e = Converters::build(
        AVRO_CONVERTER,
        &[("schema.registry.url".to_string(), "http://r".to_string())].into(),
        ConverterKind::Header,
    )
    .err()
    .unwrap();
    assert_eq!(
        e.to_string(),
        "io.confluent.connect.avro.AvroConverter is not a HeaderConverter"
    );
}

/// End to end: Debezium-shaped Avro records through a FileStream connector with
/// `value.converter=io.confluent.connect.avro.AvroConverter` on the real broker, with a poison
/// record routed past by `errors.tolerance=all`.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn file_sink_with_avro_converter_on_a_real_broker() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    // A real registry when one is configured, else the double.
    let double;
    let registry_url = match std::env::var("SCHEMA_REGISTRY_URL") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            double = tokio::task::spawn_blocking(MockRegistry::start)
                .await
                .unwrap();
            double.url.clone()
        }
    };
    let topic = unique("avro");
    let client = RegistryClient::new(&RegistryConfig::new(vec![registry_url.clone()])).unwrap();
    let id = client
        .register(
            &format!("{topic}-value"),
            &fixture_text("orders-envelope.avsc"),
            None,
            &[],
        )
        .await
        .expect("register");
    create_topic(&bootstrap, &topic, 1).await;
    let mut records: Vec<Outgoing> = (0..3)
        .map(|n| {
            (
                Some(format!("k{n}")),
                Some(wire::frame(
                    id,
                    &fixture(&format!("orders-envelope-{n}.bin")),
                )),
                Some(0),
            )
        })
        .collect();
    records.push((
        Some("poison".into()),
        Some(br#"{"not":"avro"}"#.to_vec()),
        Some(0),
    ));
    records.push((Some("k1".into()), None, Some(0)));
    produce(&bootstrap, &topic, records).await;

    let dir = tempfile::tempdir().unwrap();
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    let name = unique("avro-sink");
    api.create(
        &name,
        &file_sink(
            &topic,
            &out,
            &[
                ("value.converter", AVRO_CONVERTER),
                ("value.converter.schema.registry.url", &registry_url),
                ("errors.tolerance", "all"),
            ],
        ),
    )
    .await;
    api.wait_tasks(&name, 1, "RUNNING").await;
    let got = wait_until("4 lines in the sink file", Duration::from_secs(90), || {
        let out = out.clone();
        async move {
            let l = lines(&out);
            (l.len() >= 4).then_some(l)
        }
    })
    .await;
    assert_eq!(got.len(), 4, "{got:?}");
    // FileStream prints a decoded value as JsonConverter JSON with numeric decimals.
    let ops: Vec<Json> = got[..3]
        .iter()
        .map(|l| serde_json::from_str::<Json>(l).expect("JSON line")["op"].clone())
        .collect();
    assert_eq!(ops, [json!("c"), json!("u"), json!("d")]);
    let first: Json = serde_json::from_str(&got[0]).unwrap();
    assert_eq!(
        first["after"]["total"],
        json!(123.45),
        "decimal total: {}",
        got[0]
    );
    assert_eq!(
        first["after"]["created_at"],
        json!(1_700_000_000_123_456_i64)
    );
    assert_eq!(got[3], "null", "tombstone");
    let status = api.get(&format!("/connectors/{name}/status")).await;
    assert_eq!(
        status.body["tasks"][0]["state"], "RUNNING",
        "{}",
        status.text
    );
    w.stop().await;
}

/// A Schema Registry outage stalls the task (retrying) instead of sending good records to the
/// DLQ or skipping them; when the registry is back, every record is delivered.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn registry_outage_is_retried_not_skipped() {
    let Some(bootstrap) = kafka_bootstrap() else {
        return;
    };
    let registry = tokio::task::spawn_blocking(MockRegistry::start)
        .await
        .unwrap();
    let topic = unique("avro-outage");
    let client = RegistryClient::new(&RegistryConfig::new(vec![registry.url.clone()])).unwrap();
    let id = client
        .register(
            &format!("{topic}-value"),
            &fixture_text("orders-envelope.avsc"),
            None,
            &[],
        )
        .await
        .expect("register");
    create_topic(&bootstrap, &topic, 1).await;
    let records: Vec<Outgoing> = (0..3)
        .map(|n| {
            let payload = wire::frame(id, &fixture(&format!("orders-envelope-{n}.bin")));
            (Some(format!("k{n}")), Some(payload), Some(0))
        })
        .collect();
    produce(&bootstrap, &topic, records).await;
    registry.fail_with(Some(503));

    let dir = tempfile::tempdir().unwrap();
    let w = TestWorker::start(&bootstrap, dir.path(), &[]).await;
    let api = Api::new(&w.url);
    let out = dir.path().join("out.txt");
    let name = unique("avro-outage-sink");
    let dlq = unique("avro-outage-dlq");
    let config = file_sink(
        &topic,
        &out,
        &[
            ("value.converter", AVRO_CONVERTER),
            ("value.converter.schema.registry.url", &registry.url),
            ("errors.tolerance", "all"),
            ("errors.deadletterqueue.topic.name", &dlq),
            ("errors.deadletterqueue.topic.replication.factor", "1"),
        ],
    );
    api.create(&name, &config).await;
    wait_until("partition assigned", Duration::from_secs(60), || async {
        let r = api
            .get(&format!("/connectors/{name}/tasks/0/offsets"))
            .await;
        (r.body["partitions"].as_array()?.len() == 1).then_some(())
    })
    .await;
    // Absence over a window: the records are on the broker, the registry answers 503.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        lines(&out).is_empty(),
        "nothing is written while the registry is down"
    );
    let st = api.get(&format!("/connectors/{name}/status")).await;
    assert_eq!(st.body["tasks"][0]["state"], "RUNNING", "{}", st.text);

    registry.fail_with(None);
    let got = wait_until(
        "3 records after the registry is back",
        Duration::from_secs(90),
        || {
            let out = out.clone();
            async move {
                let l = lines(&out);
                (l.len() >= 3).then_some(l)
            }
        },
    )
    .await;
    assert_eq!(got.len(), 3, "{got:?}");
    let group = format!("connect-{name}");
    wait_until("3 offsets committed", Duration::from_secs(30), || {
        let (b, g, t) = (bootstrap.clone(), group.clone(), topic.clone());
        async move {
            let c = tokio::task::spawn_blocking(move || committed(&b, &g, &t, 1)[0])
                .await
                .unwrap();
            (c == Some(3)).then_some(())
        }
    })
    .await;
    w.stop().await;
}
