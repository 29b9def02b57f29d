//! Connect values: what a record's key or value holds once decoded, interpreted by its schema.

use arrow::datatypes::i256;
use base64::Engine;
use serde_json::Value as Json;

/// A decimal: unscaled integer and scale (Connect's `BigDecimal`), up to 76 digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decimal {
    /// Unscaled value.
    pub unscaled: i256,
    /// Digits after the point.
    pub scale: i32,
}

/// A decoded Connect value. Physical representation follows the schema: a Debezium
/// `MicroTimestamp` is an `Int`, a `ZonedTimestamp` a `String`; only Decimal is decoded to its
/// logical form, because its wire form (bytes) is useless without the schema's scale.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Null.
    Null,
    /// Boolean.
    Boolean(bool),
    /// Any integer type (int8 … int64; the schema gives the width).
    Int(i64),
    /// float32 or float64.
    Float(f64),
    /// String.
    String(String),
    /// Bytes.
    Bytes(Vec<u8>),
    /// A decimal (Connect `Decimal`, Debezium `VariableScaleDecimal` once resolved).
    Decimal(Decimal),
    /// Array elements.
    Array(Vec<Value>),
    /// Map entries in order (schemaless JSON objects are maps with string keys).
    Map(Vec<(Value, Value)>),
    /// Struct field values in the schema's field order.
    Struct(Vec<Value>),
}

impl Value {
    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value of a schemaless map entry with a string key.
    pub fn map_get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Value::String(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
}

impl Decimal {
    /// Plain decimal text, e.g. `-1.59`.
    pub fn to_text(&self) -> String {
        let digits = self.unscaled.to_string();
        if self.scale <= 0 {
            let zeros = "0".repeat(self.scale.unsigned_abs() as usize);
            return if digits == "0" {
                digits
            } else {
                format!("{digits}{zeros}")
            };
        }
        let (sign, digits) = match digits.strip_prefix('-') {
            Some(d) => ("-", d.to_string()),
            None => ("", digits),
        };
        let scale = self.scale as usize;
        let padded = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = padded.split_at(padded.len() - scale);
        format!("{sign}{int}.{frac}")
    }
}

impl Value {
    /// Schemaless JSON for this value: bytes as base64 (JsonConverter's encoding), decimals as
    /// JSON numbers in plain notation, structs as arrays (no field names without a schema).
    pub fn to_json(&self) -> Json {
        match self {
            Value::Null => Json::Null,
            Value::Boolean(b) => Json::Bool(*b),
            Value::Int(i) => Json::from(*i),
            // Jackson (JsonConverter) writes non-finite doubles as strings.
            Value::Float(f) if f.is_nan() => Json::String("NaN".into()),
            Value::Float(f) if f.is_infinite() => {
                Json::String(if *f > 0.0 { "Infinity" } else { "-Infinity" }.into())
            }
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
            Value::String(s) => Json::String(s.clone()),
            Value::Bytes(b) => Json::String(base64::engine::general_purpose::STANDARD.encode(b)),
            Value::Decimal(d) => {
                serde_json::from_str(&d.to_text()).unwrap_or_else(|_| Json::String(d.to_text()))
            }
            Value::Array(a) | Value::Struct(a) => {
                Json::Array(a.iter().map(Value::to_json).collect())
            }
            Value::Map(entries) => {
                if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) {
                    Json::Object(
                        entries
                            .iter()
                            .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.to_json()))
                            .collect(),
                    )
                } else {
                    Json::Array(
                        entries
                            .iter()
                            .map(|(k, v)| Json::Array(vec![k.to_json(), v.to_json()]))
                            .collect(),
                    )
                }
            }
        }
    }
}

impl Value {
    /// [`Value::to_json`] written straight to text, keeping map entries in their order (a
    /// `serde_json::Value` object would sort the keys) and without building a JSON tree.
    pub fn write_json(&self, out: &mut String) {
        use std::fmt::Write;
        match self {
            Value::Null => out.push_str("null"),
            Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Value::String(s) => write_json_string(s, out),
            Value::Array(a) | Value::Struct(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Value::Map(entries) if entries.iter().all(|(k, _)| matches!(k, Value::String(_))) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_json_string(k.as_str().unwrap_or_default(), out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
            // Floats, bytes, decimals and maps with non-string keys: as `to_json` has them.
            other => out.push_str(&other.to_json().to_string()),
        }
    }
}

/// A JSON string literal with serde_json's escaping.
fn write_json_string(s: &str, out: &mut String) {
    // Serialising a &str cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_json_keeps_key_order_and_matches_to_json() {
        let v = Value::Map(vec![
            (Value::String("z".into()), Value::Int(-3)),
            (Value::String("a\"q".into()), Value::Float(1.5)),
            (
                Value::String("list".into()),
                Value::Array(vec![
                    Value::Null,
                    Value::Boolean(true),
                    Value::Bytes(vec![1, 2]),
                ]),
            ),
            (Value::String("nan".into()), Value::Float(f64::NAN)),
        ]);
        let mut text = String::new();
        v.write_json(&mut text);
        assert_eq!(
            text,
            r#"{"z":-3,"a\"q":1.5,"list":[null,true,"AQI="],"nan":"NaN"}"#
        );
        let reparsed: Json = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(reparsed, v.to_json());
    }

    fn dec(unscaled: i128, scale: i32) -> String {
        Decimal {
            unscaled: i256::from_i128(unscaled),
            scale,
        }
        .to_text()
    }

    #[test]
    fn non_finite_floats_are_strings_as_jackson_writes_them() {
        assert_eq!(Value::Float(f64::NAN).to_json(), Json::String("NaN".into()));
        assert_eq!(
            Value::Float(f64::NEG_INFINITY).to_json(),
            Json::String("-Infinity".into())
        );
        assert_eq!(Value::Float(1.5).to_json(), serde_json::json!(1.5));
    }

    #[test]
    fn decimal_text() {
        assert_eq!(dec(159, 2), "1.59");
        assert_eq!(dec(-5, 3), "-0.005");
        assert_eq!(dec(7, 0), "7");
        assert_eq!(dec(7, -2), "700");
        assert_eq!(dec(0, 2), "0.00");
    }
}
