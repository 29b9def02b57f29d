//! `Flatten$Key` / `Flatten$Value`: nested structs (or maps) become top-level fields named
//! `parent<delimiter>child`; arrays and (with a schema) maps are kept as they are.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::configdef::ParsedConfig;
use crate::data::{Kind, Schema, SchemaRef, SinkRecord, Value};

use super::support::{
    decode, encode, require_map, require_struct, struct_from, with_default, SchemaCache, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "flattening";

pub(crate) struct Flatten {
    side: Side,
    delimiter: String,
    cache: SchemaCache<SchemaRef>,
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    Ok(Box::new(Flatten {
        side,
        delimiter: cfg
            .get_str("delimiter")
            .map_err(|e| e.to_string())?
            .to_string(),
        cache: SchemaCache::default(),
    }))
}

impl Flatten {
    fn name(&self, prefix: &str, field: &str) -> String {
        if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}{}{field}", self.delimiter)
        }
    }

    fn flatten_map(
        &self,
        entries: Vec<(Value, Value)>,
        prefix: &str,
        out: &mut Vec<(Value, Value)>,
    ) {
        for (k, v) in entries {
            let key = match &k {
                Value::String(s) => s.clone(),
                other => other.to_json().to_string(),
            };
            let name = self.name(prefix, &key);
            match v {
                Value::Map(nested) => self.flatten_map(nested, &name, out),
                other => out.push((Value::String(name), other)),
            }
        }
    }

    /// Leaf fields of the flattened schema. A leaf is optional when any ancestor is, and
    /// takes its default from its own schema or from an ancestor's default.
    fn flatten_schema(
        &self,
        schema: &Schema,
        prefix: &str,
        optional: bool,
        parent_default: Option<&Json>,
        out: &mut Vec<(String, SchemaRef)>,
    ) {
        for f in schema.fields() {
            let name = self.name(prefix, &f.name);
            let field_optional = optional || f.schema.optional;
            let default = f
                .schema
                .default
                .as_ref()
                .or_else(|| parent_default.and_then(|d| d.get(&f.name)))
                .filter(|d| !d.is_null());
            match &f.schema.kind {
                Kind::Struct(_) => {
                    self.flatten_schema(&f.schema, &name, field_optional, default, out)
                }
                _ => {
                    let same =
                        f.schema.optional == field_optional && f.schema.default.as_ref() == default;
                    let leaf = if same {
                        f.schema.clone()
                    } else {
                        let mut s = (*f.schema).clone();
                        s.optional = field_optional;
                        s.default = default.cloned();
                        Arc::new(s)
                    };
                    out.push((name, leaf));
                }
            }
        }
    }

    /// Leaf values in output order. A null leaf (or every leaf under a null struct) takes the
    /// flattened field's default, as Connect's `Struct.get` hands it out.
    fn flatten_values(
        schema: &Schema,
        value: Value,
        leaves: &[crate::data::Field],
        out: &mut Vec<Value>,
    ) {
        let mut values = match value {
            Value::Struct(v) => v.into_iter(),
            _ => Vec::new().into_iter(),
        };
        for f in schema.fields() {
            let v = values.next().unwrap_or(Value::Null);
            match &f.schema.kind {
                Kind::Struct(_) => Self::flatten_values(&f.schema, v, leaves, out),
                _ => {
                    let v = match leaves.get(out.len()) {
                        Some(leaf) => with_default(v, &leaf.schema, true),
                        None => v,
                    };
                    out.push(v);
                }
            }
        }
    }
}

impl Transformation for Flatten {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(data) = self.side.take(&mut record) else {
            return Ok(Some(record));
        };
        let (schema, value) = decode(data)?;
        let out = match schema {
            None => {
                let entries = require_map(value, PURPOSE)?;
                let mut out = Vec::with_capacity(entries.len());
                self.flatten_map(entries, "", &mut out);
                encode(None, Value::Map(out))
            }
            Some(schema) => {
                let values = require_struct(value, &schema, PURPOSE)?;
                let updated = match self.cache.get(&schema, None) {
                    Some(u) => u,
                    None => {
                        let mut fields = Vec::new();
                        self.flatten_schema(
                            &schema,
                            "",
                            schema.optional,
                            schema.default.as_ref(),
                            &mut fields,
                        );
                        let u = Arc::new(struct_from(Some(&schema), fields)?);
                        self.cache.insert(&schema, None, u.clone());
                        u
                    }
                };
                let mut out = Vec::with_capacity(updated.fields().len());
                Self::flatten_values(&schema, Value::Struct(values), updated.fields(), &mut out);
                encode(Some(updated), Value::Struct(out))
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
        as_json, json_data, props, record, schema, schemaless, struct_of, transform,
    };

    const VALUE: &str = "org.apache.kafka.connect.transforms.Flatten$Value";

    #[test]
    fn nested_structs_with_optional_parents() {
        let s = schema(json!({"type":"struct","name":"outer","fields":[
            {"field":"id","type":"int64"},
            {"field":"addr","type":"struct","optional":true,"fields":[
                {"field":"city","type":"string"},
                {"field":"geo","type":"struct","fields":[{"field":"lat","type":"double"}]}]},
            {"field":"tags","type":"array","items":{"type":"string"}},
            {"field":"m","type":"map","keys":{"type":"string"},"values":{"type":"int32"},"optional":true}]}));
        let mut t = transform(VALUE, &props(&[("delimiter", "_")]));
        let v = json!({"id":1,"addr":{"city":"Oslo","geo":{"lat":59.9}},"tags":["a"],"m":{"k":1}});
        let out = t
            .apply(record("t", None, Some(json_data(&s, v))))
            .unwrap()
            .unwrap();
        let (us, _) = struct_of(out.value.as_ref());
        let fields: Vec<(&str, bool)> = us
            .fields()
            .iter()
            .map(|f| (f.name.as_str(), f.schema.optional))
            .collect();
        assert_eq!(
            fields,
            [
                ("id", false),
                ("addr_city", true),
                ("addr_geo_lat", true),
                ("tags", false),
                ("m", true)
            ]
        );
        assert_eq!(us.name.as_deref(), Some("outer"));
        assert_eq!(
            as_json(out.value.as_ref()).1,
            json!({"id":1,"addr_city":"Oslo","addr_geo_lat":59.9,"tags":["a"],"m":{"k":1}})
        );
        let v = json!({"id":2,"addr":null,"tags":[],"m":null});
        let out = t
            .apply(record("t", None, Some(json_data(&s, v))))
            .unwrap()
            .unwrap();
        assert!(std::sync::Arc::ptr_eq(
            &us,
            &struct_of(out.value.as_ref()).0
        ));
        assert_eq!(as_json(out.value.as_ref()).1["addr_city"], json!(null));
    }

    #[test]
    fn schemaless_maps() {
        let mut t = transform(VALUE, &props(&[]));
        let v = json!({"a":{"b":{"c":1},"d":null},"e":[{"f":1}],"g":"x"});
        let out = t
            .apply(record("t", None, Some(schemaless(v))))
            .unwrap()
            .unwrap();
        assert_eq!(
            as_json(out.value.as_ref()),
            (None, json!({"a.b.c":1,"a.d":null,"e":[{"f":1}],"g":"x"}))
        );
        assert!(t
            .apply(record("t", None, None))
            .unwrap()
            .unwrap()
            .value
            .is_none());
    }
}
