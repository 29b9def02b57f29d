//! `Cast$Key` / `Cast$Value`: casts fields (`field:type,...`) or the whole key or value (`type`)
//! to int8..int64, float32/64, boolean or string, with Java's conversion rules.

use std::sync::Arc;

use arrow::datatypes::i256;
use base64::Engine;

use crate::configdef::ParsedConfig;
use crate::data::json;
use crate::data::schema::names;
use crate::data::{Decimal, Kind, Schema, SchemaRef, SinkRecord, Value};

use super::date_format::DateFormat;
use super::support::{
    copy_basics, decode, encode, java_class, java_float_string, map_get, map_put, require_map,
    require_struct, struct_from, with_default, SchemaCache, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "cast types";
const SUPPORTED_INPUTS: &str =
    "[INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]";

/// A cast target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Int8,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Boolean,
    String,
}

impl Target {
    fn parse(text: &str) -> Option<Target> {
        Some(match text.trim().to_ascii_uppercase().as_str() {
            "INT8" => Target::Int8,
            "INT16" => Target::Int16,
            "INT32" => Target::Int32,
            "INT64" => Target::Int64,
            "FLOAT32" => Target::Float32,
            "FLOAT64" => Target::Float64,
            "BOOLEAN" => Target::Boolean,
            "STRING" => Target::String,
            _ => return None,
        })
    }

    fn kind(self) -> Kind {
        match self {
            Target::Int8 => Kind::Int8,
            Target::Int16 => Kind::Int16,
            Target::Int32 => Kind::Int32,
            Target::Int64 => Kind::Int64,
            Target::Float32 => Kind::Float32,
            Target::Float64 => Kind::Float64,
            Target::Boolean => Kind::Boolean,
            Target::String => Kind::String,
        }
    }
}

pub(crate) struct Cast {
    side: Side,
    whole: Option<Target>,
    fields: Vec<(String, Target)>,
    replace_null: bool,
    cache: SchemaCache<SchemaRef>,
}

/// A parsed `spec`: the whole-value target, or per-field targets.
pub(crate) type Spec = (Option<Target>, Vec<(String, Target)>);

/// `spec`: `field:type` pairs, or one bare type for the whole key/value.
pub(crate) fn parse_spec(items: &[String]) -> Result<Spec, String> {
    if items.is_empty() {
        return Err("Must specify at least one field to cast.".into());
    }
    let mut whole = None;
    let mut fields = Vec::new();
    for mapping in items {
        let mut parts: Vec<&str> = mapping.split(':').collect();
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        let (field, ty) = match parts.as_slice() {
            [ty] => (None, *ty),
            [field, ty] => (Some(field.trim()), *ty),
            _ => return Err(format!("Invalid cast mapping: {mapping}")),
        };
        let target = Target::parse(ty).ok_or_else(|| {
            format!(
                "Cast transformation does not support casting to/from {}; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]",
                ty.trim().to_ascii_uppercase()
            )
        })?;
        match field {
            None => whole = Some(target),
            Some(f) => fields.push((f.to_string(), target)),
        }
    }
    if whole.is_some() && items.len() > 1 {
        return Err("Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec".into());
    }
    Ok((whole, fields))
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    let spec = cfg.get_list("spec").map_err(|e| e.to_string())?;
    let (whole, fields) = parse_spec(spec).map_err(|e| {
        format!(
            "Invalid value {} for configuration spec: {e}",
            spec.join(",")
        )
    })?;
    Ok(Box::new(Cast {
        side,
        whole,
        fields,
        replace_null: cfg
            .get_bool("replace.null.with.default")
            .map_err(|e| e.to_string())?,
        cache: SchemaCache::default(),
    }))
}

fn out_of_range(v: &impl std::fmt::Display) -> TransformError {
    TransformError::Data(format!(
        "Value ({v}) was out of range for requested data type"
    ))
}

fn unexpected(value: &Value, schema: Option<&Schema>) -> TransformError {
    TransformError::Data(format!(
        "Unexpected type in Cast transformation: class {}",
        java_class(value, schema)
    ))
}

/// `Integer.parseInt` & co.: optional sign, ASCII digits, in range.
fn parse_java_int(s: &str, min: i64, max: i64) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i64 = s.parse().ok()?;
    (min..=max).contains(&v).then_some(v)
}

