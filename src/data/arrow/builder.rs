//! Connect values → Arrow record batches.
//!
//! Columns are plain `Vec` buffers rather than arrow's dynamic builders: appends dispatch once per
//! value on a small enum, and a failed append is undone by truncating every column back to the
//! row count before it (`Column::truncate`), so no half-appended row ever reaches a batch.

use std::fmt;
use std::sync::Arc;

use arrow::array::builder::{BooleanBufferBuilder, NullBufferBuilder};
use arrow::array::{
    Array, ArrayRef, BooleanArray, Decimal128Array, Decimal256Array, PrimitiveArray, StructArray,
};
use arrow::buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow::datatypes::{
    i256, ArrowPrimitiveType, DataType, Date32Type, DurationMicrosecondType, Field, FieldRef,
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, Schema as ArrowSchema,
    Time32MillisecondType, Time64MicrosecondType, Time64NanosecondType, TimeUnit,
    TimestampMicrosecondType, TimestampMillisecondType, TimestampNanosecondType,
};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use thiserror::Error;

use super::decimal::{fits_precision, rescale, text_from_be_bytes, RescaleError};
use super::time::{
    clamp_max, clamp_min, date_infinity, parse_zoned, Zoned, NEGATIVE_INFINITY, POSITIVE_INFINITY,
};
use super::types::{arrow_schema_with, data_type, var_decimal_fields, MappingError, Semantic};
use super::{ArrowOptions, InfinityPolicy, SubMicrosPolicy, ToastPolicy};
use crate::data::json::unscaled_from_be_bytes;
use crate::data::schema::{Kind, Schema};
use crate::data::value::{Decimal, Value};

/// Why a value could not be appended; `path` names the field (`$.after.price`).
#[derive(Debug, Error, Clone, PartialEq)]
#[error("{path}: {kind}")]
pub struct AppendError {
    /// Field path from the record root (`$.after.price`, `$.tags[2]`).
    pub path: String,
    /// What is wrong.
    pub kind: AppendErrorKind,
}

