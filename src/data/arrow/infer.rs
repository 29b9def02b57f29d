//! Schema inference for schemaless JSON (`schemas.enable=false`) and widening.
//!
//! Rules, applied per topic as values are observed:
//! * a new field becomes a new nullable column, null in earlier rows; new columns are appended
//!   after the existing ones, so column order never changes;
//! * a field seen only as `null` has no column yet (no type to give it); it gets one, appended
//!   at the end, when a typed value arrives (earlier rows null);
//! * integers are Int64; an integer column widens to Float64 when a float appears (and integers
//!   go into a Float64 column) only if every integer is exactly representable (|v| ≤ 2^53),
//!   otherwise the record is an error: never a rounded value;
//! * objects become structs with the union of their fields (recursively, same rules);
//! * arrays become lists of the widened element type; an array with no typed element yet has
//!   Utf8 items, all null, which are retyped when a typed element appears;
//! * anything else (string vs number, boolean vs number, object vs array, …) is a
//!   [`AppendErrorKind::TypeConflict`] for that record, naming the field; the schema is
//!   unchanged and the error handler decides (DLQ or fail). No coercion to string is made,
//!   because it would silently change earlier values' type.
//!
//! A record that widens the schema and then fails to append (only possible for oversized
//! batches) leaves the schema widened; no value is wrong, only a column may be all null.

use std::sync::Arc;

use arrow::datatypes::Schema as ArrowSchema;
use arrow::record_batch::RecordBatch;

use super::builder::{value_kind, AppendError, AppendErrorKind, BatchBuilder, Path};
use super::types::{arrow_schema_with, MappingError};
use super::ArrowOptions;
use crate::data::schema::{Kind, Schema};
use crate::data::value::Value;

/// An inferred type.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    /// Only nulls seen (list items only: struct fields without a type are not recorded).
    Unknown,
    Bool,
    Int,
    Float,
    Str,
    Bytes,
    List(Box<Ty>),
    Struct(Vec<(String, Ty)>),
}

impl Ty {
    fn name(&self) -> String {
        match self {
            Ty::Unknown => "null".into(),
            Ty::Bool => "boolean".into(),
            Ty::Int => "int64".into(),
            Ty::Float => "float64".into(),
            Ty::Str => "string".into(),
            Ty::Bytes => "bytes".into(),
            Ty::List(t) => format!("array<{}>", t.name()),
            Ty::Struct(_) => "struct".into(),
        }
    }

    /// Connect schema of a known type (always optional: any field may be absent).
    fn schema(&self) -> Option<Schema> {
        let kind = match self {
            Ty::Unknown => return None,
            Ty::Bool => Kind::Boolean,
            Ty::Int => Kind::Int64,
            Ty::Float => Kind::Float64,
            Ty::Str => Kind::String,
            Ty::Bytes => Kind::Bytes,
            Ty::List(t) => Kind::Array(Arc::new(
                t.schema()
                    .unwrap_or_else(|| Schema::new(Kind::String, true)),
            )),
            Ty::Struct(fields) => return Some(struct_schema(fields, true)),
        };
        Some(Schema::new(kind, true))
    }
}

fn struct_schema(fields: &[(String, Ty)], optional: bool) -> Schema {
    Schema::structure(
        fields
            .iter()
            .filter_map(|(n, t)| Some((n.as_str(), Arc::new(t.schema()?))))
            .collect(),
        optional,
    )
}

fn conflict(ty: &Ty, v: &Value, path: &Path<'_>) -> AppendError {
    AppendError {
        path: path.to_string(),
        kind: AppendErrorKind::TypeConflict {
            inferred: ty.name(),
            found: value_kind(v),
        },
    }
}