/// `Double.parseDouble`: trims, accepts a `d`/`f` suffix and `NaN`/`Infinity`.
fn parse_java_double(s: &str) -> Option<f64> {
    let t = s.trim_matches(|c: char| c <= ' ');
    match t {
        "NaN" | "+NaN" | "-NaN" => return Some(f64::NAN),
        "Infinity" | "+Infinity" => return Some(f64::INFINITY),
        "-Infinity" => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let body = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
    let lower = body.to_ascii_lowercase();
    if lower.contains("inf") || lower.contains("nan") {
        return None;
    }
    body.parse().ok()
}

/// The integer part of a decimal, truncated toward zero, low 64 bits (`BigDecimal.longValue`).
fn decimal_long(d: &Decimal) -> i64 {
    let ten = i256::from_i128(10);
    let v = if d.scale > 0 {
        match ten.checked_pow(d.scale.unsigned_abs()) {
            Some(p) => d.unscaled.wrapping_div(p),
            None => i256::ZERO,
        }
    } else {
        d.unscaled
            .wrapping_mul(ten.wrapping_pow(d.scale.unsigned_abs()))
    };
    v.as_i128() as i64
}

fn decimal_double(d: &Decimal) -> f64 {
    d.to_text().parse().unwrap_or(0.0)
}

/// `BigDecimal.toString()`: plain unless the exponent is small, then `d.dddE±n`.
pub(crate) fn java_decimal_string(d: &Decimal) -> String {
    let digits = d.unscaled.wrapping_abs().to_string();
    let adjusted = -i64::from(d.scale) + (digits.len() as i64 - 1);
    if d.scale >= 0 && adjusted >= -6 {
        return d.to_text();
    }
    let sign = if d.unscaled.is_negative() { "-" } else { "" };
    let (first, rest) = digits.split_at(1);
    let mantissa = if rest.is_empty() {
        first.to_string()
    } else {
        format!("{first}.{rest}")
    };
    let exp_sign = if adjusted >= 0 { "+" } else { "" };
    format!("{sign}{mantissa}E{exp_sign}{adjusted}")
}

/// `Values.dateFormatFor`: how Connect prints its Date, Time and Timestamp as strings.
fn date_string(v: i64, name: &str) -> String {
    let (pattern, ms) = match name {
        names::DATE => ("yyyy-MM-dd", v.saturating_mul(86_400_000)),
        names::TIME => ("HH:mm:ss.SSS", v),
        _ => ("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", v),
    };
    DateFormat::new(pattern)
        .map(|f| f.format(ms))
        .unwrap_or_else(|_| v.to_string())
}

/// Casts one value (`Cast.castValueToType`).
pub(crate) fn cast_value(
    schema: Option<&Schema>,
    value: Value,
    target: Target,
) -> Result<Value, TransformError> {
    if value.is_null() {
        return Ok(Value::Null);
    }
    // Only primitive inputs (and the logical types built on them) can be cast.
    let input = match schema {
        Some(s) => s.kind.type_name(),
        None => match &value {
            Value::Array(_) => "ARRAY",
            Value::Map(_) => "MAP",
            Value::Struct(_) => "STRUCT",
            _ => "",
        },
    };
    if matches!(input, "ARRAY" | "MAP" | "STRUCT") {
        return Err(TransformError::Data(format!(
            "Cast transformation does not support casting to/from {input}; supported types are {SUPPORTED_INPUTS}"
        )));
    }
    let date_name = schema
        .and_then(|s| s.name.as_deref())
        .filter(|n| matches!(*n, names::DATE | names::TIME | names::TIMESTAMP));
    let single = schema.is_some_and(|s| s.kind == Kind::Float32);
    let int = |min: i64, max: i64, narrow: fn(i64) -> i64| -> Result<Value, TransformError> {
        Ok(Value::Int(match &value {
            _ if date_name.is_some() => return Err(unexpected(&value, schema)),
            Value::Int(i) => narrow(*i),
            // Java narrows a double through int (or long), saturating.
            Value::Float(f) if max <= i64::from(i32::MAX) => narrow(i64::from(*f as i32)),
            Value::Float(f) => *f as i64,
            Value::Boolean(b) => i64::from(*b),
            Value::String(s) => parse_java_int(s, min, max).ok_or_else(|| out_of_range(s))?,
            Value::Decimal(d) => narrow(decimal_long(d)),
            _ => return Err(unexpected(&value, schema)),
        }))
    };
    match target {
        Target::Int8 => int(i64::from(i8::MIN), i64::from(i8::MAX), |v| {
            i64::from(v as i8)
        }),
        Target::Int16 => int(i64::from(i16::MIN), i64::from(i16::MAX), |v| {
            i64::from(v as i16)
        }),
        Target::Int32 => int(i64::from(i32::MIN), i64::from(i32::MAX), |v| {
            i64::from(v as i32)
        }),
        Target::Int64 => int(i64::MIN, i64::MAX, |v| v),
        Target::Float32 | Target::Float64 => {
            let f = match &value {
                _ if date_name.is_some() => return Err(unexpected(&value, schema)),
                Value::Int(i) => *i as f64,
                Value::Float(f) => *f,
                Value::Boolean(b) => f64::from(u8::from(*b)),
                Value::String(s) => parse_java_double(s).ok_or_else(|| out_of_range(s))?,
                Value::Decimal(d) => decimal_double(d),
                _ => return Err(unexpected(&value, schema)),
            };
            Ok(Value::Float(if target == Target::Float32 {
                f64::from(f as f32)
            } else {
                f
            }))
        }
        Target::Boolean => Ok(Value::Boolean(match &value {
            _ if date_name.is_some() => return Err(unexpected(&value, schema)),
            Value::Int(i) => *i != 0,
            Value::Float(f) => (*f as i64) != 0,
            Value::Boolean(b) => *b,
            Value::String(s) => s.eq_ignore_ascii_case("true"),
            Value::Decimal(d) => decimal_long(d) != 0,
            _ => return Err(unexpected(&value, schema)),
        })),
        Target::String => Ok(Value::String(match value {
            Value::Int(i) => match date_name {
                Some(name) => date_string(i, name),
                None => i.to_string(),
            },
            Value::Float(f) => java_float_string(f, single),
            Value::Boolean(b) => b.to_string(),
            Value::String(s) => s,
            Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b),
            Value::Decimal(d) => java_decimal_string(&d),
            other => return Err(unexpected(&other, schema)),
        })),
    }
}

