//! Connect schema → Arrow schema (the type table in the [module docs](super)).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Metadata, Schema as ArrowSchema, TimeUnit};
use thiserror::Error;

use super::{ArrowOptions, VariableScaleDecimalPolicy};
use crate::data::schema::{Kind, Logical, Schema};

/// Field metadata key: Connect schema name.
pub const META_NAME: &str = "connect.name";
/// Field metadata key: Connect schema version.
pub const META_VERSION: &str = "connect.version";
/// Field metadata key: Connect schema doc.
pub const META_DOC: &str = "connect.doc";
/// Field metadata key prefix for Connect schema parameters.
pub const META_PARAM_PREFIX: &str = "connect.parameters.";

/// Arrow's largest decimal precision (Decimal256).
pub const MAX_DECIMAL_PRECISION: u32 = 76;

/// Why a Connect schema has no Arrow type.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("cannot map Connect schema at {path} to Arrow: {kind}")]
pub struct MappingError {
    /// Where in the schema (`$.after.price`).
    pub path: String,
    /// What is wrong.
    pub kind: MappingErrorKind,
}

/// The reasons a schema cannot be mapped.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MappingErrorKind {
    /// A record batch needs a struct schema (its fields become columns).
    #[error("a record batch needs a struct schema, found {0}")]
    NotAStruct(&'static str),
    /// The decimal scale does not fit Arrow's i8 scale or 76 digits.
    #[error("decimal scale {0} is outside what Arrow decimals can hold (-76..=76)")]
    DecimalScale(i64),
    /// `connect.decimal.precision` is not a positive integer.
    #[error("invalid connect.decimal.precision \"{0}\"")]
    DecimalPrecision(String),
}

/// How a column's values are read from [`crate::data::Value`]s, resolved once per column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Semantic {
    /// The Arrow type says it all.
    Plain,
    /// Timestamp with Debezium's infinity sentinels.
    Timestamp,
    /// ZonedTimestamp text → µs.
    Zoned,
    /// Decimal value → plain text (precision above 76).
    DecimalText,
    /// VariableScaleDecimal struct → text.
    VarDecimalText,
    /// VariableScaleDecimal struct → fixed-scale decimal.
    VarDecimal,
}

/// Arrow field for a Connect schema with default options.
pub fn arrow_field(name: &str, schema: &Schema) -> Result<Field, MappingError> {
    arrow_field_with(name, schema, &ArrowOptions::default())
}

/// Arrow field for a Connect schema.
pub fn arrow_field_with(
    name: &str,
    schema: &Schema,
    opts: &ArrowOptions,
) -> Result<Field, MappingError> {
    field_at(name, schema, opts, &format!("$.{name}"))
}

/// Arrow schema of a Connect struct schema (its fields become columns) with default options.
pub fn arrow_schema(schema: &Schema) -> Result<Arc<ArrowSchema>, MappingError> {
    arrow_schema_with(schema, &ArrowOptions::default())
}

/// Arrow schema of a Connect struct schema; the struct's own name/version/parameters become
/// schema metadata.
pub fn arrow_schema_with(
    schema: &Schema,
    opts: &ArrowOptions,
) -> Result<Arc<ArrowSchema>, MappingError> {
    let Kind::Struct(fields) = &schema.kind else {
        return Err(MappingError {
            path: "$".into(),
            kind: MappingErrorKind::NotAStruct(kind_name(&schema.kind)),
        });
    };
    let fields = fields
        .iter()
        .map(|f| field_at(&f.name, &f.schema, opts, &format!("$.{}", f.name)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Arc::new(
        ArrowSchema::new(fields).with_metadata(metadata(schema)),
    ))
}

pub(crate) fn kind_name(kind: &Kind) -> &'static str {
    match kind {
        Kind::Int8 => "int8",
        Kind::Int16 => "int16",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Float32 => "float32",
        Kind::Float64 => "float64",
        Kind::Boolean => "boolean",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Array(_) => "array",
        Kind::Map(_, _) => "map",
        Kind::Struct(_) => "struct",
    }
}

