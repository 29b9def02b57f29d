//! JSON ↔ Connect values, as JsonConverter reads and writes them.
//!
//! Decoding is driven by the schema through serde's `DeserializeSeed`: the payload text is
//! parsed once, straight into [`Value`], with no intermediate JSON tree.

use std::fmt;

use arrow::datatypes::i256;
use base64::Engine;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value as Json;
use thiserror::Error;

use super::schema::{Kind, Logical, Schema};
use super::value::{Decimal, Value};

/// Why a payload does not fit its schema (or is not JSON). `path` names the field.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{message}")]
pub struct DecodeError {
    /// Human-readable reason, including the field path.
    pub message: String,
}

/// A field path, built only when an error needs it.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("$"),
            Path::Field(p, name) => write!(f, "{p}.{name}"),
            Path::Index(p, i) => write!(f, "{p}[{i}]"),
        }
    }
}

fn type_name(schema: &Schema) -> String {
    let base = schema.kind.type_name();
    match &schema.name {
        Some(n) => format!("{base} ({n})"),
        None => base.to_string(),
    }
}

/// Decodes a JSON payload with its schema (JsonConverter, schemas.enable=true).
pub fn decode(payload: &str, schema: &Schema) -> Result<Value, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(payload);
    let v = Seed {
        schema,
        path: Path::Root,
    }
    .deserialize(&mut de)
    .map_err(|e| DecodeError {
        message: e.to_string(),
    })?;
    de.end().map_err(|e| DecodeError {
        message: e.to_string(),
    })?;
    Ok(v)
}

/// Decodes schemaless JSON (schemas.enable=false): objects become maps with string keys,
/// integral numbers that fit become `Int`, other numbers `Float`.
pub fn decode_schemaless(payload: &str) -> Result<Value, DecodeError> {
    let mut de = serde_json::Deserializer::from_str(payload);
    let v = Schemaless.deserialize(&mut de).map_err(|e| DecodeError {
        message: e.to_string(),
    })?;
    de.end().map_err(|e| DecodeError {
        message: e.to_string(),
    })?;
    Ok(v)
}

/// [`decode_schemaless`] over bytes, with serde_json's own error (the converter's message
/// quotes it as Connect does). Strings are checked for UTF-8 as they are read.
pub fn decode_schemaless_bytes(payload: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(payload);
    let v = Schemaless.deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

/// The default of a schema, decoded, if it has one.
pub fn default_value(schema: &Schema) -> Result<Option<Value>, DecodeError> {
    match &schema.default {
        None => Ok(None),
        Some(d) => {
            let text = d.to_string();
            decode(&text, schema).map(Some)
        }
    }
}

struct Seed<'s, 'p> {
    schema: &'s Schema,
    path: Path<'p>,
}

impl<'de> DeserializeSeed<'de> for Seed<'_, '_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        let v = d.deserialize_any(TypedVisitor {
            schema: self.schema,
            path: self.path,
        })?;
        if v.is_null() {
            return null_for(self.schema, self.path);
        }
        Ok(v)
    }
}

/// Null handling of JsonConverter: optional → null; required with a default → the default
/// (`replace.null.with.default=true`); otherwise an error.
fn null_for<E: de::Error>(schema: &Schema, path: Path<'_>) -> Result<Value, E> {
    if let Some(d) = &schema.default {
        let text = d.to_string();
        if let Ok(v) = decode(&text, schema) {
            return Ok(v);
        }
    }
    if schema.optional {
        return Ok(Value::Null);
    }
    Err(E::custom(format!(
        "{path}: invalid null value for required {} field",
        type_name(schema)
    )))
}

struct TypedVisitor<'s, 'p> {
    schema: &'s Schema,
    path: Path<'p>,
}

impl TypedVisitor<'_, '_> {
    fn mismatch<E: de::Error>(&self, got: &str) -> E {
        E::custom(format!(
            "{}: expected {} but found {got}",
            self.path,
            type_name(self.schema)
        ))
    }

