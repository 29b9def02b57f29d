//! Arrow → Connect values: the inverse of the [`BatchBuilder`](super::BatchBuilder), for sinks'
//! tests and round-trip checks.
//!
//! Values come back in their Connect physical form (timestamps as `Int` in the column's unit,
//! decimals as `Decimal`), using the field metadata for what the Arrow type alone does not say:
//! a ZonedTimestamp column gives back its UTC ISO text, a VariableScaleDecimal column its
//! `{scale, value}` struct (in Debezium's field order). Arrow types the builder never produces
//! (unsigned, views, unions, …) come back as a descriptive string.

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Decimal128Array, Decimal256Array,
    ListArray, MapArray, StringArray, StructArray,
};
use arrow::datatypes::{
    i256, DataType, Date32Type, DurationMicrosecondType, DurationMillisecondType,
    DurationNanosecondType, DurationSecondType, Field, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, Time32SecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow::record_batch::RecordBatch;

use super::decimal::be_bytes_from_text;
use super::time::format_zoned_micros;
use super::types::META_NAME;
use crate::data::json::unscaled_to_be_bytes;
use crate::data::schema::names;
use crate::data::value::{Decimal, Value};

/// Row `row` of `batch` as a `Value::Struct` of its columns. Panics if `row` is out of bounds.
pub fn value_at(batch: &RecordBatch, row: usize) -> Value {
    Value::Struct(
        batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, a)| array_value(a, f, row))
            .collect(),
    )
}

/// Slot `row` of `array` (described by `field`) as a Connect value.
pub fn array_value(array: &ArrayRef, field: &Field, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    let name = field.metadata().get(META_NAME).map(String::as_str);
    let int = |v: i64| Value::Int(v);
    match array.data_type() {
        DataType::Boolean => Value::Boolean(
            array
                .as_any()
                .downcast_ref::<BooleanArray>()
                .expect("boolean array")
                .value(row),
        ),
        DataType::Int8 => int(array.as_primitive::<Int8Type>().value(row) as i64),
        DataType::Int16 => int(array.as_primitive::<Int16Type>().value(row) as i64),
        DataType::Int32 => int(array.as_primitive::<Int32Type>().value(row) as i64),
        DataType::Int64 => int(array.as_primitive::<Int64Type>().value(row)),
        DataType::Date32 => int(array.as_primitive::<Date32Type>().value(row) as i64),
        DataType::Time32(TimeUnit::Second) => {
            int(array.as_primitive::<Time32SecondType>().value(row) as i64)
        }
        DataType::Time32(_) => int(array.as_primitive::<Time32MillisecondType>().value(row) as i64),
        DataType::Time64(TimeUnit::Microsecond) => {
            int(array.as_primitive::<Time64MicrosecondType>().value(row))
        }
        DataType::Time64(_) => int(array.as_primitive::<Time64NanosecondType>().value(row)),
        DataType::Duration(TimeUnit::Second) => {
            int(array.as_primitive::<DurationSecondType>().value(row))
        }
        DataType::Duration(TimeUnit::Millisecond) => {
            int(array.as_primitive::<DurationMillisecondType>().value(row))
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            int(array.as_primitive::<DurationMicrosecondType>().value(row))
        }
        DataType::Duration(_) => int(array.as_primitive::<DurationNanosecondType>().value(row)),
        DataType::Timestamp(TimeUnit::Second, _) => {
            int(array.as_primitive::<TimestampSecondType>().value(row))
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            int(array.as_primitive::<TimestampMillisecondType>().value(row))
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            let v = array.as_primitive::<TimestampMicrosecondType>().value(row);
            if name == Some(names::DBZ_ZONED_TIMESTAMP) {
                Value::String(format_zoned_micros(v))
            } else {
                int(v)
            }
        }
        DataType::Timestamp(_, _) => {
            int(array.as_primitive::<TimestampNanosecondType>().value(row))
        }
        DataType::Float32 => Value::Float(array.as_primitive::<Float32Type>().value(row) as f64),
        DataType::Float64 => Value::Float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Decimal128(_, s) => {
            let a = array
                .as_any()
                .downcast_ref::<Decimal128Array>()
                .expect("decimal128 array");
            decimal(i256::from_i128(a.value(row)), *s as i32, name)
        }
        DataType::Decimal256(_, s) => {
            let a = array
                .as_any()
                .downcast_ref::<Decimal256Array>()
                .expect("decimal256 array");
            decimal(a.value(row), *s as i32, name)
        }
        DataType::Utf8 => {
            let s = array
                .as_any()
                .downcast_ref::<StringArray>()
                .expect("string array")
                .value(row);
            if name == Some(names::VARIABLE_SCALE_DECIMAL) {
                if let Some((bytes, scale)) = be_bytes_from_text(s) {
                    return Value::Struct(vec![Value::Int(scale as i64), Value::Bytes(bytes)]);
                }
            }
            if name == Some(names::DECIMAL) {
                if let Ok(d) = crate::data::json::parse_decimal(
                    s,
                    s.split_once('.').map_or(0, |(_, f)| f.len() as i32),
                ) {
                    return Value::Decimal(d);
                }
            }
            Value::String(s.to_string())
        }
        DataType::Binary => Value::Bytes(
            array
                .as_any()
                .downcast_ref::<BinaryArray>()
                .expect("binary array")
                .value(row)
                .to_vec(),
        ),
        DataType::List(item) => {
            let a = array
                .as_any()
                .downcast_ref::<ListArray>()
                .expect("list array");
            let values = a.value(row);
            Value::Array(
                (0..values.len())
                    .map(|i| array_value(&values, item, i))
                    .collect(),
            )
        }
        DataType::Map(entries, _) => {
            let a = array
                .as_any()
                .downcast_ref::<MapArray>()
                .expect("map array");
            let DataType::Struct(kv) = entries.data_type() else {
                unreachable!("map entries are a struct")
            };
            let e = a.value(row);
            let (k, v) = (e.column(0), e.column(1));
            Value::Map(
                (0..e.len())
                    .map(|i| (array_value(k, &kv[0], i), array_value(v, &kv[1], i)))
                    .collect(),
            )
        }
        DataType::Struct(fields) => {
            let a = array
                .as_any()
                .downcast_ref::<StructArray>()
                .expect("struct array");
            Value::Struct(
                fields
                    .iter()
                    .zip(a.columns())
                    .map(|(f, c)| array_value(c, f, row))
                    .collect(),
            )
        }
        other => Value::String(format!("<unsupported Arrow type {other}>")),
    }
}

/// A decimal slot; a VariableScaleDecimal column gives back its `{scale, value}` struct.
fn decimal(unscaled: i256, scale: i32, name: Option<&str>) -> Value {
    if name == Some(names::VARIABLE_SCALE_DECIMAL) {
        return Value::Struct(vec![
            Value::Int(scale as i64),
            Value::Bytes(unscaled_to_be_bytes(unscaled)),
        ]);
    }
    Value::Decimal(Decimal { unscaled, scale })
}
