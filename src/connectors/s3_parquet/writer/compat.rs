//! `schema.compatibility`: whether a record whose schema differs from its open file's schema
//! starts new files, or is projected into the open file (Confluent's `StorageSchemaCompatibility`
//! with `SchemaProjector`), so interleaved schema versions do not explode into small files.
//!
//! * `NONE`: any different schema rotates.
//! * `BACKWARD` / `FULL`: a newer schema version rotates; an older (or equal) version is
//!   projected into the open file's schema: fields matched by name, fields it lacks take their
//!   default or null, numeric types may widen.
//! * `FORWARD`: the reverse: the open file keeps the oldest schema; newer records are projected
//!   into it (their new fields are dropped, as Confluent does), an older version rotates.
//!
//! Confluent fails a task whose schemas carry no version under a non-`NONE` mode. Sluice instead
//! projects when no information is lost (every field of the record exists in the file's schema)
//! and rotates otherwise.

use crate::data::json::default_value;
use crate::data::{Kind, Schema, Value};

use super::super::config::SchemaCompatibility;

/// What to do with a record whose schema differs from its file's.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Close the partition's files and start new ones with the record's schema.
    Rotate,
    /// Write this value (the record projected into the file's schema) to the open file.
    Project(Value),
}

/// Decides for a record with `schema` and `value`, whose open file has schema `file`.
pub fn decide(
    mode: SchemaCompatibility,
    schema: &Schema,
    value: &Value,
    file: &Schema,
) -> Decision {
    let project = || match project(value, schema, file) {
        Some(v) => Decision::Project(v),
        None => Decision::Rotate,
    };
    match (mode, schema.version, file.version) {
        (SchemaCompatibility::None, _, _) => Decision::Rotate,
        (SchemaCompatibility::Backward | SchemaCompatibility::Full, Some(new), Some(cur)) => {
            if new > cur {
                Decision::Rotate
            } else {
                project()
            }
        }
        (SchemaCompatibility::Forward, Some(new), Some(cur)) => {
            if new < cur {
                Decision::Rotate
            } else {
                project()
            }
        }
        // No versions: project only when nothing of the record is lost.
        _ if covers(file, schema) => project(),
        _ => Decision::Rotate,
    }
}

/// True when every field of `from` (recursively) has a place in `to`.
fn covers(to: &Schema, from: &Schema) -> bool {
    match (&to.kind, &from.kind) {
        (Kind::Struct(tf), Kind::Struct(ff)) => ff.iter().all(|f| {
            tf.iter()
                .find(|t| t.name == f.name)
                .is_some_and(|t| covers(&t.schema, &f.schema))
        }),
        (Kind::Array(t), Kind::Array(f)) => covers(t, f),
        (Kind::Map(tk, tv), Kind::Map(fk, fv)) => covers(tk, fk) && covers(tv, fv),
        _ => leaf_fits(to, from),
    }
}

/// Same logical type and a physical type that holds every value of `from`.
fn leaf_fits(to: &Schema, from: &Schema) -> bool {
    if to.name != from.name || to.parameters != from.parameters {
        return false;
    }
    use Kind::*;
    let rank = |k: &Kind| match k {
        Int8 => Some(0),
        Int16 => Some(1),
        Int32 => Some(2),
        Int64 => Some(3),
        Float32 => Some(4),
        Float64 => Some(5),
        _ => None,
    };
    match (rank(&from.kind), rank(&to.kind)) {
        (Some(f), Some(t)) => f <= t,
        _ => std::mem::discriminant(&from.kind) == std::mem::discriminant(&to.kind),
    }
}

/// `value` (of schema `from`) as a value of schema `to`, or `None` when it cannot be.
pub fn project(value: &Value, from: &Schema, to: &Schema) -> Option<Value> {
    if value.is_null() {
        return (to.optional || to.default.is_some()).then(|| default_of(to));
    }
    match (&from.kind, &to.kind, value) {
        (Kind::Struct(ff), Kind::Struct(tf), Value::Struct(values)) => {
            let mut out = Vec::with_capacity(tf.len());
            for t in tf {
                match ff.iter().position(|f| f.name == t.name) {
                    Some(i) => out.push(project(values.get(i)?, &ff[i].schema, &t.schema)?),
                    None if t.schema.optional || t.schema.default.is_some() => {
                        out.push(default_of(&t.schema))
                    }
                    None => return None,
                }
            }
            Some(Value::Struct(out))
        }
        (Kind::Array(f), Kind::Array(t), Value::Array(items)) => items
            .iter()
            .map(|v| project(v, f, t))
            .collect::<Option<Vec<_>>>()
            .map(Value::Array),
        (Kind::Map(fk, fv), Kind::Map(tk, tv), Value::Map(entries)) => entries
            .iter()
            .map(|(k, v)| Some((project(k, fk, tk)?, project(v, fv, tv)?)))
            .collect::<Option<Vec<_>>>()
            .map(Value::Map),
        _ if leaf_fits(to, from) => Some(match (value, &to.kind) {
            (Value::Int(i), Kind::Float32 | Kind::Float64) => Value::Float(*i as f64),
            _ => value.clone(),
        }),
        _ => None,
    }
}