    fn int<E: de::Error>(&self, v: i128) -> Result<Value, E> {
        let (min, max) = match self.schema.kind {
            Kind::Int8 => (i8::MIN as i128, i8::MAX as i128),
            Kind::Int16 => (i16::MIN as i128, i16::MAX as i128),
            Kind::Int32 => (i32::MIN as i128, i32::MAX as i128),
            Kind::Int64 => (i64::MIN as i128, i64::MAX as i128),
            // JsonConverter reads float32 with floatValue(): round to the nearest f32.
            Kind::Float32 => return Ok(Value::Float(v as f32 as f64)),
            Kind::Float64 => return Ok(Value::Float(v as f64)),
            _ if self.is_decimal() => return self.decimal_from_text(&v.to_string()),
            _ => return Err(self.mismatch("a number")),
        };
        if v < min || v > max {
            return Err(E::custom(format!(
                "{}: {v} is out of range for {}",
                self.path,
                type_name(self.schema)
            )));
        }
        Ok(Value::Int(v as i64))
    }

    fn is_decimal(&self) -> bool {
        matches!(self.schema.logical(), Some(Logical::Decimal { .. }))
    }

    fn scale(&self) -> i32 {
        match self.schema.logical() {
            Some(Logical::Decimal { scale, .. }) => scale,
            _ => 0,
        }
    }

    /// `decimal.format=NUMERIC`: a JSON number, rescaled to the schema's scale.
    fn decimal_from_text<E: de::Error>(&self, text: &str) -> Result<Value, E> {
        parse_decimal(text, self.scale())
            .map(Value::Decimal)
            .map_err(|m| E::custom(format!("{}: {m}", self.path)))
    }

    fn decimal_from_bytes<E: de::Error>(&self, b64: &str) -> Result<Value, E> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| E::custom(format!("{}: invalid base64 in decimal: {e}", self.path)))?;
        let unscaled = unscaled_from_be_bytes(&bytes).ok_or_else(|| {
            E::custom(format!(
                "{}: decimal of {} bytes exceeds 76 digits",
                self.path,
                bytes.len()
            ))
        })?;
        Ok(Value::Decimal(Decimal {
            unscaled,
            scale: self.scale(),
        }))
    }
}

/// Big-endian two's complement bytes (Connect's Decimal encoding) → i256.
pub fn unscaled_from_be_bytes(bytes: &[u8]) -> Option<i256> {
    if bytes.len() > 32 {
        return None;
    }
    let negative = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let mut buf = if negative { [0xffu8; 32] } else { [0u8; 32] };
    buf[32 - bytes.len()..].copy_from_slice(bytes);
    Some(i256::from_be_bytes(buf))
}

/// Minimal big-endian two's complement bytes of an unscaled decimal (as Java's BigInteger).
pub fn unscaled_to_be_bytes(v: i256) -> Vec<u8> {
    let bytes = v.to_be_bytes();
    let negative = v < i256::ZERO;
    let mut start = 0;
    while start < 31 {
        let (b, next) = (bytes[start], bytes[start + 1]);
        let redundant = if negative {
            b == 0xff && next & 0x80 != 0
        } else {
            b == 0 && next & 0x80 == 0
        };
        if !redundant {
            break;
        }
        start += 1;
    }
    bytes[start..].to_vec()
}

/// Parses decimal text (`-1.5`, `2e3`) at a fixed scale; more fractional digits than the
/// scale allows is an error, never a silent rounding.
pub fn parse_decimal(text: &str, scale: i32) -> Result<Decimal, String> {
    let t = text.trim();
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (
            &t[..i],
            t[i + 1..]
                .parse::<i32>()
                .map_err(|_| format!("invalid decimal '{text}'"))?,
        ),
        None => (t, 0),
    };
    let (neg, digits) = match mantissa.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(format!("invalid decimal '{text}'"));
    }
    let mut all: String = format!("{int}{frac}");
    // value = all × 10^(exp − frac.len()); we need all × 10^(exp − frac.len() + scale).
    let shift = exp - frac.len() as i32 + scale;
    if shift >= 0 {
        all.push_str(&"0".repeat(shift as usize));
    } else {
        let cut = (-shift) as usize;
        let keep = all.len().saturating_sub(cut);
        if all[keep..].bytes().any(|b| b != b'0') {
            return Err(format!(
                "'{text}' has more fractional digits than scale {scale}"
            ));
        }
        all.truncate(keep);
    }
    let trimmed = all.trim_start_matches('0');
    if trimmed.len() > 76 {
        return Err(format!("'{text}' exceeds 76 digits"));
    }
    let mut unscaled = i256::ZERO;
    let ten = i256::from_i128(10);
    for b in trimmed.bytes() {
        unscaled = unscaled
            .checked_mul(ten)
            .and_then(|u| u.checked_add(i256::from_i128((b - b'0') as i128)))
            .ok_or_else(|| format!("'{text}' exceeds 76 digits"))?;
    }
    Ok(Decimal {
        unscaled: if neg {
            unscaled.wrapping_neg()
        } else {
            unscaled
        },
        scale,
    })
}

