//! Avro → Connect schema mapping, as Confluent's `AvroData.toConnectSchema` (schema-registry
//! 7.x) does it, so sinks see the same Connect schemas they see under Kafka Connect:
//!
//! - record → struct (field order kept; the record's full name, or `connect.name`, is the name);
//! - `["null", T]` (either order) → optional T; other unions → a struct named
//!   `io.confluent.connect.avro.Union` with one optional field per non-null branch, named after
//!   the branch (`string`, `int`, a record's simple name, or its full name with
//!   `enhanced.avro.schema.support`); with `generalized.sum.type.support` the struct is
//!   `connect_union_<n>` with fields `connect_union_field_<i>`;
//! - enum → string with `io.confluent.connect.avro.Enum` parameters; fixed → bytes with
//!   `connect.fixed.size`; map → map with string keys; an array of
//!   `io.confluent.connect.avro.MapEntry` records → map with non-string keys;
//! - logical types: `decimal` → Connect Decimal (`scale`, and `connect.decimal.precision`
//!   unless the precision is 64), `date` → Date, `time-millis` → Time, `timestamp-millis` →
//!   Timestamp. Like AvroData, `time-micros`, `timestamp-micros`, `local-timestamp-*` and
//!   `uuid` get no Connect name: they stay plain int64 / string unless the schema carries a
//!   `connect.name` (Debezium's schemas do: `io.debezium.time.MicroTimestamp`, …);
//! - `connect.name`, `connect.version`, `connect.parameters`, `connect.default`,
//!   `connect.doc`, `connect.type` (int8/int16) restore the Connect schema a Connect producer
//!   (e.g. Debezium) wrote; attributes starting with `avro` become parameters.
//!
//! Recursive Avro schemas are refused (a Connect schema is a tree here).

use std::collections::HashSet;
use std::sync::Arc;

use serde_json::Value as Json;
use thiserror::Error;

use super::decode::Plan;
use super::schema::{AvroKind, AvroSchema};
use crate::data::json;
use crate::data::schema::{names, Field, Kind, Schema, SchemaRef};
use crate::data::value::{Decimal, Value};

/// Name of the Connect struct standing for an Avro union.
pub const AVRO_TYPE_UNION: &str = "io.confluent.connect.avro.Union";
/// Parameter naming an Avro enum on its Connect string schema.
pub const AVRO_TYPE_ENUM: &str = "io.confluent.connect.avro.Enum";
/// Record name of the entries of a map with non-string keys.
pub const MAP_ENTRY_TYPE: &str = "io.confluent.connect.avro.MapEntry";
/// Parameter marking a union struct with `generalized.sum.type.support`.
pub const GENERALIZED_TYPE_UNION: &str = "org.apache.kafka.connect.data.Union";
/// Parameter naming an enum with `generalized.sum.type.support`.
pub const GENERALIZED_TYPE_ENUM: &str = "org.apache.kafka.connect.data.Enum";

const NAMESPACE: &str = "io.confluent.connect.avro";
const DEFAULT_SCHEMA_FULL_NAME: &str = "io.confluent.connect.avro.ConnectDefault";
const CONNECT_NAME: &str = "connect.name";
const CONNECT_DOC: &str = "connect.doc";
const CONNECT_RECORD_DOC: &str = "connect.record.doc";
const CONNECT_ENUM_DOC: &str = "connect.enum.doc";
const CONNECT_VERSION: &str = "connect.version";
const CONNECT_DEFAULT: &str = "connect.default";
const CONNECT_PARAMETERS: &str = "connect.parameters";
const CONNECT_TYPE: &str = "connect.type";
const CONNECT_FIXED_SIZE: &str = "connect.fixed.size";
const CONNECT_DECIMAL_PRECISION: &str = "connect.decimal.precision";
/// AvroData records a decimal's precision only when it differs from this.
const CONNECT_DECIMAL_PRECISION_DEFAULT: i64 = 64;
const AVRO_RECORD_DOC: &str = "io.confluent.connect.avro.record.doc";
const AVRO_ENUM_DOC_PREFIX: &str = "io.confluent.connect.avro.enum.doc.";
const AVRO_FIELD_DOC_PREFIX: &str = "io.confluent.connect.avro.field.doc.";
const AVRO_FIELD_DEFAULT_FLAG: &str = "io.confluent.connect.avro.field.default";
const AVRO_ENUM_DEFAULT_PREFIX: &str = "io.confluent.connect.avro.enum.default.";
const UNION_PREFIX: &str = "connect_union_";
const UNION_FIELD_PREFIX: &str = "connect_union_field_";

