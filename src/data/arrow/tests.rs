//! Unit tests: every row of the type table, the policies, errors, rollback and inference.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Decimal128Array, Decimal256Array,
    ListArray, MapArray, StringArray, StructArray,
};
use arrow::datatypes::{
    i256, DataType, Date32Type, DurationMicrosecondType, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType,
};
use arrow::record_batch::RecordBatch;
use serde_json::{json, Value as Json};

use super::time::{clamp_max, clamp_min, NEGATIVE_INFINITY, POSITIVE_INFINITY};
use super::*;
use crate::data::json::{decode, decode_schemaless};
use crate::data::schema::Schema;
use crate::data::value::{Decimal, Value};

fn schema(j: Json) -> Schema {
    Schema::from_connect_json(&j).expect("valid schema")
}

fn row_schema(fields: Json) -> Schema {
    schema(json!({"type":"struct","optional":false,"name":"t.Value","fields":fields}))
}

/// JSON payloads with a schema → decode → builder → batch.
fn build(s: &Schema, opts: ArrowOptions, payloads: &[Json]) -> RecordBatch {
    let mut b = BatchBuilder::with_options(s, opts).expect("schema maps");
    for p in payloads {
        let v = decode(&p.to_string(), s).expect("payload decodes");
        b.append(&v).expect("row appends");
    }
    let batch = b.finish();
    assert_eq!(batch.num_rows(), payloads.len());
    batch
}

fn col<'a>(batch: &'a RecordBatch, name: &str) -> &'a ArrayRef {
    batch.column_by_name(name).expect("column exists")
}

fn one(field: Json, value: Json) -> (RecordBatch, DataType) {
    one_with(field, value, ArrowOptions::default())
}

fn one_with(mut field: Json, value: Json, opts: ArrowOptions) -> (RecordBatch, DataType) {
    field["field"] = json!("c");
    let s = row_schema(json!([field]));
    let batch = build(&s, opts, &[json!({ "c": value })]);
    let dt = batch.schema().field(0).data_type().clone();
    (batch, dt)
}

fn append_err(s: &Schema, opts: ArrowOptions, payload: Json) -> AppendError {
    let mut b = BatchBuilder::with_options(s, opts).expect("schema maps");
    let v = decode(&payload.to_string(), s).expect("payload decodes");
    let e = b.append(&v).expect_err("append must fail");
    assert_eq!(b.len(), 0);
    e
}

#[test]
fn primitive_types() {
    let s = row_schema(json!([
        {"field":"i8","type":"int8","optional":false},
        {"field":"i16","type":"int16","optional":false},
        {"field":"i32","type":"int32","optional":false},
        {"field":"i64","type":"int64","optional":false},
        {"field":"f32","type":"float","optional":false},
        {"field":"f64","type":"double","optional":false},
        {"field":"b","type":"boolean","optional":false},
        {"field":"s","type":"string","optional":false},
        {"field":"y","type":"bytes","optional":false},
        {"field":"n","type":"int64","optional":true}
    ]));
    let batch = build(
        &s,
        ArrowOptions::default(),
        &[
            json!({"i8":-128,"i16":32767,"i32":-2147483648i64,"i64":9223372036854775807i64,
               "f32":1.5,"f64":-0.1,"b":true,"s":"héllo","y":"AQL/","n":null}),
            json!({"i8":1,"i16":2,"i32":3,"i64":4,"f32":0,"f64":1e300,"b":false,"s":"","y":"","n":7}),
        ],
    );
    let sch = batch.schema();
    let types: Vec<_> = sch.fields().iter().map(|f| f.data_type().clone()).collect();
    assert_eq!(
        types,
        vec![
            DataType::Int8,
            DataType::Int16,
            DataType::Int32,
            DataType::Int64,
            DataType::Float32,
            DataType::Float64,
            DataType::Boolean,
            DataType::Utf8,
            DataType::Binary,
            DataType::Int64
        ]
    );
    assert!(!sch.field(0).is_nullable());
    assert!(sch.field(9).is_nullable());
    assert_eq!(
        col(&batch, "i8").as_primitive::<Int8Type>().values(),
        &[-128, 1]
    );
    assert_eq!(
        col(&batch, "i16").as_primitive::<Int16Type>().values(),
        &[32767, 2]
    );
    assert_eq!(
        col(&batch, "i32").as_primitive::<Int32Type>().values(),
        &[i32::MIN, 3]
    );
    assert_eq!(
        col(&batch, "i64").as_primitive::<Int64Type>().values(),
        &[i64::MAX, 4]
    );
    assert_eq!(
        col(&batch, "f32").as_primitive::<Float32Type>().values(),
        &[1.5, 0.0]
    );
    assert_eq!(
        col(&batch, "f64").as_primitive::<Float64Type>().values(),
        &[-0.1, 1e300]
    );
    let b = col(&batch, "b")
        .as_any()
        .downcast_ref::<BooleanArray>()
        .unwrap();
    assert!(b.value(0) && !b.value(1));
    let st = col(&batch, "s")
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!((st.value(0), st.value(1)), ("héllo", ""));
    let y = col(&batch, "y")
        .as_any()
        .downcast_ref::<BinaryArray>()
        .unwrap();
    assert_eq!((y.value(0), y.value(1)), (&[1u8, 2, 255][..], &[][..]));
    let n = col(&batch, "n").as_primitive::<Int64Type>();
    assert!(n.is_null(0));
    assert_eq!(n.value(1), 7);
    assert_eq!(n.null_count(), 1);
}

const DECIMAL: &str = "org.apache.kafka.connect.data.Decimal";