/// A field's default (decoded from its JSON form), or null.
fn default_of(schema: &Schema) -> Value {
    default_value(schema).ok().flatten().unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::data::Field;

    fn prim(kind: Kind, optional: bool) -> Arc<Schema> {
        Arc::new(Schema {
            kind,
            optional,
            name: None,
            version: None,
            doc: None,
            parameters: BTreeMap::new(),
            default: None,
        })
    }

    fn strukt(version: Option<i32>, fields: Vec<(&str, Arc<Schema>)>) -> Schema {
        Schema {
            kind: Kind::Struct(
                fields
                    .into_iter()
                    .enumerate()
                    .map(|(index, (name, schema))| Field {
                        name: name.to_string(),
                        index,
                        schema,
                    })
                    .collect(),
            ),
            optional: false,
            name: Some("row".into()),
            version,
            doc: None,
            parameters: BTreeMap::new(),
            default: None,
        }
    }

    fn v1(version: Option<i32>) -> Schema {
        strukt(
            version,
            vec![
                ("id", prim(Kind::Int32, false)),
                ("name", prim(Kind::String, true)),
            ],
        )
    }

    /// v2 adds an optional column and widens `id` to int64.
    fn v2(version: Option<i32>) -> Schema {
        strukt(
            version,
            vec![
                ("id", prim(Kind::Int64, false)),
                ("name", prim(Kind::String, true)),
                ("email", prim(Kind::String, true)),
            ],
        )
    }

    fn row1() -> Value {
        Value::Struct(vec![Value::Int(7), Value::String("a".into())])
    }

    #[test]
    fn none_always_rotates() {
        let d = decide(
            SchemaCompatibility::None,
            &v1(Some(1)),
            &row1(),
            &v2(Some(2)),
        );
        assert_eq!(d, Decision::Rotate);
    }

    #[test]
    fn backward_projects_older_records_and_rotates_on_newer() {
        let d = decide(
            SchemaCompatibility::Backward,
            &v1(Some(1)),
            &row1(),
            &v2(Some(2)),
        );
        assert_eq!(
            d,
            Decision::Project(Value::Struct(vec![
                Value::Int(7),
                Value::String("a".into()),
                Value::Null
            ]))
        );
        let row2 = Value::Struct(vec![Value::Int(7), Value::Null, Value::String("e".into())]);
        let d = decide(SchemaCompatibility::Full, &v2(Some(2)), &row2, &v1(Some(1)));
        assert_eq!(d, Decision::Rotate);
    }

    #[test]
    fn forward_keeps_the_oldest_schema() {
        let row2 = Value::Struct(vec![Value::Int(7), Value::Null, Value::String("e".into())]);
        // Projecting v2 into v1 narrows int64 → int32: not allowed, so it rotates.
        assert_eq!(
            decide(
                SchemaCompatibility::Forward,
                &v2(Some(2)),
                &row2,
                &v1(Some(1))
            ),
            Decision::Rotate
        );
        let v2_same_id = strukt(
            Some(2),
            vec![
                ("id", prim(Kind::Int32, false)),
                ("name", prim(Kind::String, true)),
                ("email", prim(Kind::String, true)),
            ],
        );
        assert_eq!(
            decide(
                SchemaCompatibility::Forward,
                &v2_same_id,
                &row2,
                &v1(Some(1))
            ),
            Decision::Project(Value::Struct(vec![Value::Int(7), Value::Null]))
        );
        assert_eq!(
            decide(
                SchemaCompatibility::Forward,
                &v1(Some(1)),
                &row1(),
                &v2(Some(2))
            ),
            Decision::Rotate
        );
    }

    #[test]
    fn without_versions_only_lossless_projections() {
        assert!(matches!(
            decide(SchemaCompatibility::Backward, &v1(None), &row1(), &v2(None)),
            Decision::Project(_)
        ));
        let row2 = Value::Struct(vec![Value::Int(7), Value::Null, Value::String("e".into())]);
        assert_eq!(
            decide(SchemaCompatibility::Backward, &v2(None), &row2, &v1(None)),
            Decision::Rotate
        );
    }

    #[test]
    fn a_missing_required_field_cannot_be_projected() {
        let file = strukt(
            Some(1),
            vec![
                ("id", prim(Kind::Int32, false)),
                ("must", prim(Kind::String, false)),
            ],
        );
        let from = strukt(Some(1), vec![("id", prim(Kind::Int32, false))]);
        assert_eq!(
            project(&Value::Struct(vec![Value::Int(1)]), &from, &file),
            None
        );
    }
}