/// AvroData's settings that matter when reading (Confluent's names and defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroDataConfig {
    /// `connect.meta.data` (true): keep docs, defaults and `connect.parameters` as parameters.
    pub connect_meta_data: bool,
    /// `enhanced.avro.schema.support` (false): union branch fields use full record names.
    pub enhanced_avro_schema_support: bool,
    /// `generalized.sum.type.support` (false): `connect_union_*` unions, indexed enums.
    pub generalized_sum_type_support: bool,
    /// `ignore.default.for.nullables` (false): a null stays null even when the schema has a
    /// default.
    pub ignore_default_for_nullables: bool,
    /// `discard.type.doc.default` (false): only field docs and defaults are kept.
    pub discard_type_doc_default: bool,
    /// `flatten.singleton.unions` (false): a one-branch union maps to its branch.
    pub flatten_singleton_unions: bool,
}

impl Default for AvroDataConfig {
    fn default() -> Self {
        AvroDataConfig {
            connect_meta_data: true,
            enhanced_avro_schema_support: false,
            generalized_sum_type_support: false,
            ignore_default_for_nullables: false,
            discard_type_doc_default: false,
            flatten_singleton_unions: false,
        }
    }
}

/// Why an Avro schema has no Connect equivalent (Connect's `DataException` texts where
/// AvroData has one).
#[derive(Debug, Error, PartialEq, Eq)]
#[error("cannot map the Avro schema to Connect at {path}: {message}")]
pub struct MappingError {
    /// Where in the Avro schema.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, MappingError> {
    Err(MappingError {
        path: path.to_string(),
        message: message.into(),
    })
}

/// A writer schema mapped to Connect: the schema records carry and the plan decoding them.
#[derive(Debug, Clone)]
pub struct Mapped {
    /// The Connect schema, shared by every record written with this Avro schema.
    pub schema: SchemaRef,
    pub(crate) plan: Plan,
}

impl Mapped {
    /// Decodes one Avro binary value written with this schema.
    pub fn decode(&self, avro: &[u8]) -> Result<Value, super::decode::DecodeError> {
        super::decode::decode(&self.plan, avro)
    }
}

/// The mapper (AvroData). Stateful only for `generalized.sum.type.support`, whose union names
/// are numbered in the order unions are met, as in Java.
#[derive(Debug, Clone, Default)]
pub struct AvroData {
    config: AvroDataConfig,
    union_index: usize,
}

impl AvroData {
    /// A mapper with these settings.
    pub fn new(config: AvroDataConfig) -> AvroData {
        AvroData {
            config,
            union_index: 0,
        }
    }

    /// The settings.
    pub fn config(&self) -> &AvroDataConfig {
        &self.config
    }

    /// Maps a writer schema; `version` is the registry version of the schema under its
    /// subject, used when the schema has no `connect.version`.
    pub fn to_connect(
        &mut self,
        avro: &AvroSchema,
        version: Option<i32>,
    ) -> Result<Mapped, MappingError> {
        let (schema, plan) = self.map(avro, false, None, None, version, "$")?;
        Ok(Mapped {
            schema: Arc::new(schema),
            plan,
        })
    }

