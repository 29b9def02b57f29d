//! `io.debezium.transforms.ExtractNewRecordState` (Debezium's event flattening SMT): a change
//! event envelope (`before`, `after`, `source`, `op`, `ts_ms`, `transaction`) becomes its row.
//!
//! Deletes and tombstones follow `delete.tombstone.handling.mode`, or the legacy
//! `delete.handling.mode` + `drop.tombstones` pair when only those are set (see
//! [`Handling::legacy`]). Truncate events are dropped. `add.fields` / `add.headers` copy
//! envelope fields into the row / the headers. Unlike Debezium's SMT, schemaless envelopes
//! (`schemas.enable=false`: a map with `before`/`after`/`op`/`source`) are unwrapped too.

use std::sync::Arc;

use crate::configdef::ParsedConfig;
use crate::data::{Data, Header, Kind, Schema, SchemaRef, SinkRecord, Value};

use super::support::{
    as_optional, decode, encode, java_class, map_get, map_put, map_take, optional, require_map,
    require_struct, struct_from, with_default, Decoded, SchemaCache, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "source field insertion";
/// The field rewrite modes add (a string, as Debezium's `InsertField` delegate inserts it).
pub(crate) const DELETED_FIELD: &str = "__deleted";

/// What happens to a delete event (`after` null).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeleteAction {
    /// Dropped.
    Drop,
    /// Replaced by a record with a null value (same key).
    Null,
    /// The `before` row, with `__deleted` = "true".
    Rewrite,
}

/// Delete and tombstone handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Handling {
    pub(crate) deletes: DeleteAction,
    /// Whether the source's own tombstones (null values) are kept.
    pub(crate) keep_tombstones: bool,
}

impl Handling {
    /// `delete.tombstone.handling.mode`. In Sluice's record model a null value carries no
    /// schema, so `tombstone` (null value, value schema kept in Debezium) and
    /// `delete-to-tombstone` (null value and schema) produce the same record.
    pub(crate) fn mode(mode: &str) -> Option<Handling> {
        let (deletes, keep_tombstones) = match mode.trim().to_ascii_lowercase().as_str() {
            "drop" => (DeleteAction::Drop, false),
            "tombstone" | "delete-to-tombstone" => (DeleteAction::Null, false),
            "rewrite" => (DeleteAction::Rewrite, false),
            "rewrite-with-tombstone" => (DeleteAction::Rewrite, true),
            _ => return None,
        };
        Some(Handling {
            deletes,
            keep_tombstones,
        })
    }

    /// The removed `delete.handling.mode` (drop, none, rewrite) and `drop.tombstones` pair.
    /// (drop, true) = `drop`, (none, true) = `tombstone`, (rewrite, true) = `rewrite`,
    /// (rewrite, false) = `rewrite-with-tombstone`; (drop, false) and (none, false) keep the
    /// source tombstones, which no current mode does, and are served by the same two settings.
    pub(crate) fn legacy(delete_handling: &str, drop_tombstones: bool) -> Option<Handling> {
        let deletes = match delete_handling.trim().to_ascii_lowercase().as_str() {
            "drop" => DeleteAction::Drop,
            "none" => DeleteAction::Null,
            "rewrite" => DeleteAction::Rewrite,
            _ => return None,
        };
        Some(Handling {
            deletes,
            keep_tombstones: !drop_tombstones,
        })
    }

    fn rewrite(&self) -> bool {
        self.deletes == DeleteAction::Rewrite
    }
}

/// An envelope field copied into the row or a header (Debezium's `FieldReference`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldRef {
    /// The envelope struct holding it (`source`, `transaction`), `None` for top-level fields.
    parent: Option<String>,
    field: String,
    /// The output name (prefix + `field`, `struct_field` or the rename).
    out: String,
}

