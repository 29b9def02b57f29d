//! Round trips through the Arrow data plane: random Connect schemas and values survive
//! JSON encode → JSON decode → BatchBuilder → RecordBatch → value_at, and a JsonConverter
//! Debezium envelope goes end to end.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::array::AsArray;
use arrow::datatypes::{i256, DataType, TimeUnit, TimestampMicrosecondType};
use proptest::prelude::*;
use serde_json::json;
use sluice::data::arrow::time::{clamp_max, clamp_min, format_zoned_micros};
use sluice::data::arrow::{value_at, ArrowOptions, BatchBuilder, InferredBatchBuilder};
use sluice::data::converter::{Converter, JsonConverter};
use sluice::data::json::{decode, decode_schemaless, encode, unscaled_to_be_bytes};
use sluice::data::schema::names;
use sluice::data::{Decimal, Kind, Logical, Schema, Value};

fn named(kind: Kind, name: &str) -> Schema {
    let mut s = Schema::new(kind, false).named(name);
    s.version = Some(1);
    s
}

fn leaf() -> BoxedStrategy<Schema> {
    let plain = prop_oneof![
        Just(Kind::Int8),
        Just(Kind::Int16),
        Just(Kind::Int32),
        Just(Kind::Int64),
        Just(Kind::Float32),
        Just(Kind::Float64),
        Just(Kind::Boolean),
        Just(Kind::String),
        Just(Kind::Bytes),
    ]
    .prop_map(|k| Schema::new(k, false));
    let logical = prop_oneof![
        Just(named(Kind::Int32, names::DATE)),
        Just(named(Kind::Int32, names::DBZ_DATE)),
        Just(named(Kind::Int32, names::TIME)),
        Just(named(Kind::Int64, names::DBZ_MICRO_TIME)),
        Just(named(Kind::Int64, names::DBZ_NANO_TIME)),
        Just(named(Kind::Int64, names::TIMESTAMP)),
        Just(named(Kind::Int64, names::DBZ_TIMESTAMP)),
        Just(named(Kind::Int64, names::DBZ_MICRO_TIMESTAMP)),
        Just(named(Kind::Int64, names::DBZ_NANO_TIMESTAMP)),
        Just(named(Kind::Int64, names::DBZ_MICRO_DURATION)),
        Just(named(Kind::String, names::DBZ_ZONED_TIMESTAMP)),
        Just(named(Kind::String, names::DBZ_ZONED_TIME)),
        Just(named(Kind::String, names::DBZ_JSON)),
        Just(named(Kind::String, names::DBZ_UUID)),
        Just(named(Kind::String, names::DBZ_ENUM)),
        Just(named(Kind::Bytes, names::DBZ_BITS)),
        Just({
            let mut s = Schema::structure(
                vec![
                    ("scale", Arc::new(Schema::new(Kind::Int32, false))),
                    ("value", Arc::new(Schema::new(Kind::Bytes, false))),
                ],
                false,
            )
            .named(names::VARIABLE_SCALE_DECIMAL);
            s.version = Some(1);
            s
        }),
        // Decimal(p, s ≤ p), with and without precision; p > 38 is Decimal256.
        (1u32..=50, 0i32..=6, any::<bool>()).prop_map(|(p, s, with_p)| {
            let s = s.min(p as i32);
            let d = named(Kind::Bytes, names::DECIMAL).param("scale", &s.to_string());
            if with_p {
                d.param("connect.decimal.precision", &p.to_string())
            } else {
                d
            }
        }),
    ];
    prop_oneof![plain, logical].boxed()
}

fn with_optional(s: impl Strategy<Value = Schema>) -> impl Strategy<Value = Schema> {
    (s, any::<bool>()).prop_map(|(mut s, o)| {
        s.optional = o;
        s
    })
}

fn schema_strategy() -> impl Strategy<Value = Schema> {
    with_optional(leaf()).prop_recursive(3, 32, 4, |inner| {
        with_optional(prop_oneof![
            inner
                .clone()
                .prop_map(|s| Schema::new(Kind::Array(Arc::new(s)), false)),
            inner.clone().prop_map(|v| Schema::new(
                Kind::Map(Arc::new(Schema::new(Kind::String, false)), Arc::new(v)),
                false
            )),
            inner.clone().prop_map(|v| Schema::new(
                Kind::Map(Arc::new(Schema::new(Kind::Int32, false)), Arc::new(v)),
                false
            )),
            prop::collection::vec(inner, 1..4).prop_map(|fs| {
                let names: Vec<String> = (0..fs.len()).map(|i| format!("f{i}")).collect();
                Schema::structure(
                    names
                        .iter()
                        .zip(fs)
                        .map(|(n, s)| (n.as_str(), Arc::new(s)))
                        .collect(),
                    false,
                )
            }),
        ])
    })
}

/// Floats whose decimal text parses back exactly (few significant digits).
fn exact_float() -> impl Strategy<Value = Value> {
    any::<i16>().prop_map(|i| Value::Float(i as f64 / 256.0))
}