#[test]
fn decimals_are_exact() {
    // 1.59 → unscaled 159 → 0x009F → "AJ8=".
    let (b, dt) = one(
        json!({"type":"bytes","optional":true,"name":DECIMAL,"version":1,
               "parameters":{"scale":"2","connect.decimal.precision":"10"}}),
        json!("AJ8="),
    );
    assert_eq!(dt, DataType::Decimal128(10, 2));
    let a = b
        .column(0)
        .as_any()
        .downcast_ref::<Decimal128Array>()
        .unwrap();
    assert_eq!(a.value(0), 159);
    assert_eq!(a.value_as_string(0), "1.59");
    let f = b.schema().field(0).clone();
    assert_eq!(
        f.metadata().get("connect.name").map(String::as_str),
        Some(DECIMAL)
    );
    assert_eq!(
        f.metadata()
            .get("connect.parameters.scale")
            .map(String::as_str),
        Some("2")
    );
    assert_eq!(
        f.metadata()
            .get("connect.parameters.connect.decimal.precision")
            .map(String::as_str),
        Some("10")
    );
    assert_eq!(
        f.metadata().get("connect.version").map(String::as_str),
        Some("1")
    );

    // No precision: Decimal128(38, s); negative values.
    let (b, dt) = one(
        json!({"type":"bytes","name":DECIMAL,"parameters":{"scale":"3"}}),
        json!("/w=="),
    );
    assert_eq!(dt, DataType::Decimal128(38, 3));
    assert_eq!(
        b.column(0)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap()
            .value(0),
        -1
    );

    // p > 38: Decimal256.
    let big = i256::from_string("12345678901234567890123456789012345678901234").unwrap();
    let b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        crate::data::json::unscaled_to_be_bytes(big),
    );
    let (b, dt) = one(
        json!({"type":"bytes","name":DECIMAL,"parameters":{"scale":"4","connect.decimal.precision":"50"}}),
        json!(b64),
    );
    assert_eq!(dt, DataType::Decimal256(50, 4));
    assert_eq!(
        b.column(0)
            .as_any()
            .downcast_ref::<Decimal256Array>()
            .unwrap()
            .value(0),
        big
    );

    // p > 76: exact text.
    let (b, dt) = one(
        json!({"type":"bytes","name":DECIMAL,"parameters":{"scale":"2","connect.decimal.precision":"100"}}),
        json!("AJ8="),
    );
    assert_eq!(dt, DataType::Utf8);
    assert_eq!(b.column(0).as_string::<i32>().value(0), "1.59");

    // NUMERIC(3,5): Arrow needs scale ≤ precision.
    let (b, dt) = one(
        json!({"type":"bytes","name":DECIMAL,"parameters":{"scale":"5","connect.decimal.precision":"3"}}),
        json!("AHs="),
    );
    assert_eq!(dt, DataType::Decimal128(5, 5));
    assert_eq!(
        b.column(0)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap()
            .value(0),
        123
    );

    // decimal.format=NUMERIC payloads decode to the same value.
    let (b, _) = one(
        json!({"type":"bytes","name":DECIMAL,"parameters":{"scale":"2","connect.decimal.precision":"10"}}),
        json!(1.59),
    );
    assert_eq!(
        b.column(0)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap()
            .value(0),
        159
    );

    let bad = arrow_field(
        "x",
        &schema(json!({"type":"bytes","name":DECIMAL,"parameters":{"scale":"2","connect.decimal.precision":"x"}})),
    )
    .unwrap_err();
    assert!(
        matches!(bad.kind, MappingErrorKind::DecimalPrecision(_)),
        "{bad}"
    );
}

const VSD: &str = "io.debezium.data.VariableScaleDecimal";

fn vsd_field() -> Json {
    json!({"type":"struct","optional":true,"name":VSD,"version":1,"fields":[
        {"field":"scale","type":"int32","optional":false},
        {"field":"value","type":"bytes","optional":false}]})
}

