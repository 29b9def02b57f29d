//! Arrow arrays → ClickHouse RowBinary, one encoder per (column, target type) built once per
//! batch, so the per-row work is a closure call and a byte push.
//!
//! Conversions are exact or refused: integers are range-checked, decimals are rescaled without
//! floating point (digits that would be lost are an error), timestamps are rescaled from their
//! Arrow unit to the column's tick (sub-tick digits floor toward the past, as ClickHouse's own
//! `toDateTime64` does for negative values), and a null in a non-Nullable column is an error,
//! except in the row image of a delete (`lenient` rows), where the type's default is written
//! because Debezium's `before` of a delete carries only the key under `REPLICA IDENTITY DEFAULT`.

use arrow::array::{
    Array, AsArray, BinaryArray, BooleanArray, Decimal128Array, Decimal256Array, LargeBinaryArray,
    LargeStringArray, StringArray,
};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{
    i256, DataType, Date32Type, DurationMicrosecondType, Float32Type, Float64Type, Int16Type,
    Int32Type, Int64Type, Int8Type, Time32MillisecondType, Time64MicrosecondType,
    Time64NanosecondType, TimeUnit, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use thiserror::Error;

use super::types::ChType;
use crate::data::arrow::decimal::{fits_precision, rescale, RescaleError};

/// A value that cannot be written to its column.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("column {column}: {reason}")]
pub struct EncodeError {
    /// Target column name.
    pub column: String,
    /// What is wrong.
    pub reason: String,
}

/// Writes row `i` of its source into the buffer; the error is the reason.
pub type Cell<'a> = Box<dyn Fn(usize, &mut Vec<u8>) -> Result<(), String> + Send + Sync + 'a>;

/// Rows whose nulls in non-Nullable columns are written as the type's default.
pub type Lenient<'a> = Option<&'a [bool]>;

/// Appends an unsigned LEB128 varint (RowBinary lengths).
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// Appends a RowBinary String.
pub fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// `(nullable, base)`: LowCardinality is the same on the wire, so it is looked through.
fn strip(ty: &ChType) -> (bool, &ChType) {
    match ty {
        ChType::LowCardinality(t) => strip(t),
        ChType::Nullable(t) => (true, strip(t).1),
        t => (false, t),
    }
}

/// The encoder of a whole column: `array` (with the nulls of the struct parents it was taken
/// from, `parents`) into `ty`.
pub fn column_cell<'a>(
    array: &'a dyn Array,
    parents: Vec<&'a NullBuffer>,
    ty: &ChType,
    lenient: Lenient<'a>,
) -> Result<Cell<'a>, String> {
    let (nullable, base) = strip(ty);
    let value = value_cell(array, base)?;
    let own = array.logical_nulls();
    let mut nulls: Vec<NullBuffer> = parents.into_iter().cloned().collect();
    nulls.extend(own);
    // One combined null mask: parent struct nulls hide the child's value.
    let mask: Option<NullBuffer> = nulls
        .into_iter()
        .reduce(|a, b| NullBuffer::new(a.inner() & b.inner()));
    let base = base.clone();
    Ok(match (mask, nullable) {
        (None, false) => value,
        (None, true) => Box::new(move |i, out| {
            out.push(0);
            value(i, out)
        }),
        (Some(mask), true) => Box::new(move |i, out| {
            if mask.is_null(i) {
                out.push(1);
                Ok(())
            } else {
                out.push(0);
                value(i, out)
            }
        }),
        (Some(mask), false) => Box::new(move |i, out| {
            if mask.is_null(i) {
                if lenient.is_some_and(|l| l.get(i).copied().unwrap_or(false)) {
                    put_default(out, &base);
                    Ok(())
                } else {
                    Err(format!("null value for non-Nullable column of type {base}"))
                }
            } else {
                value(i, out)
            }
        }),
    })
}

/// An element encoder (inside Array/Map/Tuple): nulls follow the element type.
fn element_cell<'a>(array: &'a dyn Array, ty: &ChType) -> Result<Cell<'a>, String> {
    column_cell(array, Vec::new(), ty, None)
}