fn decimal_value(scale: i32, precision: u32) -> BoxedStrategy<Value> {
    let digits = precision.min(38);
    let max = 10i128.pow(digits) - 1;
    (-max..=max)
        .prop_map(move |u| {
            Value::Decimal(Decimal {
                unscaled: i256::from_i128(u),
                scale,
            })
        })
        .boxed()
}

fn value_strategy(s: &Schema) -> BoxedStrategy<Value> {
    let non_null = non_null_value(s);
    if s.optional {
        prop_oneof![1 => Just(Value::Null), 4 => non_null].boxed()
    } else {
        non_null
    }
}

fn non_null_value(s: &Schema) -> BoxedStrategy<Value> {
    let int = |r: std::ops::RangeInclusive<i64>| r.prop_map(Value::Int).boxed();
    let text = || "\\PC{0,12}".prop_map(Value::String).boxed();
    let bytes = || {
        prop::collection::vec(any::<u8>(), 0..10)
            .prop_map(Value::Bytes)
            .boxed()
    };
    if let Some(l) = s.logical() {
        match l {
            Logical::Decimal { scale, precision } => {
                return decimal_value(scale, precision.map_or(38, u32::from))
            }
            Logical::VariableScaleDecimal => {
                return (0i64..=10, any::<i128>())
                    .prop_map(|(scale, u)| {
                        Value::Struct(vec![
                            Value::Int(scale),
                            Value::Bytes(unscaled_to_be_bytes(i256::from_i128(u))),
                        ])
                    })
                    .boxed()
            }
            Logical::Date | Logical::TimeMillis => return int(i32::MIN as i64..=i32::MAX as i64),
            Logical::TimestampMillisUtc
            | Logical::TimestampMillis
            | Logical::TimestampMicros
            | Logical::TimestampNanos => {
                // Everything but the ±infinity sentinels (tested separately).
                return int(-9_000_000_000_000_000_000..=9_000_000_000_000_000_000);
            }
            Logical::ZonedTimestamp => {
                return (clamp_min(TimeUnit::Microsecond)..=clamp_max(TimeUnit::Microsecond))
                    .prop_map(|m| Value::String(format_zoned_micros(m)))
                    .boxed()
            }
            _ => {}
        }
    }
    match &s.kind {
        Kind::Int8 => int(i8::MIN as i64..=i8::MAX as i64),
        Kind::Int16 => int(i16::MIN as i64..=i16::MAX as i64),
        Kind::Int32 => int(i32::MIN as i64..=i32::MAX as i64),
        Kind::Int64 => any::<i64>().prop_map(Value::Int).boxed(),
        Kind::Float32 | Kind::Float64 => exact_float().boxed(),
        Kind::Boolean => any::<bool>().prop_map(Value::Boolean).boxed(),
        Kind::String => text(),
        Kind::Bytes => bytes(),
        Kind::Array(items) => prop::collection::vec(value_strategy(items), 0..4)
            .prop_map(Value::Array)
            .boxed(),
        // JSON objects have unique keys (serde_json may also sort them): generate them so.
        Kind::Map(k, v) if k.kind == Kind::String => {
            prop::collection::btree_map("[a-z]{0,4}", value_strategy(v), 0..4)
                .prop_map(|m: BTreeMap<String, Value>| {
                    Value::Map(m.into_iter().map(|(k, v)| (Value::String(k), v)).collect())
                })
                .boxed()
        }
        Kind::Map(k, v) => prop::collection::vec((non_null_value(k), value_strategy(v)), 0..4)
            .prop_map(Value::Map)
            .boxed(),
        Kind::Struct(fields) => fields
            .iter()
            .map(|f| value_strategy(&f.schema))
            .collect::<Vec<_>>()
            .prop_map(Value::Struct)
            .boxed(),
    }
}