impl FieldRef {
    /// `op`, `table`, `source.ts_ms`, `ts_ms:EVENT_TS`, ... with the output prefix.
    pub(crate) fn parse(prefix: &str, item: &str) -> Result<FieldRef, String> {
        let mut parts: Vec<&str> = item.split(':').collect();
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        if parts.len() > 2 {
            return Err(format!("Unexpected field name: {item}"));
        }
        let splits: Vec<&str> = parts[0].split('.').collect();
        let (parent, field) = if splits.len() == 1 {
            let field = splits[0];
            let parent = match field {
                "id" | "total_order" | "data_collection_order" => Some("transaction"),
                "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
                "updateDescription" => Some("updateDescription"),
                _ => Some("source"),
            };
            (parent.map(str::to_string), field.to_string())
        } else {
            (Some(splits[0].to_string()), splits[1].to_string())
        };
        let out = match (parts.get(1), splits.len()) {
            (Some(rename), _) => format!("{prefix}{rename}"),
            (None, 1) => format!("{prefix}{field}"),
            (None, _) => format!("{prefix}{}_{field}", splits[0]),
        };
        Ok(FieldRef { parent, field, out })
    }
}

/// Where an added field's value is in a schema'd envelope: (top-level index, nested index).
#[derive(Debug, Clone, Copy)]
enum Source {
    Top(usize),
    Nested(usize, usize),
}

/// The schema of one reference within an envelope schema, if it is there (Debezium skips
/// references its schema does not have).
fn resolve(envelope: &Schema, r: &FieldRef) -> Option<(Source, SchemaRef)> {
    if let Some(parent) = r.parent.as_deref().and_then(|p| envelope.field(p)) {
        if let Some(f) = parent.schema.field(&r.field) {
            return Some((
                Source::Nested(parent.index, f.index),
                as_optional(&f.schema),
            ));
        }
    }
    // A field another SMT put in the envelope itself.
    envelope
        .field(&r.field)
        .map(|f| (Source::Top(f.index), as_optional(&f.schema)))
}

fn value_at(vals: &[Value], source: Source) -> Value {
    match source {
        Source::Top(i) => vals.get(i).cloned().unwrap_or(Value::Null),
        Source::Nested(p, i) => match vals.get(p) {
            Some(Value::Struct(nested)) => nested.get(i).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        },
    }
}

/// A reference's value in a schemaless envelope (`Null` when absent).
fn map_value(entries: &[(Value, Value)], r: &FieldRef) -> Value {
    if let Some(Value::Map(parent)) = r.parent.as_deref().and_then(|p| map_get(entries, p)) {
        if let Some(v) = map_get(parent, &r.field) {
            return v.clone();
        }
    }
    map_get(entries, &r.field).cloned().unwrap_or(Value::Null)
}

/// How a row schema becomes the output schema, computed once per (row, envelope) schema pair.
struct RowPlan {
    schema: SchemaRef,
    /// The added fields' sources, in output order.
    added: Vec<Source>,
}

pub(crate) struct ExtractNewRecordState {
    handling: Handling,
    add_fields: Vec<FieldRef>,
    add_headers: Vec<FieldRef>,
    route_by_field: Option<String>,
    replace_null: bool,
    drop_fields_header: Option<String>,
    drop_fields_from_key: bool,
    drop_keep_compatible: bool,
    rows: SchemaCache<Arc<RowPlan>>,
    headers: SchemaCache<Arc<Vec<(String, Source, SchemaRef)>>>,
    /// The last routed topic, reused while the route stays the same.
    last_route: Option<Arc<str>>,
}

fn refs(cfg: &ParsedConfig, list: &str, prefix: &str) -> Result<Vec<FieldRef>, String> {
    let prefix = cfg.get_str(prefix).map_err(|e| e.to_string())?;
    cfg.get_list(list)
        .map_err(|e| e.to_string())?
        .iter()
        .filter(|i| !i.is_empty())
        .map(|i| {
            FieldRef::parse(prefix, i)
                .map_err(|e| format!("Invalid value {i} for configuration {list}: {e}"))
        })
        .collect()
}

pub(crate) fn build(cfg: &ParsedConfig, _: Side) -> Result<Box<dyn Transformation>, String> {
    Ok(Box::new(ExtractNewRecordState::configure(cfg)?))
}