/// The type's default value (zero, empty, first enum value), for lenient rows.
pub fn put_default(out: &mut Vec<u8>, ty: &ChType) {
    match ty {
        ChType::Int(b) | ChType::UInt(b) => out.extend(std::iter::repeat_n(0, *b as usize / 8)),
        ChType::Float32 | ChType::Date32 | ChType::DateTime(_) => out.extend([0; 4]),
        ChType::Float64 | ChType::DateTime64(..) => out.extend([0; 8]),
        ChType::Bool => out.push(0),
        ChType::Date => out.extend([0; 2]),
        ChType::Uuid => out.extend([0; 16]),
        ChType::FixedString(n) => out.extend(std::iter::repeat_n(0, *n)),
        ChType::Decimal(p, _) => out.extend(std::iter::repeat_n(0, decimal_width(*p))),
        ChType::Nullable(_) => out.push(1),
        ChType::LowCardinality(t) => put_default(out, t),
        ChType::String | ChType::Json | ChType::Array(_) | ChType::Map(..) | ChType::Other(_) => {
            out.push(0)
        }
        ChType::Tuple(items) => items.iter().for_each(|(_, t)| put_default(out, t)),
        ChType::Enum(bits, items) => {
            let v = items.first().map_or(0, |(_, v)| *v);
            if *bits == 8 {
                out.push(v as i8 as u8)
            } else {
                out.extend(v.to_le_bytes())
            }
        }
    }
}

/// Bytes of a Decimal(p, s) on the wire.
pub fn decimal_width(p: u8) -> usize {
    match p {
        0..=9 => 4,
        10..=18 => 8,
        19..=38 => 16,
        _ => 32,
    }
}

fn unsupported(from: &DataType, to: &ChType) -> String {
    format!("cannot write Arrow {from} values to a {to} column")
}