/// `ty` widened to accept `v`: `None` when it already does.
fn merge(ty: &Ty, v: &Value, path: &Path<'_>) -> Result<Option<Ty>, AppendError> {
    let simple = |t: Ty| -> Result<Option<Ty>, AppendError> {
        if *ty == t {
            Ok(None)
        } else if *ty == Ty::Unknown {
            Ok(Some(t))
        } else {
            Err(conflict(ty, v, path))
        }
    };
    match v {
        Value::Null => Ok(None),
        Value::Boolean(_) => simple(Ty::Bool),
        Value::String(_) => simple(Ty::Str),
        Value::Bytes(_) => simple(Ty::Bytes),
        Value::Int(_) => match ty {
            Ty::Int | Ty::Float => Ok(None),
            _ => simple(Ty::Int),
        },
        Value::Float(_) => match ty {
            Ty::Int => Ok(Some(Ty::Float)),
            _ => simple(Ty::Float),
        },
        Value::Array(items) => {
            let unknown = Ty::Unknown;
            let base = match ty {
                Ty::List(t) => t.as_ref(),
                Ty::Unknown => &unknown,
                _ => return Err(conflict(ty, v, path)),
            };
            // Owned only once an element widens: the common case allocates nothing.
            let mut widened: Option<Ty> = None;
            for (i, item) in items.iter().enumerate() {
                let cur = widened.as_ref().unwrap_or(base);
                if let Some(t) = merge(cur, item, &Path::Index(path, i))? {
                    widened = Some(t);
                }
            }
            let changed = widened.is_some() || *ty == Ty::Unknown;
            Ok(changed.then(|| Ty::List(Box::new(widened.unwrap_or_else(|| base.clone())))))
        }
        Value::Map(entries) => match ty {
            Ty::Struct(f) => Ok(merge_object(f, false, entries, path)?.map(Ty::Struct)),
            Ty::Unknown => Ok(merge_object(&[], true, entries, path)?.map(Ty::Struct)),
            _ => Err(conflict(ty, v, path)),
        },
        Value::Decimal(_) | Value::Struct(_) => Err(conflict(ty, v, path)),
    }
}

/// Struct `fields` widened to accept an object's `entries`: `None` when they already do (and
/// `fresh` is false: a struct seen for the first time is always a change).
fn merge_object(
    fields: &[(String, Ty)],
    fresh: bool,
    entries: &[(Value, Value)],
    path: &Path<'_>,
) -> Result<Option<Vec<(String, Ty)>>, AppendError> {
    let mut out: Option<Vec<(String, Ty)>> = fresh.then(Vec::new);
    for (i, (k, val)) in entries.iter().enumerate() {
        let Value::String(key) = k else {
            return Err(AppendError {
                path: path.to_string(),
                kind: AppendErrorKind::NonStringKey,
            });
        };
        let p = Path::Field(path, key);
        let current = out.as_deref().unwrap_or(fields);
        // Objects of one topic usually keep their key order: try the same position first.
        let pos = match current.get(i) {
            Some((n, _)) if n == key => Some(i),
            _ => current.iter().position(|(n, _)| n == key),
        };
        match pos {
            Some(i) => {
                if let Some(t) = merge(&current[i].1, val, &p)? {
                    out.get_or_insert_with(|| fields.to_vec())[i].1 = t;
                }
            }
            // A field seen only as null gets no entry (and so no column) until it has a type;
            // then it is appended after the existing fields.
            None => {
                if let Some(t) = merge(&Ty::Unknown, val, &p)? {
                    out.get_or_insert_with(|| fields.to_vec())
                        .push((key.clone(), t));
                }
            }
        }
    }
    Ok(out)
}

/// The inferred schema of one topic's schemaless rows (JSON objects).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InferredSchema {
    fields: Vec<(String, Ty)>,
}

impl InferredSchema {
    /// An empty schema (no columns).
    pub fn new() -> Self {
        Self::default()
    }

    /// This schema widened to accept `row`; `None` if it already does. A conflict is an error
    /// naming the field.
    fn widened(&self, row: &Value) -> Result<Option<InferredSchema>, AppendError> {
        let Value::Map(entries) = row else {
            return Err(AppendError {
                path: "$".into(),
                kind: AppendErrorKind::WrongKind {
                    expected: "a JSON object".into(),
                    found: value_kind(row),
                },
            });
        };
        Ok(
            merge_object(&self.fields, false, entries, &Path::Root("$"))?
                .map(|fields| InferredSchema { fields }),
        )
    }

