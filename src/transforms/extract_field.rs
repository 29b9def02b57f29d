//! `ExtractField$Key` / `ExtractField$Value`: replaces the key or value with one of its fields
//! (a nested one with `field.syntax.version=V2`: dotted path, backticks around names with dots).

use crate::configdef::ParsedConfig;
use crate::data::{Kind, Schema, SchemaRef, SinkRecord, Value};

use super::support::{decode, encode, java_class, map_take, with_default, Side};
use super::{TransformError, Transformation};

const PURPOSE: &str = "field extraction";

pub(crate) struct ExtractField {
    side: Side,
    /// The configured `field`, for messages.
    original: String,
    path: Vec<String>,
    replace_null: bool,
}

/// `field.syntax.version=V2` paths: `a.b.c`, with `` `a.b`.c `` for names containing dots and
/// `` \` `` for a backtick inside a quoted name.
pub(crate) fn parse_v2_path(path: &str) -> Vec<String> {
    let chars: Vec<char> = path.chars().collect();
    let mut out = Vec::new();
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' && current.is_empty() {
            // A quoted name ends at a backtick followed by a dot or the end.
            let mut j = i + 1;
            let mut name = String::new();
            let mut closed = false;
            while j < chars.len() {
                match chars[j] {
                    '\\' if chars.get(j + 1) == Some(&'`') => {
                        name.push('`');
                        j += 2;
                    }
                    '`' if j + 1 == chars.len() || chars[j + 1] == '.' => {
                        closed = true;
                        break;
                    }
                    c => {
                        name.push(c);
                        j += 1;
                    }
                }
            }
            if closed {
                out.push(name);
                // Skip the closing backtick and the dot after it.
                i = j + 2;
                if i > chars.len() {
                    return out;
                }
                if i == chars.len() && chars.last() == Some(&'.') {
                    out.push(String::new());
                }
                continue;
            }
            // An unclosed backtick is part of the name.
            current.push('`');
            i += 1;
            continue;
        }
        if chars[i] == '.' {
            out.push(std::mem::take(&mut current));
        } else {
            current.push(chars[i]);
        }
        i += 1;
    }
    out.push(current);
    out
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    let field = cfg.get_str("field").map_err(|e| e.to_string())?;
    let version = cfg
        .get_str("field.syntax.version")
        .map_err(|e| e.to_string())?;
    let path = match version.to_ascii_uppercase().as_str() {
        "V1" => vec![field.to_string()],
        "V2" => parse_v2_path(field),
        _ => {
            return Err(format!(
                "Invalid value {version} for configuration field.syntax.version: String must be one of (case insensitive): V1, V2"
            ))
        }
    };
    Ok(Box::new(ExtractField {
        side,
        original: field.to_string(),
        path,
        replace_null: cfg
            .get_bool("replace.null.with.default")
            .map_err(|e| e.to_string())?,
    }))
}

impl ExtractField {
    fn with_schema(
        &self,
        schema: SchemaRef,
        value: Value,
    ) -> Result<(SchemaRef, Value), TransformError> {
        let unknown = || TransformError::Data(format!("Unknown field: {}", self.original));
        let mut schema = schema;
        let mut value = value;
        for name in &self.path {
            let Some(field) = schema.field(name).cloned() else {
                if !matches!(schema.kind, Kind::Struct(_)) && !value.is_null() {
                    return Err(not_a_struct(&value, &schema));
                }
                return Err(unknown());
            };
            value = match value {
                Value::Struct(mut values) if field.index < values.len() => {
                    std::mem::replace(&mut values[field.index], Value::Null)
                }
                // A null parent: the field is null too.
                Value::Null => Value::Null,
                other => return Err(not_a_struct(&other, &schema)),
            };
            value = with_default(value, &field.schema, self.replace_null);
            schema = field.schema;
        }
        Ok((schema, value))
    }

    fn schemaless(&self, value: Value) -> Result<Value, TransformError> {
        let mut value = value;
        for name in &self.path {
            value = match value {
                Value::Map(mut entries) => map_take(&mut entries, name).unwrap_or(Value::Null),
                Value::Null => Value::Null,
                other => {
                    return Err(TransformError::Data(format!(
                    "Only Map objects supported in absence of schema for [{PURPOSE}], found: {}",
                    java_class(&other, None)
                )))
                }
            };
        }
        Ok(value)
    }
}

