//! Decode throughput: Kafka bytes → Connect values → Arrow record batches, per core.
//!
//! `cargo bench --bench decode` (release build, one thread). Two Debezium-shaped inputs, 10,000
//! distinct records per iteration:
//!
//! * `schemaless`: rows after `ExtractNewRecordState` (15 columns: ints, strings, decimals as
//!   strings, µs and ISO timestamps, booleans), JsonConverter with `schemas.enable=false`, into
//!   an [`InferredBatchBuilder`];
//! * `envelope`: full Debezium envelopes (`before`/`after`/`source`/`op`/`ts_ms`, a 15-field row
//!   schema with Decimal, MicroTimestamp, ZonedTimestamp, Date, Enum), JsonConverter with
//!   `schemas.enable=true` (envelope parse + schema cache), into a [`BatchBuilder`].
//!
//! Each is measured in stages (`decode`: bytes → Value only; `convert+decode`; `…+append`:
//! through `finish()`), and criterion reports records/s and bytes/s (`Throughput::
//! ElementsAndBytes`). `BENCH_QUICK=1` shortens the measurement.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::json;
use sluice::data::arrow::{ArrowOptions, BatchBuilder, InferredBatchBuilder};
use sluice::data::converter::{Converter, JsonConverter};
use sluice::data::json::{decode, decode_schemaless};
use sluice::data::record::Data;

const RECORDS: usize = 10_000;

const STATUSES: [&str; 4] = ["pending", "paid", "shipped", "delivered"];

/// One order row's values (after-image), varied by `i`.
fn row(i: usize) -> serde_json::Value {
    let micros = 1_708_678_334_431_487i64 + i as i64 * 1_000_003;
    json!({
        "id": 1_000_000 + i,
        "customer_id": 50_000 + (i * 7919) % 100_000,
        "order_no": format!("ORD-2024-{:07}", i),
        "status": STATUSES[i % 4],
        "amount": format!("{}.{:02}", 10 + (i * 37) % 5000, i % 100),
        "currency": "EUR",
        "discount": format!("{}.{:02}", i % 20, (i * 3) % 100),
        "quantity": 1 + i % 12,
        "is_gift": i % 5 == 0,
        "is_paid": i % 3 != 0,
        "created_at": micros,
        "updated_at": format!("2024-02-23T08:{:02}:{:02}.{:06}Z", (i / 60) % 60, i % 60, (i * 431) % 1_000_000),
        "ship_date": 19776 + (i % 30),
        "note": format!("Leave the parcel at the front door and ring twice; order {i} of customer {}", (i * 7919) % 100_000),
        "email": format!("customer{}@example.com", (i * 7919) % 100_000),
    })
}

/// Schemaless unwrapped rows (ExtractNewRecordState with `add.fields=op,source.ts_ms`).
fn schemaless_rows() -> Vec<Vec<u8>> {
    (0..RECORDS)
        .map(|i| {
            let mut r = row(i);
            r["__op"] = json!(if i % 2 == 0 { "c" } else { "u" });
            r["__source_ts_ms"] = json!(1_708_678_334_500i64 + i as i64);
            r["__deleted"] = json!("false");
            serde_json::to_vec(&r).expect("JSON")
        })
        .collect()
}

fn field(name: &str, ty: &str, optional: bool) -> serde_json::Value {
    json!({"type": ty, "optional": optional, "field": name})
}

fn logical(name: &str, ty: &str, logical: &str) -> serde_json::Value {
    json!({"type": ty, "optional": true, "name": logical, "version": 1, "field": name})
}

fn row_schema(name: &str) -> serde_json::Value {
    json!({"type":"struct","optional":true,"name":"pg.public.orders.Value","field":name,"fields":[
        field("id", "int64", false),
        field("customer_id", "int64", false),
        field("order_no", "string", false),
        {"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,
         "parameters":{"allowed":"pending,paid,shipped,delivered"},"field":"status"},
        {"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,
         "parameters":{"scale":"2","connect.decimal.precision":"12"},"field":"amount"},
        field("currency", "string", true),
        {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,
         "parameters":{"scale":"2","connect.decimal.precision":"5"},"field":"discount"},
        field("quantity", "int32", false),
        field("is_gift", "boolean", true),
        field("is_paid", "boolean", true),
        logical("created_at", "int64", "io.debezium.time.MicroTimestamp"),
        logical("updated_at", "string", "io.debezium.time.ZonedTimestamp"),
        logical("ship_date", "int32", "io.debezium.time.Date"),
        field("note", "string", true),
        field("email", "string", true),
    ]})
}

fn envelope_schema() -> serde_json::Value {
    json!({"type":"struct","optional":false,"name":"pg.public.orders.Envelope","version":1,"fields":[
        row_schema("before"),
        row_schema("after"),
        {"type":"struct","optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source","fields":[
            field("version", "string", false),
            field("connector", "string", false),
            field("name", "string", false),
            field("ts_ms", "int64", false),
            {"type":"string","optional":true,"name":"io.debezium.data.Enum","version":1,
             "parameters":{"allowed":"true,last,false,incremental"},"default":"false","field":"snapshot"},
            field("db", "string", false),
            field("sequence", "string", true),
            field("ts_us", "int64", true),
            field("ts_ns", "int64", true),
            field("schema", "string", false),
            field("table", "string", false),
            field("txId", "int64", true),
            field("lsn", "int64", true),
            field("xmin", "int64", true),
        ]},
        {"type":"struct","optional":true,"name":"event.block","version":1,"field":"transaction","fields":[
            field("id", "string", false),
            field("total_order", "int64", false),
            field("data_collection_order", "int64", false),
        ]},
        field("op", "string", false),
        field("ts_ms", "int64", true),
        field("ts_us", "int64", true),
        field("ts_ns", "int64", true),
    ]})
}

