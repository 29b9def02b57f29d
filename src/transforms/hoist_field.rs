//! `HoistField$Key` / `HoistField$Value`: wraps the key or value in a one-field struct (with a
//! schema) or map (schemaless).

use std::sync::Arc;

use crate::configdef::ParsedConfig;
use crate::data::{SchemaRef, SinkRecord, Value};

use super::support::{decode, encode, struct_from, SchemaCache, Side};
use super::{TransformError, Transformation};

pub(crate) struct HoistField {
    side: Side,
    field: String,
    cache: SchemaCache<SchemaRef>,
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    Ok(Box::new(HoistField {
        side,
        field: cfg.get_str("field").map_err(|e| e.to_string())?.to_string(),
        cache: SchemaCache::default(),
    }))
}

impl Transformation for HoistField {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        // A null key or value has no schema: like Java, it becomes `{field: null}`.
        let (schema, value) = match self.side.take(&mut record) {
            Some(data) => decode(data)?,
            None => (None, Value::Null),
        };
        let out = match schema {
            None => encode(
                None,
                Value::Map(vec![(Value::String(self.field.clone()), value)]),
            ),
            Some(schema) => {
                let updated = self.cache.get_or_build(&schema, None, || {
                    struct_from(None, vec![(self.field.clone(), schema.clone())]).map(Arc::new)
                })?;
                if value.is_null() && !schema.optional {
                    return Err(TransformError::Data(format!(
                        "Invalid value: null used for required field: \"{}\"",
                        self.field
                    )));
                }
                encode(Some(updated), Value::Struct(vec![value]))
            }
        };
        self.side.put(&mut record, out);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::data::Data;
    use crate::transforms::tests::{as_json, props, record, schemaless, struct_of, transform};

    #[test]
    fn hoists_with_and_without_schema() {
        let mut k = transform(
            "org.apache.kafka.connect.transforms.HoistField$Key",
            &props(&[("field", "id")]),
        );
        let out = k
            .apply(record("t", Some(Data::String("42".into())), None))
            .unwrap()
            .unwrap();
        let (s, _) = struct_of(out.key.as_ref());
        assert_eq!(
            s.to_connect_json(),
            json!({"type":"struct","optional":false,"fields":[{"field":"id","type":"string","optional":true}]})
        );
        assert_eq!(as_json(out.key.as_ref()).1, json!({"id": "42"}));
        let again = k
            .apply(record("t", Some(Data::String("7".into())), None))
            .unwrap()
            .unwrap();
        assert!(std::sync::Arc::ptr_eq(&s, &struct_of(again.key.as_ref()).0));

        let mut v = transform(
            "org.apache.kafka.connect.transforms.HoistField$Value",
            &props(&[("field", "payload")]),
        );
        let out = v
            .apply(record("t", None, Some(schemaless(json!([1, 2])))))
            .unwrap()
            .unwrap();
        assert_eq!(
            as_json(out.value.as_ref()),
            (None, json!({"payload": [1, 2]}))
        );
        let out = v.apply(record("t", None, None)).unwrap().unwrap();
        assert_eq!(
            as_json(out.value.as_ref()),
            (None, json!({"payload": null}))
        );
    }
}
