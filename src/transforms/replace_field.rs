//! `ReplaceField$Key` / `ReplaceField$Value`: keeps (`include`), drops (`exclude`) and renames
//! (`renames`) top-level fields. `whitelist` / `blacklist` are the legacy names of
//! `include` / `exclude`, used when the new name is not set (Connect's
//! `ConfigUtils.translateDeprecatedConfigs`).

use std::collections::HashMap;
use std::sync::Arc;

use crate::configdef::ParsedConfig;
use crate::data::{Schema, SchemaRef, SinkRecord, Value};

use super::support::{
    decode, encode, require_map, require_struct, struct_from, with_default, SchemaCache, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "field replacement";

pub(crate) struct ReplaceField {
    side: Side,
    exclude: Vec<String>,
    include: Vec<String>,
    renames: HashMap<String, String>,
    replace_null: bool,
    /// Output schema and, per output field, the index of its input field.
    cache: SchemaCache<(SchemaRef, Arc<[usize]>)>,
}

/// `renames`: `from:to` pairs (Java's `split(":")` drops a trailing empty part).
pub(crate) fn parse_renames(items: &[String]) -> Result<HashMap<String, String>, String> {
    let mut out = HashMap::new();
    for mapping in items {
        let mut parts: Vec<&str> = mapping.split(':').collect();
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        match parts.as_slice() {
            [from, to] => {
                out.insert(from.to_string(), to.to_string());
            }
            _ => return Err(format!("Invalid rename mapping: {mapping}")),
        }
    }
    Ok(out)
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    let list = |new: &str, legacy: &str| -> Result<Vec<String>, String> {
        if cfg.original(new).is_none() && cfg.original(legacy).is_some() {
            return cfg
                .get_list(legacy)
                .map(<[String]>::to_vec)
                .map_err(|e| e.to_string());
        }
        if cfg.original(legacy).is_some() {
            tracing::warn!("ReplaceField: both {new} and its deprecated name {legacy} are set; {legacy} is ignored");
        }
        cfg.get_list(new)
            .map(<[String]>::to_vec)
            .map_err(|e| e.to_string())
    };
    let renames = cfg.get_list("renames").map_err(|e| e.to_string())?;
    let renames = parse_renames(renames).map_err(|e| {
        format!(
            "Invalid value {} for configuration renames: {e}",
            renames.join(",")
        )
    })?;
    Ok(Box::new(ReplaceField {
        side,
        exclude: list("exclude", "blacklist")?,
        include: list("include", "whitelist")?,
        renames,
        replace_null: cfg
            .get_bool("replace.null.with.default")
            .map_err(|e| e.to_string())?,
        cache: SchemaCache::default(),
    }))
}

impl ReplaceField {
    fn keep(&self, name: &str) -> bool {
        !self.exclude.iter().any(|e| e == name)
            && (self.include.is_empty() || self.include.iter().any(|i| i == name))
    }

    fn renamed<'n>(&'n self, name: &'n str) -> &'n str {
        self.renames.get(name).map_or(name, String::as_str)
    }

    fn updated_schema(&self, schema: &Schema) -> Result<(SchemaRef, Arc<[usize]>), TransformError> {
        let mut fields = Vec::new();
        let mut origin = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            if self.keep(&f.name) {
                fields.push((self.renamed(&f.name).to_string(), f.schema.clone()));
                origin.push(i);
            }
        }
        Ok((Arc::new(struct_from(Some(schema), fields)?), origin.into()))
    }
}

impl Transformation for ReplaceField {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(data) = self.side.take(&mut record) else {
            return Ok(Some(record));
        };
        let (schema, value) = decode(data)?;
        let out = match schema {
            None => {
                let entries = require_map(value, PURPOSE)?;
                let updated: Vec<(Value, Value)> = entries
                    .into_iter()
                    .filter_map(|(k, v)| {
                        let name = k.as_str()?;
                        self.keep(name)
                            .then(|| (Value::String(self.renamed(name).to_string()), v))
                    })
                    .collect();
                encode(None, Value::Map(updated))
            }
            Some(schema) => {
                let mut values: Vec<Option<Value>> = require_struct(value, &schema, PURPOSE)?
                    .into_iter()
                    .map(Some)
                    .collect();
                let (updated, origin) = match self.cache.get(&schema, None) {
                    Some(u) => u,
                    None => {
                        let u = self.updated_schema(&schema)?;
                        self.cache.insert(&schema, None, u.clone());
                        u
                    }
                };
                let fields = schema.fields();
                let out: Vec<Value> = origin
                    .iter()
                    .map(|&i| {
                        let v = values[i].take().unwrap_or(Value::Null);
                        with_default(v, &fields[i].schema, self.replace_null)
                    })
                    .collect();
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
        as_json, json_data, props, record, schema, schemaless, struct_of, transform, try_transform,
    };

    const VALUE: &str = "org.apache.kafka.connect.transforms.ReplaceField$Value";
    const KEY: &str = "org.apache.kafka.connect.transforms.ReplaceField$Key";

    #[test]
    fn schemaless_exclude_include_rename() {
        let v = || Some(schemaless(json!({"a": 1, "b": 2, "c": 3})));
        let run = |p: &[(&str, &str)]| {
            let out = transform(VALUE, &props(p))
                .apply(record("t", None, v()))
                .unwrap()
                .unwrap();
            as_json(out.value.as_ref()).1
        };
        assert_eq!(run(&[("exclude", "b")]), json!({"a": 1, "c": 3}));
        assert_eq!(
            run(&[("include", "a,b"), ("exclude", "b")]),
            json!({"a": 1})
        );
        assert_eq!(
            run(&[("renames", "a:x,c:y")]),
            json!({"x": 1, "b": 2, "y": 3})
        );
        // Legacy names, used when the new name is absent; the new name wins otherwise.
        assert_eq!(run(&[("blacklist", "a")]), json!({"b": 2, "c": 3}));
        assert_eq!(run(&[("whitelist", "c")]), json!({"c": 3}));
        assert_eq!(
            run(&[("whitelist", "c"), ("include", "a")]),
            json!({"a": 1})
        );
    }

    #[test]
    fn schema_value_and_key() {
        let s = schema(json!({"type":"struct","name":"r","fields":[
            {"field":"a","type":"int32"},{"field":"b","type":"string","optional":true},{"field":"c","type":"boolean"}]}));
        let mut t = transform(VALUE, &props(&[("exclude", "b"), ("renames", "c:flag")]));
        let out = t
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"a":1,"b":"x","c":true}))),
            ))
            .unwrap()
            .unwrap();
        let (us, _) = struct_of(out.value.as_ref());
        assert_eq!(us.name.as_deref(), Some("r"));
        assert_eq!(as_json(out.value.as_ref()).1, json!({"a": 1, "flag": true}));
        let out2 = t
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"a":2,"b":null,"c":false}))),
            ))
            .unwrap()
            .unwrap();
        assert!(std::sync::Arc::ptr_eq(
            &us,
            &struct_of(out2.value.as_ref()).0
        ));

        let mut k = transform(KEY, &props(&[("include", "a")]));
        let out = k
            .apply(record(
                "t",
                Some(json_data(&s, json!({"a":1,"b":"x","c":true}))),
                None,
            ))
            .unwrap()
            .unwrap();
        assert_eq!(as_json(out.key.as_ref()).1, json!({"a": 1}));
        assert!(out.value.is_none());
    }

    #[test]
    fn bad_renames() {
        let e = try_transform(VALUE, &props(&[("renames", "a:b:c")]))
            .err()
            .unwrap();
        assert!(e.contains("Invalid rename mapping"), "{e}");
    }
}