/// A row's after-image in JsonConverter form (decimals as base64 unscaled bytes).
fn row_payload(i: usize) -> serde_json::Value {
    let mut r = row(i);
    let b64 = |s: &str| {
        let unscaled: i128 = s.replace('.', "").parse().expect("digits");
        let bytes =
            sluice::data::json::unscaled_to_be_bytes(arrow::datatypes::i256::from_i128(unscaled));
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
    };
    let amount = r["amount"].as_str().map(b64);
    let discount = r["discount"].as_str().map(b64);
    r["amount"] = json!(amount);
    r["discount"] = json!(discount);
    r
}

/// Full Debezium envelopes with schema: inserts and updates (REPLICA IDENTITY FULL).
fn envelope_messages() -> Vec<Vec<u8>> {
    let schema = envelope_schema();
    (0..RECORDS)
        .map(|i| {
            let update = i % 2 == 1;
            let ts = 1_708_678_334_500i64 + i as i64;
            let payload = json!({
                "before": if update { row_payload(i.saturating_sub(1)) } else { json!(null) },
                "after": row_payload(i),
                "source": {"version":"2.7.0.Final","connector":"postgresql","name":"pg","ts_ms":ts - 40,
                           "snapshot":"false","db":"shop","sequence":format!("[\"{}\",\"{}\"]", 24_023_128 + i, 24_023_200 + i),
                           "ts_us":(ts - 40) * 1000,"ts_ns":(ts - 40) * 1_000_000,"schema":"public","table":"orders",
                           "txId":555 + i,"lsn":24_023_200 + i,"xmin":null},
                "transaction": null,
                "op": if update { "u" } else { "c" },
                "ts_ms": ts, "ts_us": ts * 1000, "ts_ns": ts * 1_000_000,
            });
            serde_json::to_vec(&json!({"schema": schema, "payload": payload})).expect("JSON")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rows = schemaless_rows();
    let envelopes = envelope_messages();
    let row_bytes: usize = rows.iter().map(Vec::len).sum();
    let env_bytes: usize = envelopes.iter().map(Vec::len).sum();
    println!(
        "schemaless rows: {} records, {:.0} bytes each; envelopes: {} records, {:.0} bytes each",
        rows.len(),
        row_bytes as f64 / rows.len() as f64,
        envelopes.len(),
        env_bytes as f64 / envelopes.len() as f64
    );

    let mut g = c.benchmark_group("schemaless");
    g.throughput(Throughput::ElementsAndBytes {
        elements: rows.len() as u64,
        bytes: row_bytes as u64,
    });
    g.bench_function("decode", |b| {
        b.iter(|| {
            for r in &rows {
                let text = std::str::from_utf8(r).expect("UTF-8");
                black_box(decode_schemaless(text).expect("decodes"));
            }
        })
    });
    g.bench_function("convert+decode+append+finish", |b| {
        let mut conv = JsonConverter::new(false);
        let mut builder = InferredBatchBuilder::new(ArrowOptions::default());
        b.iter(|| {
            for r in &rows {
                // The converter decodes schemaless JSON itself (one pass).
                let data = conv.to_connect("orders", Some(r)).expect("converts");
                let Some(Data::Value { value, .. }) = data else {
                    unreachable!("decoded data")
                };
                builder.append(&value).expect("appends");
            }
            black_box(builder.finish())
        })
    });
    g.finish();

    let mut g = c.benchmark_group("envelope");
    g.throughput(Throughput::ElementsAndBytes {
        elements: envelopes.len() as u64,
        bytes: env_bytes as u64,
    });
    g.bench_function("convert", |b| {
        let mut conv = JsonConverter::new(true);
        b.iter(|| {
            for m in &envelopes {
                black_box(conv.to_connect("orders", Some(m)).expect("converts"));
            }
        })
    });
    g.bench_function("convert+decode", |b| {
        let mut conv = JsonConverter::new(true);
        b.iter(|| {
            for m in &envelopes {
                let data = conv.to_connect("orders", Some(m)).expect("converts");
                let Some(Data::Json {
                    schema: Some(schema),
                    payload,
                }) = data
                else {
                    unreachable!("JSON data with schema")
                };
                black_box(decode(payload.get(), &schema).expect("decodes"));
            }
        })
    });
    g.bench_function("convert+decode+append+finish", |b| {
        let mut conv = JsonConverter::new(true);
        let mut builder: Option<BatchBuilder> = None;
        b.iter(|| {
            for m in &envelopes {
                let data = conv.to_connect("orders", Some(m)).expect("converts");
                let Some(Data::Json {
                    schema: Some(schema),
                    payload,
                }) = data
                else {
                    unreachable!("JSON data with schema")
                };
                let v = decode(payload.get(), &schema).expect("decodes");
                // One builder per distinct schema; every message here shares one.
                let b =
                    builder.get_or_insert_with(|| BatchBuilder::new(&schema).expect("schema maps"));
                b.append(&v).expect("appends");
            }
            black_box(builder.as_mut().map(BatchBuilder::finish))
        })
    });
    g.finish();
}

fn criterion() -> Criterion {
    let quick = std::env::var_os("BENCH_QUICK").is_some();
    Criterion::default()
        .sample_size(if quick { 10 } else { 20 })
        .warm_up_time(Duration::from_secs(if quick { 1 } else { 3 }))
        .measurement_time(Duration::from_secs(if quick { 3 } else { 10 }))
}

criterion_group! {
    name = benches;
    config = criterion();
    targets = bench
}
criterion_main!(benches);
