//! Dotted field paths into record values, and the `FieldPartitioner` encoding.

use super::{PartitionError, RecordAt};
use crate::data::{Kind, Schema, Value};

/// What a dotted path leads to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Lookup<'a> {
    /// A non-null value, with its schema (`None` for schemaless values).
    Found(&'a Value, Option<&'a Schema>),
    /// The field, or a struct or map on the way to it, is null.
    Null,
    /// A map on the way has no such key (schemaless values may omit fields).
    Absent,
}

/// Follows a dotted path (`after.region`) through structs (by schema field name) and maps with
/// string keys (schemaless JSON objects). The error says why the path cannot be followed.
pub(crate) fn lookup<'a>(
    value: &'a Value,
    schema: Option<&'a Schema>,
    path: &str,
) -> Result<Lookup<'a>, String> {
    let mut value = value;
    let mut schema = schema;
    let mut walked = String::new();
    for segment in path.split('.') {
        if value.is_null() {
            return Ok(Lookup::Null);
        }
        let here = if walked.is_empty() {
            "the record value".to_string()
        } else {
            format!("'{walked}'")
        };
        match (schema.map(|s| &s.kind), value) {
            (Some(Kind::Struct(fields)), Value::Struct(values)) => {
                let Some(field) = fields.iter().find(|f| f.name == segment) else {
                    let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
                    return Err(format!(
                        "{here} has no field '{segment}' (fields: {})",
                        names.join(", ")
                    ));
                };
                value = values.get(field.index).unwrap_or(&Value::Null);
                schema = Some(&field.schema);
            }
            (Some(Kind::Map(_, value_schema)), Value::Map(_)) => {
                match value.map_get(segment) {
                    Some(v) => value = v,
                    None => return Ok(Lookup::Absent),
                }
                schema = Some(value_schema);
            }
            (None, Value::Map(_)) => match value.map_get(segment) {
                Some(v) => value = v,
                None => return Ok(Lookup::Absent),
            },
            (Some(kind), _) => {
                return Err(format!(
                    "{here} is {}, not a struct or a map",
                    article(kind.type_name())
                ))
            }
            (None, v) => {
                return Err(format!(
                    "{here} is {}, not a struct or a map",
                    article(value_type_name(v))
                ))
            }
        }
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
    }
    Ok(if value.is_null() {
        Lookup::Null
    } else {
        Lookup::Found(value, schema)
    })
}

fn article(type_name: &str) -> String {
    match type_name.chars().next() {
        Some('A' | 'E' | 'I' | 'O' | 'U') => format!("an {type_name}"),
        _ => format!("a {type_name}"),
    }
}

/// Connect-style type name of a schemaless value.
pub(crate) fn value_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "NULL",
        Value::Boolean(_) => "BOOLEAN",
        Value::Int(_) => "INT64",
        Value::Float(_) => "FLOAT64",
        Value::String(_) => "STRING",
        Value::Bytes(_) => "BYTES",
        Value::Decimal(_) => "DECIMAL",
        Value::Array(_) => "ARRAY",
        Value::Map(_) => "MAP",
        Value::Struct(_) => "STRUCT",
    }
}

/// `FieldPartitioner`: `<field>=<value>` per field, joined with the directory delimiter.
/// Integer, string and boolean fields; null (or, for schemaless maps, absent) → `<field>=null`.
pub(crate) fn encode_fields(
    fields: &[String],
    delim: &str,
    value: &Value,
    schema: Option<&Schema>,
    at: &RecordAt,
) -> Result<String, PartitionError> {
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        let found = lookup(value, schema, field).map_err(|reason| PartitionError::Field {
            field: field.clone(),
            at: at.clone(),
            reason,
        })?;
        let text = match found {
            Lookup::Null | Lookup::Absent => "null".to_string(),
            Lookup::Found(v, s) => partition_value(v, s).map_err(|type_name| {
                PartitionError::UnsupportedPartitionField {
                    field: field.clone(),
                    at: at.clone(),
                    type_name,
                }
            })?,
        };
        parts.push(format!("{field}={text}"));
    }
    Ok(parts.join(delim))
}