    fn map(
        &mut self,
        s: &AvroSchema,
        force_optional: bool,
        field_default: Option<&Json>,
        doc_default: Option<&str>,
        version: Option<i32>,
        path: &str,
    ) -> Result<(Schema, Plan), MappingError> {
        let cfg = self.config.clone();
        let logical = s.logical_type();
        let is = |name: &str| logical.is_some_and(|l| l.eq_ignore_ascii_case(name));
        let (mut schema, plan) = match &s.kind {
            AvroKind::Boolean => (Schema::new(Kind::Boolean, false), Plan::Boolean),
            AvroKind::Bytes | AvroKind::Fixed { .. } => {
                let fixed = match &s.kind {
                    AvroKind::Fixed { size, .. } => Some(*size),
                    _ => None,
                };
                let (mut schema, plan) = if is("decimal") {
                    // In Avro the scale is optional and defaults to 0.
                    let scale = s
                        .props
                        .get("scale")
                        .and_then(json_int)
                        .and_then(|v| i32::try_from(v).ok())
                        .unwrap_or(0);
                    let mut schema = logical_schema(Kind::Bytes, names::DECIMAL)
                        .param("scale", &scale.to_string());
                    if let Some(p) = s.props.get("precision") {
                        let Some(p) = json_int(p) else {
                            return err(path, "precision property must be a JSON Integer. https://avro.apache.org/docs/1.9.1/spec.html#Decimal");
                        };
                        if p != CONNECT_DECIMAL_PRECISION_DEFAULT {
                            schema = schema.param(CONNECT_DECIMAL_PRECISION, &p.to_string());
                        }
                    }
                    (schema, Plan::Decimal { fixed, scale })
                } else {
                    (
                        Schema::new(Kind::Bytes, false),
                        fixed.map_or(Plan::Bytes, Plan::Fixed),
                    )
                };
                if let Some(size) = fixed {
                    schema = schema.param(CONNECT_FIXED_SIZE, &size.to_string());
                }
                (schema, plan)
            }
            AvroKind::Double => (Schema::new(Kind::Float64, false), Plan::Double),
            AvroKind::Float => (Schema::new(Kind::Float32, false), Plan::Float),
            AvroKind::Int => {
                let connect_type = s.props.get(CONNECT_TYPE).and_then(Json::as_str);
                let schema = match (logical, connect_type) {
                    (None, None) => Schema::new(Kind::Int32, false),
                    (Some(_), _) if is("date") => logical_schema(Kind::Int32, names::DATE),
                    (Some(_), _) if is("time-millis") => logical_schema(Kind::Int32, names::TIME),
                    (Some(_), _) => Schema::new(Kind::Int32, false),
                    (None, Some("int8")) => Schema::new(Kind::Int8, false),
                    (None, Some("int16")) => Schema::new(Kind::Int16, false),
                    (None, Some(other)) => {
                        return err(
                            path,
                            format!("unknown Connect type annotation {other:?} for an Avro int"),
                        )
                    }
                };
                (schema, Plan::Int)
            }
            AvroKind::Long => {
                let schema = if is("timestamp-millis") {
                    logical_schema(Kind::Int64, names::TIMESTAMP)
                } else {
                    Schema::new(Kind::Int64, false)
                };
                (schema, Plan::Long)
            }
            AvroKind::String => (Schema::new(Kind::String, false), Plan::String),
            AvroKind::Array(items) => {
                if let AvroKind::Record { name, fields, .. } = &items.kind {
                    if name.namespace.as_deref() == Some(NAMESPACE) && name.name == "MapEntry" {
                        let key_pos = fields.iter().position(|f| f.name == "key");
                        let value_pos = fields.iter().position(|f| f.name == "value");
                        let (Some(kp), Some(vp), 2) = (key_pos, value_pos, fields.len()) else {
                            return err(path, "Found map encoded as array of key-value pairs, but array elements do not match the expected format.");
                        };
                        let ipath = format!("{path}.items");
                        let (ks, kplan) = self.map(
                            &fields[kp].schema,
                            false,
                            None,
                            None,
                            None,
                            &format!("{ipath}.key"),
                        )?;
                        let (vs, vplan) = self.map(
                            &fields[vp].schema,
                            false,
                            None,
                            None,
                            None,
                            &format!("{ipath}.value"),
                        )?;
                        let entry = if kp == 0 {
                            vec![("key".to_string(), kplan), ("value".to_string(), vplan)]
                        } else {
                            vec![("value".to_string(), vplan), ("key".to_string(), kplan)]
                        };
                        (
                            Schema::new(Kind::Map(Arc::new(ks), Arc::new(vs)), false),
                            Plan::EntryArray {
                                entry: Box::new(Plan::Record(entry)),
                                key_pos: kp,
                            },
                        )
                    } else {
                        self.array(items, path)?
                    }
                } else {
                    self.array(items, path)?
                }
            }
            AvroKind::Map(values) => {
                let (vs, vplan) =
                    self.map(values, false, None, None, None, &format!("{path}.values"))?;
                (
                    Schema::new(
                        Kind::Map(Arc::new(Schema::new(Kind::String, false)), Arc::new(vs)),
                        false,
                    ),
                    Plan::Map(Box::new(vplan)),
                )
            }
            AvroKind::Record { doc, fields, .. } => {
                let mut schema = Schema::new(Kind::Struct(Vec::new()), false);
                if !cfg.discard_type_doc_default && cfg.connect_meta_data {
                    if let Some(d) = doc {
                        schema = schema.param(AVRO_RECORD_DOC, d);
                    }
                }
                let mut out = Vec::with_capacity(fields.len());
                let mut plans = Vec::with_capacity(fields.len());
                for (index, f) in fields.iter().enumerate() {
                    if !cfg.discard_type_doc_default && cfg.connect_meta_data {
                        if let Some(d) = &f.doc {
                            schema = schema.param(&format!("{AVRO_FIELD_DOC_PREFIX}{}", f.name), d);
                        }
                    }
                    let (fs, fp) = self.map(
                        &f.schema,
                        false,
                        f.default.as_ref(),
                        f.doc.as_deref(),
                        None,
                        &format!("{path}.{}", f.name),
                    )?;
                    out.push(Field {
                        name: f.name.clone(),
                        index,
                        schema: Arc::new(fs),
                    });
                    plans.push((f.name.clone(), fp));
                }
                schema.kind = Kind::Struct(out);
                (schema, Plan::Record(plans))
            }
            AvroKind::Enum {
                name,
                doc,
                symbols,
                default,
            } => {
                // Enums are unwrapped to strings; the symbols are kept as parameters.
                let mut schema = Schema::new(Kind::String, false);
                if cfg.connect_meta_data {
                    if let Some(d) = doc {
                        let key = if cfg.discard_type_doc_default {
                            CONNECT_ENUM_DOC.to_string()
                        } else {
                            format!("{AVRO_ENUM_DOC_PREFIX}{}", name.name)
                        };
                        schema = schema.param(&key, d);
                    }
                    if let (false, Some(d)) = (cfg.discard_type_doc_default, default) {
                        schema =
                            schema.param(&format!("{AVRO_ENUM_DEFAULT_PREFIX}{}", name.name), d);
                    }
                }
                let param = if cfg.generalized_sum_type_support {
                    GENERALIZED_TYPE_ENUM
                } else {
                    AVRO_TYPE_ENUM
                };
                schema = schema.param(param, &name.full());
                for (i, sym) in symbols.iter().enumerate() {
                    let v = if cfg.generalized_sum_type_support {
                        i.to_string()
                    } else {
                        sym.clone()
                    };
                    schema = schema.param(&format!("{param}.{sym}"), &v);
                }
                (schema, Plan::Enum(symbols.clone()))
            }
            AvroKind::Union(branches) => {
                if branches.len() == 1 && cfg.flatten_singleton_unions {
                    let (s, p) = self.map(&branches[0], false, None, doc_default, None, path)?;
                    return Ok((s, Plan::Single(Box::new(p))));
                }
                if branches.len() == 2 {
                    if let Some(null_index) = branches.iter().position(is_plain_null) {
                        let other = &branches[1 - null_index];
                        // As AvroData: the field's Avro default is not carried over here;
                        // a `connect.default` on the branch is.
                        let (s, p) = self.map(other, true, None, doc_default, None, path)?;
                        let default = if cfg.ignore_default_for_nullables {
                            None
                        } else {
                            json::default_value(&s).ok().flatten()
                        };
                        return Ok((
                            s,
                            Plan::Optional {
                                null_index,
                                inner: Box::new(p),
                                default,
                            },
                        ));
                    }
                }
                let name = if cfg.generalized_sum_type_support {
                    let n = format!("{UNION_PREFIX}{}", self.union_index);
                    self.union_index += 1;
                    n
                } else {
                    AVRO_TYPE_UNION.to_string()
                };
                let mut schema = Schema::new(Kind::Struct(Vec::new()), false).named(&name);
                if cfg.generalized_sum_type_support {
                    schema = schema.param(GENERALIZED_TYPE_UNION, &name);
                }
                let mut fields: Vec<Field> = Vec::new();
                let mut seen = HashSet::new();
                let mut plans = Vec::with_capacity(branches.len());
                for (i, b) in branches.iter().enumerate() {
                    if matches!(b.kind, AvroKind::Null) {
                        schema.optional = true;
                        plans.push(None);
                        continue;
                    }
                    let fname = self.member_field_name(b, i);
                    if !seen.insert(fname.clone()) {
                        return err(
                            path,
                            "Multiple union schemas map to the Connect union field name",
                        );
                    }
                    let (fs, fp) = self.map(b, true, None, None, None, &format!("{path}[{i}]"))?;
                    plans.push(Some((fields.len(), fp)));
                    fields.push(Field {
                        name: fname,
                        index: fields.len(),
                        schema: Arc::new(fs),
                    });
                }
                let n = fields.len();
                schema.kind = Kind::Struct(fields);
                (
                    schema,
                    Plan::Union {
                        branches: plans,
                        fields: n,
                        default: None,
                    },
                )
            }
            AvroKind::Null => {
                return err(
                    path,
                    "Standalone null schemas are not supported by this converter",
                )
            }
        };

        // Documentation.
        if cfg.discard_type_doc_default {
            let own_doc = match &s.kind {
                AvroKind::Record { doc, .. } | AvroKind::Enum { doc, .. } => doc.as_deref(),
                _ => None,
            };
            let doc = doc_default
                .or(own_doc)
                .or_else(|| s.props.get(CONNECT_DOC).and_then(Json::as_str));
            schema.doc = doc.map(str::to_string);
            if let (true, Some(d)) = (cfg.connect_meta_data, own_doc) {
                schema = schema.param(CONNECT_RECORD_DOC, d);
            }
        } else if cfg.connect_meta_data {
            if let Some(d) = s.props.get(CONNECT_DOC).and_then(Json::as_str) {
                schema.doc = Some(d.to_string());
            }
        }

        // Version: the Connect version written by the producer wins over the registry's.
        let version = match s.props.get(CONNECT_VERSION) {
            Some(v) => match json_int(v).and_then(|v| i32::try_from(v).ok()) {
                Some(v) => Some(v),
                None => return err(path, format!("Invalid Connect version found: {v}")),
            },
            None => version,
        };
        if let Some(v) = version.filter(|v| *v >= 0) {
            match schema.version {
                Some(existing) if existing != v => {
                    return err(path, format!("Mismatched versions: version already added to SchemaBuilder ({existing}) differs from version in source schema ({v})"));
                }
                _ => schema.version = Some(v),
            }
        }

        if cfg.connect_meta_data {
            if let Some(p) = s.props.get(CONNECT_PARAMETERS) {
                let Json::Object(p) = p else {
                    return err(
                        path,
                        format!("Expected JSON object for schema parameters but found: {p}"),
                    );
                };
                for (k, v) in p {
                    let Json::String(v) = v else {
                        return err(
                            path,
                            format!(
                                "Expected schema parameter values to be strings but found: {v}"
                            ),
                        );
                    };
                    schema.parameters.insert(k.clone(), v.clone());
                }
            }
        }
        for (k, v) in &s.props {
            if k.starts_with("avro") {
                let text = match v {
                    Json::String(t) => t.clone(),
                    other => other.to_string(),
                };
                schema.parameters.insert(k.clone(), text);
            }
        }

        // Default: the Avro field default, else `connect.default`.
        let connect_default = s.props.get(CONNECT_DEFAULT);
        let default = match field_default {
            None => connect_default,
            Some(d) => {
                if !cfg.discard_type_doc_default
                    && cfg.connect_meta_data
                    && connect_default.is_none()
                {
                    schema = schema.param(AVRO_FIELD_DEFAULT_FLAG, "true");
                }
                Some(d)
            }
        };

        // Name: `connect.name`, else the full name of a named type. A decimal over `fixed`
        // keeps the Decimal name: AvroData 7.x fails there with "Mismatched names"
        // (confluentinc/schema-registry#2926), 6.2 kept the Decimal name, as Sluice does.
        let name = match s.props.get(CONNECT_NAME) {
            Some(Json::String(n)) => Some(n.clone()),
            Some(other) => return err(path, format!("Invalid schema name: {other}")),
            None if matches!(plan, Plan::Decimal { .. }) => None,
            None => s.full_name(),
        };
        if let Some(n) = name.filter(|n| !n.starts_with(DEFAULT_SCHEMA_FULL_NAME)) {
            match &schema.name {
                Some(existing) if *existing != n => {
                    return err(path, format!("Mismatched names: name already added to SchemaBuilder ({existing}) differs from name in source schema ({n})"));
                }
                _ => schema.name = Some(n),
            }
        }
        if force_optional {
            schema.optional = true;
        }

        // An invalid default is ignored, as AvroData does (it logs a warning).
        if let Some(d) = default {
            match default_value(s, &schema, d) {
                Ok(Value::Null) => {}
                Ok(v) => schema.default = Some(json::encode(&v, &schema)),
                Err(e) => tracing::warn!("ignoring invalid Avro default at {path}: {e}"),
            }
        }
        let plan = match plan {
            Plan::Union {
                branches, fields, ..
            } if !cfg.ignore_default_for_nullables => {
                let default = json::default_value(&schema).ok().flatten();
                Plan::Union {
                    branches,
                    fields,
                    default,
                }
            }
            other => other,
        };
        Ok((schema, plan))
    }