fn metadata(schema: &Schema) -> Metadata {
    let mut m = Metadata::new();
    if let Some(n) = &schema.name {
        m.insert(META_NAME, n.as_str());
    }
    if let Some(v) = schema.version {
        m.insert(META_VERSION, v.to_string());
    }
    if let Some(d) = &schema.doc {
        m.insert(META_DOC, d.as_str());
    }
    for (k, v) in &schema.parameters {
        m.insert(format!("{META_PARAM_PREFIX}{k}"), v.as_str());
    }
    m
}

pub(crate) fn field_at(
    name: &str,
    schema: &Schema,
    opts: &ArrowOptions,
    path: &str,
) -> Result<Field, MappingError> {
    let (dt, _) = data_type(schema, opts, path)?;
    Ok(Field::new(name, dt, schema.optional).with_metadata(metadata(schema)))
}

/// The logical type, only when it sits on the physical type it is defined for.
pub(crate) fn effective_logical(schema: &Schema) -> Option<Logical> {
    let l = schema.logical()?;
    let ok = match l {
        Logical::Decimal { .. } | Logical::Bits => schema.kind == Kind::Bytes,
        Logical::Date | Logical::TimeMillis => schema.kind == Kind::Int32,
        Logical::TimeMicros
        | Logical::TimeNanos
        | Logical::TimestampMillisUtc
        | Logical::TimestampMillis
        | Logical::TimestampMicros
        | Logical::TimestampNanos
        | Logical::MicroDuration => schema.kind == Kind::Int64,
        Logical::ZonedTimestamp
        | Logical::ZonedTime
        | Logical::Json
        | Logical::Uuid
        | Logical::Enum => schema.kind == Kind::String,
        Logical::VariableScaleDecimal => var_decimal_fields(schema).is_some(),
    };
    ok.then_some(l)
}

/// Positions of `scale` (int32) and `value` (bytes) in a VariableScaleDecimal struct.
pub(crate) fn var_decimal_fields(schema: &Schema) -> Option<(usize, usize)> {
    let Kind::Struct(fields) = &schema.kind else {
        return None;
    };
    let scale = fields
        .iter()
        .position(|f| f.name == "scale" && f.schema.kind == Kind::Int32)?;
    let value = fields
        .iter()
        .position(|f| f.name == "value" && f.schema.kind == Kind::Bytes)?;
    (fields.len() == 2).then_some((scale, value))
}

/// Decimal type for scale and optional precision: see the module docs.
fn decimal_type(
    scale: i64,
    precision: Option<u32>,
    path: &str,
) -> Result<(DataType, Semantic), MappingError> {
    let scale_err = || MappingError {
        path: path.to_string(),
        kind: MappingErrorKind::DecimalScale(scale),
    };
    if !(-(MAX_DECIMAL_PRECISION as i64)..=MAX_DECIMAL_PRECISION as i64).contains(&scale) {
        return Err(scale_err());
    }
    let s = scale as i8;
    match precision {
        None if scale <= 38 => Ok((DataType::Decimal128(38, s), Semantic::Plain)),
        None => Ok((
            DataType::Decimal256(MAX_DECIMAL_PRECISION as u8, s),
            Semantic::Plain,
        )),
        Some(p) if p > MAX_DECIMAL_PRECISION => Ok((DataType::Utf8, Semantic::DecimalText)),
        Some(p) => {
            // Arrow wants scale ≤ precision; NUMERIC(3,5) holds values below 10^-2, which
            // Decimal(5,5) holds too.
            let p = p.max(scale.max(0) as u32) as u8;
            if p <= 38 {
                Ok((DataType::Decimal128(p, s), Semantic::Plain))
            } else {
                Ok((DataType::Decimal256(p, s), Semantic::Plain))
            }
        }
    }
}