    /// Widens the schema to accept `row` (a `Value::Map` object). `Ok(true)` when it changed;
    /// on a conflict the schema is unchanged and the error names the field.
    pub fn observe(&mut self, row: &Value) -> Result<bool, AppendError> {
        match self.widened(row)? {
            Some(next) => {
                *self = next;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The Connect struct schema (fields seen only as null are left out).
    pub fn schema(&self) -> Schema {
        struct_schema(&self.fields, false)
    }

    /// The Arrow schema of [`schema`](Self::schema).
    pub fn arrow_schema(&self, opts: &ArrowOptions) -> Result<Arc<ArrowSchema>, MappingError> {
        arrow_schema_with(&self.schema(), opts)
    }
}

/// A [`BatchBuilder`] over an inferred schema that widens mid-batch: when a row needs a wider
/// schema, existing columns are retyped in place (Int64 → Float64, new struct children and new
/// columns null in earlier rows), so [`finish`](Self::finish) yields one batch with the final,
/// superset schema. The inferred schema outlives batches: keep one builder per topic.
#[derive(Debug)]
pub struct InferredBatchBuilder {
    inferred: InferredSchema,
    builder: BatchBuilder,
}

impl InferredBatchBuilder {
    /// A builder starting from an empty schema.
    pub fn new(opts: ArrowOptions) -> Self {
        Self::from_schema(InferredSchema::new(), opts)
    }

    /// A builder continuing a topic's inferred schema.
    pub fn from_schema(inferred: InferredSchema, opts: ArrowOptions) -> Self {
        let builder = match BatchBuilder::with_options(&inferred.schema(), opts.clone()) {
            Ok(b) => b,
            // Inferred schemas hold only plain types, which always map.
            Err(e) => unreachable!("inferred schemas always map to Arrow: {e}"),
        };
        InferredBatchBuilder { inferred, builder }
    }

    /// Appends one schemaless row (a `Value::Map` object, or `Value::Null` for an all-null
    /// row), widening the schema first when needed. On error nothing changes.
    pub fn append(&mut self, row: &Value) -> Result<(), AppendError> {
        if row.is_null() {
            return self.builder.append_null_row();
        }
        if let Some(next) = self.inferred.widened(row)? {
            let schema = next.schema();
            self.builder
                .check_widen(&schema)
                .map_err(|(column, value)| AppendError {
                    path: format!("$.{column}"),
                    kind: AppendErrorKind::InexactFloat {
                        value,
                        ty: "Float64",
                    },
                })?;
            self.builder.widen(&schema).map_err(|e| AppendError {
                path: e.path.clone(),
                kind: AppendErrorKind::Mapping(e),
            })?;
            self.inferred = next;
        }
        self.builder.append(row)
    }

    /// Appends a row with every column null.
    pub fn append_null_row(&mut self) -> Result<(), AppendError> {
        self.builder.append_null_row()
    }

    /// Rows since the last finish.
    pub fn len(&self) -> usize {
        self.builder.len()
    }

    /// True when no row was appended since the last finish.
    pub fn is_empty(&self) -> bool {
        self.builder.is_empty()
    }

    /// Approximate bytes of the batch so far (see [`BatchBuilder::estimated_bytes`]).
    pub fn estimated_bytes(&self) -> usize {
        self.builder.estimated_bytes()
    }

    /// The current Arrow schema (grows as the schema widens).
    pub fn schema(&self) -> &Arc<ArrowSchema> {
        self.builder.schema()
    }

    /// The inferred schema so far.
    pub fn inferred(&self) -> &InferredSchema {
        &self.inferred
    }

    /// One batch of every row since the last finish, with the current (superset) schema. The
    /// schema is kept for the next batch.
    pub fn finish(&mut self) -> RecordBatch {
        self.builder.finish()
    }
}