#[test]
fn variable_scale_decimal_policies() {
    // Default: exact text with the value's scale.
    let (b, dt) = one(vsd_field(), json!({"scale":3,"value":"AeI="}));
    assert_eq!(dt, DataType::Utf8);
    assert_eq!(b.column(0).as_string::<i32>().value(0), "0.482");
    assert_eq!(
        b.schema()
            .field(0)
            .metadata()
            .get("connect.name")
            .map(String::as_str),
        Some(VSD)
    );
    // Beyond i256 still exact as text: 2^256 − 1 with scale 2.
    let mut bytes = vec![0u8];
    bytes.extend([0xff; 32]);
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &bytes);
    let (b, _) = one(vsd_field(), json!({"scale":2,"value":b64}));
    assert_eq!(
        b.column(0).as_string::<i32>().value(0),
        "1157920892373161954235709850086879078532699846656405640394575840079131296399.35"
    );

    // Typed: Decimal128(38, 5), rescaled exactly.
    let typed = ArrowOptions {
        variable_scale_decimal: VariableScaleDecimalPolicy::Decimal128 { scale: 5 },
        ..ArrowOptions::default()
    };
    let (b, dt) = one_with(
        vsd_field(),
        json!({"scale":3,"value":"AeI="}),
        typed.clone(),
    );
    assert_eq!(dt, DataType::Decimal128(38, 5));
    assert_eq!(
        b.column(0)
            .as_any()
            .downcast_ref::<Decimal128Array>()
            .unwrap()
            .value(0),
        48_200
    );
    // More fractional digits than the fixed scale: an error, not rounding.
    let mut f = vsd_field();
    f["field"] = json!("q");
    let s = row_schema(json!([f]));
    let e = append_err(&s, typed.clone(), json!({"q":{"scale":7,"value":"AeI="}}));
    assert_eq!(e.path, "$.q");
    assert!(
        matches!(e.kind, AppendErrorKind::DecimalScale { scale: 5, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "$.q: decimal 0.0000482 has more fractional digits than scale 5"
    );
    // Beyond 38 digits: an error.
    let e = append_err(&s, typed, json!({"q":{"scale":0,"value":b64}}));
    assert!(matches!(e.kind, AppendErrorKind::DecimalTooLong(33)), "{e}");
}

#[test]
fn temporal_types() {
    let cases: Vec<(&str, &str, Json, DataType)> = vec![
        (
            "int32",
            "org.apache.kafka.connect.data.Date",
            json!(19776),
            DataType::Date32,
        ),
        (
            "int32",
            "io.debezium.time.Date",
            json!(19776),
            DataType::Date32,
        ),
        (
            "int32",
            "org.apache.kafka.connect.data.Time",
            json!(3_600_000),
            DataType::Time32(TimeUnit::Millisecond),
        ),
        (
            "int32",
            "io.debezium.time.Time",
            json!(3_600_001),
            DataType::Time32(TimeUnit::Millisecond),
        ),
        (
            "int64",
            "io.debezium.time.MicroTime",
            json!(86_400_000_000i64),
            DataType::Time64(TimeUnit::Microsecond),
        ),
        (
            "int64",
            "io.debezium.time.NanoTime",
            json!(1_000_000_001i64),
            DataType::Time64(TimeUnit::Nanosecond),
        ),
        (
            "int64",
            "org.apache.kafka.connect.data.Timestamp",
            json!(1_708_678_334_431i64),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        ),
        (
            "int64",
            "io.debezium.time.Timestamp",
            json!(1_708_678_334_431i64),
            DataType::Timestamp(TimeUnit::Millisecond, None),
        ),
        (
            "int64",
            "io.debezium.time.MicroTimestamp",
            json!(1_708_678_334_431_487i64),
            DataType::Timestamp(TimeUnit::Microsecond, None),
        ),
        (
            "int64",
            "io.debezium.time.NanoTimestamp",
            json!(1_708_678_334_431_487_123i64),
            DataType::Timestamp(TimeUnit::Nanosecond, None),
        ),
        (
            "int64",
            "io.debezium.time.MicroDuration",
            json!(-3_600_000_000i64),
            DataType::Duration(TimeUnit::Microsecond),
        ),
    ];
    for (ty, name, v, expected) in cases {
        let (b, dt) = one(
            json!({"type":ty,"optional":true,"name":name,"version":1}),
            v.clone(),
        );
        assert_eq!(dt, expected, "{name}");
        let a = b.column(0);
        let got: i64 = match &dt {
            DataType::Date32 => a.as_primitive::<Date32Type>().value(0) as i64,
            DataType::Time32(_) => a.as_primitive::<Time32MillisecondType>().value(0) as i64,
            DataType::Time64(TimeUnit::Microsecond) => {
                a.as_primitive::<Time64MicrosecondType>().value(0)
            }
            DataType::Time64(_) => a.as_primitive::<Time64NanosecondType>().value(0),
            DataType::Timestamp(TimeUnit::Millisecond, _) => {
                a.as_primitive::<TimestampMillisecondType>().value(0)
            }
            DataType::Timestamp(TimeUnit::Microsecond, _) => {
                a.as_primitive::<TimestampMicrosecondType>().value(0)
            }
            DataType::Timestamp(_, _) => a.as_primitive::<TimestampNanosecondType>().value(0),
            DataType::Duration(_) => a.as_primitive::<DurationMicrosecondType>().value(0),
            other => panic!("{other}"),
        };
        assert_eq!(Some(got), v.as_i64(), "{name}");
        assert_eq!(
            b.schema()
                .field(0)
                .metadata()
                .get("connect.name")
                .map(String::as_str),
            Some(name)
        );
    }
}

const ZONED: &str = "io.debezium.time.ZonedTimestamp";

#[test]
fn zoned_timestamps_normalise_to_utc_micros() {
    let f = json!({"field":"z","type":"string","optional":true,"name":ZONED,"version":1});
    let s = row_schema(json!([f]));
    let batch = build(
        &s,
        ArrowOptions::default(),
        &[
            json!({"z":"2024-02-23T08:52:14.431487Z"}),
            json!({"z":"2024-02-23T10:52:14.431487+02:00"}),
            json!({"z":null}),
            json!({"z":"2024-02-23T08:52:14.4314879Z"}),
        ],
    );
    assert_eq!(
        batch.schema().field(0).data_type(),
        &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
    );
    let a = batch.column(0).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(a.value(0), 1_708_678_334_431_487);
    assert_eq!(a.value(1), 1_708_678_334_431_487);
    assert!(a.is_null(2));
    assert_eq!(a.value(3), 1_708_678_334_431_487, "sub-µs digits truncated");
    let strict = ArrowOptions {
        sub_micros: SubMicrosPolicy::Error,
        ..ArrowOptions::default()
    };
    let e = append_err(&s, strict, json!({"z":"2024-02-23T08:52:14.4314879Z"}));
    assert!(matches!(e.kind, AppendErrorKind::SubMicros(_)), "{e}");

    let e = append_err(&s, ArrowOptions::default(), json!({"z":"2024-02-23 08:52"}));
    assert_eq!(e.path, "$.z");
    assert!(
        e.to_string()
            .starts_with("$.z: invalid ZonedTimestamp '2024-02-23 08:52'"),
        "{e}"
    );
}

#[test]
fn string_logical_types_and_bits() {
    for (name, v) in [
        ("io.debezium.time.ZonedTime", "10:52:14.431487+02:00"),
        ("io.debezium.data.Json", "{\"a\":1}"),
        (
            "io.debezium.data.Uuid",
            "9f1c4a7e-0b8e-4a4b-9c1d-2f3e4a5b6c7d",
        ),
        ("io.debezium.data.Enum", "shipped"),
        ("io.debezium.data.Xml", "<a/>"),
    ] {
        let (b, dt) = one(
            json!({"type":"string","optional":true,"name":name}),
            json!(v),
        );
        assert_eq!(dt, DataType::Utf8, "{name}");
        assert_eq!(b.column(0).as_string::<i32>().value(0), v);
    }
    let (b, dt) = one(
        json!({"type":"bytes","name":"io.debezium.data.Bits","parameters":{"length":"3"}}),
        json!("BQ=="),
    );
    assert_eq!(dt, DataType::Binary);
    assert_eq!(b.column(0).as_binary::<i32>().value(0), &[5]);
    // A logical name on the wrong physical type maps by the physical type.
    let (_, dt) = one(
        json!({"type":"string","name":"io.debezium.time.MicroTimestamp"}),
        json!("x"),
    );
    assert_eq!(dt, DataType::Utf8);
}

#[test]
fn nested_struct_array_map() {
    let s = row_schema(json!([
        {"field":"tags","type":"array","optional":true,"items":{"type":"string","optional":true}},
        {"field":"ids","type":"array","optional":false,"items":{"type":"int32","optional":false}},
        {"field":"attrs","type":"map","optional":true,
         "keys":{"type":"string","optional":false},"values":{"type":"double","optional":true}},
        {"field":"codes","type":"map","optional":true,
         "keys":{"type":"int32","optional":false},"values":{"type":"string","optional":false}},
        {"field":"addr","type":"struct","optional":true,"fields":[
            {"field":"city","type":"string","optional":false},
            {"field":"geo","type":"struct","optional":true,"fields":[
                {"field":"lat","type":"double","optional":false}]}]}
    ]));
    let batch = build(
        &s,
        ArrowOptions::default(),
        &[
            json!({"tags":["a",null],"ids":[1,2,3],"attrs":{"x":1.5,"y":null},"codes":[[1,"one"]],
                   "addr":{"city":"Oslo","geo":{"lat":59.9}}}),
            json!({"tags":null,"ids":[],"attrs":null,"codes":null,"addr":null}),
            json!({"tags":[],"ids":[4],"attrs":{},"codes":[],"addr":{"city":"Rome","geo":null}}),
        ],
    );
    let sch = batch.schema();
    let DataType::List(item) = sch.field(0).data_type() else {
        panic!()
    };
    assert!(item.is_nullable() && item.data_type() == &DataType::Utf8);
    let DataType::List(item) = sch.field(1).data_type() else {
        panic!()
    };
    assert!(!item.is_nullable());
    let DataType::Map(entries, false) = sch.field(2).data_type() else {
        panic!()
    };
    let DataType::Struct(kv) = entries.data_type() else {
        panic!()
    };
    assert_eq!(
        (kv[0].name().as_str(), kv[1].name().as_str()),
        ("key", "value")
    );
    assert!(!kv[0].is_nullable() && kv[1].is_nullable());

    let tags = col(&batch, "tags")
        .as_any()
        .downcast_ref::<ListArray>()
        .unwrap();
    let t0 = tags.value(0);
    let t0 = t0.as_string::<i32>();
    assert_eq!((t0.value(0), t0.is_null(1)), ("a", true));
    assert!(tags.is_null(1));
    assert_eq!(tags.value(2).len(), 0);
    let ids = col(&batch, "ids")
        .as_any()
        .downcast_ref::<ListArray>()
        .unwrap();
    assert_eq!(
        ids.value(0).as_primitive::<Int32Type>().values(),
        &[1, 2, 3]
    );
    assert_eq!(ids.value(1).len(), 0);
    let attrs = col(&batch, "attrs")
        .as_any()
        .downcast_ref::<MapArray>()
        .unwrap();
    let e0 = attrs.value(0);
    assert_eq!(e0.column(0).as_string::<i32>().value(1), "y");
    assert_eq!(e0.column(1).as_primitive::<Float64Type>().value(0), 1.5);
    assert!(e0.column(1).is_null(1));
    assert!(attrs.is_null(1));
    let codes = col(&batch, "codes")
        .as_any()
        .downcast_ref::<MapArray>()
        .unwrap();
    assert_eq!(
        codes
            .value(0)
            .column(0)
            .as_primitive::<Int32Type>()
            .value(0),
        1
    );
    let addr = col(&batch, "addr")
        .as_any()
        .downcast_ref::<StructArray>()
        .unwrap();
    assert!(addr.is_null(1));
    assert_eq!(addr.column(0).as_string::<i32>().value(2), "Rome");
    let geo = addr
        .column(1)
        .as_any()
        .downcast_ref::<StructArray>()
        .unwrap();
    assert_eq!(geo.column(0).as_primitive::<Float64Type>().value(0), 59.9);
    assert!(geo.is_null(2));

    // Reading back gives the decoded values.
    for (i, p) in [
        json!({"tags":["a",null],"ids":[1,2,3],"attrs":{"x":1.5,"y":null},"codes":[[1,"one"]],
               "addr":{"city":"Oslo","geo":{"lat":59.9}}}),
        json!({"tags":null,"ids":[],"attrs":null,"codes":null,"addr":null}),
    ]
    .iter()
    .enumerate()
    {
        assert_eq!(value_at(&batch, i), decode(&p.to_string(), &s).unwrap());
    }
}

#[test]
fn infinity_policies() {
    for (name, unit) in [
        ("io.debezium.time.Timestamp", TimeUnit::Millisecond),
        ("io.debezium.time.MicroTimestamp", TimeUnit::Microsecond),
        ("io.debezium.time.NanoTimestamp", TimeUnit::Nanosecond),
        (
            "org.apache.kafka.connect.data.Timestamp",
            TimeUnit::Millisecond,
        ),
    ] {
        let s = row_schema(json!([{"field":"t","type":"int64","optional":true,"name":name}]));
        let b = build(
            &s,
            ArrowOptions::default(),
            &[
                json!({"t":POSITIVE_INFINITY}),
                json!({"t":NEGATIVE_INFINITY}),
            ],
        );
        let v = |i| value_at(&b, i);
        assert_eq!(
            v(0),
            Value::Struct(vec![Value::Int(clamp_max(unit))]),
            "{name}"
        );
        assert_eq!(
            v(1),
            Value::Struct(vec![Value::Int(clamp_min(unit))]),
            "{name}"
        );
        let null = ArrowOptions {
            infinity: InfinityPolicy::Null,
            ..ArrowOptions::default()
        };
        let b = build(&s, null, &[json!({"t":POSITIVE_INFINITY})]);
        assert!(b.column(0).is_null(0));
        let err = ArrowOptions {
            infinity: InfinityPolicy::Error,
            ..ArrowOptions::default()
        };
        let e = append_err(&s, err, json!({"t":NEGATIVE_INFINITY}));
        assert_eq!(
            e.to_string(),
            "$.t: -infinity timestamp is not allowed by the infinity policy"
        );
    }
    // 9999-12-31T23:59:59.999 in ms, i64::MAX in ns.
    assert_eq!(clamp_max(TimeUnit::Millisecond), 253_402_300_799_999);
    assert_eq!(clamp_min(TimeUnit::Millisecond), -62_135_596_800_000);
    assert_eq!(clamp_min(TimeUnit::Nanosecond), i64::MIN + 1);

    let s = row_schema(json!([{"field":"z","type":"string","optional":false,"name":ZONED}]));
    let b = build(
        &s,
        ArrowOptions::default(),
        &[json!({"z":"infinity"}), json!({"z":"-infinity"})],
    );
    let a = b.column(0).as_primitive::<TimestampMicrosecondType>();
    assert_eq!(
        a.value_as_datetime(0).unwrap().to_string(),
        "9999-12-31 23:59:59.999999"
    );
    assert_eq!(
        a.value_as_datetime(1).unwrap().to_string(),
        "0001-01-01 00:00:00"
    );
    // Null policy in a required column: an error, not a wrong value.
    let null = ArrowOptions {
        infinity: InfinityPolicy::Null,
        ..ArrowOptions::default()
    };
    let e = append_err(&s, null, json!({"z":"infinity"}));
    assert!(
        matches!(e.kind, AppendErrorKind::Infinity("+infinity")),
        "{e}"
    );
}

#[test]
fn toast_placeholder_policies() {
    let s = row_schema(json!([
        {"field":"doc","type":"string","optional":true,"name":"io.debezium.data.Json"},
        {"field":"blob","type":"bytes","optional":true},
        {"field":"at","type":"string","optional":true,"name":ZONED}
    ]));
    let placeholder_b64 = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        TOAST_PLACEHOLDER,
    );
    let row = json!({"doc":TOAST_PLACEHOLDER,"blob":placeholder_b64,"at":null});
    // Keep: verbatim in Utf8 and Binary.
    let b = build(&s, ArrowOptions::default(), std::slice::from_ref(&row));
    assert_eq!(
        col(&b, "doc").as_string::<i32>().value(0),
        TOAST_PLACEHOLDER
    );
    assert_eq!(
        col(&b, "blob").as_binary::<i32>().value(0),
        TOAST_PLACEHOLDER.as_bytes()
    );
    // ...but an error in a typed column.
    let typed = json!({"at":TOAST_PLACEHOLDER});
    let e = append_err(&s, ArrowOptions::default(), typed.clone());
    assert_eq!(e.path, "$.at");
    assert!(matches!(e.kind, AppendErrorKind::Toast(_)), "{e}");
    // Null: null everywhere.
    let null = ArrowOptions {
        toast: ToastPolicy::Null,
        ..ArrowOptions::default()
    };
    let b = build(&s, null.clone(), &[row.clone(), typed]);
    assert!(col(&b, "doc").is_null(0) && col(&b, "blob").is_null(0) && col(&b, "at").is_null(1));
    // Error: everywhere.
    let err = ArrowOptions {
        toast: ToastPolicy::Error,
        ..ArrowOptions::default()
    };
    let e = append_err(&s, err, row);
    assert_eq!(e.path, "$.doc");
    // Null policy in a required column is an error.
    let req = row_schema(json!([{"field":"t","type":"string","optional":false}]));
    let e = append_err(&req, null, json!({"t":TOAST_PLACEHOLDER}));
    assert!(matches!(e.kind, AppendErrorKind::NullInRequired(_)), "{e}");
}