/// The Arrow type of a Connect schema and how its values are read.
pub(crate) fn data_type(
    schema: &Schema,
    opts: &ArrowOptions,
    path: &str,
) -> Result<(DataType, Semantic), MappingError> {
    if let Some(l) = effective_logical(schema) {
        let plain = |dt| Ok((dt, Semantic::Plain));
        return match l {
            Logical::Decimal { scale, .. } => {
                let precision = match schema.parameters.get("connect.decimal.precision") {
                    None => None,
                    Some(p) => match p.trim().parse::<u32>() {
                        Ok(p) if p > 0 => Some(p),
                        _ => {
                            return Err(MappingError {
                                path: path.to_string(),
                                kind: MappingErrorKind::DecimalPrecision(p.clone()),
                            })
                        }
                    },
                };
                decimal_type(scale as i64, precision, path)
            }
            Logical::VariableScaleDecimal => match opts.variable_scale_decimal {
                VariableScaleDecimalPolicy::Utf8 => Ok((DataType::Utf8, Semantic::VarDecimalText)),
                VariableScaleDecimalPolicy::Decimal128 { scale } => {
                    if !(-38..=38).contains(&scale) {
                        return Err(MappingError {
                            path: path.to_string(),
                            kind: MappingErrorKind::DecimalScale(scale as i64),
                        });
                    }
                    Ok((DataType::Decimal128(38, scale), Semantic::VarDecimal))
                }
            },
            Logical::Date => plain(DataType::Date32),
            Logical::TimeMillis => plain(DataType::Time32(TimeUnit::Millisecond)),
            Logical::TimeMicros => plain(DataType::Time64(TimeUnit::Microsecond)),
            Logical::TimeNanos => plain(DataType::Time64(TimeUnit::Nanosecond)),
            Logical::TimestampMillisUtc => Ok((
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                Semantic::Timestamp,
            )),
            Logical::TimestampMillis => Ok((
                DataType::Timestamp(TimeUnit::Millisecond, None),
                Semantic::Timestamp,
            )),
            Logical::TimestampMicros => Ok((
                DataType::Timestamp(TimeUnit::Microsecond, None),
                Semantic::Timestamp,
            )),
            Logical::TimestampNanos => Ok((
                DataType::Timestamp(TimeUnit::Nanosecond, None),
                Semantic::Timestamp,
            )),
            Logical::ZonedTimestamp => Ok((
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                Semantic::Zoned,
            )),
            Logical::MicroDuration => plain(DataType::Duration(TimeUnit::Microsecond)),
            Logical::ZonedTime | Logical::Json | Logical::Uuid | Logical::Enum => {
                plain(DataType::Utf8)
            }
            Logical::Bits => plain(DataType::Binary),
        };
    }
    let dt = match &schema.kind {
        Kind::Int8 => DataType::Int8,
        Kind::Int16 => DataType::Int16,
        Kind::Int32 => DataType::Int32,
        Kind::Int64 => DataType::Int64,
        Kind::Float32 => DataType::Float32,
        Kind::Float64 => DataType::Float64,
        Kind::Boolean => DataType::Boolean,
        Kind::String => DataType::Utf8,
        Kind::Bytes => DataType::Binary,
        Kind::Array(items) => {
            let item = field_at(
                Field::LIST_FIELD_DEFAULT_NAME,
                items,
                opts,
                &format!("{path}[]"),
            )?;
            DataType::List(Arc::new(item))
        }
        Kind::Map(k, v) => DataType::Map(Arc::new(map_entries(k, v, opts, path)?), false),
        Kind::Struct(fields) => DataType::Struct(
            fields
                .iter()
                .map(|f| field_at(&f.name, &f.schema, opts, &format!("{path}.{}", f.name)))
                .collect::<Result<Fields, _>>()?,
        ),
    };
    Ok((dt, Semantic::Plain))
}

/// The `entries` field of a map: a non-null struct of a non-null `key` and a `value`.
fn map_entries(
    k: &Schema,
    v: &Schema,
    opts: &ArrowOptions,
    path: &str,
) -> Result<Field, MappingError> {
    // Arrow map keys cannot be null; a null key is rejected when appended.
    let key = field_at(
        Field::MAP_KEY_FIELD_DEFAULT_NAME,
        k,
        opts,
        &format!("{path}.key"),
    )?
    .with_nullable(false);
    let value = field_at(
        Field::MAP_VALUE_FIELD_DEFAULT_NAME,
        v,
        opts,
        &format!("{path}.value"),
    )?;
    Ok(Field::new(
        Field::MAP_ENTRIES_FIELD_DEFAULT_NAME,
        DataType::Struct(Fields::from(vec![key, value])),
        false,
    ))
}