impl ExtractNewRecordState {
    pub(crate) fn configure(cfg: &ParsedConfig) -> Result<ExtractNewRecordState, String> {
        let err = |e: crate::configdef::ConfigValueError| e.to_string();
        let legacy_set = cfg.original("delete.handling.mode").is_some()
            || cfg.original("drop.tombstones").is_some();
        let handling = if cfg.original("delete.tombstone.handling.mode").is_some() || !legacy_set {
            if legacy_set {
                tracing::warn!("ExtractNewRecordState: delete.tombstone.handling.mode is set, so the deprecated delete.handling.mode and drop.tombstones are ignored");
            }
            let mode = cfg.get_str("delete.tombstone.handling.mode").map_err(err)?;
            Handling::mode(mode).ok_or_else(|| {
                format!("Invalid value {mode} for configuration delete.tombstone.handling.mode: String must be one of: drop, tombstone, rewrite, rewrite-with-tombstone, delete-to-tombstone")
            })?
        } else {
            tracing::warn!("ExtractNewRecordState: the deleted record handling configs \"drop.tombstones\" and \"delete.handling.mode\" have been deprecated, please use \"delete.tombstone.handling.mode\" instead");
            let mode = cfg
                .get_opt_str("delete.handling.mode")
                .map_err(err)?
                .unwrap_or("drop");
            let drop_tombstones = if cfg.original("drop.tombstones").is_some() {
                cfg.get_bool("drop.tombstones").map_err(err)?
            } else {
                true
            };
            Handling::legacy(mode, drop_tombstones).ok_or_else(|| {
                format!("Invalid value {mode} for configuration delete.handling.mode: String must be one of: drop, rewrite, none")
            })?
        };
        let route = cfg.get_str("route.by.field").map_err(err)?;
        Ok(ExtractNewRecordState {
            handling,
            add_fields: refs(cfg, "add.fields", "add.fields.prefix")?,
            add_headers: refs(cfg, "add.headers", "add.headers.prefix")?,
            route_by_field: (!route.is_empty()).then(|| route.to_string()),
            replace_null: cfg.get_bool("replace.null.with.default").map_err(err)?,
            drop_fields_header: cfg
                .get_opt_str("drop.fields.header.name")
                .map_err(err)?
                .filter(|h| !h.trim().is_empty())
                .map(str::to_string),
            drop_fields_from_key: cfg.get_bool("drop.fields.from.key").map_err(err)?,
            drop_keep_compatible: cfg
                .get_bool("drop.fields.keep.schema.compatible")
                .map_err(err)?,
            rows: SchemaCache::default(),
            headers: SchemaCache::default(),
            last_route: None,
        })
    }

    /// The source's tombstone: dropped unless tombstones are kept; a requested `op` header is
    /// then `d`.
    fn tombstone(&self, mut record: SinkRecord) -> Option<SinkRecord> {
        if !self.handling.keep_tombstones {
            return None;
        }
        for r in self.add_headers.iter().filter(|r| r.field == "op") {
            record.headers.push(Header {
                key: r.out.clone(),
                value: Some(Data::String("d".into())),
            });
        }
        Some(record)
    }

    fn set_topic(&mut self, record: &mut SinkRecord, topic: Option<String>) {
        let Some(topic) = topic else {
            return;
        };
        let arc = match &self.last_route {
            Some(last) if **last == *topic => last.clone(),
            _ => {
                let arc: Arc<str> = Arc::from(topic);
                self.last_route = Some(arc.clone());
                arc
            }
        };
        record.topic = arc;
    }

