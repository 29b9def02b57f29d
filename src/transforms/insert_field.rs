//! `InsertField$Key` / `InsertField$Value`: adds the record's topic, partition, offset,
//! timestamp and/or a static string as fields.

use std::sync::Arc;

use crate::configdef::ParsedConfig;
use crate::data::{Kind, Schema, SchemaRef, SinkRecord, Value};

use super::support::{
    decode, encode, map_put, primitive, require_map, require_struct, struct_from, timestamp_schema,
    with_default, SchemaCache, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "field insertion";

/// A field name with its optionality: `name?` (the default) or `name!` (required).
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    name: String,
    optional: bool,
}

impl Spec {
    fn parse(spec: Option<&str>) -> Option<Spec> {
        let spec = spec?;
        Some(if let Some(name) = spec.strip_suffix('?') {
            Spec {
                name: name.to_string(),
                optional: true,
            }
        } else if let Some(name) = spec.strip_suffix('!') {
            Spec {
                name: name.to_string(),
                optional: false,
            }
        } else {
            Spec {
                name: spec.to_string(),
                optional: true,
            }
        })
    }
}

pub(crate) struct InsertField {
    side: Side,
    topic: Option<Spec>,
    partition: Option<Spec>,
    offset: Option<Spec>,
    timestamp: Option<Spec>,
    static_field: Option<Spec>,
    static_value: Option<String>,
    replace_null: bool,
    cache: SchemaCache<SchemaRef>,
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    let get = |k: &str| {
        cfg.get_opt_str(k)
            .map(Spec::parse)
            .map_err(|e| e.to_string())
    };
    Ok(Box::new(InsertField {
        side,
        topic: get("topic.field")?,
        partition: get("partition.field")?,
        offset: get("offset.field")?,
        timestamp: get("timestamp.field")?,
        static_field: get("static.field")?,
        static_value: cfg
            .get_opt_str("static.value")
            .map_err(|e| e.to_string())?
            .map(str::to_string),
        replace_null: cfg
            .get_bool("replace.null.with.default")
            .map_err(|e| e.to_string())?,
        cache: SchemaCache::default(),
    }))
}

impl InsertField {
    /// The inserted (name, value) pairs for this record, in Connect's order.
    fn inserted(&self, record: &SinkRecord, schemaless: bool) -> Vec<(&Spec, Value)> {
        let mut out = Vec::with_capacity(5);
        if let Some(s) = &self.topic {
            out.push((s, Value::String(record.topic.to_string())));
        }
        if let Some(s) = &self.partition {
            out.push((s, Value::Int(i64::from(record.partition))));
        }
        if let Some(s) = &self.offset {
            out.push((s, Value::Int(record.offset)));
        }
        if let Some(s) = &self.timestamp {
            // Schemaless maps only get a timestamp the record has (Java skips the put).
            match record.timestamp {
                Some(ts) => out.push((s, Value::Int(ts))),
                None if !schemaless => out.push((s, Value::Null)),
                None => {}
            }
        }
        if let Some(s) = &self.static_field {
            match &self.static_value {
                Some(v) => out.push((s, Value::String(v.clone()))),
                None if !schemaless => out.push((s, Value::Null)),
                None => {}
            }
        }
        out
    }

    fn updated_schema(&self, schema: &Schema) -> Result<SchemaRef, TransformError> {
        let mut fields: Vec<(String, SchemaRef)> = schema
            .fields()
            .iter()
            .map(|f| (f.name.clone(), f.schema.clone()))
            .collect();
        let added = [
            (&self.topic, Some(Kind::String)),
            (&self.partition, Some(Kind::Int32)),
            (&self.offset, Some(Kind::Int64)),
            (&self.timestamp, None),
            (&self.static_field, Some(Kind::String)),
        ];
        for (spec, kind) in added {
            if let Some(s) = spec {
                let schema = match kind {
                    Some(kind) => primitive(kind, s.optional),
                    // The timestamp field is Connect's Timestamp logical type.
                    None => Arc::new(timestamp_schema(s.optional)),
                };
                fields.push((s.name.clone(), schema));
            }
        }
        Ok(Arc::new(struct_from(Some(schema), fields)?))
    }
}