/// The cast schema's default: the input default, cast.
fn cast_default(
    schema: &Schema,
    target: Target,
    out: &Schema,
) -> Result<Option<serde_json::Value>, TransformError> {
    let Some(default) = json::default_value(schema)? else {
        return Ok(None);
    };
    let cast = cast_value(Some(schema), default, target)?;
    Ok(Some(json::encode(&cast, out)))
}

impl Cast {
    fn target_of(&self, field: &str) -> Option<Target> {
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, t)| *t)
    }

    fn updated_schema(&self, schema: &Schema) -> Result<SchemaRef, TransformError> {
        if let Some(target) = self.whole {
            // A logical type's name would misdescribe the cast value; keep only plain basics.
            let mut out = if schema.logical().is_some() {
                Schema::new(target.kind(), false)
            } else {
                copy_basics(schema, target.kind())
            };
            out.optional = schema.optional;
            out.default = cast_default(schema, target, &out)?;
            return Ok(Arc::new(out));
        }
        let mut fields = Vec::with_capacity(schema.fields().len());
        for f in schema.fields() {
            let field_schema = match self.target_of(&f.name) {
                Some(target) => {
                    let mut s = Schema::new(target.kind(), f.schema.optional);
                    s.default = cast_default(&f.schema, target, &s)?;
                    Arc::new(s)
                }
                None => f.schema.clone(),
            };
            fields.push((f.name.clone(), field_schema));
        }
        let mut out = struct_from(Some(schema), fields)?;
        out.optional = schema.optional;
        Ok(Arc::new(out))
    }
}