    fn apply_struct(
        &mut self,
        mut record: SinkRecord,
        envelope: SchemaRef,
        value: Value,
    ) -> Result<Option<SinkRecord>, TransformError> {
        let mut vals = require_struct(value, &envelope, PURPOSE)?;
        let index = |name: &str| envelope.field(name).map(|f| f.index);
        let op = index("op")
            .and_then(|i| vals.get(i))
            .and_then(Value::as_str)
            .map(str::to_string);

        if !self.add_headers.is_empty() {
            let refs = &self.add_headers;
            let plan = self.headers.get_or_build(&envelope, None, || {
                Ok::<_, TransformError>(Arc::new(
                    refs.iter()
                        .filter_map(|r| {
                            resolve(&envelope, r).map(|(s, schema)| (r.out.clone(), s, schema))
                        })
                        .collect(),
                ))
            })?;
            for (key, source, schema) in plan.iter() {
                record
                    .headers
                    .push(header(key, value_at(&vals, *source), Some(schema)));
            }
        }
        if op.as_deref() == Some("t") {
            return Ok(None);
        }

        let mut take = |name: &str| -> (Value, Option<SchemaRef>) {
            match envelope.field(name) {
                Some(f) => (
                    std::mem::replace(&mut vals[f.index], Value::Null),
                    Some(f.schema.clone()),
                ),
                None => (Value::Null, None),
            }
        };
        let (after, after_schema) = take("after");
        let (before, before_schema) = take("before");
        if after.is_null() && before.is_null() && op.as_deref() != Some("d") {
            // An event without a row (a truncate from an older connector): dropped.
            return Ok(None);
        }
        let (row, row_schema, deleted) = if after.is_null() {
            match self.handling.deletes {
                DeleteAction::Drop => return Ok(None),
                // Without a `before` row (REPLICA IDENTITY NOTHING) a rewrite has nothing to
                // rewrite: Debezium then emits the null value too.
                DeleteAction::Null | DeleteAction::Rewrite if before.is_null() => {
                    record.value = None;
                    self.drop_from_key(&mut record)?;
                    return Ok(Some(record));
                }
                DeleteAction::Null => {
                    let topic = self.route_struct(before_schema.as_deref(), &before)?;
                    self.set_topic(&mut record, topic);
                    record.value = None;
                    self.drop_from_key(&mut record)?;
                    return Ok(Some(record));
                }
                DeleteAction::Rewrite => (before, before_schema, Some("true")),
            }
        } else {
            let deleted = self.handling.rewrite().then_some("false");
            (after, after_schema, deleted)
        };
        let Some(row_schema) = row_schema else {
            return Ok(None);
        };
        let topic = self.route_struct(Some(&row_schema), &row)?;
        self.set_topic(&mut record, topic);

        let plain = deleted.is_none() && self.add_fields.is_empty();
        let (schema, row) = if plain && !matches!(row_schema.kind, Kind::Struct(_)) {
            // Not a struct row: there is nothing to copy into a new struct.
            (row_schema, row)
        } else {
            // Debezium always copies the row into a new, required struct schema (its
            // `addFields` step runs even with nothing to add); cached per schema pair.
            let mut values = require_struct(row, &row_schema, PURPOSE)?;
            let rewrite = deleted.is_some();
            let add_fields = &self.add_fields;
            let plan = self.rows.get_or_build(&row_schema, Some(&envelope), || {
                row_plan(&row_schema, &envelope, add_fields, rewrite)
            })?;
            if rewrite && self.replace_null {
                for (v, f) in values.iter_mut().zip(row_schema.fields()) {
                    let current = std::mem::replace(v, Value::Null);
                    *v = with_default(current, &f.schema, true);
                }
            }
            values.reserve(plan.schema.fields().len().saturating_sub(values.len()));
            if let Some(d) = deleted {
                values.push(Value::String(d.into()));
            }
            for source in &plan.added {
                values.push(value_at(&vals, *source));
            }
            (plan.schema.clone(), Value::Struct(values))
        };
        let (schema, row) = self.drop_listed(&record.headers, Some(schema), row)?;
        record.value = encode(schema, row);
        self.drop_from_key(&mut record)?;
        Ok(Some(record))
    }

    fn apply_map(
        &mut self,
        mut record: SinkRecord,
        mut entries: Vec<(Value, Value)>,
    ) -> Result<Option<SinkRecord>, TransformError> {
        let op = map_get(&entries, "op")
            .and_then(Value::as_str)
            .map(str::to_string);
        for r in &self.add_headers {
            record
                .headers
                .push(header(&r.out, map_value(&entries, r), None));
        }
        if op.as_deref() == Some("t") {
            return Ok(None);
        }
        let after = map_take(&mut entries, "after").unwrap_or(Value::Null);
        let before = map_take(&mut entries, "before").unwrap_or(Value::Null);
        if after.is_null() && before.is_null() && op.as_deref() != Some("d") {
            return Ok(None);
        }
        let (row, deleted) = if after.is_null() {
            match self.handling.deletes {
                DeleteAction::Drop => return Ok(None),
                DeleteAction::Null | DeleteAction::Rewrite if before.is_null() => {
                    record.value = None;
                    self.drop_from_key(&mut record)?;
                    return Ok(Some(record));
                }
                DeleteAction::Null => {
                    let topic = self.route_map(&before)?;
                    self.set_topic(&mut record, topic);
                    record.value = None;
                    self.drop_from_key(&mut record)?;
                    return Ok(Some(record));
                }
                DeleteAction::Rewrite => (before, Some("true")),
            }
        } else {
            (after, self.handling.rewrite().then_some("false"))
        };
        let topic = self.route_map(&row)?;
        self.set_topic(&mut record, topic);
        let row = if deleted.is_none() && self.add_fields.is_empty() {
            row
        } else {
            let mut out = require_map(row, PURPOSE)?;
            if let Some(d) = deleted {
                map_put(&mut out, DELETED_FIELD, Value::String(d.into()));
            }
            for r in &self.add_fields {
                map_put(&mut out, &r.out, map_value(&entries, r));
            }
            Value::Map(out)
        };
        let (schema, row) = self.drop_listed(&record.headers, None, row)?;
        record.value = encode(schema, row);
        self.drop_from_key(&mut record)?;
        Ok(Some(record))
    }

