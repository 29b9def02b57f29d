//! `MaskField$Key` / `MaskField$Value`: replaces field values with the type's "empty" value
//! (0, false, "", empty list/map) or with a custom `replacement`.

use arrow::datatypes::i256;

use crate::configdef::ParsedConfig;
use crate::data::json::parse_decimal;
use crate::data::{Decimal, Kind, Schema, SinkRecord, Value};

use super::support::{
    decode, encode, java_class, map_get, map_put, require_map, require_struct, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "mask fields";

pub(crate) struct MaskField {
    side: Side,
    fields: Vec<String>,
    replacement: Option<String>,
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    let fields = cfg.get_list("fields").map_err(|e| e.to_string())?;
    if fields.is_empty() {
        return Err("Invalid value  for configuration fields: Empty list".into());
    }
    let replacement = cfg.get_opt_str("replacement").map_err(|e| e.to_string())?;
    if replacement == Some("") {
        return Err(
            "Invalid value  for configuration replacement: String must be non-empty".into(),
        );
    }
    Ok(Box::new(MaskField {
        side,
        fields: fields.to_vec(),
        replacement: replacement.map(str::to_string),
    }))
}

impl MaskField {
    fn masked(&self, value: Value, schema: Option<&Schema>) -> Result<Value, TransformError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let class = java_class(&value, schema);
        let Some(replacement) = &self.replacement else {
            return Ok(match value {
                Value::Boolean(_) => Value::Boolean(false),
                // Connect's Date/Time/Timestamp mask to the epoch, i.e. 0 as well.
                Value::Int(_) => Value::Int(0),
                Value::Float(_) => Value::Float(0.0),
                Value::String(_) => Value::String(String::new()),
                Value::Decimal(d) => Value::Decimal(Decimal {
                    unscaled: i256::ZERO,
                    scale: d.scale,
                }),
                Value::Array(_) => Value::Array(Vec::new()),
                Value::Map(_) => Value::Map(Vec::new()),
                Value::Bytes(_) | Value::Struct(_) | Value::Null => {
                    return Err(TransformError::Data(format!(
                        "Cannot mask value of type: class {class}"
                    )))
                }
            });
        };
        let not_a_number = || {
            TransformError::Data(format!(
                "Unable to convert {replacement} ({}) to number",
                value.to_json()
            ))
        };
        let date_like = class == "java.util.Date";
        Ok(match &value {
            Value::String(_) => Value::String(replacement.clone()),
            Value::Int(_) if !date_like => {
                let v: i64 = replacement.parse().map_err(|_| not_a_number())?;
                let fits = match schema.map(|s| &s.kind) {
                    Some(Kind::Int8) => i8::try_from(v).is_ok(),
                    Some(Kind::Int16) => i16::try_from(v).is_ok(),
                    Some(Kind::Int32) => i32::try_from(v).is_ok(),
                    _ => true,
                };
                if !fits {
                    return Err(not_a_number());
                }
                Value::Int(v)
            }
            Value::Float(_) => Value::Float(replacement.parse().map_err(|_| not_a_number())?),
            Value::Decimal(d) => {
                Value::Decimal(parse_decimal(replacement, d.scale).map_err(|_| not_a_number())?)
            }
            _ => {
                return Err(TransformError::Data(format!(
                    "Cannot mask value of type class {class} with custom replacement."
                )))
            }
        })
    }
}

impl Transformation for MaskField {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(data) = self.side.take(&mut record) else {
            return Ok(Some(record));
        };
        let (schema, value) = decode(data)?;
        let out = match schema {
            None => {
                let mut entries = require_map(value, PURPOSE)?;
                for field in &self.fields {
                    // Java puts the masked value even for an absent field (as null).
                    let current = map_get(&entries, field).cloned().unwrap_or(Value::Null);
                    let masked = self.masked(current, None)?;
                    map_put(&mut entries, field, masked);
                }
                encode(None, Value::Map(entries))
            }
            Some(schema) => {
                let values = require_struct(value, &schema, PURPOSE)?;
                let mut out = Vec::with_capacity(values.len());
                for (v, f) in values.into_iter().zip(schema.fields()) {
                    out.push(if self.fields.contains(&f.name) {
                        self.masked(v, Some(&f.schema))?
                    } else {
                        v
                    });
                }
                // The schema does not change: the same Arc goes out.
                encode(Some(schema), Value::Struct(out))
            }
        };
        self.side.put(&mut record, out);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::transforms::tests::{
        as_json, json_data, props, record, schema, schemaless, transform,
    };

    const VALUE: &str = "org.apache.kafka.connect.transforms.MaskField$Value";
    const KEY: &str = "org.apache.kafka.connect.transforms.MaskField$Key";

    fn row() -> crate::data::SchemaRef {
        schema(json!({"type":"struct","fields":[
            {"field":"i","type":"int32"},{"field":"s","type":"string"},{"field":"b","type":"boolean"},
            {"field":"d","type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},
            {"field":"l","type":"array","items":{"type":"string"}},{"field":"keep","type":"string"}]}))
    }

    #[test]
    fn masks_by_type_with_schema() {
        let s = row();
        let v = json!({"i":5,"s":"secret","b":true,"d":"AJ8=","l":["x"],"keep":"k"});
        let mut t = transform(VALUE, &props(&[("fields", "i,s,b,d,l")]));
        let out = t
            .apply(record("t", None, Some(json_data(&s, v.clone()))))
            .unwrap()
            .unwrap();
        assert_eq!(
            as_json(out.value.as_ref()).1,
            json!({"i":0,"s":"","b":false,"d":"AA==","l":[],"keep":"k"})
        );
        let mut t = transform(VALUE, &props(&[("fields", "i,s,d"), ("replacement", "42")]));
        let out = t
            .apply(record("t", None, Some(json_data(&s, v.clone()))))
            .unwrap()
            .unwrap();
        let j = as_json(out.value.as_ref()).1;
        assert_eq!(
            (j["i"].clone(), j["s"].clone(), j["d"].clone()),
            (json!(42), json!("42"), json!("EGg="))
        );
        let mut t = transform(VALUE, &props(&[("fields", "b"), ("replacement", "x")]));
        let e = t
            .apply(record("t", None, Some(json_data(&s, v.clone()))))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot mask value of type class java.lang.Boolean with custom replacement."
        );
        let mut t = transform(VALUE, &props(&[("fields", "i"), ("replacement", "x")]));
        let e = t
            .apply(record("t", None, Some(json_data(&s, v))))
            .unwrap_err();
        assert_eq!(e.to_string(), "Unable to convert x (5) to number");
    }

    #[test]
    fn schemaless_and_key() {
        let mut t = transform(KEY, &props(&[("fields", "a,absent")]));
        let out = t
            .apply(record(
                "t",
                Some(schemaless(json!({"a": "x", "b": 2}))),
                None,
            ))
            .unwrap()
            .unwrap();
        // Java puts the masked value of an absent field: null.
        assert_eq!(
            as_json(out.key.as_ref()).1,
            json!({"a": "", "b": 2, "absent": null})
        );
    }
}