    fn array(&mut self, items: &AvroSchema, path: &str) -> Result<(Schema, Plan), MappingError> {
        let (is, ip) = self.map(items, false, None, None, None, &format!("{path}.items"))?;
        Ok((
            Schema::new(Kind::Array(Arc::new(is)), false),
            Plan::Array(Box::new(ip)),
        ))
    }

    /// Field name of a union branch in the union struct.
    fn member_field_name(&self, s: &AvroSchema, index: usize) -> String {
        if self.config.generalized_sum_type_support {
            return format!("{UNION_FIELD_PREFIX}{index}");
        }
        match &s.kind {
            AvroKind::Record { name, .. }
            | AvroKind::Enum { name, .. }
            | AvroKind::Fixed { name, .. } => {
                if self.config.enhanced_avro_schema_support {
                    name.full()
                } else {
                    name.name.clone()
                }
            }
            _ => s.type_name().to_string(),
        }
    }
}

/// A `null` branch without attributes (AvroData compares with a bare null schema).
fn is_plain_null(s: &AvroSchema) -> bool {
    matches!(s.kind, AvroKind::Null) && s.props.is_empty()
}

/// A schema with a Connect logical type's name and version 1, as Connect's builders make them.
fn logical_schema(kind: Kind, name: &str) -> Schema {
    let mut s = Schema::new(kind, false).named(name);
    s.version = Some(1);
    s
}