impl Transformation for InsertField {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        // Tombstones pass through untouched, as in Connect.
        let Some(data) = self.side.take(&mut record) else {
            return Ok(Some(record));
        };
        let (schema, value) = decode(data)?;
        let out = match schema {
            None => {
                let mut entries = require_map(value, PURPOSE)?;
                for (spec, v) in self.inserted(&record, true) {
                    map_put(&mut entries, &spec.name, v);
                }
                encode(None, Value::Map(entries))
            }
            Some(schema) => {
                let values = require_struct(value, &schema, PURPOSE)?;
                let updated = match self.cache.get(&schema, None) {
                    Some(u) => u,
                    None => {
                        let u = self.updated_schema(&schema)?;
                        self.cache.insert(&schema, None, u.clone());
                        u
                    }
                };
                let mut out = Vec::with_capacity(updated.fields().len());
                for (v, f) in values.into_iter().zip(schema.fields()) {
                    out.push(with_default(v, &f.schema, self.replace_null));
                }
                for (spec, v) in self.inserted(&record, false) {
                    if v.is_null() && !spec.optional {
                        return Err(TransformError::Data(format!(
                            "Invalid value: null used for required field: \"{}\", schema type: {}",
                            spec.name,
                            updated
                                .field(&spec.name)
                                .map_or("STRING", |f| f.schema.kind.type_name())
                        )));
                    }
                    out.push(v);
                }
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

    use crate::data::schema::names;
    use crate::data::{Data, Kind};
    use crate::transforms::tests::{
        as_json, json_data, props, record, schema, schemaless, struct_of, transform, try_transform,
    };

    const VALUE: &str = "org.apache.kafka.connect.transforms.InsertField$Value";
    const KEY: &str = "org.apache.kafka.connect.transforms.InsertField$Key";

    fn all() -> std::collections::BTreeMap<String, String> {
        props(&[
            ("topic.field", "t"),
            ("partition.field", "p"),
            ("offset.field", "o!"),
            ("timestamp.field", "ts?"),
            ("static.field", "s"),
            ("static.value", "v"),
        ])
    }

    #[test]
    fn schemaless_value() {
        let mut t = transform(VALUE, &all());
        let r = record("orders", None, Some(schemaless(json!({"a": 1}))));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(
            as_json(out.value.as_ref()),
            (
                None,
                json!({"a":1,"t":"orders","p":0,"o":7,"ts":1708678334431i64,"s":"v"})
            )
        );
        let e = t
            .apply(record("x", None, Some(schemaless(json!([1])))))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Only Map objects supported in absence of schema for [field insertion], found: java.util.ArrayList"
        );
        assert!(
            t.apply(record("x", None, None))
                .unwrap()
                .unwrap()
                .value
                .is_none(),
            "tombstones pass"
        );
    }

    #[test]
    fn schema_value_and_key() {
        let s = schema(
            json!({"type":"struct","name":"row","version":3,"fields":[{"field":"a","type":"int32","optional":false}]}),
        );
        let mut t = transform(VALUE, &all());
        let out = t
            .apply(record("orders", None, Some(json_data(&s, json!({"a": 1})))))
            .unwrap()
            .unwrap();
        let (us, v) = struct_of(out.value.as_ref());
        assert_eq!(us.name.as_deref(), Some("row"));
        assert_eq!(us.version, Some(3));
        let kinds: Vec<(&str, &Kind, bool)> = us
            .fields()
            .iter()
            .map(|f| (f.name.as_str(), &f.schema.kind, f.schema.optional))
            .collect();
        assert_eq!(
            kinds,
            [
                ("a", &Kind::Int32, false),
                ("t", &Kind::String, true),
                ("p", &Kind::Int32, true),
                ("o", &Kind::Int64, false),
                ("ts", &Kind::Int64, true),
                ("s", &Kind::String, true)
            ]
        );
        assert_eq!(
            us.field("ts").unwrap().schema.name.as_deref(),
            Some(names::TIMESTAMP)
        );
        assert_eq!(
            crate::data::json::encode(&crate::data::Value::Struct(v), &us),
            json!({"a":1,"t":"orders","p":0,"o":7,"ts":1708678334431i64,"s":"v"})
        );
        let again = t
            .apply(record("orders", None, Some(json_data(&s, json!({"a": 2})))))
            .unwrap()
            .unwrap();
        assert!(
            std::sync::Arc::ptr_eq(&us, &struct_of(again.value.as_ref()).0),
            "cached"
        );

        let mut k = transform(KEY, &props(&[("offset.field", "off")]));
        let r = record(
            "orders",
            Some(json_data(&s, json!({"a": 5}))),
            Some(Data::String("v".into())),
        );
        let out = k.apply(r).unwrap().unwrap();
        assert_eq!(as_json(out.key.as_ref()).1, json!({"a": 5, "off": 7}));
        assert_eq!(
            out.value,
            Some(Data::String("v".into())),
            "the value side is untouched"
        );
    }

    #[test]
    fn required_field_without_value_and_non_structs() {
        let s = schema(json!({"type":"struct","fields":[{"field":"a","type":"int32"}]}));
        let mut t = transform(VALUE, &props(&[("timestamp.field", "ts!")]));
        let mut r = record("o", None, Some(json_data(&s, json!({"a": 1}))));
        r.timestamp = None;
        let e = t.apply(r).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value: null used for required field: \"ts\", schema type: INT64"
        );
        let e = t
            .apply(record("o", None, Some(Data::String("x".into()))))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Only Struct objects supported for [field insertion], found: java.lang.String"
        );
        let dup = transform(VALUE, &props(&[("topic.field", "a")]))
            .apply(record("o", None, Some(json_data(&s, json!({"a": 1})))))
            .unwrap_err();
        assert_eq!(
            dup.to_string(),
            "Cannot create field because of field name duplication a"
        );
        assert!(try_transform(VALUE, &props(&[("replace.null.with.default", "maybe")])).is_err());
    }
}