    /// The topic named by `route.by.field` in a struct row (`None`: keep the topic).
    fn route_struct(
        &self,
        schema: Option<&Schema>,
        row: &Value,
    ) -> Result<Option<String>, TransformError> {
        let Some(field) = &self.route_by_field else {
            return Ok(None);
        };
        let (Some(schema), Value::Struct(values)) = (schema, row) else {
            return Ok(None);
        };
        let f = schema
            .field(field)
            .ok_or_else(|| TransformError::Data(format!("{field} is not a valid field name")))?;
        route_value(field, values.get(f.index))
    }

    /// The topic named by `route.by.field` in a map row.
    fn route_map(&self, row: &Value) -> Result<Option<String>, TransformError> {
        let Some(field) = &self.route_by_field else {
            return Ok(None);
        };
        match row {
            Value::Map(entries) => route_value(field, map_get(entries, field)),
            _ => Ok(None),
        }
    }

    /// The field names listed in the `drop.fields.header.name` header, if any.
    fn listed_fields(&self, headers: &[Header]) -> Vec<String> {
        let Some(name) = &self.drop_fields_header else {
            return Vec::new();
        };
        headers
            .iter()
            .find(|h| h.key == *name)
            .and_then(|h| h.value.as_ref())
            .map(header_list)
            .unwrap_or_default()
    }

    /// Removes the fields listed in the drop-fields header; with
    /// `drop.fields.keep.schema.compatible` only optional ones (a compatible schema change).
    fn drop_listed(
        &self,
        headers: &[Header],
        schema: Option<SchemaRef>,
        value: Value,
    ) -> Result<(Option<SchemaRef>, Value), TransformError> {
        let names = self.listed_fields(headers);
        if names.is_empty() {
            return Ok((schema, value));
        }
        match (schema, value) {
            (Some(schema), Value::Struct(values)) if matches!(schema.kind, Kind::Struct(_)) => {
                let dropped = |f: &crate::data::Field| {
                    names.contains(&f.name) && (!self.drop_keep_compatible || f.schema.optional)
                };
                if !schema.fields().iter().any(dropped) {
                    return Ok((Some(schema), Value::Struct(values)));
                }
                let mut fields = Vec::new();
                let mut kept = Vec::new();
                for (f, v) in schema.fields().iter().zip(values) {
                    if !dropped(f) {
                        fields.push((f.name.clone(), f.schema.clone()));
                        kept.push(v);
                    }
                }
                let mut out = struct_from(Some(&schema), fields)?;
                out.optional = schema.optional;
                Ok((Some(Arc::new(out)), Value::Struct(kept)))
            }
            (None, Value::Map(entries)) => Ok((
                None,
                Value::Map(
                    entries
                        .into_iter()
                        .filter(|(k, _)| !k.as_str().is_some_and(|k| names.iter().any(|n| n == k)))
                        .collect(),
                ),
            )),
            (schema, value) => Ok((schema, value)),
        }
    }

    /// `drop.fields.from.key`: the same removal on the key.
    fn drop_from_key(&self, record: &mut SinkRecord) -> Result<(), TransformError> {
        if !self.drop_fields_from_key || self.listed_fields(&record.headers).is_empty() {
            return Ok(());
        }
        let Some(key) = record.key.take() else {
            return Ok(());
        };
        let (schema, value) = decode(key)?;
        let (schema, value) = self.drop_listed(&record.headers, schema, value)?;
        record.key = encode(schema, value);
        Ok(())
    }
}