impl<'de> Visitor<'de> for TypedVisitor<'_, '_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", type_name(self.schema))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        match self.schema.kind {
            Kind::Boolean => Ok(Value::Boolean(v)),
            _ => Err(self.mismatch("a boolean")),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.int(v as i128)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.int(v as i128)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        match self.schema.kind {
            Kind::Float32 => Ok(Value::Float(v as f32 as f64)),
            Kind::Float64 => Ok(Value::Float(v)),
            _ if self.is_decimal() => self.decimal_from_text(&v.to_string()),
            Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64 if v.fract() == 0.0 => {
                self.int(v as i128)
            }
            _ => Err(self.mismatch("a fractional number")),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        match self.schema.kind {
            Kind::String => Ok(Value::String(v.to_string())),
            Kind::Bytes if self.is_decimal() => self.decimal_from_bytes(v),
            Kind::Bytes => base64::engine::general_purpose::STANDARD
                .decode(v)
                .map(Value::Bytes)
                .map_err(|e| E::custom(format!("{}: invalid base64: {e}", self.path))),
            // Float special values arrive as strings in some producers.
            Kind::Float32 | Kind::Float64 => match v {
                "NaN" => Ok(Value::Float(f64::NAN)),
                "Infinity" => Ok(Value::Float(f64::INFINITY)),
                "-Infinity" => Ok(Value::Float(f64::NEG_INFINITY)),
                _ => Err(self.mismatch("a string")),
            },
            _ => Err(self.mismatch("a string")),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        match &self.schema.kind {
            Kind::Array(items) => {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(v) = seq.next_element_seed(Seed {
                    schema: items,
                    path: Path::Index(&self.path, out.len()),
                })? {
                    out.push(v);
                }
                Ok(Value::Array(out))
            }
            // Maps with non-string keys are arrays of [key, value] pairs.
            Kind::Map(k, v) => {
                let mut out = Vec::new();
                while let Some(pair) = seq.next_element_seed(PairSeed {
                    key: k,
                    value: v,
                    path: Path::Index(&self.path, out.len()),
                })? {
                    out.push(pair);
                }
                Ok(Value::Map(out))
            }
            _ => Err(self.mismatch("an array")),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        match &self.schema.kind {
            Kind::Struct(fields) => {
                let mut values: Vec<Option<Value>> = vec![None; fields.len()];
                while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match fields.iter().position(|f| f.name == key) {
                        Some(i) => {
                            let f = &fields[i];
                            values[i] = Some(map.next_value_seed(Seed {
                                schema: &f.schema,
                                path: Path::Field(&self.path, &f.name),
                            })?);
                        }
                        None => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let mut out = Vec::with_capacity(fields.len());
                for (f, v) in fields.iter().zip(values) {
                    out.push(match v {
                        Some(v) => v,
                        None => null_for(&f.schema, Path::Field(&self.path, &f.name))?,
                    });
                }
                Ok(Value::Struct(out))
            }
            Kind::Map(k, v) => {
                if !matches!(k.kind, Kind::String) {
                    return Err(
                        self.mismatch("an object (maps with non-string keys are arrays of pairs)")
                    );
                }
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value_seed(Seed {
                        schema: v,
                        path: Path::Field(&self.path, &key),
                    })?;
                    out.push((Value::String(key), value));
                }
                Ok(Value::Map(out))
            }
            _ => Err(self.mismatch("an object")),
        }
    }
}

struct PairSeed<'s, 'p> {
    key: &'s Schema,
    value: &'s Schema,
    path: Path<'p>,
}

impl<'de> DeserializeSeed<'de> for PairSeed<'_, '_> {
    type Value = (Value, Value);

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(Value, Value), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for PairSeed<'_, '_> {
    type Value = (Value, Value);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a [key, value] pair")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(Value, Value), A::Error> {
        let k = seq
            .next_element_seed(Seed {
                schema: self.key,
                path: Path::Index(&self.path, 0),
            })?
            .ok_or_else(|| de::Error::custom(format!("{}: map entry without key", self.path)))?;
        let v = seq
            .next_element_seed(Seed {
                schema: self.value,
                path: Path::Index(&self.path, 1),
            })?
            .ok_or_else(|| de::Error::custom(format!("{}: map entry without value", self.path)))?;
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!(
                "{}: map entry has more than two elements",
                self.path
            )));
        }
        Ok((k, v))
    }
}