/// The text of a partition field value, or the name of its unsupported type.
fn partition_value(value: &Value, schema: Option<&Schema>) -> Result<String, String> {
    if let Some(schema) = schema {
        let supported = matches!(
            schema.kind,
            Kind::Int8 | Kind::Int16 | Kind::Int32 | Kind::Int64 | Kind::String | Kind::Boolean
        );
        if !supported {
            return Err(schema.kind.type_name().to_string());
        }
    }
    match value {
        Value::Int(i) => Ok(i.to_string()),
        Value::String(s) => Ok(s.clone()),
        Value::Boolean(b) => Ok(b.to_string()),
        other => Err(value_type_name(other).to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn at() -> RecordAt {
        RecordAt {
            topic: "orders".into(),
            partition: 3,
            offset: 42,
        }
    }

    fn nested() -> (Schema, Value) {
        let address = Arc::new(Schema::structure(
            vec![
                ("region", Arc::new(Schema::new(Kind::String, true))),
                ("tier", Arc::new(Schema::new(Kind::Int32, false))),
            ],
            true,
        ));
        let schema = Schema::structure(
            vec![
                ("id", Arc::new(Schema::new(Kind::Int64, false))),
                ("active", Arc::new(Schema::new(Kind::Boolean, false))),
                ("address", address),
                ("score", Arc::new(Schema::new(Kind::Float64, true))),
            ],
            false,
        );
        let value = Value::Struct(vec![
            Value::Int(7),
            Value::Boolean(true),
            Value::Struct(vec![Value::String("eu".into()), Value::Int(1)]),
            Value::Float(0.5),
        ]);
        (schema, value)
    }

    fn encode(fields: &[&str], value: &Value, schema: Option<&Schema>) -> Result<String, String> {
        let fields: Vec<String> = fields.iter().map(|f| f.to_string()).collect();
        encode_fields(&fields, "/", value, schema, &at()).map_err(|e| e.to_string())
    }

    #[test]
    fn nested_struct_fields() {
        let (schema, value) = nested();
        assert_eq!(
            encode(&["address.region", "address.tier"], &value, Some(&schema)),
            Ok("address.region=eu/address.tier=1".into())
        );
        assert_eq!(
            encode(&["id", "active"], &value, Some(&schema)),
            Ok("id=7/active=true".into())
        );
    }

    #[test]
    fn null_fields_and_null_parents() {
        let (schema, _) = nested();
        let value = Value::Struct(vec![
            Value::Int(7),
            Value::Boolean(false),
            Value::Null,
            Value::Null,
        ]);
        assert_eq!(
            encode(&["address.region", "id"], &value, Some(&schema)),
            Ok("address.region=null/id=7".into())
        );
        let value = Value::Struct(vec![
            Value::Int(7),
            Value::Boolean(false),
            Value::Struct(vec![Value::Null, Value::Int(2)]),
            Value::Null,
        ]);
        assert_eq!(
            encode(&["address.region"], &value, Some(&schema)),
            Ok("address.region=null".into())
        );
    }

    #[test]
    fn schemaless_maps() {
        let value = Value::Map(vec![
            (Value::String("region".into()), Value::String("us".into())),
            (
                Value::String("meta".into()),
                Value::Map(vec![(Value::String("n".into()), Value::Int(5))]),
            ),
        ]);
        assert_eq!(
            encode(&["region", "meta.n", "missing"], &value, None),
            Ok("region=us/meta.n=5/missing=null".into())
        );
    }

    #[test]
    fn errors_name_field_and_record() {
        let (schema, value) = nested();
        assert_eq!(
            encode(&["score"], &value, Some(&schema)),
            Err(
                "partition field 'score' of record orders-3 offset 42 is of type FLOAT64; \
                 FieldPartitioner supports INT8, INT16, INT32, INT64, STRING and BOOLEAN fields"
                    .into()
            )
        );
        assert_eq!(
            encode(&["nope"], &value, Some(&schema)),
            Err(
                "cannot read field 'nope' of record orders-3 offset 42: the record value has no \
                 field 'nope' (fields: id, active, address, score)"
                    .into()
            )
        );
        assert_eq!(
            encode(&["id.x"], &value, Some(&schema)),
            Err(
                "cannot read field 'id.x' of record orders-3 offset 42: 'id' is an INT64, not a \
                 struct or a map"
                    .into()
            )
        );
        assert_eq!(
            encode(&["a"], &Value::String("x".into()), None),
            Err(
                "cannot read field 'a' of record orders-3 offset 42: the record value is a \
                 STRING, not a struct or a map"
                    .into()
            )
        );
    }
}