macro_rules! prim {
    ($array:expr, $t:ty, $ty:expr, |$o:ident, $v:ident, $tt:ident| $body:expr) => {{
        let a = $array.as_primitive::<$t>().clone();
        let ty = $ty.clone();
        Ok(Box::new(move |i: usize, $o: &mut Vec<u8>| {
            let $v = a.value(i);
            let $tt = &ty;
            $body
        }) as Cell<'_>)
    }};
}

/// The encoder of non-null values of `array` into `ty` (no Nullable/LowCardinality wrapper).
fn value_cell<'a>(array: &'a dyn Array, ty: &ChType) -> Result<Cell<'a>, String> {
    let dt = array.data_type();
    if let ChType::Other(name) = ty {
        return Err(format!(
            "Sluice cannot write the ClickHouse type {name} (supported: integers, floats, Bool, \
             String, FixedString, UUID, Date, Date32, DateTime, DateTime64, Decimal, Enum, \
             Nullable, LowCardinality, Array, Map, Tuple, JSON)"
        ));
    }
    match dt {
        DataType::Int8 => prim!(array, Int8Type, ty, |o, v, t| put_i64(o, v.into(), t)),
        DataType::Int16 => prim!(array, Int16Type, ty, |o, v, t| put_i64(o, v.into(), t)),
        DataType::Int32 => prim!(array, Int32Type, ty, |o, v, t| put_i64(o, v.into(), t)),
        DataType::Int64 => prim!(array, Int64Type, ty, |o, v, t| put_i64(o, v, t)),
        DataType::UInt8 => prim!(array, UInt8Type, ty, |o, v, t| put_i64(o, v.into(), t)),
        DataType::UInt16 => prim!(array, UInt16Type, ty, |o, v, t| put_i64(o, v.into(), t)),
        DataType::UInt32 => prim!(array, UInt32Type, ty, |o, v, t| put_i64(o, v.into(), t)),
        DataType::UInt64 => prim!(array, UInt64Type, ty, |o, v, t| put_u64(o, v, t)),
        DataType::Float32 => prim!(array, Float32Type, ty, |o, v, t| put_f64(o, v.into(), t)),
        DataType::Float64 => prim!(array, Float64Type, ty, |o, v, t| put_f64(o, v, t)),
        DataType::Boolean => {
            let a: BooleanArray = array.as_boolean().clone();
            let ty = ty.clone();
            match ty {
                ChType::Bool | ChType::Int(_) | ChType::UInt(_) => {}
                ChType::String => {}
                _ => return Err(unsupported(dt, &ty)),
            }
            Ok(Box::new(move |i, out| {
                let v = a.value(i);
                match &ty {
                    ChType::String => {
                        put_bytes(out, if v { b"true" } else { b"false" });
                        Ok(())
                    }
                    ChType::Bool => {
                        out.push(v as u8);
                        Ok(())
                    }
                    t => put_i64(out, v as i64, t),
                }
            }))
        }
        DataType::Utf8 => {
            let a: &StringArray = array.as_string::<i32>();
            let ty = ty.clone();
            check_text_target(dt, &ty)?;
            Ok(Box::new(move |i, out| put_str(out, a.value(i), &ty)))
        }
        DataType::LargeUtf8 => {
            let a: &LargeStringArray = array.as_string::<i64>();
            let ty = ty.clone();
            check_text_target(dt, &ty)?;
            Ok(Box::new(move |i, out| put_str(out, a.value(i), &ty)))
        }
        DataType::Binary | DataType::LargeBinary => {
            let ty = ty.clone();
            if !matches!(ty, ChType::String | ChType::FixedString(_)) {
                return Err(unsupported(dt, &ty));
            }
            if let Some(a) = array.as_any().downcast_ref::<BinaryArray>() {
                Ok(Box::new(move |i, out| put_raw(out, a.value(i), &ty)))
            } else if let Some(a) = array.as_any().downcast_ref::<LargeBinaryArray>() {
                Ok(Box::new(move |i, out| put_raw(out, a.value(i), &ty)))
            } else {
                Err(unsupported(dt, &ty))
            }
        }
        DataType::Decimal128(_, s) => {
            let a: &Decimal128Array = array.as_primitive();
            let (ty, s) = (ty.clone(), *s);
            check_decimal_target(dt, &ty)?;
            Ok(Box::new(move |i, out| {
                put_decimal(out, i256::from_i128(a.value(i)), s, &ty)
            }))
        }
        DataType::Decimal256(_, s) => {
            let a: &Decimal256Array = array.as_primitive();
            let (ty, s) = (ty.clone(), *s);
            check_decimal_target(dt, &ty)?;
            Ok(Box::new(move |i, out| put_decimal(out, a.value(i), s, &ty)))
        }
        DataType::Date32 => prim!(array, Date32Type, ty, |o, v, t| put_days_i64(
            o,
            v.into(),
            t
        )),
        DataType::Timestamp(unit, _) => {
            let per_sec = ticks_per_sec(*unit);
            match unit {
                TimeUnit::Second => {
                    prim!(array, TimestampSecondType, ty, |o, v, t| put_instant(
                        o, v, per_sec, t
                    ))
                }
                TimeUnit::Millisecond => prim!(array, TimestampMillisecondType, ty, |o, v, t| {
                    put_instant(o, v, per_sec, t)
                }),
                TimeUnit::Microsecond => prim!(array, TimestampMicrosecondType, ty, |o, v, t| {
                    put_instant(o, v, per_sec, t)
                }),
                TimeUnit::Nanosecond => prim!(array, TimestampNanosecondType, ty, |o, v, t| {
                    put_instant(o, v, per_sec, t)
                }),
            }
        }
        // Times of day and durations have no ClickHouse type before 25.6: their raw count
        // (ms / µs / ns) goes to integer columns, unchanged.
        DataType::Time32(TimeUnit::Millisecond) => {
            raw_int_only(dt, ty)?;
            prim!(array, Time32MillisecondType, ty, |o, v, t| put_i64(
                o,
                v.into(),
                t
            ))
        }
        DataType::Time64(TimeUnit::Microsecond) => {
            raw_int_only(dt, ty)?;
            prim!(array, Time64MicrosecondType, ty, |o, v, t| put_i64(o, v, t))
        }
        DataType::Time64(TimeUnit::Nanosecond) => {
            raw_int_only(dt, ty)?;
            prim!(array, Time64NanosecondType, ty, |o, v, t| put_i64(o, v, t))
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            raw_int_only(dt, ty)?;
            prim!(array, DurationMicrosecondType, ty, |o, v, t| put_i64(
                o, v, t
            ))
        }
        DataType::List(_) | DataType::LargeList(_) => {
            let ChType::Array(item) = ty else {
                return Err(unsupported(dt, ty));
            };
            let (offsets, values): (Vec<i64>, &dyn Array) = match dt {
                DataType::List(_) => {
                    let l = array.as_list::<i32>();
                    (
                        l.value_offsets().iter().map(|&o| o as i64).collect(),
                        l.values().as_ref(),
                    )
                }
                _ => {
                    let l = array.as_list::<i64>();
                    (l.value_offsets().to_vec(), l.values().as_ref())
                }
            };
            let item = element_cell(values, item).map_err(|e| format!("array element: {e}"))?;
            Ok(Box::new(move |i, out| {
                let (a, b) = (offsets[i], offsets[i + 1]);
                put_varint(out, (b - a) as u64);
                for j in a..b {
                    item(j as usize, out)?;
                }
                Ok(())
            }))
        }
        DataType::Map(_, _) => {
            let ChType::Map(kt, vt) = ty else {
                return Err(unsupported(dt, ty));
            };
            let m = array.as_map();
            let offsets: Vec<i64> = m.value_offsets().iter().map(|&o| o as i64).collect();
            let k = element_cell(m.keys().as_ref(), kt).map_err(|e| format!("map key: {e}"))?;
            let v = element_cell(m.values().as_ref(), vt).map_err(|e| format!("map value: {e}"))?;
            Ok(Box::new(move |i, out| {
                let (a, b) = (offsets[i], offsets[i + 1]);
                put_varint(out, (b - a) as u64);
                for j in a as usize..b as usize {
                    k(j, out)?;
                    v(j, out)?;
                }
                Ok(())
            }))
        }
        DataType::Struct(fields) => {
            let ChType::Tuple(items) = ty else {
                if matches!(ty, ChType::Json | ChType::String) {
                    return Err(format!(
                        "struct values are not written to {ty} columns; use a Tuple column or \
                         flatten the struct"
                    ));
                }
                return Err(unsupported(dt, ty));
            };
            if items.len() != fields.len() {
                return Err(format!(
                    "a struct of {} fields cannot fill {ty} ({} elements)",
                    fields.len(),
                    items.len()
                ));
            }
            let s = array.as_struct();
            let mut cells = Vec::with_capacity(items.len());
            for (pos, (name, t)) in items.iter().enumerate() {
                // Named tuples match struct fields by name, unnamed ones by position.
                let idx = match name {
                    Some(n) => fields.iter().position(|f| f.name() == n).ok_or_else(|| {
                        format!("the struct has no field '{n}' for the tuple element")
                    })?,
                    None => pos,
                };
                cells.push(
                    element_cell(s.column(idx).as_ref(), t)
                        .map_err(|e| format!("tuple element {}: {e}", idx + 1))?,
                );
            }
            Ok(Box::new(move |i, out| {
                for c in &cells {
                    c(i, out)?;
                }
                Ok(())
            }))
        }
        DataType::Dictionary(_, _) => Err(format!(
            "dictionary-encoded Arrow columns are not supported (column type {ty})"
        )),
        _ => Err(unsupported(dt, ty)),
    }
}