fn route_value(field: &str, value: Option<&Value>) -> Result<Option<String>, TransformError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(TransformError::Data(format!(
            "Field {field} used by route.by.field is a {}, not a String",
            java_class(other, None)
        ))),
    }
}

/// The output schema for a row: its fields, `__deleted` (rewrite modes), then the added fields
/// the envelope schema has.
fn row_plan(
    row: &SchemaRef,
    envelope: &Schema,
    add_fields: &[FieldRef],
    rewrite: bool,
) -> Result<Arc<RowPlan>, TransformError> {
    let mut fields: Vec<(String, SchemaRef)> = row
        .fields()
        .iter()
        .map(|f| (f.name.clone(), f.schema.clone()))
        .collect();
    if rewrite {
        fields.push((DELETED_FIELD.to_string(), optional(Kind::String)));
    }
    let mut added = Vec::new();
    for r in add_fields {
        if let Some((source, schema)) = resolve(envelope, r) {
            fields.push((r.out.clone(), schema));
            added.push(source);
        }
    }
    Ok(Arc::new(RowPlan {
        schema: Arc::new(struct_from(Some(row), fields)?),
        added,
    }))
}

/// A header from an envelope value: text as a string header, other values with their schema.
fn header(key: &str, value: Value, schema: Option<&SchemaRef>) -> Header {
    let value = match value {
        Value::Null => None,
        Value::String(s) => Some(Data::String(s)),
        other => Some(Data::Value {
            schema: schema.cloned(),
            value: other,
        }),
    };
    Header {
        key: key.to_string(),
        value,
    }
}

/// A list of names from a header: an array value, JSON array text, or `[a, b]` / `a,b` text.
fn header_list(data: &Data) -> Vec<String> {
    let from_values = |v: Value| match v {
        Value::Array(items) => items
            .into_iter()
            .filter_map(|i| match i {
                Value::String(s) => Some(s),
                _ => None,
            })
            .collect(),
        Value::String(s) => text_list(&s),
        _ => Vec::new(),
    };
    match data {
        Data::String(s) => text_list(s),
        Data::Bytes(b) => text_list(&String::from_utf8_lossy(b)),
        other => other
            .to_value()
            .map(|(_, v): Decoded| from_values(v))
            .unwrap_or_default(),
    }
}

fn text_list(s: &str) -> Vec<String> {
    let t = s.trim();
    if let Ok(items) = serde_json::from_str::<Vec<String>>(t) {
        return items;
    }
    t.trim_start_matches('[')
        .trim_end_matches(']')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a schema is a change event envelope: a struct with `op` and `after`.
fn is_envelope_schema(schema: &Schema) -> bool {
    matches!(schema.kind, Kind::Struct(_))
        && schema.field("op").is_some()
        && schema.field("after").is_some()
}

/// Whether a schemaless map is a change event envelope: `op` plus `after` or `before`.
fn is_envelope_map(entries: &[(Value, Value)]) -> bool {
    map_get(entries, "op").is_some()
        && (map_get(entries, "after").is_some() || map_get(entries, "before").is_some())
}

impl Transformation for ExtractNewRecordState {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(data) = record.value.take() else {
            return Ok(self.tombstone(record));
        };
        // Look at the schema before decoding: anything that is not an envelope (heartbeats,
        // schema changes, plain rows) passes through as it came.
        let schema = match &data {
            Data::Json { schema, .. } | Data::Value { schema, .. } => schema.clone(),
            Data::String(_) | Data::Bytes(_) => {
                record.value = Some(data);
                return Ok(Some(record));
            }
        };
        if let Some(schema) = &schema {
            if !is_envelope_schema(schema) {
                record.value = Some(data);
                return Ok(Some(record));
            }
        }
        let (schema, value) = decode(data)?;
        match (schema, value) {
            (Some(schema), value) => self.apply_struct(record, schema, value),
            (None, Value::Map(entries)) if is_envelope_map(&entries) => {
                self.apply_map(record, entries)
            }
            (None, value) => {
                record.value = encode(None, value);
                Ok(Some(record))
            }
        }
    }
}

#[cfg(test)]
mod tests;