impl Transformation for Cast {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(data) = self.side.take(&mut record) else {
            return Ok(Some(record));
        };
        let (schema, value) = decode(data)?;
        let out = match (schema, self.whole) {
            (None, Some(target)) => encode(None, cast_value(None, value, target)?),
            (None, None) => {
                let mut entries = require_map(value, PURPOSE)?;
                for (field, target) in &self.fields {
                    let current = map_get(&entries, field).cloned().unwrap_or(Value::Null);
                    let cast = cast_value(None, current, *target)?;
                    map_put(&mut entries, field, cast);
                }
                encode(None, Value::Map(entries))
            }
            (Some(schema), whole) => {
                let updated = match self.cache.get(&schema, None) {
                    Some(u) => u,
                    None => {
                        let u = self.updated_schema(&schema)?;
                        self.cache.insert(&schema, None, u.clone());
                        u
                    }
                };
                let value = match whole {
                    Some(target) => cast_value(Some(&schema), value, target)?,
                    None => {
                        let values = require_struct(value, &schema, PURPOSE)?;
                        let mut out = Vec::with_capacity(values.len());
                        for (v, f) in values.into_iter().zip(schema.fields()) {
                            let v = with_default(v, &f.schema, self.replace_null);
                            out.push(match self.target_of(&f.name) {
                                Some(target) => cast_value(Some(&f.schema), v, target)?,
                                None => v,
                            });
                        }
                        Value::Struct(out)
                    }
                };
                encode(Some(updated), value)
            }
        };
        self.side.put(&mut record, out);
        Ok(Some(record))
    }
}

/// Whether a schema is a logical type Cast can read (for tests and docs).
#[cfg(test)]
pub(crate) fn is_castable_logical(schema: &Schema) -> bool {
    use crate::data::Logical;
    matches!(
        schema.logical(),
        Some(
            Logical::Decimal { .. }
                | Logical::Date
                | Logical::TimeMillis
                | Logical::TimestampMillisUtc
        )
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(unscaled: i128, scale: i32) -> Decimal {
        Decimal {
            unscaled: i256::from_i128(unscaled),
            scale,
        }
    }

    #[test]
    fn java_conversions() {
        let c = |v: Value, t| cast_value(None, v, t).unwrap();
        assert_eq!(c(Value::Int(300), Target::Int8), Value::Int(44));
        assert_eq!(
            c(Value::Float(1e20), Target::Int32),
            Value::Int(i64::from(i32::MAX))
        );
        assert_eq!(c(Value::Float(-1.9), Target::Int64), Value::Int(-1));
        assert_eq!(
            c(Value::String("+42".into()), Target::Int16),
            Value::Int(42)
        );
        assert_eq!(c(Value::Boolean(true), Target::Float64), Value::Float(1.0));
        assert_eq!(
            c(Value::String("TRUE".into()), Target::Boolean),
            Value::Boolean(true)
        );
        assert_eq!(
            c(Value::String("yes".into()), Target::Boolean),
            Value::Boolean(false)
        );
        assert_eq!(c(Value::Float(0.5), Target::Boolean), Value::Boolean(false));
        assert_eq!(
            c(Value::Float(1e7), Target::String),
            Value::String("1.0E7".into())
        );
        assert_eq!(
            c(Value::Bytes(vec![1, 2]), Target::String),
            Value::String("AQI=".into())
        );
        assert_eq!(
            c(Value::Decimal(dec(-159, 2)), Target::Int32),
            Value::Int(-1)
        );
        assert_eq!(
            c(Value::Decimal(dec(159, 2)), Target::String),
            Value::String("1.59".into())
        );
        let e = cast_value(None, Value::String("1.5".into()), Target::Int32).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Value (1.5) was out of range for requested data type"
        );
        let e = cast_value(None, Value::String("999".into()), Target::Int8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Value (999) was out of range for requested data type"
        );
        let e = cast_value(None, Value::Map(vec![]), Target::String).unwrap_err();
        assert!(
            e.to_string()
                .contains("does not support casting to/from MAP"),
            "{e}"
        );
        let e = cast_value(None, Value::Bytes(vec![1]), Target::Int8).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Unexpected type in Cast transformation: class [B"
        );
    }

    #[test]
    fn logical_inputs() {
        let date = super::super::support::logical_schema(Kind::Int32, names::DATE, false);
        assert!(is_castable_logical(&date));
        assert_eq!(
            cast_value(Some(&date), Value::Int(19_776), Target::String).unwrap(),
            Value::String("2024-02-23".into())
        );
        let ts = super::super::support::timestamp_schema(false);
        assert_eq!(
            cast_value(Some(&ts), Value::Int(1_708_678_334_431), Target::String).unwrap(),
            Value::String("2024-02-23T08:52:14.431Z".into())
        );
        assert!(cast_value(Some(&ts), Value::Int(1), Target::Int64).is_err());
        assert_eq!(java_decimal_string(&dec(1, 10)), "1E-10");
        assert_eq!(java_decimal_string(&dec(-123, -2)), "-1.23E+4");
        assert_eq!(java_decimal_string(&dec(5, 7)), "5E-7");
        assert_eq!(java_decimal_string(&dec(5, 6)), "0.000005");
    }

    #[test]
    fn spec_parsing() {
        let s =
            |items: &[&str]| parse_spec(&items.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["int64"]).unwrap(), (Some(Target::Int64), vec![]));
        assert_eq!(
            s(&["a:int8", "b: STRING "]).unwrap(),
            (
                None,
                vec![("a".into(), Target::Int8), ("b".into(), Target::String)]
            )
        );
        assert!(s(&["int64", "a:int8"])
            .unwrap_err()
            .contains("may ony specify a single cast"));
        assert!(s(&["a:bytes"])
            .unwrap_err()
            .contains("does not support casting to/from BYTES"));
        assert_eq!(
            s(&[]).unwrap_err(),
            "Must specify at least one field to cast."
        );
        assert_eq!(s(&["a:b:c"]).unwrap_err(), "Invalid cast mapping: a:b:c");
    }
}