fn check_text_target(dt: &DataType, ty: &ChType) -> Result<(), String> {
    match ty {
        ChType::String
        | ChType::FixedString(_)
        | ChType::Uuid
        | ChType::Enum(..)
        | ChType::Json
        | ChType::Decimal(..) => Ok(()),
        t => Err(unsupported(dt, t)),
    }
}

fn check_decimal_target(dt: &DataType, ty: &ChType) -> Result<(), String> {
    match ty {
        ChType::Decimal(..) | ChType::String | ChType::Int(_) | ChType::UInt(_) => Ok(()),
        ChType::Float32 | ChType::Float64 => Err(format!(
            "{}: decimals are not written to float columns (that would round); use a Decimal \
             column",
            unsupported(dt, ty)
        )),
        t => Err(unsupported(dt, t)),
    }
}

fn raw_int_only(dt: &DataType, ty: &ChType) -> Result<(), String> {
    match ty {
        ChType::Int(_) | ChType::UInt(_) => Ok(()),
        t => Err(format!(
            "{}; times of day and durations go to Int32/Int64 columns (their raw unit)",
            unsupported(dt, t)
        )),
    }
}

/// Writes an integer into an integer-like column (range-checked).
pub fn put_i64(out: &mut Vec<u8>, v: i64, ty: &ChType) -> Result<(), String> {
    let range = |lo: i64, hi: i64| {
        if v < lo || v > hi {
            Err(format!("{v} is out of range for {ty}"))
        } else {
            Ok(())
        }
    };
    match ty {
        ChType::Int(8) => range(i8::MIN.into(), i8::MAX.into()).map(|_| out.push(v as i8 as u8)),
        ChType::Int(16) => {
            range(i16::MIN.into(), i16::MAX.into()).map(|_| out.extend((v as i16).to_le_bytes()))
        }
        ChType::Int(32) => {
            range(i32::MIN.into(), i32::MAX.into()).map(|_| out.extend((v as i32).to_le_bytes()))
        }
        ChType::Int(64) | ChType::DateTime64(..) => {
            out.extend(v.to_le_bytes());
            Ok(())
        }
        ChType::Int(bits) => {
            let n = *bits as usize / 8;
            out.extend_from_slice(&i256::from_i128(v.into()).to_le_bytes()[..n]);
            Ok(())
        }
        ChType::UInt(8) | ChType::Bool => range(0, u8::MAX.into()).map(|_| out.push(v as u8)),
        ChType::UInt(16) => range(0, u16::MAX.into()).map(|_| out.extend((v as u16).to_le_bytes())),
        ChType::UInt(32) | ChType::DateTime(_) => {
            range(0, u32::MAX.into()).map(|_| out.extend((v as u32).to_le_bytes()))
        }
        ChType::UInt(bits) => {
            range(0, i64::MAX)?;
            let n = *bits as usize / 8;
            out.extend_from_slice(&i256::from_i128(v.into()).to_le_bytes()[..n]);
            Ok(())
        }
        ChType::Float32 => {
            if v.unsigned_abs() > 1 << 24 {
                return Err(format!("{v} is not exactly representable as Float32"));
            }
            out.extend((v as f32).to_le_bytes());
            Ok(())
        }
        ChType::Float64 => {
            if v.unsigned_abs() > 1 << 53 {
                return Err(format!("{v} is not exactly representable as Float64"));
            }
            out.extend((v as f64).to_le_bytes());
            Ok(())
        }
        ChType::Decimal(..) => put_decimal(out, i256::from_i128(v.into()), 0, ty),
        ChType::Date => range(0, u16::MAX.into()).map(|_| out.extend((v as u16).to_le_bytes())),
        ChType::Date32 => {
            range(i32::MIN.into(), i32::MAX.into()).map(|_| out.extend((v as i32).to_le_bytes()))
        }
        ChType::Enum(bits, items) => {
            if !items.iter().any(|(_, e)| i64::from(*e) == v) {
                return Err(format!("{v} is not a value of {ty}"));
            }
            if *bits == 8 {
                out.push(v as i8 as u8)
            } else {
                out.extend((v as i16).to_le_bytes())
            }
            Ok(())
        }
        ChType::String => {
            put_bytes(out, v.to_string().as_bytes());
            Ok(())
        }
        t => Err(format!("cannot write an integer to a {t} column")),
    }
}