/// The reasons a value does not fit its column.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum AppendErrorKind {
    /// Null in a non-nullable column.
    #[error("null value for required {0} column")]
    NullInRequired(String),
    /// The value's kind does not fit the column type.
    #[error("expected {expected} but found {found}")]
    WrongKind {
        /// Column type.
        expected: String,
        /// Value kind.
        found: &'static str,
    },
    /// An integer outside the column's range.
    #[error("{value} is out of range for {ty}")]
    OutOfRange {
        /// The value.
        value: i64,
        /// Column type.
        ty: &'static str,
    },
    /// An integer a float column cannot hold exactly.
    #[error("integer {value} is not exactly representable as {ty}")]
    InexactFloat {
        /// The value.
        value: i64,
        /// Column type.
        ty: &'static str,
    },
    /// A decimal with more digits than the column's precision.
    #[error("decimal {value} exceeds precision {precision}")]
    DecimalPrecision {
        /// The decimal text.
        value: String,
        /// Column precision.
        precision: u8,
    },
    /// A decimal with more fractional digits than the column's scale.
    #[error("decimal {value} has more fractional digits than scale {scale}")]
    DecimalScale {
        /// The decimal text.
        value: String,
        /// Column scale.
        scale: i8,
    },
    /// VariableScaleDecimal bytes beyond 76 digits in a fixed decimal column.
    #[error("decimal of {0} bytes exceeds 76 digits")]
    DecimalTooLong(usize),
    /// Unparseable ZonedTimestamp text.
    #[error("invalid ZonedTimestamp '{text}': {reason}")]
    InvalidTimestamp {
        /// The text.
        text: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Sub-microsecond digits with [`SubMicrosPolicy::Error`].
    #[error("ZonedTimestamp '{0}' has digits below the microsecond")]
    SubMicros(String),
    /// A ±infinity sentinel with [`InfinityPolicy::Error`] (or null policy in a required column).
    #[error("{0} timestamp is not allowed by the infinity policy")]
    Infinity(&'static str),
    /// The TOAST placeholder where the policy forbids it.
    #[error("unavailable (TOASTed) value placeholder in a {0} column")]
    Toast(String),
    /// A struct value with a different number of fields than the schema.
    #[error("struct value has {found} fields but the schema has {expected}")]
    StructArity {
        /// Schema fields.
        expected: usize,
        /// Value fields.
        found: usize,
    },
    /// An object key that is not a field of the schema.
    #[error("field \"{0}\" is not in the schema")]
    UnknownField(String),
    /// An object with the same key twice.
    #[error("duplicate field \"{0}\"")]
    DuplicateField(String),
    /// A schemaless object key that is not a string.
    #[error("object key is not a string")]
    NonStringKey,
    /// A null map key (Arrow map keys are non-null).
    #[error("null map key")]
    NullMapKey,
    /// More than 2 GiB of string/binary data or list entries in one column of one batch.
    #[error("column exceeds 2 GiB (i32 offsets) in one batch: finish the batch earlier")]
    Capacity,
    /// A (widened) schema that has no Arrow type.
    #[error("{0}")]
    Mapping(MappingError),
    /// A schemaless value whose type conflicts with the inferred column type.
    #[error("{found} conflicts with the inferred type {inferred}")]
    TypeConflict {
        /// Inferred type.
        inferred: String,
        /// Value kind.
        found: &'static str,
    },
}

/// A field path, formatted only when an error needs it.
#[derive(Clone, Copy)]
pub(crate) enum Path<'a> {
    Root(&'a str),
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root(r) => f.write_str(r),
            Path::Field(p, name) => write!(f, "{p}.{name}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

fn fail<T>(path: &Path<'_>, kind: AppendErrorKind) -> Result<T, AppendError> {
    Err(AppendError {
        path: path.to_string(),
        kind,
    })
}

pub(crate) fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Boolean(_) => "boolean",
        Value::Int(_) => "integer",
        Value::Float(_) => "float",
        Value::String(_) => "string",
        Value::Bytes(_) => "bytes",
        Value::Decimal(_) => "decimal",
        Value::Array(_) => "array",
        Value::Map(_) => "map/object",
        Value::Struct(_) => "struct",
    }
}

/// UTF-8 or binary values with i32 offsets.
#[derive(Debug, Default)]
struct Bytes {
    offsets: Vec<i32>,
    data: Vec<u8>,
}

impl Bytes {
    fn new() -> Self {
        Bytes {
            offsets: vec![0],
            data: Vec::new(),
        }
    }

    fn push(&mut self, b: &[u8], path: &Path<'_>) -> Result<(), AppendError> {
        self.data.extend_from_slice(b);
        match i32::try_from(self.data.len()) {
            Ok(end) => {
                self.offsets.push(end);
                Ok(())
            }
            Err(_) => {
                let keep = *self.offsets.last().unwrap_or(&0) as usize;
                self.data.truncate(keep);
                fail(path, AppendErrorKind::Capacity)
            }
        }
    }

    fn push_empty(&mut self) {
        self.offsets.push(self.data.len() as i32);
    }

    fn truncate(&mut self, len: usize) {
        self.offsets.truncate(len + 1);
        self.data.truncate(self.offsets[len] as usize);
    }

    fn take(&mut self) -> (OffsetBuffer<i32>, Buffer) {
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let data = std::mem::take(&mut self.data);
        (
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(data),
        )
    }
}

/// Column storage, by Arrow physical layout.
#[derive(Debug)]
enum Store {
    Bool(BooleanBufferBuilder),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    D128(Vec<i128>),
    D256(Vec<i256>),
    Utf8(Bytes),
    Binary(Bytes),
    List(Vec<i32>, Box<Column>),
    Map(Vec<i32>, Box<Column>, Box<Column>),
    /// Children, and their names (kept apart so a child can be borrowed mutably while its
    /// name is in an error path).
    Struct(Vec<Column>, Vec<String>),
}

/// One column (or nested child) being built.
#[derive(Debug)]
pub(crate) struct Column {
    field: FieldRef,
    semantic: Semantic,
    /// Decimal precision/scale, VariableScaleDecimal struct positions, timestamp unit.
    precision: u8,
    scale: i8,
    var_fields: (usize, usize),
    unit: TimeUnit,
    nulls: NullBufferBuilder,
    store: Store,
    /// Slots and data bytes of the previous batch, reserved when the next one starts: growing
    /// from zero every batch was ~10% of the schemaless pipeline (reallocation copies).
    hint: (usize, usize),
}

impl Column {
    /// A column for `field` (from the type mapping) reading values of Connect `schema`.
    pub(crate) fn new(field: FieldRef, schema: &Schema, opts: &ArrowOptions) -> Self {
        // The semantic is recomputed from the schema (the same mapping produced `field`); a
        // schema whose mapping differs (a batch root named like a logical type) is plain.
        let semantic = match data_type(schema, opts, "$") {
            Ok((dt, s)) if dt == *field.data_type() => s,
            _ => Semantic::Plain,
        };
        let (mut precision, mut scale, mut unit) = (0, 0, TimeUnit::Microsecond);
        let store = match field.data_type() {
            DataType::Boolean => Store::Bool(BooleanBufferBuilder::new(0)),
            DataType::Int8 => Store::I8(Vec::new()),
            DataType::Int16 => Store::I16(Vec::new()),
            DataType::Int32 | DataType::Date32 | DataType::Time32(_) => Store::I32(Vec::new()),
            DataType::Int64 | DataType::Time64(_) | DataType::Duration(_) => Store::I64(Vec::new()),
            DataType::Timestamp(u, _) => {
                unit = *u;
                Store::I64(Vec::new())
            }
            DataType::Float32 => Store::F32(Vec::new()),
            DataType::Float64 => Store::F64(Vec::new()),
            DataType::Decimal128(p, s) => {
                (precision, scale) = (*p, *s);
                Store::D128(Vec::new())
            }
            DataType::Decimal256(p, s) => {
                (precision, scale) = (*p, *s);
                Store::D256(Vec::new())
            }
            DataType::Utf8 => Store::Utf8(Bytes::new()),
            DataType::Binary => Store::Binary(Bytes::new()),
            DataType::List(item) => {
                let items = match &schema.kind {
                    Kind::Array(i) => i.as_ref(),
                    _ => schema,
                };
                Store::List(vec![0], Box::new(Column::new(item.clone(), items, opts)))
            }
            DataType::Map(entries, _) => {
                let (ks, vs) = match &schema.kind {
                    Kind::Map(k, v) => (k.as_ref(), v.as_ref()),
                    _ => (schema, schema),
                };
                let DataType::Struct(kv) = entries.data_type() else {
                    unreachable!("map entries are a struct (types.rs)")
                };
                Store::Map(
                    vec![0],
                    Box::new(Column::new(kv[0].clone(), ks, opts)),
                    Box::new(Column::new(kv[1].clone(), vs, opts)),
                )
            }
            DataType::Struct(children) => Store::Struct(
                children
                    .iter()
                    .zip(schema.fields())
                    .map(|(c, f)| Column::new(c.clone(), &f.schema, opts))
                    .collect(),
                children.iter().map(|c| c.name().clone()).collect(),
            ),
            other => unreachable!("types.rs never maps to {other}"),
        };
        let var_fields = if semantic == Semantic::VarDecimal || semantic == Semantic::VarDecimalText
        {
            var_decimal_fields(schema).unwrap_or((0, 1))
        } else {
            (0, 1)
        };
        Column {
            field,
            semantic,
            precision,
            scale,
            var_fields,
            unit,
            nulls: NullBufferBuilder::new(0),
            store,
            hint: (0, 0),
        }
    }

    /// The column's Arrow field.
    pub(crate) fn field(&self) -> &FieldRef {
        &self.field
    }

    /// Rows (slots) appended.
    pub(crate) fn len(&self) -> usize {
        self.nulls.len()
    }

    pub(crate) fn name(&self) -> &str {
        self.field.name()
    }

    fn expected(&self) -> String {
        match self.field.metadata().get(super::types::META_NAME) {
            Some(n) => format!("{} ({n})", self.field.data_type()),
            None => self.field.data_type().to_string(),
        }
    }

    fn wrong(&self, path: &Path<'_>, v: &Value) -> AppendError {
        AppendError {
            path: path.to_string(),
            kind: AppendErrorKind::WrongKind {
                expected: self.expected(),
                found: value_kind(v),
            },
        }
    }

    /// Appends a null slot; `masked` when a null parent hides it (allowed even if required).
    pub(crate) fn push_null(&mut self, path: &Path<'_>, masked: bool) -> Result<(), AppendError> {
        if !masked && !self.field.is_nullable() {
            return fail(
                path,
                AppendErrorKind::NullInRequired(self.field.data_type().to_string()),
            );
        }
        self.nulls.append_null();
        match &mut self.store {
            Store::Bool(b) => b.append(false),
            Store::I8(v) => v.push(0),
            Store::I16(v) => v.push(0),
            Store::I32(v) => v.push(0),
            Store::I64(v) => v.push(0),
            Store::F32(v) => v.push(0.0),
            Store::F64(v) => v.push(0.0),
            Store::D128(v) => v.push(0),
            Store::D256(v) => v.push(i256::ZERO),
            Store::Utf8(b) | Store::Binary(b) => b.push_empty(),
            Store::List(offsets, _) | Store::Map(offsets, _, _) => {
                let last = *offsets.last().unwrap_or(&0);
                offsets.push(last);
            }
            Store::Struct(children, names) => {
                for (c, name) in children.iter_mut().zip(names.iter()) {
                    c.push_null(&Path::Field(path, name), true)?;
                }
            }
        }
        Ok(())
    }

    /// Appends `n` masked or nullable null slots (widening: earlier rows of a new column).
    pub(crate) fn push_nulls(&mut self, n: usize) -> Result<(), AppendError> {
        for _ in 0..n {
            self.push_null(&Path::Root("$"), true)?;
        }
        Ok(())
    }

    fn toast_null_or_err(
        &mut self,
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        match opts.toast {
            ToastPolicy::Null => self.push_null(path, false),
            _ => fail(path, AppendErrorKind::Toast(self.expected())),
        }
    }

    fn push_i64(&mut self, v: i64) {
        self.nulls.append_non_null();
        if let Store::I64(d) = &mut self.store {
            d.push(v);
        }
    }

    fn push_timestamp(
        &mut self,
        v: i64,
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        // Debezium writes the JDBC sentinel as is in µs columns and divided by 1000 in ms
        // columns (observed with Debezium 3.6 on PostgreSQL 15, tests/data/debezium).
        let ms = self.unit == TimeUnit::Millisecond;
        let (sign, clamped) = if v == POSITIVE_INFINITY || (ms && v == POSITIVE_INFINITY / 1000) {
            ("+infinity", clamp_max(self.unit))
        } else if v == NEGATIVE_INFINITY || (ms && v == NEGATIVE_INFINITY / 1000) {
            ("-infinity", clamp_min(self.unit))
        } else {
            self.push_i64(v);
            return Ok(());
        };
        self.push_infinity(sign, clamped, path, opts)
    }

    fn push_infinity(
        &mut self,
        sign: &'static str,
        clamped: i64,
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        match opts.infinity {
            InfinityPolicy::Clamp => {
                self.push_i64(clamped);
                Ok(())
            }
            InfinityPolicy::Null if self.field.is_nullable() => self.push_null(path, false),
            _ => fail(path, AppendErrorKind::Infinity(sign)),
        }
    }

    fn push_date_infinity(
        &mut self,
        sign: &'static str,
        clamped: i32,
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        match opts.infinity {
            InfinityPolicy::Clamp => {
                self.nulls.append_non_null();
                if let Store::I32(d) = &mut self.store {
                    d.push(clamped);
                }
                Ok(())
            }
            InfinityPolicy::Null if self.field.is_nullable() => self.push_null(path, false),
            _ => fail(path, AppendErrorKind::Infinity(sign)),
        }
    }

    fn push_zoned(
        &mut self,
        text: &str,
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        match parse_zoned(text) {
            Ok(Zoned::Micros(m, truncated)) => {
                if truncated && opts.sub_micros == SubMicrosPolicy::Error {
                    return fail(path, AppendErrorKind::SubMicros(text.to_string()));
                }
                self.push_i64(m);
                Ok(())
            }
            Ok(Zoned::PositiveInfinity) => {
                self.push_infinity("+infinity", clamp_max(TimeUnit::Microsecond), path, opts)
            }
            Ok(Zoned::NegativeInfinity) => {
                self.push_infinity("-infinity", clamp_min(TimeUnit::Microsecond), path, opts)
            }
            Err(_) if text == &*opts.toast_placeholder => self.toast_null_or_err(path, opts),
            Err(reason) => fail(
                path,
                AppendErrorKind::InvalidTimestamp {
                    text: text.to_string(),
                    reason,
                },
            ),
        }
    }

    /// Exact decimal for this column's precision/scale.
    fn fit_decimal(&self, d: Decimal, path: &Path<'_>) -> Result<i256, AppendError> {
        let unscaled =
            rescale(d.unscaled, d.scale, self.scale as i32).map_err(|e| AppendError {
                path: path.to_string(),
                kind: match e {
                    RescaleError::FractionalDigits => AppendErrorKind::DecimalScale {
                        value: d.to_text(),
                        scale: self.scale,
                    },
                    RescaleError::Overflow => AppendErrorKind::DecimalPrecision {
                        value: d.to_text(),
                        precision: self.precision,
                    },
                },
            })?;
        if !fits_precision(unscaled, self.precision) {
            return fail(
                path,
                AppendErrorKind::DecimalPrecision {
                    value: d.to_text(),
                    precision: self.precision,
                },
            );
        }
        Ok(unscaled)
    }

    fn push_decimal(&mut self, d: Decimal, path: &Path<'_>) -> Result<(), AppendError> {
        let unscaled = self.fit_decimal(d, path)?;
        self.nulls.append_non_null();
        match &mut self.store {
            // fits_precision(≤ 38) guarantees the i128 conversion.
            Store::D128(v) => v.push(unscaled.as_i128()),
            Store::D256(v) => v.push(unscaled),
            _ => unreachable!("decimal semantic on a non-decimal store"),
        }
        Ok(())
    }

    /// `(scale, bytes)` of a VariableScaleDecimal struct value.
    fn var_decimal_parts<'v>(
        &self,
        v: &'v Value,
        path: &Path<'_>,
    ) -> Result<(i32, &'v [u8]), AppendError> {
        if let Value::Struct(f) = v {
            let (si, vi) = self.var_fields;
            if let (Some(Value::Int(s)), Some(Value::Bytes(b))) = (f.get(si), f.get(vi)) {
                if let Ok(s) = i32::try_from(*s) {
                    return Ok((s, b));
                }
            }
        }
        Err(self.wrong(path, v))
    }

    /// Appends one value (with its nested children), or reports why it does not fit. On error,
    /// this column and its children may hold part of the value: the caller truncates.
    pub(crate) fn push(
        &mut self,
        v: &Value,
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        if let Value::Null = v {
            return self.push_null(path, false);
        }
        match self.semantic {
            Semantic::Plain => {}
            Semantic::Timestamp => {
                return match v {
                    Value::Int(i) => self.push_timestamp(*i, path, opts),
                    _ => Err(self.wrong(path, v)),
                }
            }
            Semantic::Zoned => {
                return match v {
                    Value::String(s) => self.push_zoned(s, path, opts),
                    _ => Err(self.wrong(path, v)),
                }
            }
            Semantic::DecimalText => {
                return match v {
                    Value::Decimal(d) => {
                        let text = d.to_text();
                        self.push_str(&text, path, opts)
                    }
                    _ => Err(self.wrong(path, v)),
                }
            }
            Semantic::VarDecimalText => {
                let text = match v {
                    Value::Decimal(d) => d.to_text(),
                    _ => {
                        let (scale, bytes) = self.var_decimal_parts(v, path)?;
                        text_from_be_bytes(bytes, scale)
                    }
                };
                return self.push_str(&text, path, opts);
            }
            Semantic::VarDecimal => {
                let d = match v {
                    Value::Decimal(d) => *d,
                    _ => {
                        let (scale, bytes) = self.var_decimal_parts(v, path)?;
                        let unscaled =
                            unscaled_from_be_bytes(bytes).ok_or_else(|| AppendError {
                                path: path.to_string(),
                                kind: AppendErrorKind::DecimalTooLong(bytes.len()),
                            })?;
                        Decimal { unscaled, scale }
                    }
                };
                return self.push_decimal(d, path);
            }
        }
        match (&mut self.store, v) {
            (Store::Bool(b), Value::Boolean(x)) => {
                b.append(*x);
                self.nulls.append_non_null();
            }
            (Store::I8(d), Value::Int(i)) => {
                let x = i8::try_from(*i).map_err(|_| range(path, *i, "Int8"))?;
                d.push(x);
                self.nulls.append_non_null();
            }
            (Store::I16(d), Value::Int(i)) => {
                let x = i16::try_from(*i).map_err(|_| range(path, *i, "Int16"))?;
                d.push(x);
                self.nulls.append_non_null();
            }
            (Store::I32(d), Value::Int(i)) => {
                let x = i32::try_from(*i).map_err(|_| range(path, *i, "Int32"))?;
                if *self.field.data_type() == DataType::Date32 {
                    if let Some((sign, clamped)) = date_infinity(x) {
                        return self.push_date_infinity(sign, clamped, path, opts);
                    }
                }
                d.push(x);
                self.nulls.append_non_null();
            }
            (Store::I64(d), Value::Int(i)) => {
                d.push(*i);
                self.nulls.append_non_null();
            }
            (Store::F32(d), Value::Float(f)) => {
                d.push(*f as f32);
                self.nulls.append_non_null();
            }
            (Store::F32(d), Value::Int(i)) => {
                if i.unsigned_abs() > 1 << 24 {
                    return fail(
                        path,
                        AppendErrorKind::InexactFloat {
                            value: *i,
                            ty: "Float32",
                        },
                    );
                }
                d.push(*i as f32);
                self.nulls.append_non_null();
            }
            (Store::F64(d), Value::Float(f)) => {
                d.push(*f);
                self.nulls.append_non_null();
            }
            (Store::F64(d), Value::Int(i)) => {
                if i.unsigned_abs() > 1 << 53 {
                    return fail(
                        path,
                        AppendErrorKind::InexactFloat {
                            value: *i,
                            ty: "Float64",
                        },
                    );
                }
                d.push(*i as f64);
                self.nulls.append_non_null();
            }
            (Store::D128(_) | Store::D256(_), Value::Decimal(d)) => {
                let d = *d;
                return self.push_decimal(d, path);
            }
            (Store::Utf8(_), Value::String(s)) => return self.push_str(s, path, opts),
            (Store::Binary(_), Value::Bytes(b)) => return self.push_bin(b, path, opts),
            (Store::List(offsets, child), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    child.push(item, &Path::Index(path, i), opts)?;
                }
                let end = i32::try_from(child.len()).map_err(|_| AppendError {
                    path: path.to_string(),
                    kind: AppendErrorKind::Capacity,
                })?;
                offsets.push(end);
                self.nulls.append_non_null();
            }
            (Store::Map(offsets, keys, values), Value::Map(entries)) => {
                for (i, (k, val)) in entries.iter().enumerate() {
                    let p = Path::Index(path, i);
                    if k.is_null() {
                        return fail(&p, AppendErrorKind::NullMapKey);
                    }
                    keys.push(k, &Path::Field(&p, "key"), opts)?;
                    values.push(val, &Path::Field(&p, "value"), opts)?;
                }
                let end = i32::try_from(keys.len()).map_err(|_| AppendError {
                    path: path.to_string(),
                    kind: AppendErrorKind::Capacity,
                })?;
                offsets.push(end);
                self.nulls.append_non_null();
            }
            (Store::Struct(children, names), Value::Struct(values)) => {
                if values.len() != children.len() {
                    return fail(
                        path,
                        AppendErrorKind::StructArity {
                            expected: children.len(),
                            found: values.len(),
                        },
                    );
                }
                for ((c, v), name) in children.iter_mut().zip(values).zip(names.iter()) {
                    c.push(v, &Path::Field(path, name), opts)?;
                }
                self.nulls.append_non_null();
            }
            (Store::Struct(..), Value::Map(entries)) => {
                self.push_object(entries, path, opts)?;
                self.nulls.append_non_null();
            }
            _ => return Err(self.wrong(path, v)),
        }
        Ok(())
    }

    /// A schemaless object into a struct column: fields by name, missing ones null.
    fn push_object(
        &mut self,
        entries: &[(Value, Value)],
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        let Store::Struct(children, names) = &mut self.store else {
            unreachable!("push_object on a struct store only")
        };
        // Every child has `before` slots now; a child already past it was filled by this object.
        let before = self.nulls.len();
        for (i, (k, v)) in entries.iter().enumerate() {
            let Value::String(key) = k else {
                return fail(path, AppendErrorKind::NonStringKey);
            };
            // Objects of one topic usually keep their key order: try the same position first.
            let idx = match names.get(i) {
                Some(n) if n == key => Some(i),
                _ => names.iter().position(|n| n == key),
            };
            let Some(idx) = idx else {
                // A null for a field without a column loses nothing (absent ≡ null); inferred
                // schemas have no column for fields seen only as null.
                if v.is_null() {
                    continue;
                }
                return fail(path, AppendErrorKind::UnknownField(key.clone()));
            };
            let c = &mut children[idx];
            let p = Path::Field(path, key);
            if c.len() != before {
                return fail(path, AppendErrorKind::DuplicateField(key.clone()));
            }
            c.push(v, &p, opts)?;
        }
        for (c, name) in children.iter_mut().zip(names.iter()) {
            if c.len() == before {
                c.push_null(&Path::Field(path, name), false)?;
            }
        }
        Ok(())
    }

    fn push_str(
        &mut self,
        s: &str,
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        if s.len() == opts.toast_placeholder.len() && s == &*opts.toast_placeholder {
            match opts.toast {
                ToastPolicy::Keep => {}
                _ => return self.toast_null_or_err(path, opts),
            }
        }
        let Store::Utf8(b) = &mut self.store else {
            unreachable!("push_str on a Utf8 store only")
        };
        b.push(s.as_bytes(), path)?;
        self.nulls.append_non_null();
        Ok(())
    }

    fn push_bin(
        &mut self,
        s: &[u8],
        path: &Path<'_>,
        opts: &ArrowOptions,
    ) -> Result<(), AppendError> {
        if s.len() == opts.toast_placeholder.len() && s == opts.toast_placeholder.as_bytes() {
            match opts.toast {
                ToastPolicy::Keep => {}
                _ => return self.toast_null_or_err(path, opts),
            }
        }
        let Store::Binary(b) = &mut self.store else {
            unreachable!("push_bin on a Binary store only")
        };
        b.push(s, path)?;
        self.nulls.append_non_null();
        Ok(())
    }

    /// Drops every slot at and after `len` (undoing a failed append).
    pub(crate) fn truncate(&mut self, len: usize) {
        if self.nulls.len() > len {
            self.nulls.truncate(len);
        }
        match &mut self.store {
            Store::Bool(b) => {
                if b.len() > len {
                    b.truncate(len)
                }
            }
            Store::I8(v) => v.truncate(len),
            Store::I16(v) => v.truncate(len),
            Store::I32(v) => v.truncate(len),
            Store::I64(v) => v.truncate(len),
            Store::F32(v) => v.truncate(len),
            Store::F64(v) => v.truncate(len),
            Store::D128(v) => v.truncate(len),
            Store::D256(v) => v.truncate(len),
            Store::Utf8(b) | Store::Binary(b) => b.truncate(len),
            Store::List(offsets, child) => {
                offsets.truncate(len + 1);
                child.truncate(offsets[len] as usize);
            }
            Store::Map(offsets, k, v) => {
                offsets.truncate(len + 1);
                k.truncate(offsets[len] as usize);
                v.truncate(offsets[len] as usize);
            }
            Store::Struct(children, _) => {
                for c in children {
                    c.truncate(len);
                }
            }
        }
    }

    /// Bytes of the buffers appended so far (what the finished arrays will hold).
    pub(crate) fn estimated_bytes(&self) -> usize {
        let nulls = self.nulls.allocated_size().min(self.len().div_ceil(8));
        nulls
            + match &self.store {
                Store::Bool(b) => b.len().div_ceil(8),
                Store::I8(v) => v.len(),
                Store::I16(v) => v.len() * 2,
                Store::I32(v) => v.len() * 4,
                Store::I64(v) => v.len() * 8,
                Store::F32(v) => v.len() * 4,
                Store::F64(v) => v.len() * 8,
                Store::D128(v) => v.len() * 16,
                Store::D256(v) => v.len() * 32,
                Store::Utf8(b) | Store::Binary(b) => b.offsets.len() * 4 + b.data.len(),
                Store::List(o, c) => o.len() * 4 + c.estimated_bytes(),
                Store::Map(o, k, v) => o.len() * 4 + k.estimated_bytes() + v.estimated_bytes(),
                Store::Struct(cs, _) => cs.iter().map(Column::estimated_bytes).sum(),
            }
    }

    /// Reserves the previous batch's sizes (called when a batch starts).
    pub(crate) fn reserve(&mut self) {
        let (n, bytes) = self.hint;
        match &mut self.store {
            Store::Bool(b) => b.reserve(n),
            Store::I8(v) => v.reserve(n),
            Store::I16(v) => v.reserve(n),
            Store::I32(v) => v.reserve(n),
            Store::I64(v) => v.reserve(n),
            Store::F32(v) => v.reserve(n),
            Store::F64(v) => v.reserve(n),
            Store::D128(v) => v.reserve(n),
            Store::D256(v) => v.reserve(n),
            Store::Utf8(b) | Store::Binary(b) => {
                b.offsets.reserve(n);
                b.data.reserve(bytes);
            }
            Store::List(o, c) => {
                o.reserve(n);
                c.reserve();
            }
            Store::Map(o, k, v) => {
                o.reserve(n);
                k.reserve();
                v.reserve();
            }
            Store::Struct(cs, _) => cs.iter_mut().for_each(Column::reserve),
        }
    }

    /// The finished array; the column is empty afterwards, ready for the next batch.
    pub(crate) fn finish(&mut self) -> ArrayRef {
        let len = self.len();
        self.hint = (
            len,
            match &self.store {
                Store::Utf8(b) | Store::Binary(b) => b.data.len(),
                _ => 0,
            },
        );
        let nulls = self.nulls.finish();
        let dt = self.field.data_type().clone();
        fn prim<T: ArrowPrimitiveType>(
            v: &mut Vec<T::Native>,
            nulls: Option<arrow::buffer::NullBuffer>,
        ) -> PrimitiveArray<T> {
            PrimitiveArray::<T>::new(ScalarBuffer::from(std::mem::take(v)), nulls)
        }
        match &mut self.store {
            Store::Bool(b) => Arc::new(BooleanArray::new(b.finish(), nulls)),
            Store::I8(v) => Arc::new(prim::<Int8Type>(v, nulls)),
            Store::I16(v) => Arc::new(prim::<Int16Type>(v, nulls)),
            Store::I32(v) => match dt {
                DataType::Date32 => Arc::new(prim::<Date32Type>(v, nulls)),
                DataType::Time32(_) => Arc::new(prim::<Time32MillisecondType>(v, nulls)),
                _ => Arc::new(prim::<Int32Type>(v, nulls)),
            },
            Store::I64(v) => match dt {
                DataType::Timestamp(TimeUnit::Millisecond, tz) => {
                    Arc::new(prim::<TimestampMillisecondType>(v, nulls).with_timezone_opt(tz))
                }
                DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                    Arc::new(prim::<TimestampMicrosecondType>(v, nulls).with_timezone_opt(tz))
                }
                DataType::Timestamp(_, tz) => {
                    Arc::new(prim::<TimestampNanosecondType>(v, nulls).with_timezone_opt(tz))
                }
                DataType::Time64(TimeUnit::Microsecond) => {
                    Arc::new(prim::<Time64MicrosecondType>(v, nulls))
                }
                DataType::Time64(_) => Arc::new(prim::<Time64NanosecondType>(v, nulls)),
                DataType::Duration(_) => Arc::new(prim::<DurationMicrosecondType>(v, nulls)),
                _ => Arc::new(prim::<Int64Type>(v, nulls)),
            },
            Store::F32(v) => Arc::new(prim::<Float32Type>(v, nulls)),
            Store::F64(v) => Arc::new(prim::<Float64Type>(v, nulls)),
            Store::D128(v) => Arc::new(
                Decimal128Array::new(ScalarBuffer::from(std::mem::take(v)), nulls)
                    .with_data_type(dt),
            ),
            Store::D256(v) => Arc::new(
                Decimal256Array::new(ScalarBuffer::from(std::mem::take(v)), nulls)
                    .with_data_type(dt),
            ),
            Store::Utf8(b) => {
                let (o, d) = b.take();
                Arc::new(arrow::array::StringArray::new(o, d, nulls))
            }
            Store::Binary(b) => {
                let (o, d) = b.take();
                Arc::new(arrow::array::BinaryArray::new(o, d, nulls))
            }
            Store::List(offsets, child) => {
                let DataType::List(item) = dt else {
                    unreachable!("list store has a list type")
                };
                let o = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                Arc::new(arrow::array::ListArray::new(item, o, child.finish(), nulls))
            }
            Store::Map(offsets, k, v) => {
                let DataType::Map(entries, sorted) = dt else {
                    unreachable!("map store has a map type")
                };
                let DataType::Struct(kv) = entries.data_type().clone() else {
                    unreachable!("map entries are a struct")
                };
                let len = k.len();
                let entries_array =
                    StructArray::try_new_with_length(kv, vec![k.finish(), v.finish()], None, len)
                        .expect("map entries are consistent by construction");
                let o = OffsetBuffer::new(ScalarBuffer::from(std::mem::replace(offsets, vec![0])));
                Arc::new(arrow::array::MapArray::new(
                    entries,
                    o,
                    entries_array,
                    nulls,
                    sorted,
                ))
            }
            Store::Struct(children, _) => {
                let DataType::Struct(fields) = dt else {
                    unreachable!("struct store has a struct type")
                };
                let arrays: Vec<ArrayRef> = children.iter_mut().map(Column::finish).collect();
                Arc::new(
                    StructArray::try_new_with_length(fields, arrays, nulls, len)
                        .expect("struct children are consistent by construction"),
                )
            }
        }
    }
}