fn not_a_struct(value: &Value, schema: &Schema) -> TransformError {
    TransformError::Data(format!(
        "Only Struct objects supported for [{PURPOSE}], found: {}",
        java_class(value, Some(schema))
    ))
}

impl Transformation for ExtractField {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(data) = self.side.take(&mut record) else {
            return Ok(Some(record));
        };
        let (schema, value) = decode(data)?;
        let out = match schema {
            None => encode(None, self.schemaless(value)?),
            Some(schema) => {
                // The field's own schema Arc goes out: no schema is built per record.
                let (schema, value) = self.with_schema(schema, value)?;
                encode(Some(schema), value)
            }
        };
        self.side.put(&mut record, out);
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_v2_path;

    #[test]
    fn v2_paths() {
        assert_eq!(parse_v2_path("a.b.c"), ["a", "b", "c"]);
        assert_eq!(parse_v2_path("`foo.bar`.baz"), ["foo.bar", "baz"]);
        assert_eq!(parse_v2_path("a.`b.c`"), ["a", "b.c"]);
        assert_eq!(parse_v2_path(r"`x\`y`.z"), ["x`y", "z"]);
        assert_eq!(parse_v2_path("`open.b"), ["`open", "b"]);
        assert_eq!(parse_v2_path("plain"), ["plain"]);
    }
}

#[cfg(test)]
mod smt_tests {
    use serde_json::json;

    use crate::data::Data;
    use crate::transforms::tests::{
        as_json, json_data, props, record, schema, schemaless, transform,
    };

    const VALUE: &str = "org.apache.kafka.connect.transforms.ExtractField$Value";
    const KEY: &str = "org.apache.kafka.connect.transforms.ExtractField$Key";

    #[test]
    fn schema_v1_v2_and_key() {
        let s = schema(json!({"type":"struct","fields":[
            {"field":"id","type":"int64"},
            {"field":"a.b","type":"string","optional":true},
            {"field":"nested","type":"struct","optional":true,"fields":[{"field":"x","type":"int32","optional":true}]}]}));
        let v = json!({"id": 9, "a.b": "dots", "nested": {"x": 3}});
        let run = |class: &str, p: &[(&str, &str)], v: &serde_json::Value| {
            let data = Some(json_data(&s, v.clone()));
            let r = if class == KEY {
                record("t", data, None)
            } else {
                record("t", None, data)
            };
            let out = transform(class, &props(p)).apply(r).unwrap().unwrap();
            let side = if class == KEY { out.key } else { out.value };
            as_json(side.as_ref())
        };
        assert_eq!(
            run(VALUE, &[("field", "id")], &v),
            (Some(json!({"type":"int64","optional":false})), json!(9))
        );
        assert_eq!(run(VALUE, &[("field", "a.b")], &v).1, json!("dots"));
        assert_eq!(
            run(
                KEY,
                &[("field", "nested.x"), ("field.syntax.version", "v2")],
                &v
            )
            .1,
            json!(3)
        );
        assert_eq!(
            run(
                VALUE,
                &[("field", "`a.b`"), ("field.syntax.version", "V2")],
                &v
            )
            .1,
            json!("dots")
        );
        let null_parent = json!({"id": 9, "a.b": null, "nested": null});
        assert_eq!(
            run(
                VALUE,
                &[("field", "nested.x"), ("field.syntax.version", "V2")],
                &null_parent
            ),
            (None, json!(null))
        );
        let e = transform(VALUE, &props(&[("field", "nested.x")]))
            .apply(record("t", None, Some(json_data(&s, v))))
            .unwrap_err();
        assert_eq!(e.to_string(), "Unknown field: nested.x");
    }

    #[test]
    fn schemaless_and_tombstones() {
        let mut t = transform(VALUE, &props(&[("field", "a")]));
        let out = t
            .apply(record("t", None, Some(schemaless(json!({"a": {"b": 1}})))))
            .unwrap()
            .unwrap();
        assert_eq!(as_json(out.value.as_ref()), (None, json!({"b": 1})));
        let out = t
            .apply(record("t", None, Some(schemaless(json!({"z": 1})))))
            .unwrap()
            .unwrap();
        assert!(out.value.is_none(), "an absent field extracts to null");
        assert!(t
            .apply(record("t", None, None))
            .unwrap()
            .unwrap()
            .value
            .is_none());
        let e = t
            .apply(record("t", None, Some(Data::String("x".into()))))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Only Struct objects supported for [field extraction], found: java.lang.String"
        );
    }
}