fn put_u64(out: &mut Vec<u8>, v: u64, ty: &ChType) -> Result<(), String> {
    match i64::try_from(v) {
        Ok(v) => put_i64(out, v, ty),
        Err(_) if matches!(ty, ChType::UInt(64)) => {
            out.extend(v.to_le_bytes());
            Ok(())
        }
        Err(_) => Err(format!("{v} is out of range for {ty}")),
    }
}

fn put_f64(out: &mut Vec<u8>, v: f64, ty: &ChType) -> Result<(), String> {
    match ty {
        ChType::Float64 => out.extend(v.to_le_bytes()),
        ChType::Float32 => out.extend((v as f32).to_le_bytes()),
        t => return Err(format!("cannot write a float to a {t} column")),
    }
    Ok(())
}

/// Writes `unscaled × 10^-scale` exactly into a Decimal (or integer, or String) column.
pub fn put_decimal(
    out: &mut Vec<u8>,
    unscaled: i256,
    scale: i8,
    ty: &ChType,
) -> Result<(), String> {
    let text = || {
        crate::data::Decimal {
            unscaled,
            scale: scale.into(),
        }
        .to_text()
    };
    match ty {
        ChType::Decimal(p, s) => {
            let v = rescale(unscaled, scale.into(), i32::from(*s)).map_err(|e| match e {
                RescaleError::FractionalDigits => {
                    format!("{} has more fractional digits than {ty} keeps", text())
                }
                RescaleError::Overflow => format!("{} overflows {ty}", text()),
            })?;
            if !fits_precision(v, *p) {
                return Err(format!("{} exceeds the precision of {ty}", text()));
            }
            out.extend_from_slice(&v.to_le_bytes()[..decimal_width(*p)]);
            Ok(())
        }
        ChType::String => {
            put_bytes(out, text().as_bytes());
            Ok(())
        }
        ChType::Int(_) | ChType::UInt(_) => {
            let v = rescale(unscaled, scale.into(), 0)
                .map_err(|_| format!("{} is not an integer ({ty} column)", text()))?;
            let v = v
                .to_i128()
                .and_then(|v| i64::try_from(v).ok())
                .ok_or_else(|| format!("{} is out of range for {ty}", text()))?;
            put_i64(out, v, ty)
        }
        t => Err(format!("cannot write a decimal to a {t} column")),
    }
}