/// Schemaless JSON → Value.
struct Schemaless;

impl<'de> DeserializeSeed<'de> for Schemaless {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Schemaless {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Boolean(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(i64::try_from(v).map_or(Value::Float(v as f64), Value::Int))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(Schemaless)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        // serde_json gives no size hint; rows are rarely tiny, and growing from zero costs
        // four reallocations per 16-field object (measured: ~7% of schemaless decoding).
        let mut out = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(Schemaless)?;
            out.push((Value::String(k), v));
        }
        Ok(Value::Map(out))
    }
}

/// How decimals are written, as JsonConverter's `decimal.format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalFormat {
    /// Base64 of the unscaled bytes (JsonConverter's default).
    Base64,
    /// A JSON number in plain notation.
    Numeric,
}

/// JsonConverter's JSON for a value with its schema (decimals as base64 bytes, the default
/// `decimal.format`; structs as objects; maps with non-string keys as pair arrays).
pub fn encode(value: &Value, schema: &Schema) -> Json {
    encode_as(value, schema, DecimalFormat::Base64)
}

/// As [`encode`], with a chosen decimal format.
pub fn encode_as(value: &Value, schema: &Schema, decimals: DecimalFormat) -> Json {
    let enc = |v: &Value, s: &Schema| encode_as(v, s, decimals);
    match (value, &schema.kind) {
        (Value::Null, _) => Json::Null,
        (Value::Decimal(d), _) if decimals == DecimalFormat::Base64 => Json::String(
            base64::engine::general_purpose::STANDARD.encode(unscaled_to_be_bytes(d.unscaled)),
        ),
        (Value::Struct(vals), Kind::Struct(fields)) => Json::Object(
            fields
                .iter()
                .zip(vals)
                .map(|(f, v)| (f.name.clone(), enc(v, &f.schema)))
                .collect(),
        ),
        (Value::Array(items), Kind::Array(s)) => {
            Json::Array(items.iter().map(|v| enc(v, s)).collect())
        }
        (Value::Map(entries), Kind::Map(k, v)) if matches!(k.kind, Kind::String) => Json::Object(
            entries
                .iter()
                .map(|(key, val)| (key.as_str().unwrap_or_default().to_string(), enc(val, v)))
                .collect(),
        ),
        (Value::Map(entries), Kind::Map(k, v)) => Json::Array(
            entries
                .iter()
                .map(|(key, val)| Json::Array(vec![enc(key, k), enc(val, v)]))
                .collect(),
        ),
        (other, _) => other.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use serde_json::json;

    fn schema(j: Json) -> Schema {
        Schema::from_connect_json(&j).unwrap()
    }

    fn row_schema() -> Schema {
        schema(json!({"type":"struct","optional":false,"fields":[
            {"field":"id","type":"int64","optional":false},
            {"field":"price","type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},
            {"field":"small","type":"int8","optional":true},
            {"field":"tags","type":"array","optional":true,"items":{"type":"string","optional":true}},
            {"field":"m","type":"map","optional":true,"keys":{"type":"int32","optional":false},"values":{"type":"string","optional":true}},
            {"field":"blob","type":"bytes","optional":true},
            {"field":"flag","type":"boolean","optional":false,"default":true}
        ]}))
    }

    #[test]
    fn decodes_with_schema() {
        let s = row_schema();
        let v = decode(
            r#"{"id":1,"price":"AJ8=","small":-3,"tags":["a",null],"m":[[1,"x"]],"blob":"AQI=","extra":{"x":1}}"#,
            &s,
        )
        .unwrap();
        let Value::Struct(f) = v else { panic!() };
        assert_eq!(f[0], Value::Int(1));
        assert_eq!(
            f[1],
            Value::Decimal(Decimal {
                unscaled: i256::from_i128(159),
                scale: 2
            })
        );
        assert_eq!(f[2], Value::Int(-3));
        assert_eq!(
            f[3],
            Value::Array(vec![Value::String("a".into()), Value::Null])
        );
        assert_eq!(
            f[4],
            Value::Map(vec![(Value::Int(1), Value::String("x".into()))])
        );
        assert_eq!(f[5], Value::Bytes(vec![1, 2]));
        assert_eq!(
            f[6],
            Value::Boolean(true),
            "missing required field with default"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let s = row_schema();
        let e = decode(r#"{"id":1,"price":"!!"}"#, &s).unwrap_err();
        assert!(
            e.message.contains("$.price") && e.message.contains("base64"),
            "{e}"
        );
        let e = decode(r#"{"id":"one"}"#, &s).unwrap_err();
        assert!(
            e.message.contains("$.id") && e.message.contains("INT64"),
            "{e}"
        );
        let e = decode(r#"{"id":1,"small":300}"#, &s).unwrap_err();
        assert!(
            e.message.contains("$.small") && e.message.contains("out of range"),
            "{e}"
        );
        let e = decode(r#"{"price":"AJ8="}"#, &s).unwrap_err();
        assert!(
            e.message.contains("$.id") && e.message.contains("null"),
            "{e}"
        );
        let e = decode(r#"{"id":1,"tags":["a",5]}"#, &s).unwrap_err();
        assert!(e.message.contains("$.tags[1]"), "{e}");
        assert!(decode(r#"{"id":1"#, &s).is_err());
    }

    #[test]
    fn decimal_text_and_bytes() {
        let d = parse_decimal("-1.5", 3).unwrap();
        assert_eq!(d.unscaled, i256::from_i128(-1500));
        assert_eq!(
            parse_decimal("2e2", 0).unwrap().unscaled,
            i256::from_i128(200)
        );
        assert!(parse_decimal("1.234", 2).is_err(), "no silent rounding");
        assert_eq!(
            parse_decimal("1.230", 2).unwrap().unscaled,
            i256::from_i128(123)
        );
        for v in [
            0i128,
            1,
            -1,
            127,
            128,
            -128,
            -129,
            159,
            i64::MAX as i128 * 1000,
            -(1i128 << 100),
        ] {
            let bytes = unscaled_to_be_bytes(i256::from_i128(v));
            assert_eq!(
                unscaled_from_be_bytes(&bytes),
                Some(i256::from_i128(v)),
                "{v}"
            );
        }
        assert_eq!(unscaled_to_be_bytes(i256::from_i128(159)), vec![0x00, 0x9f]);
        assert_eq!(unscaled_to_be_bytes(i256::from_i128(-1)), vec![0xff]);
    }

    #[test]
    fn schemaless_and_round_trip() {
        let v = decode_schemaless(
            r#"{"a":1,"b":[1.5,"x",null],"c":{"d":true},"e":18446744073709551615}"#,
        )
        .unwrap();
        assert_eq!(v.map_get("a"), Some(&Value::Int(1)));
        assert_eq!(v.map_get("e"), Some(&Value::Float(18446744073709551615.0)));
        let s = row_schema();
        let text = r#"{"id":7,"price":"AJ8=","small":null,"tags":["q"],"m":[[2,"y"]],"blob":"AQI=","flag":false}"#;
        let v = decode(text, &s).unwrap();
        let back = encode(&v, &s);
        assert_eq!(back, serde_json::from_str::<Json>(text).unwrap());
        let _ = Arc::new(s);
    }
}