fn envelope_schema() -> Schema {
    let row = json!({"type":"struct","optional":true,"name":"pg.public.orders.Value","fields":[
        {"field":"id","type":"int64","optional":false},
        {"field":"price","type":"bytes","optional":true,"name":DECIMAL,"version":1,
         "parameters":{"scale":"2","connect.decimal.precision":"5"}},
        {"field":"updated","type":"string","optional":true,"name":ZONED,"version":1},
        {"field":"qty","type":"int16","optional":true}]});
    let mut before = row.clone();
    before["field"] = json!("before");
    let mut after = row;
    after["field"] = json!("after");
    schema(
        json!({"type":"struct","optional":false,"name":"pg.public.orders.Envelope","fields":[
        before, after,
        {"field":"op","type":"string","optional":false},
        {"field":"ts_ms","type":"int64","optional":true}]}),
    )
}

#[test]
fn errors_name_the_field_path() {
    let s = envelope_schema();
    // 1234.56 does not fit NUMERIC(5,2). 123456 = 0x01E240.
    let e = append_err(
        &s,
        ArrowOptions::default(),
        json!({"before":null,"after":{"id":1,"price":"AeJA"},"op":"c"}),
    );
    assert_eq!(
        e.to_string(),
        "$.after.price: decimal 1234.56 exceeds precision 5"
    );
    // Invalid ZonedTimestamp text.
    let e = append_err(
        &s,
        ArrowOptions::default(),
        json!({"after":{"id":1,"updated":"yesterday"},"op":"c"}),
    );
    assert_eq!(e.path, "$.after.updated");
    // Wrong base64 and wrong JSON kinds are decode errors naming the path.
    let d = decode(r#"{"after":{"id":1,"price":"%%%"},"op":"c"}"#, &s).unwrap_err();
    assert!(
        d.message.contains("$.after.price") && d.message.contains("base64"),
        "{d}"
    );
    let d = decode(r#"{"after":{"id":"x"},"op":"c"}"#, &s).unwrap_err();
    assert!(d.message.contains("$.after.id"), "{d}");

    // Values built in code (transforms, Avro) are checked by the builder itself.
    let mut b = BatchBuilder::new(&s).unwrap();
    let row = |id: Value, qty: Value| {
        Value::Struct(vec![
            Value::Null,
            Value::Struct(vec![id, Value::Null, Value::Null, qty]),
            Value::String("c".into()),
            Value::Null,
        ])
    };
    let e = b
        .append(&row(Value::String("1".into()), Value::Null))
        .unwrap_err();
    assert_eq!(e.to_string(), "$.after.id: expected Int64 but found string");
    let e = b
        .append(&row(Value::Int(1), Value::Int(40_000)))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "$.after.qty: 40000 is out of range for Int16"
    );
    let e = b.append(&row(Value::Null, Value::Null)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "$.after.id: null value for required Int64 column"
    );
    let e = b.append(&Value::Struct(vec![Value::Null])).unwrap_err();
    assert!(matches!(
        e.kind,
        AppendErrorKind::StructArity {
            expected: 4,
            found: 1
        }
    ));
    let e = b.append(&Value::Int(3)).unwrap_err();
    assert_eq!(e.path, "$");
    let e = b.append_null_row().unwrap_err();
    assert_eq!(e.path, "$.op");
    assert_eq!(b.len(), 0);

    // A float column takes integers only when exact.
    let f = row_schema(json!([{"field":"f","type":"double","optional":false}]));
    let mut b = BatchBuilder::new(&f).unwrap();
    b.append(&Value::Struct(vec![Value::Int(1 << 53)])).unwrap();
    let e = b
        .append(&Value::Struct(vec![Value::Int((1 << 53) + 1)]))
        .unwrap_err();
    assert!(
        matches!(e.kind, AppendErrorKind::InexactFloat { .. }),
        "{e}"
    );
    // Null map keys are rejected.
    let m = row_schema(json!([{"field":"m","type":"map","optional":false,
        "keys":{"type":"string","optional":true},"values":{"type":"int32","optional":true}}]));
    let mut b = BatchBuilder::new(&m).unwrap();
    let e = b
        .append(&Value::Struct(vec![Value::Map(vec![(
            Value::Null,
            Value::Int(1),
        )])]))
        .unwrap_err();
    assert_eq!(e.to_string(), "$.m[0]: null map key");
}

#[test]
fn failed_append_leaves_no_partial_row() {
    let s = row_schema(json!([
        {"field":"id","type":"int64","optional":false},
        {"field":"name","type":"string","optional":true},
        {"field":"items","type":"array","optional":true,"items":{"type":"struct","optional":false,"fields":[
            {"field":"sku","type":"string","optional":false},
            {"field":"tags","type":"array","optional":true,"items":{"type":"string","optional":true}},
            {"field":"price","type":"bytes","optional":false,"name":DECIMAL,
             "parameters":{"scale":"2","connect.decimal.precision":"4"}}]}},
        {"field":"m","type":"map","optional":true,"keys":{"type":"string","optional":false},
         "values":{"type":"int32","optional":true}}
    ]));
    let good = |id: i64| json!({"id":id,"name":format!("n{id}"),"items":[{"sku":"a","tags":["x","y"],"price":"AJ8="}],"m":{"k":id}});
    let mut b = BatchBuilder::new(&s).unwrap();
    let v = |j: Json| decode(&j.to_string(), &s).unwrap();
    b.append(&v(good(1))).unwrap();
    let before = b.estimated_bytes();
    // Fails deep inside the second list element, after strings, a nested list and a map were
    // partly appended: 99.99 fits, 100.00 does not.
    let bad = json!({"id":2,"name":"partial","items":[
        {"sku":"b","tags":["p","q","r"],"price":"Jw8="},
        {"sku":"c","tags":["s"],"price":"JxA="}],"m":{"k":2}});
    let e = b.append(&v(bad)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "$.items[1].price: decimal 100.00 exceeds precision 4"
    );
    assert_eq!(b.len(), 1);
    assert_eq!(b.estimated_bytes(), before);
    b.append(&v(good(3))).unwrap();
    let batch = b.finish();
    assert_eq!(batch.num_rows(), 2);
    assert_eq!(value_at(&batch, 0), v(good(1)));
    assert_eq!(value_at(&batch, 1), v(good(3)));
    // The builder is reusable after finish.
    assert!(b.is_empty());
    b.append(&v(good(4))).unwrap();
    let batch = b.finish();
    assert_eq!(value_at(&batch, 0), v(good(4)));
    assert!(b.estimated_bytes() < 64);
}

#[test]
fn null_rows_and_objects_by_name() {
    let s = row_schema(json!([
        {"field":"a","type":"int64","optional":true},
        {"field":"b","type":"string","optional":true}
    ]));
    let mut b = BatchBuilder::new(&s).unwrap();
    b.append_null_row().unwrap();
    b.append(&Value::Null).unwrap();
    // Schemaless-shaped objects go in by field name.
    b.append(&decode_schemaless(r#"{"b":"x","a":5}"#).unwrap())
        .unwrap();
    b.append(&decode_schemaless(r#"{"b":"y"}"#).unwrap())
        .unwrap();
    let e = b
        .append(&decode_schemaless(r#"{"a":1,"zz":2}"#).unwrap())
        .unwrap_err();
    assert_eq!(e.to_string(), "$: field \"zz\" is not in the schema");
    let e = b
        .append(&decode_schemaless(r#"{"a":1,"a":2}"#).unwrap())
        .unwrap_err();
    assert!(matches!(e.kind, AppendErrorKind::DuplicateField(_)), "{e}");
    let batch = b.finish();
    assert_eq!(batch.num_rows(), 4);
    let a = col(&batch, "a").as_primitive::<Int64Type>();
    assert!(a.is_null(0) && a.is_null(1) && a.is_null(3));
    assert_eq!(a.value(2), 5);
    assert_eq!(col(&batch, "b").as_string::<i32>().value(3), "y");
    // A schema with no fields still counts rows.
    let empty = row_schema(json!([]));
    let mut b = BatchBuilder::new(&empty).unwrap();
    b.append(&Value::Struct(vec![])).unwrap();
    assert_eq!(b.finish().num_rows(), 1);
}

#[test]
fn arrow_schema_carries_connect_metadata() {
    let s = envelope_schema();
    let a = arrow_schema(&s).unwrap();
    assert_eq!(
        a.metadata().get("connect.name").map(String::as_str),
        Some("pg.public.orders.Envelope")
    );
    let DataType::Struct(after) = a.field_with_name("after").unwrap().data_type() else {
        panic!()
    };
    let price = after.find("price").unwrap().1;
    assert_eq!(price.data_type(), &DataType::Decimal128(5, 2));
    assert!(price.is_nullable());
    let e = arrow_schema(&schema(json!({"type":"int32"}))).unwrap_err();
    assert!(matches!(e.kind, MappingErrorKind::NotAStruct("int32")));
}

fn inferred_rows(rows: &[&str]) -> (RecordBatch, InferredBatchBuilder) {
    let mut b = InferredBatchBuilder::new(ArrowOptions::default());
    for r in rows {
        b.append(&decode_schemaless(r).unwrap()).unwrap();
    }
    (b.finish(), b)
}

#[test]
fn inference_widens_mid_batch() {
    let (batch, b) = inferred_rows(&[
        r#"{"a":1}"#,
        r#"{"a":2.5,"b":"x"}"#,
        r#"{"a":null,"c":{"d":true}}"#,
    ]);
    let sch = batch.schema();
    assert_eq!(sch.fields().len(), 3);
    assert_eq!(sch.field(0).name(), "a");
    assert_eq!(sch.field(0).data_type(), &DataType::Float64);
    assert_eq!(sch.field(1).name(), "b");
    assert_eq!(sch.field(1).data_type(), &DataType::Utf8);
    assert_eq!(sch.field(2).name(), "c");
    let DataType::Struct(c) = sch.field(2).data_type() else {
        panic!()
    };
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].name(), "d");
    assert_eq!(c[0].data_type(), &DataType::Boolean);
    assert!(sch.fields().iter().all(|f| f.is_nullable()));

    let a = col(&batch, "a").as_primitive::<Float64Type>();
    assert_eq!((a.value(0), a.value(1), a.is_null(2)), (1.0, 2.5, true));
    let bcol = col(&batch, "b").as_string::<i32>();
    assert_eq!(
        (bcol.is_null(0), bcol.value(1), bcol.is_null(2)),
        (true, "x", true)
    );
    let ccol = col(&batch, "c")
        .as_any()
        .downcast_ref::<StructArray>()
        .unwrap();
    assert!(ccol.is_null(0) && ccol.is_null(1) && !ccol.is_null(2));
    assert!(ccol.column(0).as_boolean().value(2));

    // The inferred Connect schema matches.
    let cs = b.inferred().schema();
    assert_eq!(arrow_schema(&cs).unwrap().fields(), sch.fields());
}

#[test]
fn inference_rules() {
    // Nested structs take the union of their fields; lists widen their element type; a
    // null-only field gets its column (at the end) when typed.
    let (batch, b) = inferred_rows(&[
        r#"{"id":1,"n":null,"o":{"x":1},"l":[1,2]}"#,
        r#"{"id":2,"o":{"y":"s"},"l":[1.5,null],"e":[]}"#,
        r#"{"id":3,"n":"now","o":{"x":2.5,"z":{"deep":[true]}},"e":[[1]]}"#,
    ]);
    let names: Vec<_> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["id", "o", "l", "e", "n"]);
    let rows: Vec<Json> = (0..3).map(|i| value_at(&batch, i).to_json()).collect();
    assert_eq!(
        rows[0],
        json!([1, [1.0, null, null], [1.0, 2.0], null, null])
    );
    assert_eq!(
        rows[1],
        json!([2, [null, "s", null], [1.5, null], [], null])
    );
    assert_eq!(
        rows[2],
        json!([3, [2.5, null, [[true]]], null, [[1]], "now"])
    );
    let DataType::List(e_item) = batch.schema().field(3).data_type().clone() else {
        panic!()
    };
    assert_eq!(
        e_item.data_type(),
        &DataType::List(Arc::new(arrow::datatypes::Field::new(
            "item",
            DataType::Int64,
            true
        )))
    );

    // The schema carries over to the next batch; conflicts are errors naming the field and
    // change nothing.
    let mut b = b;
    let e = b
        .append(&decode_schemaless(r#"{"id":"four"}"#).unwrap())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "$.id: string conflicts with the inferred type int64"
    );
    let e = b
        .append(&decode_schemaless(r#"{"id":4,"o":{"z":{"deep":[1]}}}"#).unwrap())
        .unwrap_err();
    assert_eq!(e.path, "$.o.z.deep[0]");
    let e = b
        .append(&decode_schemaless(r#"{"o":[1]}"#).unwrap())
        .unwrap_err();
    assert!(matches!(e.kind, AppendErrorKind::TypeConflict { .. }));
    let e = b.append(&decode_schemaless("[1]").unwrap()).unwrap_err();
    assert_eq!(e.path, "$");
    assert!(b.is_empty());
    b.append(&decode_schemaless(r#"{"id":4}"#).unwrap())
        .unwrap();
    let batch = b.finish();
    assert_eq!(batch.num_columns(), 5);
    assert_eq!(
        value_at(&batch, 0).to_json(),
        json!([4, null, null, null, null])
    );

    // Int → Float only when every integer stays exact.
    let mut b = InferredBatchBuilder::new(ArrowOptions::default());
    b.append(&decode_schemaless(r#"{"v":9007199254740993}"#).unwrap())
        .unwrap();
    let e = b
        .append(&decode_schemaless(r#"{"v":0.5}"#).unwrap())
        .unwrap_err();
    assert!(
        matches!(
            e.kind,
            AppendErrorKind::InexactFloat {
                value: 9007199254740993,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(
        b.schema().field(0).data_type(),
        &DataType::Int64,
        "schema unchanged"
    );
    b.append(&decode_schemaless(r#"{"v":2}"#).unwrap()).unwrap();
    assert_eq!(b.len(), 2);

    // InferredSchema on its own.
    let mut s = InferredSchema::new();
    assert!(s
        .observe(&decode_schemaless(r#"{"a":1}"#).unwrap())
        .unwrap());
    assert!(!s
        .observe(&decode_schemaless(r#"{"a":2,"b":null}"#).unwrap())
        .unwrap());
    assert!(s
        .observe(&decode_schemaless(r#"{"a":2.0}"#).unwrap())
        .unwrap());
    assert!(s
        .observe(&decode_schemaless(r#"{"a":true}"#).unwrap())
        .is_err());
    let cs = s.schema();
    assert_eq!(cs.fields().len(), 1);
    assert_eq!(
        s.arrow_schema(&ArrowOptions::default())
            .unwrap()
            .field(0)
            .data_type(),
        &DataType::Float64
    );
}

#[test]
fn inferred_struct_gains_children_inside_lists() {
    let (batch, _) = inferred_rows(&[
        r#"{"l":[{"a":1}]}"#,
        r#"{"l":[{"a":2,"b":"x"},{"b":"y"}]}"#,
        r#"{"l":null}"#,
    ]);
    assert_eq!(
        (0..3)
            .map(|i| value_at(&batch, i).to_json())
            .collect::<Vec<_>>(),
        vec![
            json!([[[1, null]]]),
            json!([[[2, "x"], [null, "y"]]]),
            json!([null])
        ]
    );
}

#[test]
fn value_at_reads_logical_forms_back() {
    let s = row_schema(json!([
        {"field":"z","type":"string","optional":true,"name":ZONED},
        {"field":"q","type":"struct","optional":true,"name":VSD,"fields":[
            {"field":"scale","type":"int32","optional":false},
            {"field":"value","type":"bytes","optional":false}]},
        {"field":"p","type":"bytes","optional":true,"name":DECIMAL,"parameters":{"scale":"2"}}
    ]));
    let b = build(
        &s,
        ArrowOptions::default(),
        &[
            json!({"z":"2024-02-23T10:52:14.431487+02:00","q":{"scale":3,"value":"AeI="},"p":"AJ8="}),
        ],
    );
    assert_eq!(
        value_at(&b, 0),
        Value::Struct(vec![
            Value::String("2024-02-23T08:52:14.431487Z".into()),
            Value::Struct(vec![Value::Int(3), Value::Bytes(vec![0x01, 0xe2])]),
            Value::Decimal(Decimal {
                unscaled: i256::from_i128(159),
                scale: 2
            }),
        ])
    );
}