fn ticks_per_sec(unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => 1,
        TimeUnit::Millisecond => 1_000,
        TimeUnit::Microsecond => 1_000_000,
        TimeUnit::Nanosecond => 1_000_000_000,
    }
}

/// Rescales `v` ticks of `from` per second to `to` per second; finer digits floor.
fn rescale_ticks(v: i64, from: i64, to: i64) -> Option<i64> {
    if to >= from {
        v.checked_mul(to / from)
    } else {
        Some(v.div_euclid(from / to))
    }
}

/// An instant (`v` ticks since the epoch at `per_sec` per second) into a time column.
pub fn put_instant(out: &mut Vec<u8>, v: i64, per_sec: i64, ty: &ChType) -> Result<(), String> {
    let overflow = || format!("timestamp {v} (1/{per_sec} s) is out of range for {ty}");
    match ty {
        ChType::DateTime64(p, _) => {
            let to = 10i64.pow(u32::from(*p));
            let t = rescale_ticks(v, per_sec, to).ok_or_else(overflow)?;
            out.extend(t.to_le_bytes());
            Ok(())
        }
        ChType::DateTime(_) => {
            let s = v.div_euclid(per_sec);
            let s = u32::try_from(s).map_err(|_| overflow())?;
            out.extend(s.to_le_bytes());
            Ok(())
        }
        ChType::Date | ChType::Date32 => put_days_i64(out, v.div_euclid(per_sec * 86_400), ty),
        // Integer columns keep the source's raw unit (what the Java connector writes).
        ChType::Int(_) | ChType::UInt(_) => put_i64(out, v, ty),
        t => Err(format!("cannot write a timestamp to a {t} column")),
    }
}

