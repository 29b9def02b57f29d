use std::sync::Arc;

use arrow::array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Decimal256Array,
    DurationMicrosecondArray, Float32Array, Float64Array, Int16Array, Int32Array, Int64Array,
    Int8Array, ListArray, MapArray, StringArray, StructArray, Time64MicrosecondArray,
    TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray, UInt64Array,
};
use arrow::buffer::{NullBuffer, OffsetBuffer};
use arrow::datatypes::{DataType, Field, Fields, Int32Type};

use super::*;

fn ty(text: &str) -> ChType {
    ChType::parse(text).expect(text)
}

/// Every row of `array` encoded into `column_type`.
fn rows(array: &dyn Array, column_type: &str) -> Result<Vec<Vec<u8>>, String> {
    let cell = column_cell(array, Vec::new(), &ty(column_type), None)?;
    (0..array.len())
        .map(|i| {
            let mut out = Vec::new();
            cell(i, &mut out).map(|_| out)
        })
        .collect()
}

fn one(array: &dyn Array, column_type: &str) -> Vec<u8> {
    let r = rows(array, column_type).unwrap_or_else(|e| panic!("{column_type}: {e}"));
    r.concat()
}

fn err(array: &dyn Array, column_type: &str) -> String {
    match rows(array, column_type) {
        Ok(r) => panic!("{column_type}: expected an error, got {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn varints_are_leb128() {
    let mut out = Vec::new();
    for v in [0u64, 1, 127, 128, 300, u64::MAX] {
        put_varint(&mut out, v);
    }
    assert_eq!(
        out,
        [
            0, 1, 0x7f, 0x80, 0x01, 0xac, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0x01
        ]
    );
}

#[test]
fn integers_are_little_endian_and_range_checked() {
    let a = Int64Array::from(vec![-2, 300]);
    assert_eq!(
        one(&a, "Int64"),
        [(-2i64).to_le_bytes(), 300i64.to_le_bytes()].concat()
    );
    assert_eq!(
        one(&a, "Int32"),
        [(-2i32).to_le_bytes(), 300i32.to_le_bytes()].concat()
    );
    assert_eq!(
        one(&a, "Int16"),
        [(-2i16).to_le_bytes(), 300i16.to_le_bytes()].concat()
    );
    assert!(err(&a, "Int8").contains("300 is out of range for Int8"));
    assert!(err(&a, "UInt64").contains("-2 is out of range for UInt64"));
    let u = Int64Array::from(vec![255, 65_535]);
    assert!(err(&u, "UInt8").contains("65535 is out of range"));
    assert_eq!(
        one(&u, "UInt16"),
        [255u16.to_le_bytes(), 65_535u16.to_le_bytes()].concat()
    );
    assert_eq!(one(&Int8Array::from(vec![-1]), "Int128"), [0xff; 16]);
    let mut big = vec![5u8];
    big.extend([0; 31]);
    assert_eq!(one(&Int16Array::from(vec![5]), "UInt256"), big);
    assert_eq!(one(&UInt64Array::from(vec![u64::MAX]), "UInt64"), [0xff; 8]);
    assert!(err(&UInt64Array::from(vec![u64::MAX]), "Int64").contains("out of range"));
    // Integers into floats only when exact.
    assert_eq!(
        one(&Int32Array::from(vec![7]), "Float64"),
        7f64.to_le_bytes()
    );
    assert!(err(&Int64Array::from(vec![(1 << 53) + 1]), "Float64").contains("not exactly"));
    assert!(err(&Int64Array::from(vec![(1 << 24) + 1]), "Float32").contains("not exactly"));
}

#[test]
fn floats_bools_and_strings() {
    assert_eq!(
        one(&Float64Array::from(vec![1.5]), "Float64"),
        1.5f64.to_le_bytes()
    );
    assert_eq!(
        one(&Float32Array::from(vec![1.5]), "Float32"),
        1.5f32.to_le_bytes()
    );
    assert_eq!(one(&BooleanArray::from(vec![true, false]), "Bool"), [1, 0]);
    assert_eq!(one(&BooleanArray::from(vec![true]), "UInt8"), [1]);
    assert_eq!(
        one(&StringArray::from(vec!["héllo"]), "String"),
        [&[6u8][..], "héllo".as_bytes()].concat()
    );
    assert_eq!(
        one(&StringArray::from(vec!["ab"]), "LowCardinality(String)"),
        [2, b'a', b'b']
    );
    assert_eq!(
        one(&StringArray::from(vec!["ab"]), "FixedString(4)"),
        [b'a', b'b', 0, 0]
    );
    assert!(err(&StringArray::from(vec!["abcde"]), "FixedString(4)").contains("5 bytes"));
    assert_eq!(
        one(&BinaryArray::from(vec![&[0u8, 255][..]]), "String"),
        [2, 0, 255]
    );
    assert_eq!(one(&StringArray::from(vec![r#"{"a":1}"#]), "JSON").len(), 8);
    assert!(err(&Float64Array::from(vec![1.0]), "String").contains("cannot write a float"));
}

#[test]
fn uuids_are_two_little_endian_halves() {
    let a = StringArray::from(vec!["00112233-4455-6677-8899-aabbccddeeff"]);
    let mut want = 0x0011_2233_4455_6677u64.to_le_bytes().to_vec();
    want.extend(0x8899_aabb_ccdd_eeffu64.to_le_bytes());
    assert_eq!(one(&a, "UUID"), want);
    assert!(err(&StringArray::from(vec!["nope"]), "UUID").contains("'nope' is not a UUID"));
}

#[test]
fn enums_by_name_or_value() {
    let t = "Enum8('pending' = 1, 'paid' = 2)";
    assert_eq!(one(&StringArray::from(vec!["paid", "pending"]), t), [2, 1]);
    assert!(err(&StringArray::from(vec!["lost"]), t).contains("'lost' is not a value"));
    assert_eq!(one(&Int32Array::from(vec![2]), t), [2]);
    assert_eq!(
        one(
            &StringArray::from(vec!["b"]),
            "Enum16('a' = -300, 'b' = 300)"
        ),
        300i16.to_le_bytes()
    );
}

#[test]
fn decimals_are_exact_without_floats() {
    let a = Decimal128Array::from(vec![159i128, -1])
        .with_precision_and_scale(10, 2)
        .expect("decimal");
    // Same scale: the unscaled value in the column's width (Decimal(10,2) is 8 bytes).
    assert_eq!(
        one(&a, "Decimal(10, 2)"),
        [159i64.to_le_bytes(), (-1i64).to_le_bytes()].concat()
    );
    // Wider scale multiplies; Decimal(9, 4) is 4 bytes.
    assert_eq!(
        one(&a, "Decimal(9, 4)"),
        [15_900i32.to_le_bytes(), (-100i32).to_le_bytes()].concat()
    );
    assert_eq!(
        one(&a, "Decimal(38, 2)"),
        [159i128.to_le_bytes(), (-1i128).to_le_bytes()].concat()
    );
    assert_eq!(one(&a, "Decimal(76, 2)").len(), 64);
    // Dropping digits or overflowing the precision is refused, never rounded.
    assert!(err(&a, "Decimal(10, 1)").contains("1.59 has more fractional digits"));
    let big = Decimal128Array::from(vec![123_456i128])
        .with_precision_and_scale(12, 2)
        .expect("decimal");
    assert!(err(&big, "Decimal(5, 2)").contains("1234.56 exceeds the precision"));
    assert!(err(&a, "Float64").contains("would round"));
    assert_eq!(
        one(&a, "String"),
        [&[4u8][..], b"1.59", &[5u8][..], b"-0.01"].concat()
    );
    let whole = Decimal128Array::from(vec![500i128])
        .with_precision_and_scale(5, 2)
        .expect("decimal");
    assert_eq!(one(&whole, "Int32"), 5i32.to_le_bytes());
    let d256 = Decimal256Array::from(vec![i256::from_i128(-7)])
        .with_precision_and_scale(60, 0)
        .expect("decimal");
    assert_eq!(
        one(&d256, "Decimal(60, 3)"),
        i256::from_i128(-7000).to_le_bytes()
    );
    // VariableScaleDecimal arrives as exact text.
    let text = StringArray::from(vec!["1.500", "-0.25", "12"]);
    assert_eq!(
        one(&text, "Decimal(9, 3)"),
        [
            1_500i32.to_le_bytes(),
            (-250i32).to_le_bytes(),
            12_000i32.to_le_bytes()
        ]
        .concat()
    );
    assert!(err(&StringArray::from(vec!["1.2345"]), "Decimal(9, 3)").contains("fractional"));
    assert!(err(&StringArray::from(vec!["1e3"]), "Decimal(9, 3)").contains("not a decimal"));
}

#[test]
fn timestamps_scale_from_every_debezium_unit() {
    // 2024-02-23T08:52:14.431487Z
    let micros = 1_708_678_334_431_487i64;
    let ts_us = TimestampMicrosecondArray::from(vec![micros]);
    assert_eq!(one(&ts_us, "DateTime64(6)"), micros.to_le_bytes());
    assert_eq!(one(&ts_us, "DateTime64(6, 'UTC')"), micros.to_le_bytes());
    assert_eq!(one(&ts_us, "DateTime64(3)"), (micros / 1000).to_le_bytes());
    assert_eq!(one(&ts_us, "DateTime64(9)"), (micros * 1000).to_le_bytes());
    assert_eq!(
        one(&ts_us, "DateTime64(0)"),
        (micros / 1_000_000).to_le_bytes()
    );
    assert_eq!(
        one(&ts_us, "DateTime"),
        ((micros / 1_000_000) as u32).to_le_bytes()
    );
    assert_eq!(one(&ts_us, "Date"), (19_776u16).to_le_bytes());
    assert_eq!(one(&ts_us, "Date32"), (19_776i32).to_le_bytes());
    // Integer columns keep the raw unit (servers without DateTime64).
    assert_eq!(one(&ts_us, "Int64"), micros.to_le_bytes());
    // Debezium Timestamp (ms) and NanoTimestamp (ns).
    let ts_ms = TimestampMillisecondArray::from(vec![1_708_678_334_431]);
    assert_eq!(
        one(&ts_ms, "DateTime64(6)"),
        (1_708_678_334_431_000i64).to_le_bytes()
    );
    let ts_ns = TimestampNanosecondArray::from(vec![1_708_678_334_431_487_123]);
    assert_eq!(one(&ts_ns, "DateTime64(6)"), micros.to_le_bytes());
    assert_eq!(
        one(&ts_ns, "DateTime64(9)"),
        1_708_678_334_431_487_123i64.to_le_bytes()
    );
    // Before the epoch, finer digits floor toward the past.
    let before = TimestampMicrosecondArray::from(vec![-1]);
    assert_eq!(one(&before, "DateTime64(3)"), (-1i64).to_le_bytes());
    assert!(err(&before, "DateTime").contains("out of range for DateTime"));
    // Overflowing the tick range is an error, not a wrap.
    let far = TimestampMillisecondArray::from(vec![i64::MAX / 10]);
    assert!(err(&far, "DateTime64(9)").contains("out of range"));
    assert!(err(&ts_us, "String").contains("cannot write a timestamp"));
}

#[test]
fn dates_times_and_durations() {
    let d = Date32Array::from(vec![19_776, -1]);
    assert_eq!(
        one(&d, "Date32"),
        [19_776i32.to_le_bytes(), (-1i32).to_le_bytes()].concat()
    );
    assert!(err(&d, "Date").contains("outside Date"));
    assert_eq!(
        one(&Date32Array::from(vec![1]), "DateTime64(3)"),
        86_400_000i64.to_le_bytes()
    );
    assert_eq!(
        one(&Date32Array::from(vec![1]), "DateTime"),
        86_400u32.to_le_bytes()
    );
    let t = Time64MicrosecondArray::from(vec![45_000_000]);
    assert_eq!(one(&t, "Int64"), 45_000_000i64.to_le_bytes());
    assert!(err(&t, "DateTime64(6)").contains("raw unit"));
    let dur = DurationMicrosecondArray::from(vec![5]);
    assert_eq!(one(&dur, "Int64"), 5i64.to_le_bytes());
}

#[test]
fn nullable_and_required_columns() {
    let a = Int32Array::from(vec![Some(1), None]);
    assert_eq!(one(&a, "Nullable(Int32)"), [0, 1, 0, 0, 0, 1]);
    assert_eq!(
        one(
            &StringArray::from(vec![None, Some("x")]),
            "LowCardinality(Nullable(String))"
        ),
        [1, 0, 1, b'x']
    );
    assert!(err(&a, "Int32").contains("null value for non-Nullable column of type Int32"));
    // Nulls of a delete's row image are written as defaults.
    let lenient = [false, true];
    let cell = column_cell(&a, Vec::new(), &ty("Int32"), Some(&lenient)).expect("cell");
    let mut out = Vec::new();
    cell(0, &mut out).expect("row 0");
    cell(1, &mut out).expect("row 1 (lenient)");
    assert_eq!(out, [1, 0, 0, 0, 0, 0, 0, 0]);
    // A null parent hides the child's value.
    let b = Int32Array::from(vec![5, 6]);
    let parent = NullBuffer::from(vec![true, false]);
    let cell = column_cell(&b, vec![&parent], &ty("Nullable(Int32)"), None).expect("cell");
    let mut out = Vec::new();
    cell(0, &mut out).expect("row 0");
    cell(1, &mut out).expect("row 1");
    assert_eq!(out, [0, 5, 0, 0, 0, 1]);
}

#[test]
fn arrays_maps_and_tuples() {
    let list = ListArray::from_iter_primitive::<Int32Type, _, _>(vec![
        Some(vec![Some(1), Some(2)]),
        Some(vec![]),
        Some(vec![None]),
    ]);
    assert_eq!(
        one(&list, "Array(Nullable(Int32))"),
        [2, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 1]
    );
    assert!(err(&list, "Array(Int32)").contains("null value"));
    let keys = Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef;
    let values = Arc::new(Int64Array::from(vec![1, 2])) as ArrayRef;
    let entries = StructArray::from(vec![
        (Arc::new(Field::new("key", DataType::Utf8, false)), keys),
        (Arc::new(Field::new("value", DataType::Int64, true)), values),
    ]);
    let map = MapArray::try_new(
        Arc::new(Field::new("entries", entries.data_type().clone(), false)),
        OffsetBuffer::new(vec![0, 2].into()),
        entries,
        None,
        false,
    )
    .expect("map");
    let mut want = vec![2, 1, b'a'];
    want.extend(1i64.to_le_bytes());
    want.extend([1, b'b']);
    want.extend(2i64.to_le_bytes());
    assert_eq!(one(&map, "Map(String, Int64)"), want);
    let fields = Fields::from(vec![
        Field::new("x", DataType::Int8, false),
        Field::new("y", DataType::Utf8, true),
    ]);
    let tuple = StructArray::new(
        fields,
        vec![
            Arc::new(Int8Array::from(vec![3])) as ArrayRef,
            Arc::new(StringArray::from(vec![Some("z")])) as ArrayRef,
        ],
        None,
    );
    assert_eq!(
        one(&tuple, "Tuple(Int8, Nullable(String))"),
        [3, 0, 1, b'z']
    );
    // Named tuples match by name.
    assert_eq!(one(&tuple, "Tuple(y String, x Int8)"), [1, b'z', 3]);
    assert!(err(&tuple, "Tuple(Int8)").contains("2 fields"));
    assert!(err(&tuple, "String").contains("Tuple column"));
}

#[test]
fn unknown_types_are_refused_clearly() {
    let e = err(&Int32Array::from(vec![1]), "IPv4");
    assert!(e.contains("cannot write the ClickHouse type IPv4"), "{e}");
}

#[test]
fn defaults_have_the_wire_width() {
    for (t, n) in [
        ("Int8", 1),
        ("UInt64", 8),
        ("Int256", 32),
        ("Decimal(10, 2)", 8),
        ("DateTime64(6)", 8),
        ("DateTime", 4),
        ("Date", 2),
        ("UUID", 16),
        ("String", 1),
        ("FixedString(3)", 3),
        ("Tuple(Int8, String)", 2),
        ("Nullable(Int64)", 1),
    ] {
        let mut out = Vec::new();
        put_default(&mut out, &ty(t));
        assert_eq!(out.len(), n, "{t}");
    }
}