fn rows_strategy() -> impl Strategy<Value = (Schema, Vec<Value>)> {
    prop::collection::vec(schema_strategy(), 1..6)
        .prop_map(|fs| {
            let names: Vec<String> = (0..fs.len()).map(|i| format!("c{i}")).collect();
            Schema::structure(
                names
                    .iter()
                    .zip(fs)
                    .map(|(n, s)| (n.as_str(), Arc::new(s)))
                    .collect(),
                false,
            )
        })
        .prop_flat_map(|s| {
            let rows = prop::collection::vec(value_strategy(&s), 1..5);
            (Just(s), rows)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn connect_values_survive_json_and_arrow((schema, rows) in rows_strategy()) {
        let mut b = BatchBuilder::new(&schema).expect("schema maps");
        for row in &rows {
            let text = encode(row, &schema).to_string();
            let decoded = decode(&text, &schema).expect("encoded JSON decodes");
            prop_assert_eq!(&decoded, row, "JSON round trip of {}", text);
            b.append(&decoded).expect("decoded row appends");
        }
        let batch = b.finish();
        prop_assert_eq!(batch.num_rows(), rows.len());
        for (i, row) in rows.iter().enumerate() {
            prop_assert_eq!(&value_at(&batch, i), row);
        }
    }

    #[test]
    fn schemaless_rows_survive_inference((schema, rows) in rows_strategy()) {
        // Schemaless JSON of the same rows: inference gives a superset schema in one batch;
        // every value reads back equal to its schemaless decoding where types allow (only
        // int → float widening changes a value's kind).
        let mut b = InferredBatchBuilder::new(ArrowOptions::default());
        let mut accepted = Vec::new();
        for row in &rows {
            let text = encode(row, &schema).to_string();
            let v = decode_schemaless(&text).expect("JSON");
            if b.append(&v).is_ok() {
                accepted.push(v);
            }
        }
        let batch = b.finish();
        prop_assert_eq!(batch.num_rows(), accepted.len());
        let root = DataType::Struct(batch.schema().fields().clone());
        for (i, v) in accepted.iter().enumerate() {
            let got = value_at(&batch, i);
            prop_assert!(same(v, &got, &root), "{:?} vs {:?}", v, got);
        }
    }
}

/// Schemaless value vs inferred column value: equal up to int → float widening; objects read
/// back as structs (by field name, fields of other rows null).
fn same(want: &Value, got: &Value, dt: &DataType) -> bool {
    match (want, got, dt) {
        (Value::Int(a), Value::Float(b), DataType::Float64) => *a as f64 == *b,
        (Value::Array(a), Value::Array(b), DataType::List(item)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same(x, y, item.data_type()))
        }
        (Value::Map(entries), Value::Struct(vals), DataType::Struct(fields)) => {
            fields.iter().zip(vals).all(|(f, g)| {
                let w = want.map_get(f.name()).cloned().unwrap_or(Value::Null);
                same(&w, g, f.data_type())
            }) && entries
                .iter()
                .all(|(k, v)| v.is_null() || k.as_str().is_some_and(|k| fields.find(k).is_some()))
        }
        (a, b, _) => a == b,
    }
}

#[test]
fn debezium_envelope_end_to_end() {
    let msg = json!({"schema":{"type":"struct","name":"pg.public.orders.Envelope","optional":false,"fields":[
        {"field":"before","type":"struct","optional":true,"name":"pg.public.orders.Value","fields":[
            {"field":"id","type":"int64","optional":false}]},
        {"field":"after","type":"struct","optional":true,"name":"pg.public.orders.Value","fields":[
            {"field":"id","type":"int64","optional":false},
            {"field":"price","type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal",
             "version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"}},
            {"field":"qty_any","type":"struct","optional":true,"name":"io.debezium.data.VariableScaleDecimal",
             "version":1,"fields":[{"field":"scale","type":"int32"},{"field":"value","type":"bytes"}]},
            {"field":"created","type":"int64","optional":true,"name":"io.debezium.time.MicroTimestamp","version":1},
            {"field":"updated","type":"string","optional":true,"name":"io.debezium.time.ZonedTimestamp","version":1},
            {"field":"day","type":"int32","optional":true,"name":"io.debezium.time.Date","version":1},
            {"field":"attrs","type":"string","optional":true,"name":"io.debezium.data.Json","version":1},
            {"field":"uid","type":"string","optional":true,"name":"io.debezium.data.Uuid","version":1}]},
        {"field":"op","type":"string","optional":false},
        {"field":"ts_ms","type":"int64","optional":true}]},
     "payload":{"before":null,"after":{"id":1,"price":"AJ8=","qty_any":{"scale":3,"value":"AeI="},
       "created":1708678334431487i64,"updated":"2024-02-23T10:52:14.431487+02:00","day":19776,
       "attrs":"{\"a\":1}","uid":"9f1c4a7e-0b8e-4a4b-9c1d-2f3e4a5b6c7d"},
       "op":"c","ts_ms":1708678334500i64}});
    let mut conv = JsonConverter::new(true);
    let data = conv
        .to_connect("t", Some(msg.to_string().as_bytes()))
        .unwrap()
        .unwrap();
    let (schema, value) = data.to_value().unwrap();
    let schema = schema.unwrap();
    let mut b = BatchBuilder::new(&schema).unwrap();
    b.append(&value).unwrap();
    let batch = b.finish();
    let after = batch.column_by_name("after").unwrap().as_struct();
    let DataType::Struct(fields) = batch.schema().field(1).data_type().clone() else {
        panic!()
    };
    let types: Vec<String> = fields.iter().map(|f| f.data_type().to_string()).collect();
    assert_eq!(
        types,
        [
            "Int64",
            "Decimal128(10, 2)",
            "Utf8",
            "Timestamp(µs)",
            "Timestamp(µs, \"UTC\")",
            "Date32",
            "Utf8",
            "Utf8"
        ]
    );
    assert_eq!(
        after
            .column_by_name("updated")
            .unwrap()
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_708_678_334_431_487
    );
    assert_eq!(
        after
            .column_by_name("qty_any")
            .unwrap()
            .as_string::<i32>()
            .value(0),
        "0.482"
    );
    assert!(batch.column_by_name("before").unwrap().is_null(0));
}