#[cfg(test)]
mod chain_tests {
    use serde_json::json;

    use crate::data::{Data, Kind};
    use crate::transforms::tests::{
        as_json, json_data, props, record, schema, schemaless, struct_of, transform, try_transform,
    };

    const VALUE: &str = "org.apache.kafka.connect.transforms.Cast$Value";
    const KEY: &str = "org.apache.kafka.connect.transforms.Cast$Key";

    #[test]
    fn whole_key_from_string_converter() {
        let mut t = transform(KEY, &props(&[("spec", "int64")]));
        let out = t
            .apply(record("t", Some(Data::String("42".into())), None))
            .unwrap()
            .unwrap();
        let (s, v) = as_json(out.key.as_ref());
        assert_eq!(s.unwrap()["type"], "int64");
        assert_eq!(v, json!(42));
        let e = t
            .apply(record("t", Some(Data::String("x".into())), None))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Value (x) was out of range for requested data type"
        );
    }

    #[test]
    fn struct_fields_with_schema() {
        let s = schema(json!({"type":"struct","name":"r","optional":true,"fields":[
            {"field":"a","type":"int64","optional":true,"default":300},
            {"field":"b","type":"string"},
            {"field":"c","type":"double"}]}));
        let mut t = transform(VALUE, &props(&[("spec", "a:int8,b:int32,c:string")]));
        let out = t
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"a":258,"b":"17","c":1.5}))),
            ))
            .unwrap()
            .unwrap();
        let (us, _) = struct_of(out.value.as_ref());
        assert!(us.optional);
        assert_eq!(us.name.as_deref(), Some("r"));
        let a = &us.field("a").unwrap().schema;
        assert_eq!(
            (&a.kind, a.optional, a.default.clone()),
            (&Kind::Int8, true, Some(json!(44)))
        );
        assert_eq!(us.field("b").unwrap().schema.kind, Kind::Int32);
        assert_eq!(us.field("c").unwrap().schema.kind, Kind::String);
        assert_eq!(
            as_json(out.value.as_ref()).1,
            json!({"a":2,"b":17,"c":"1.5"})
        );
    }

    #[test]
    fn schemaless_fields_and_whole_value() {
        let mut t = transform(
            VALUE,
            &props(&[("spec", "a:string,b:boolean,missing:int8")]),
        );
        let out = t
            .apply(record(
                "t",
                None,
                Some(schemaless(json!({"a":12,"b":"true","c":1}))),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(
            as_json(out.value.as_ref()).1,
            json!({"a":"12","b":true,"c":1,"missing":null})
        );
        let mut t = transform(VALUE, &props(&[("spec", "float32")]));
        let out = t
            .apply(record("t", None, Some(schemaless(json!(3)))))
            .unwrap()
            .unwrap();
        assert_eq!(as_json(out.value.as_ref()), (None, json!(3.0)));
        assert!(t
            .apply(record("t", None, None))
            .unwrap()
            .unwrap()
            .value
            .is_none());
        // The schema's item pattern rejects it before the class sees it.
        let e = try_transform(VALUE, &props(&[("spec", "a:bytes")]))
            .err()
            .unwrap();
        assert!(
            e.starts_with("Invalid value a:bytes for configuration spec: "),
            "{e}"
        );
    }
}