fn range(path: &Path<'_>, value: i64, ty: &'static str) -> AppendError {
    AppendError {
        path: path.to_string(),
        kind: AppendErrorKind::OutOfRange { value, ty },
    }
}

impl Column {
    /// Struct children (empty for other columns).
    pub(crate) fn children(&self) -> &[Column] {
        match &self.store {
            Store::Struct(c, _) => c,
            _ => &[],
        }
    }

    /// Whether this column's data can be retyped to `target` without changing a value: the only
    /// lossy widening is Int64 → Float64 beyond 2^53. Returns the offending integer.
    pub(crate) fn check_widen(&self, target: &DataType) -> Result<(), i64> {
        match (&self.store, target) {
            (Store::I64(v), DataType::Float64) if self.field.data_type() == &DataType::Int64 => {
                match v.iter().find(|x| x.unsigned_abs() > 1 << 53) {
                    Some(x) => Err(*x),
                    None => Ok(()),
                }
            }
            (Store::List(_, child), DataType::List(item)) => child.check_widen(item.data_type()),
            (Store::Struct(children, _), DataType::Struct(fields)) => {
                for c in children {
                    if let Some((_, f)) = fields.find(c.name()) {
                        c.check_widen(f.data_type())?;
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// This column's data retyped to `field` (a widening of its type, see
    /// [`super::infer`]): same types are kept, Int64 becomes Float64, structs gain new
    /// children (null in earlier rows), lists widen their items, and an all-null placeholder
    /// becomes all nulls of the new type. Call [`Column::check_widen`] first.
    pub(crate) fn widen(self, field: FieldRef, schema: &Schema, opts: &ArrowOptions) -> Column {
        let n = self.len();
        let mut fresh = Column::new(field, schema, opts);
        fresh.hint = self.hint;
        if self.field.data_type() == fresh.field.data_type() {
            fresh.store = self.store;
            fresh.nulls = self.nulls;
            return fresh;
        }
        match (self.store, &mut fresh.store) {
            (Store::I64(v), Store::F64(f)) => {
                *f = v.into_iter().map(|x| x as f64).collect();
                fresh.nulls = self.nulls;
            }
            (Store::Struct(old, _), Store::Struct(new, _)) => {
                let mut old: Vec<Option<Column>> = old.into_iter().map(Some).collect();
                for (nc, f) in new.iter_mut().zip(schema.fields()) {
                    let slot = old
                        .iter_mut()
                        .find(|c| c.as_ref().is_some_and(|c| c.name() == nc.name()));
                    match slot.and_then(Option::take) {
                        Some(oc) => {
                            let target = nc.field.clone();
                            *nc = oc.widen(target, &f.schema, opts);
                        }
                        None => {
                            // Masked nulls never fail.
                            let _ = nc.push_nulls(n);
                        }
                    }
                }
                fresh.nulls = self.nulls;
            }
            (Store::List(offsets, child), Store::List(new_offsets, new_child)) => {
                let items = match &schema.kind {
                    Kind::Array(i) => i.as_ref(),
                    _ => schema,
                };
                *new_offsets = offsets;
                let target = new_child.field.clone();
                **new_child = child.widen(target, items, opts);
                fresh.nulls = self.nulls;
            }
            _ => {
                // Only all-null placeholder columns change layout (see infer.rs).
                debug_assert_eq!(self.nulls.finish_cloned().map_or(0, |b| b.null_count()), n);
                let _ = fresh.push_nulls(n);
            }
        }
        fresh
    }
}

/// Builds Arrow record batches from Connect values of one struct schema: one column per field.
///
/// A failed [`append`](Self::append) leaves the builder exactly as before the call (every
/// column is truncated back to the previous row count).
#[derive(Debug)]
pub struct BatchBuilder {
    schema: Arc<ArrowSchema>,
    /// A struct column over the top-level fields; its own validity is not used.
    root: Column,
    rows: usize,
    opts: ArrowOptions,
}

impl BatchBuilder {
    /// A builder for a Connect struct schema with the default policies.
    pub fn new(schema: &Schema) -> Result<Self, MappingError> {
        Self::with_options(schema, ArrowOptions::default())
    }

    /// A builder for a Connect struct schema with a topic's policies.
    pub fn with_options(schema: &Schema, opts: ArrowOptions) -> Result<Self, MappingError> {
        let arrow_schema = arrow_schema_with(schema, &opts)?;
        let root_field = Arc::new(Field::new(
            "",
            DataType::Struct(arrow_schema.fields().clone()),
            false,
        ));
        let root = Column::new(root_field, schema, &opts);
        Ok(BatchBuilder {
            schema: arrow_schema,
            root,
            rows: 0,
            opts,
        })
    }

    /// The Arrow schema of the batches.
    pub fn schema(&self) -> &Arc<ArrowSchema> {
        &self.schema
    }

    /// The policies in use.
    pub fn options(&self) -> &ArrowOptions {
        &self.opts
    }

    /// Appends one row: a `Value::Struct` in schema field order, or a `Value::Map` with string
    /// keys (fields by name, missing ones null; a key not in the schema is an error unless its
    /// value is null). `Value::Null` is [`append_null_row`](Self::append_null_row).
    pub fn append(&mut self, value: &Value) -> Result<(), AppendError> {
        match value {
            Value::Null => self.append_null_row(),
            Value::Struct(_) | Value::Map(_) => {
                if self.rows == 0 {
                    self.root.reserve();
                }
                match self.root.push(value, &Path::Root("$"), &self.opts) {
                    Ok(()) => {
                        self.rows += 1;
                        Ok(())
                    }
                    Err(e) => {
                        self.root.truncate(self.rows);
                        Err(e)
                    }
                }
            }
            other => Err(AppendError {
                path: "$".into(),
                kind: AppendErrorKind::WrongKind {
                    expected: "a struct (one row)".into(),
                    found: value_kind(other),
                },
            }),
        }
    }

    /// Appends a row with every column null; an error (and no change) if a column is required.
    pub fn append_null_row(&mut self) -> Result<(), AppendError> {
        if let Some(c) = self
            .root
            .children()
            .iter()
            .find(|c| !c.field().is_nullable())
        {
            return Err(AppendError {
                path: format!("$.{}", c.name()),
                kind: AppendErrorKind::NullInRequired(c.field().data_type().to_string()),
            });
        }
        self.root.push_null(&Path::Root("$"), true)?;
        self.rows += 1;
        Ok(())
    }

    /// Rows appended since the last [`finish`](Self::finish).
    pub fn len(&self) -> usize {
        self.rows
    }

    /// True when no row was appended since the last finish.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Approximate bytes of the batch so far (value, offset and validity buffers), for
    /// rotation and memory budgets. Allocated capacity can be up to twice this. O(columns).
    pub fn estimated_bytes(&self) -> usize {
        self.root.estimated_bytes()
    }

    /// The batch of every row appended; the builder is empty afterwards and can be reused.
    pub fn finish(&mut self) -> RecordBatch {
        let rows = std::mem::take(&mut self.rows);
        let root = self.root.finish();
        let (_, columns, _) = root
            .as_any()
            .downcast_ref::<StructArray>()
            .expect("the root column is a struct")
            .clone()
            .into_parts();
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .expect("columns match the schema by construction")
    }

    /// Retypes the builder to a wider schema (inference), keeping every row.
    pub(crate) fn widen(&mut self, schema: &Schema) -> Result<(), MappingError> {
        let arrow_schema = arrow_schema_with(schema, &self.opts)?;
        let root_field = Arc::new(Field::new(
            "",
            DataType::Struct(arrow_schema.fields().clone()),
            false,
        ));
        let placeholder = Column::new(
            Arc::new(Field::new("", DataType::Struct(Default::default()), false)),
            &Schema::structure(vec![], false),
            &self.opts,
        );
        let old = std::mem::replace(&mut self.root, placeholder);
        self.root = old.widen(root_field, schema, &self.opts);
        self.schema = arrow_schema;
        Ok(())
    }

    /// Checks that existing rows survive [`widen`](Self::widen) to `schema` unchanged.
    pub(crate) fn check_widen(&self, schema: &Schema) -> Result<(), (String, i64)> {
        let arrow_schema = match arrow_schema_with(schema, &self.opts) {
            Ok(s) => s,
            Err(_) => return Ok(()),
        };
        for c in self.root.children() {
            if let Some((_, f)) = arrow_schema.fields().find(c.name()) {
                c.check_widen(f.data_type())
                    .map_err(|v| (c.name().to_string(), v))?;
            }
        }
        Ok(())
    }
}
