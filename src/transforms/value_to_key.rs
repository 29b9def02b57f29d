//! `ValueToKey`: replaces the key with a struct (or map) of some value fields.

use std::sync::Arc;

use crate::configdef::ParsedConfig;
use crate::data::{Data, SchemaRef, SinkRecord, Value};

use super::support::{
    encode, java_class, map_get, optional, require_map, struct_from, with_default, Decoded,
    SchemaCache, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "copying fields from value to key";

pub(crate) struct ValueToKey {
    fields: Vec<String>,
    replace_null: bool,
    /// Key schema and, per key field, the index of the value field.
    cache: SchemaCache<(SchemaRef, Arc<[usize]>)>,
}

pub(crate) fn build(cfg: &ParsedConfig, _: Side) -> Result<Box<dyn Transformation>, String> {
    let fields = cfg.get_list("fields").map_err(|e| e.to_string())?;
    if fields.is_empty() {
        return Err("Invalid value  for configuration fields: Empty list".into());
    }
    Ok(Box::new(ValueToKey {
        fields: fields.to_vec(),
        replace_null: cfg
            .get_bool("replace.null.with.default")
            .map_err(|e| e.to_string())?,
        cache: SchemaCache::default(),
    }))
}

/// Decodes without taking the data out of the record: the value stays as it came.
fn decode_ref(data: &Data) -> Result<Decoded, TransformError> {
    match data {
        Data::String(s) => Ok((
            Some(optional(crate::data::Kind::String)),
            Value::String(s.clone()),
        )),
        Data::Bytes(b) => Ok((
            Some(optional(crate::data::Kind::Bytes)),
            Value::Bytes(b.clone()),
        )),
        other => Ok(other.to_value()?),
    }
}

impl Transformation for ValueToKey {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let (schema, value) = match &record.value {
            Some(data) => decode_ref(data)?,
            None => (None, Value::Null),
        };
        let key = match schema {
            None => {
                let entries = require_map(value, PURPOSE)?;
                let key = self
                    .fields
                    .iter()
                    .map(|f| {
                        (
                            Value::String(f.clone()),
                            map_get(&entries, f).cloned().unwrap_or(Value::Null),
                        )
                    })
                    .collect();
                encode(None, Value::Map(key))
            }
            Some(schema) => {
                let Value::Struct(values) = value else {
                    return Err(TransformError::Data(format!(
                        "Only Struct objects supported for [{PURPOSE}], found: {}",
                        java_class(&value, Some(&schema))
                    )));
                };
                let (key_schema, origin) = self.cache.get_or_build(&schema, None, || {
                    let mut fields = Vec::with_capacity(self.fields.len());
                    let mut origin = Vec::with_capacity(self.fields.len());
                    for name in &self.fields {
                        let f = schema.field(name).ok_or_else(|| {
                            TransformError::Data(format!("Field does not exist: {name}"))
                        })?;
                        fields.push((name.clone(), f.schema.clone()));
                        origin.push(f.index);
                    }
                    Ok::<_, TransformError>((
                        Arc::new(struct_from(None, fields)?),
                        Arc::<[usize]>::from(origin),
                    ))
                })?;
                let fields = schema.fields();
                let key = origin
                    .iter()
                    .map(|&i| {
                        let v = values.get(i).cloned().unwrap_or(Value::Null);
                        with_default(v, &fields[i].schema, self.replace_null)
                    })
                    .collect();
                encode(Some(key_schema), Value::Struct(key))
            }
        };
        record.key = key;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::transforms::tests::{
        as_json, json_data, props, record, schema, schemaless, transform,
    };

    const CLASS: &str = "org.apache.kafka.connect.transforms.ValueToKey";

    #[test]
    fn schema_and_schemaless() {
        let s = schema(json!({"type":"struct","name":"row","fields":[
            {"field":"id","type":"int64"},{"field":"org","type":"string"},{"field":"x","type":"double"}]}));
        let mut t = transform(CLASS, &props(&[("fields", "org,id")]));
        let value = json_data(&s, json!({"id": 1, "org": "acme", "x": 0.5}));
        let out = t
            .apply(record("t", None, Some(value.clone())))
            .unwrap()
            .unwrap();
        assert_eq!(
            as_json(out.key.as_ref()),
            (
                Some(json!({"type":"struct","optional":false,"fields":[
                    {"field":"org","type":"string","optional":false},
                    {"field":"id","type":"int64","optional":false}]})),
                json!({"org": "acme", "id": 1})
            )
        );
        assert_eq!(out.value, Some(value), "the value is left as it came");
        let out = t
            .apply(record(
                "t",
                None,
                Some(schemaless(json!({"id": 2, "x": 1}))),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(
            as_json(out.key.as_ref()),
            (None, json!({"org": null, "id": 2}))
        );
        let e = transform(CLASS, &props(&[("fields", "nope")]))
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"id": 1, "org": "a", "x": 0}))),
            ))
            .unwrap_err();
        assert_eq!(e.to_string(), "Field does not exist: nope");
        let e = t.apply(record("t", None, None)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Only Map objects supported in absence of schema for [copying fields from value to key], found: null"
        );
    }
}