/// An integer JSON number (Java's `Number.intValue()` also truncates a fraction).
fn json_int(v: &Json) -> Option<i64> {
    v.as_i64().or_else(|| v.as_f64().map(|f| f as i64))
}

/// An Avro JSON default (or `connect.default`) as a Connect value of `schema`.
fn default_value(avro: &AvroSchema, schema: &Schema, d: &Json) -> Result<Value, String> {
    if d.is_null() {
        return Ok(Value::Null);
    }
    let bad = || {
        format!(
            "{d} is not a valid default for an Avro {}",
            avro.type_name()
        )
    };
    Ok(match &avro.kind {
        AvroKind::Null => Value::Null,
        AvroKind::Boolean => Value::Boolean(d.as_bool().ok_or_else(bad)?),
        AvroKind::Int | AvroKind::Long => Value::Int(json_int(d).ok_or_else(bad)?),
        AvroKind::Float | AvroKind::Double => Value::Float(d.as_f64().ok_or_else(bad)?),
        AvroKind::String | AvroKind::Enum { .. } => match d {
            Json::String(s) => Value::String(s.clone()),
            Json::Number(n) => Value::String(n.to_string()),
            Json::Bool(b) => Value::String(b.to_string()),
            _ => return Err(bad()),
        },
        AvroKind::Bytes | AvroKind::Fixed { .. } => {
            // Avro's JSON form of bytes: each char is one byte (ISO-8859-1).
            let text = d.as_str().ok_or_else(bad)?;
            let bytes = text
                .chars()
                .map(|c| u8::try_from(u32::from(c)).map_err(|_| bad()))
                .collect::<Result<Vec<u8>, _>>()?;
            match schema.logical() {
                Some(crate::data::schema::Logical::Decimal { scale, .. }) => {
                    let unscaled = json::unscaled_from_be_bytes(&bytes).ok_or_else(bad)?;
                    Value::Decimal(Decimal { unscaled, scale })
                }
                _ => Value::Bytes(bytes),
            }
        }
        AvroKind::Array(items) => {
            let (Json::Array(a), Kind::Array(elem)) = (d, &schema.kind) else {
                return Err(bad());
            };
            Value::Array(
                a.iter()
                    .map(|x| default_value(items, elem, x))
                    .collect::<Result<_, _>>()?,
            )
        }
        AvroKind::Map(values) => {
            let (Json::Object(o), Kind::Map(_, vs)) = (d, &schema.kind) else {
                return Err(bad());
            };
            Value::Map(
                o.iter()
                    .map(|(k, v)| Ok((Value::String(k.clone()), default_value(values, vs, v)?)))
                    .collect::<Result<_, String>>()?,
            )
        }
        AvroKind::Record { fields, .. } => {
            let (Json::Object(o), Kind::Struct(cfields)) = (d, &schema.kind) else {
                return Err(bad());
            };
            let mut out = Vec::with_capacity(fields.len());
            for (f, cf) in fields.iter().zip(cfields) {
                out.push(match o.get(&f.name) {
                    Some(v) => default_value(&f.schema, &cf.schema, v)?,
                    None => Value::Null,
                });
            }
            Value::Struct(out)
        }
        AvroKind::Union(branches) => {
            // A union's default matches its first branch.
            let Some(first) = branches.first() else {
                return Err(bad());
            };
            match (&first.kind, &schema.kind) {
                (AvroKind::Null, _) => Value::Null,
                (_, Kind::Struct(cfields))
                    if schema.name.as_deref() == Some(AVRO_TYPE_UNION)
                        || schema.parameters.contains_key(GENERALIZED_TYPE_UNION) =>
                {
                    let Some(cf) = cfields.first() else {
                        return Err(bad());
                    };
                    let mut out = vec![Value::Null; cfields.len()];
                    out[0] = default_value(first, &cf.schema, d)?;
                    Value::Struct(out)
                }
                _ => default_value(first, schema, d)?,
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::schema::Logical;
    use arrow::datatypes::i256;
    use serde_json::json;

    fn map(avro: &str) -> Mapped {
        AvroData::default()
            .to_connect(&AvroSchema::parse_str(avro).unwrap(), None)
            .unwrap()
    }

    #[test]
    fn primitives_and_logical_types() {
        let m = map(r#"{"type":"record","name":"R","namespace":"n","fields":[
            {"name":"b","type":"boolean"},
            {"name":"i8","type":{"type":"int","connect.type":"int8"}},
            {"name":"i16","type":{"type":"int","connect.type":"int16"}},
            {"name":"d","type":{"type":"int","logicalType":"date"}},
            {"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
            {"name":"tu","type":{"type":"long","logicalType":"time-micros"}},
            {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
            {"name":"tsu","type":{"type":"long","logicalType":"timestamp-micros"}},
            {"name":"u","type":{"type":"string","logicalType":"uuid"}},
            {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
            {"name":"dec64","type":{"type":"fixed","name":"D64","size":16,"logicalType":"decimal","precision":64,"scale":4}},
            {"name":"f","type":"float"},
            {"name":"x","type":{"type":"fixed","name":"Hash","size":4}}
        ]}"#);
        let s = &m.schema;
        assert_eq!(s.name.as_deref(), Some("n.R"));
        assert!(!s.optional);
        let f = |n: &str| s.field(n).unwrap().schema.clone();
        assert_eq!(f("b").kind, Kind::Boolean);
        assert_eq!(f("i8").kind, Kind::Int8);
        assert_eq!(f("i16").kind, Kind::Int16);
        assert_eq!(f("d").logical(), Some(Logical::Date));
        assert_eq!(f("d").version, Some(1));
        assert_eq!(f("tm").name.as_deref(), Some(names::TIME));
        // As AvroData: no Connect name for the micros types and uuid.
        assert_eq!(*f("tu"), Schema::new(Kind::Int64, false));
        assert_eq!(f("ts").logical(), Some(Logical::TimestampMillisUtc));
        assert_eq!(*f("tsu"), Schema::new(Kind::Int64, false));
        assert_eq!(*f("u"), Schema::new(Kind::String, false));
        assert_eq!(
            f("dec").logical(),
            Some(Logical::Decimal {
                scale: 2,
                precision: Some(10)
            })
        );
        let d64 = f("dec64");
        assert_eq!(
            d64.logical(),
            Some(Logical::Decimal {
                scale: 4,
                precision: None
            })
        );
        assert_eq!(d64.parameters.get("connect.fixed.size").unwrap(), "16");
        assert_eq!(f("f").kind, Kind::Float32);
        let x = f("x");
        assert_eq!(x.kind, Kind::Bytes);
        assert_eq!(x.name.as_deref(), Some("n.Hash"));
        assert_eq!(x.parameters.get("connect.fixed.size").unwrap(), "4");
    }

    #[test]
    fn debezium_connect_props_restore_logical_names() {
        let m = map(
            r#"{"type":"record","name":"Value","namespace":"pg.public.t","fields":[
            {"name":"id","type":"long"},
            {"name":"amount","type":["null",{"type":"bytes","scale":2,"precision":10,"connect.version":1,
              "connect.parameters":{"scale":"2","connect.decimal.precision":"10"},
              "connect.name":"org.apache.kafka.connect.data.Decimal","logicalType":"decimal"}],"default":null},
            {"name":"created","type":["null",{"type":"long","connect.version":1,"connect.name":"io.debezium.time.MicroTimestamp"}],"default":null},
            {"name":"flag","type":[{"type":"string","connect.version":1,"connect.parameters":{"allowed":"true,last,false"},
              "connect.default":"false","connect.name":"io.debezium.data.Enum"},"null"],"default":"false"},
            {"name":"small","type":{"type":"int","connect.type":"int16"},"default":3}
        ],"connect.name":"pg.public.t.Value"}"#,
        );
        let s = &m.schema;
        assert_eq!(s.name.as_deref(), Some("pg.public.t.Value"));
        let amount = &s.field("amount").unwrap().schema;
        assert!(amount.optional);
        assert_eq!(amount.version, Some(1));
        assert_eq!(
            amount.logical(),
            Some(Logical::Decimal {
                scale: 2,
                precision: Some(10)
            })
        );
        // A nullable union does not carry the field default (AvroData passes none).
        assert_eq!(amount.default, None);
        assert!(!amount.parameters.contains_key(AVRO_FIELD_DEFAULT_FLAG));
        let created = &s.field("created").unwrap().schema;
        assert_eq!(created.logical(), Some(Logical::TimestampMicros));
        assert!(created.optional);
        let flag = &s.field("flag").unwrap().schema;
        assert_eq!(flag.default, Some(json!("false")));
        assert_eq!(flag.parameters.get("allowed").unwrap(), "true,last,false");
        let small = &s.field("small").unwrap().schema;
        assert_eq!(small.kind, Kind::Int16);
        assert_eq!(small.default, Some(json!(3)));
        assert_eq!(
            small.parameters.get(AVRO_FIELD_DEFAULT_FLAG).unwrap(),
            "true"
        );
        // `["string","null"]` with a connect.default: a null decodes to the default.
        let Plan::Record(plans) = &m.plan else {
            panic!()
        };
        assert_eq!(
            plans[3].1,
            Plan::Optional {
                null_index: 1,
                inner: Box::new(Plan::String),
                default: Some(Value::String("false".into()))
            }
        );
    }

    #[test]
    fn unions_enums_maps() {
        let m = map(r#"{"type":"record","name":"R","namespace":"a.b","fields":[
            {"name":"u","type":["null","string","int",{"type":"record","name":"Inner","fields":[{"name":"q","type":"int"}]}]},
            {"name":"e","type":{"type":"enum","name":"Color","doc":"colors","symbols":["RED","GREEN"],"default":"RED"},"doc":"the color"},
            {"name":"m","type":{"type":"map","values":["null","long"]}},
            {"name":"em","type":{"type":"array","items":{"type":"record","name":"MapEntry","namespace":"io.confluent.connect.avro",
               "fields":[{"name":"key","type":"int"},{"name":"value","type":"string"}]}}}
        ]}"#);
        let s = &m.schema;
        let u = &s.field("u").unwrap().schema;
        assert_eq!(u.name.as_deref(), Some(AVRO_TYPE_UNION));
        assert!(u.optional);
        let names: Vec<&str> = u.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["string", "int", "Inner"]);
        assert!(u.fields().iter().all(|f| f.schema.optional));
        assert_eq!(u.fields()[2].schema.name.as_deref(), Some("a.b.Inner"));
        let e = &s.field("e").unwrap().schema;
        assert_eq!(e.kind, Kind::String);
        assert_eq!(e.name.as_deref(), Some("a.b.Color"));
        let p = &e.parameters;
        assert_eq!(p.get(AVRO_TYPE_ENUM).unwrap(), "a.b.Color");
        assert_eq!(
            p.get("io.confluent.connect.avro.Enum.GREEN").unwrap(),
            "GREEN"
        );
        assert_eq!(
            p.get("io.confluent.connect.avro.enum.doc.Color").unwrap(),
            "colors"
        );
        assert_eq!(
            p.get("io.confluent.connect.avro.enum.default.Color")
                .unwrap(),
            "RED"
        );
        assert_eq!(
            s.parameters
                .get("io.confluent.connect.avro.field.doc.e")
                .unwrap(),
            "the color"
        );
        let Kind::Map(k, v) = &s.field("m").unwrap().schema.kind else {
            panic!()
        };
        assert_eq!(k.kind, Kind::String);
        assert!(v.optional);
        let Kind::Map(k, v) = &s.field("em").unwrap().schema.kind else {
            panic!()
        };
        assert_eq!(
            (k.kind.clone(), v.kind.clone()),
            (Kind::Int32, Kind::String)
        );

        // Enhanced support names record branches by full name; generalized numbers them.
        let avro = AvroSchema::parse_str(
            r#"["null","string",{"type":"record","name":"x.Inner","fields":[]}]"#,
        )
        .unwrap();
        let mut enhanced = AvroData::new(AvroDataConfig {
            enhanced_avro_schema_support: true,
            ..Default::default()
        });
        let s = enhanced.to_connect(&avro, None).unwrap().schema;
        assert_eq!(s.fields()[1].name, "x.Inner");
        let mut generalized = AvroData::new(AvroDataConfig {
            generalized_sum_type_support: true,
            ..Default::default()
        });
        let s = generalized.to_connect(&avro, None).unwrap().schema;
        assert_eq!(s.name.as_deref(), Some("connect_union_0"));
        let names: Vec<&str> = s.fields().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["connect_union_field_1", "connect_union_field_2"]);
        assert_eq!(
            s.parameters.get(GENERALIZED_TYPE_UNION).unwrap(),
            "connect_union_0"
        );
    }

    #[test]
    fn versions_names_defaults_and_errors() {
        let avro = AvroSchema::parse_str(
            r#"{"type":"record","name":"R","fields":[{"name":"b","type":"bytes","default":"\u0001\u00ff"}]}"#,
        )
        .unwrap();
        let m = AvroData::default().to_connect(&avro, Some(3)).unwrap();
        assert_eq!(m.schema.version, Some(3));
        // Bytes defaults are ISO-8859-1 text in Avro, base64 in JsonConverter's JSON.
        assert_eq!(
            m.schema.field("b").unwrap().schema.default,
            Some(json!("Af8="))
        );
        let avro = AvroSchema::parse_str(
            r#"{"type":"record","name":"R","connect.version":2,"connect.name":"custom.Name","fields":[]}"#,
        )
        .unwrap();
        let m = AvroData::default().to_connect(&avro, Some(3)).unwrap();
        assert_eq!(m.schema.version, Some(2));
        assert_eq!(m.schema.name.as_deref(), Some("custom.Name"));
        let avro = AvroSchema::parse_str(
            r#"{"type":"record","name":"io.confluent.connect.avro.ConnectDefault","fields":[]}"#,
        )
        .unwrap();
        assert_eq!(
            AvroData::default()
                .to_connect(&avro, None)
                .unwrap()
                .schema
                .name,
            None
        );
        let e = AvroData::default()
            .to_connect(&AvroSchema::parse_str("\"null\"").unwrap(), None)
            .unwrap_err();
        assert!(e.message.contains("Standalone null"), "{e}");
        let e = AvroData::default()
            .to_connect(
                &AvroSchema::parse_str(
                    r#"{"type":"long","logicalType":"timestamp-millis","connect.name":"other"}"#,
                )
                .unwrap(),
                None,
            )
            .unwrap_err();
        assert!(e.message.contains("Mismatched names"), "{e}");
        let e = AvroData::default()
            .to_connect(
                &AvroSchema::parse_str(r#"["int",{"type":"int","connect.type":"int8"}]"#).unwrap(),
                None,
            )
            .unwrap_err();
        assert!(e.message.contains("Multiple union schemas"), "{e}");
        // Decimal default from Avro bytes text.
        let avro = AvroSchema::parse_str(
            r#"{"type":"bytes","logicalType":"decimal","scale":1,"connect.default":"\u0000\u0019"}"#,
        )
        .unwrap();
        let m = AvroData::default().to_connect(&avro, None).unwrap();
        let d = json::default_value(&m.schema).unwrap().unwrap();
        assert_eq!(
            d,
            Value::Decimal(Decimal {
                unscaled: i256::from_i128(25),
                scale: 1
            })
        );
    }
}