fn put_days_i64(out: &mut Vec<u8>, days: i64, ty: &ChType) -> Result<(), String> {
    match ty {
        ChType::Date => {
            let d = u16::try_from(days)
                .map_err(|_| format!("day {days} is outside Date's 1970-01-01..2149-06-06"))?;
            out.extend(d.to_le_bytes());
            Ok(())
        }
        ChType::Date32 => {
            let d = i32::try_from(days).map_err(|_| format!("day {days} is out of range"))?;
            out.extend(d.to_le_bytes());
            Ok(())
        }
        ChType::DateTime(_) | ChType::DateTime64(..) => {
            let secs = days
                .checked_mul(86_400)
                .ok_or_else(|| format!("day {days} is out of range for {ty}"))?;
            put_instant(out, secs, 1, ty)
        }
        ChType::Int(_) | ChType::UInt(_) => put_i64(out, days, ty),
        t => Err(format!("cannot write a date to a {t} column")),
    }
}

/// Text into String, FixedString, UUID, Enum, JSON or Decimal (exact parse) columns.
pub fn put_str(out: &mut Vec<u8>, s: &str, ty: &ChType) -> Result<(), String> {
    match ty {
        ChType::String | ChType::Json => {
            put_bytes(out, s.as_bytes());
            Ok(())
        }
        ChType::FixedString(_) => put_raw(out, s.as_bytes(), ty),
        ChType::Uuid => {
            let (hi, lo) = parse_uuid(s).ok_or_else(|| format!("'{s}' is not a UUID"))?;
            // RowBinary UUID: the high 64 bits then the low 64 bits, each little-endian.
            out.extend(hi.to_le_bytes());
            out.extend(lo.to_le_bytes());
            Ok(())
        }
        ChType::Enum(bits, items) => {
            let v = items
                .iter()
                .find(|(n, _)| n == s)
                .map(|(_, v)| *v)
                .ok_or_else(|| format!("'{s}' is not a value of {ty}"))?;
            if *bits == 8 {
                out.push(v as i8 as u8)
            } else {
                out.extend(v.to_le_bytes())
            }
            Ok(())
        }
        ChType::Decimal(..) => {
            let (unscaled, scale) =
                parse_decimal(s).ok_or_else(|| format!("'{s}' is not a decimal number"))?;
            put_decimal(out, unscaled, scale, ty)
        }
        t => Err(format!("cannot write text to a {t} column")),
    }
}

fn put_raw(out: &mut Vec<u8>, b: &[u8], ty: &ChType) -> Result<(), String> {
    match ty {
        ChType::FixedString(n) => {
            if b.len() > *n {
                return Err(format!("{} bytes do not fit {ty}", b.len()));
            }
            out.extend_from_slice(b);
            out.extend(std::iter::repeat_n(0, n - b.len()));
            Ok(())
        }
        _ => {
            put_bytes(out, b);
            Ok(())
        }
    }
}

/// `(high, low)` halves of a UUID in canonical (or undashed) hex text.
pub fn parse_uuid(s: &str) -> Option<(u64, u64)> {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let v = u128::from_str_radix(&hex, 16).ok()?;
    Some(((v >> 64) as u64, v as u64))
}

/// Plain decimal text (`-12.340`, `5`, `1e3` not accepted) → (unscaled, scale), exactly.
pub fn parse_decimal(s: &str) -> Option<(i256, i8)> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if (int.is_empty() && frac.is_empty())
        || !int.chars().chain(frac.chars()).all(|c| c.is_ascii_digit())
        || int.len() + frac.len() > 76
    {
        return None;
    }
    let mut v = i256::ZERO;
    let ten = i256::from_i128(10);
    for c in int.chars().chain(frac.chars()) {
        v = v
            .checked_mul(ten)?
            .checked_add(i256::from_i128(i128::from(c as u8 - b'0')))?;
    }
    let scale = i8::try_from(frac.len()).ok()?;
    Some((if neg { v.wrapping_neg() } else { v }, scale))
}

#[cfg(test)]
mod tests;
