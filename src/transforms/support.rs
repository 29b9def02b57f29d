//! What every transform shares: the key/value side it works on, lazy decoding of [`Data`],
//! Connect's `Requirements` checks with their messages, schema building blocks and the
//! per-schema cache.

use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

use crate::data::json;
use crate::data::schema::names;
use crate::data::{Data, Kind, Logical, Schema, SchemaRef, SinkRecord, Value};

use super::TransformError;

/// Which part of the record a `$Key` / `$Value` transform operates on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The record key (`...$Key` classes).
    Key,
    /// The record value (`...$Value` classes).
    Value,
}

impl Side {
    /// The side selected by a class name's `$Key` / `$Value` suffix (value when neither).
    pub fn of_class(class: &str) -> Side {
        if class.ends_with("$Key") {
            Side::Key
        } else {
            Side::Value
        }
    }

    /// The data on this side.
    pub(crate) fn get<'r>(&self, record: &'r SinkRecord) -> Option<&'r Data> {
        match self {
            Side::Key => record.key.as_ref(),
            Side::Value => record.value.as_ref(),
        }
    }

    /// Moves the data out of this side (leaving a null).
    pub(crate) fn take(&self, record: &mut SinkRecord) -> Option<Data> {
        match self {
            Side::Key => record.key.take(),
            Side::Value => record.value.take(),
        }
    }

    /// Sets this side.
    pub(crate) fn put(&self, record: &mut SinkRecord, data: Option<Data>) {
        match self {
            Side::Key => record.key = data,
            Side::Value => record.value = data,
        }
    }
}

/// A decoded key or value: its schema (`None` for schemaless data) and the value.
pub(crate) type Decoded = (Option<SchemaRef>, Value);

/// Decodes one side's data, the way Connect's converters would have handed it to a transform:
/// StringConverter data carries an optional string schema, ByteArrayConverter data optional
/// bytes, JSON is decoded with its schema (or schemalessly). Decoding happens only here, so a
/// chain of routers and filters never decodes a payload.
pub(crate) fn decode(data: Data) -> Result<Decoded, TransformError> {
    Ok(match data {
        Data::String(s) => (Some(optional(Kind::String)), Value::String(s)),
        Data::Bytes(b) => (Some(optional(Kind::Bytes)), Value::Bytes(b)),
        Data::Value { schema, value } => (schema, value),
        json @ Data::Json { .. } => json.to_value()?,
    })
}

/// Wraps a transform's output; a null value becomes a Kafka null (`None`).
pub(crate) fn encode(schema: Option<SchemaRef>, value: Value) -> Option<Data> {
    if value.is_null() {
        return None;
    }
    Some(Data::Value { schema, value })
}

/// Shared optional primitive schemas (`Schema.OPTIONAL_STRING_SCHEMA`, ...), built once.
pub(crate) fn optional(kind: Kind) -> SchemaRef {
    static CACHE: OnceLock<Vec<SchemaRef>> = OnceLock::new();
    let all = CACHE.get_or_init(|| {
        [
            Kind::Int8,
            Kind::Int16,
            Kind::Int32,
            Kind::Int64,
            Kind::Float32,
            Kind::Float64,
            Kind::Boolean,
            Kind::String,
            Kind::Bytes,
        ]
        .into_iter()
        .map(|k| Arc::new(Schema::new(k, true)))
        .collect()
    });
    all.iter()
        .find(|s| s.kind == kind)
        .cloned()
        .unwrap_or_else(|| Arc::new(Schema::new(kind, true)))
}

/// A primitive schema, optional or required.
pub(crate) fn primitive(kind: Kind, optional_: bool) -> SchemaRef {
    if optional_ {
        optional(kind)
    } else {
        Arc::new(Schema::new(kind, false))
    }
}

/// Connect's `Timestamp` logical schema.
pub(crate) fn timestamp_schema(optional_: bool) -> Schema {
    logical_schema(Kind::Int64, names::TIMESTAMP, optional_)
}

/// A Connect logical schema (`Date`, `Time`, `Timestamp`: version 1).
pub(crate) fn logical_schema(kind: Kind, name: &str, optional_: bool) -> Schema {
    let mut s = Schema::new(kind, optional_).named(name);
    s.version = Some(1);
    s
}

/// `SchemaUtil.copySchemaBasics`: name, version, doc and parameters on a new kind.
pub(crate) fn copy_basics(schema: &Schema, kind: Kind) -> Schema {
    Schema {
        kind,
        optional: false,
        name: schema.name.clone(),
        version: schema.version,
        doc: schema.doc.clone(),
        parameters: schema.parameters.clone(),
        default: None,
    }
}

/// The same schema, optional (`copySchemaBasics(s).optional()`, as Debezium copies added fields).
pub(crate) fn as_optional(schema: &SchemaRef) -> SchemaRef {
    if schema.optional {
        return schema.clone();
    }
    let mut s = (**schema).clone();
    s.optional = true;
    s.default = None;
    Arc::new(s)
}

/// A struct schema from named fields, with `basics` copied from `like`; duplicate names are
/// rejected with `SchemaBuilder`'s message.
pub(crate) fn struct_from(
    like: Option<&Schema>,
    fields: Vec<(String, SchemaRef)>,
) -> Result<Schema, TransformError> {
    let mut out = match like {
        Some(s) => copy_basics(s, Kind::Struct(Vec::new())),
        None => Schema::new(Kind::Struct(Vec::new()), false),
    };
    let mut built: Vec<crate::data::Field> = Vec::with_capacity(fields.len());
    for (index, (name, schema)) in fields.into_iter().enumerate() {
        if built.iter().any(|f| f.name == name) {
            return Err(TransformError::Data(format!(
                "Cannot create field because of field name duplication {name}"
            )));
        }
        built.push(crate::data::Field {
            name,
            index,
            schema,
        });
    }
    out.kind = Kind::Struct(built);
    Ok(out)
}

/// The Java class Connect would report for a value, for error messages.
pub(crate) fn java_class(value: &Value, schema: Option<&Schema>) -> &'static str {
    if let Some(s) = schema {
        // Connect's own Date/Time/Timestamp are java.util.Date; Debezium's are plain numbers.
        if matches!(
            s.name.as_deref(),
            Some(names::DATE | names::TIME | names::TIMESTAMP)
        ) {
            return "java.util.Date";
        }
        if matches!(s.logical(), Some(Logical::Decimal { .. })) {
            return "java.math.BigDecimal";
        }
    }
    match value {
        Value::Null => "null",
        Value::Boolean(_) => "java.lang.Boolean",
        Value::Int(_) => match schema.map(|s| &s.kind) {
            Some(Kind::Int8) => "java.lang.Byte",
            Some(Kind::Int16) => "java.lang.Short",
            Some(Kind::Int32) => "java.lang.Integer",
            _ => "java.lang.Long",
        },
        Value::Float(_) => match schema.map(|s| &s.kind) {
            Some(Kind::Float32) => "java.lang.Float",
            _ => "java.lang.Double",
        },
        Value::String(_) => "java.lang.String",
        Value::Bytes(_) => "[B",
        Value::Decimal(_) => "java.math.BigDecimal",
        Value::Array(_) => "java.util.ArrayList",
        Value::Map(_) => "java.util.HashMap",
        Value::Struct(_) => "org.apache.kafka.connect.data.Struct",
    }
}

/// `Requirements.requireMap`: schemaless data must be a map.
pub(crate) fn require_map(
    value: Value,
    purpose: &str,
) -> Result<Vec<(Value, Value)>, TransformError> {
    match value {
        Value::Map(entries) => Ok(entries),
        other => Err(TransformError::Data(format!(
            "Only Map objects supported in absence of schema for [{purpose}], found: {}",
            java_class(&other, None)
        ))),
    }
}

/// `Requirements.requireStruct`: data with a schema must be a struct.
pub(crate) fn require_struct(
    value: Value,
    schema: &Schema,
    purpose: &str,
) -> Result<Vec<Value>, TransformError> {
    match (value, &schema.kind) {
        (Value::Struct(values), Kind::Struct(fields)) if values.len() == fields.len() => Ok(values),
        (other, _) => Err(TransformError::Data(format!(
            "Only Struct objects supported for [{purpose}], found: {}",
            java_class(&other, Some(schema))
        ))),
    }
}

/// The value of a schemaless map entry (`Map.get`): `Null` when absent.
pub(crate) fn map_get<'v>(entries: &'v [(Value, Value)], key: &str) -> Option<&'v Value> {
    entries
        .iter()
        .find(|(k, _)| k.as_str() == Some(key))
        .map(|(_, v)| v)
}

/// `Map.put`: replaces the entry in place, or appends it.
pub(crate) fn map_put(entries: &mut Vec<(Value, Value)>, key: &str, value: Value) {
    match entries.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
        Some(e) => e.1 = value,
        None => entries.push((Value::String(key.to_string()), value)),
    }
}

/// Moves a schemaless map entry's value out (`Map.remove`).
pub(crate) fn map_take(entries: &mut Vec<(Value, Value)>, key: &str) -> Option<Value> {
    let i = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
    Some(entries.remove(i).1)
}

/// `Struct.get` vs `Struct.getWithoutDefault`: a null field takes its schema's default when
/// `replace` is set and the schema has one.
pub(crate) fn with_default(value: Value, schema: &Schema, replace: bool) -> Value {
    if !replace || !value.is_null() || schema.default.is_none() {
        return value;
    }
    // A default that does not fit its own schema was already refused by the converter; keep
    // the null rather than fail the record.
    json::default_value(schema).ok().flatten().unwrap_or(value)
}

/// Derived schemas per input schema, compared by `Arc` identity (converters and transforms
/// share one `Arc` per distinct schema, so a hit is a pointer comparison). The inputs are kept
/// alive, so an address is never reused while cached. Bounded like Connect's `LRUCache(16)`.
pub(crate) struct SchemaCache<V: Clone> {
    entries: VecDeque<(SchemaRef, Option<SchemaRef>, V)>,
}

const CACHE_SIZE: usize = 16;

impl<V: Clone> Default for SchemaCache<V> {
    fn default() -> Self {
        Self {
            entries: VecDeque::new(),
        }
    }
}

impl<V: Clone> SchemaCache<V> {
    /// The cached value for `key` (and optional second key), or `build`'s, then cached.
    pub(crate) fn get_or_build<E>(
        &mut self,
        key: &SchemaRef,
        second: Option<&SchemaRef>,
        build: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(v) = self.get(key, second) {
            return Ok(v);
        }
        let v = build()?;
        self.insert(key, second, v.clone());
        Ok(v)
    }

    /// The cached value, if any (it becomes the most recently used). A schema equal to a
    /// cached one but in another `Arc` (a Debezium envelope's `before` and `after`, a
    /// converter cache refill) gets the cached value, so equal inputs share one output schema;
    /// its `Arc` is remembered so the next lookup is a pointer comparison again.
    pub(crate) fn get(&mut self, key: &SchemaRef, second: Option<&SchemaRef>) -> Option<V> {
        let same = |a: &SchemaRef, b: &SchemaRef, deep: bool| Arc::ptr_eq(a, b) || (deep && a == b);
        let matches = |(k, s, _): &(SchemaRef, Option<SchemaRef>, V), deep: bool| {
            same(k, key, deep)
                && match (s, second) {
                    (Some(a), Some(b)) => same(a, b, deep),
                    (None, None) => true,
                    _ => false,
                }
        };
        if let Some(i) = self.entries.iter().position(|e| matches(e, false)) {
            // Move to the back so the least recently used entry is evicted first.
            if i + 1 != self.entries.len() {
                let e = self.entries.remove(i)?;
                self.entries.push_back(e);
            }
            return self.entries.back().map(|(_, _, v)| v.clone());
        }
        let v = self
            .entries
            .iter()
            .find(|e| matches(e, true))
            .map(|(_, _, v)| v.clone())?;
        self.insert(key, second, v.clone());
        Some(v)
    }

    /// Caches a value, evicting the least recently used entry when full.
    pub(crate) fn insert(&mut self, key: &SchemaRef, second: Option<&SchemaRef>, value: V) {
        if self.entries.len() >= CACHE_SIZE {
            self.entries.pop_front();
        }
        self.entries
            .push_back((key.clone(), second.cloned(), value));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

/// Java's `Double.toString` / `Float.toString` (shortest round-trip digits, plain notation in
/// [1e-3, 1e7), otherwise `d.dddE±n`).
pub(crate) fn java_float_string(v: f64, single: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let sci = if single {
        format!("{:e}", v as f32)
    } else {
        format!("{v:e}")
    };
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let abs = v.abs();
    if (1e-3..1e7).contains(&abs) {
        let point = exp + 1;
        if point <= 0 {
            let zeros = "0".repeat(point.unsigned_abs() as usize);
            format!("{sign}0.{zeros}{digits}")
        } else {
            let point = point as usize;
            if digits.len() <= point {
                let zeros = "0".repeat(point - digits.len());
                format!("{sign}{digits}{zeros}.0")
            } else {
                format!("{sign}{}.{}", &digits[..point], &digits[point..])
            }
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_float_text() {
        assert_eq!(java_float_string(1.0, false), "1.0");
        assert_eq!(java_float_string(100.5, false), "100.5");
        assert_eq!(java_float_string(1e7, false), "1.0E7");
        assert_eq!(java_float_string(1.25e-4, false), "1.25E-4");
        assert_eq!(java_float_string(0.001, false), "0.001");
        assert_eq!(java_float_string(-12345678.9, false), "-1.23456789E7");
        assert_eq!(java_float_string(1.1f32 as f64, true), "1.1");
        assert_eq!(java_float_string(f64::NAN, false), "NaN");
    }

    #[test]
    fn cache_hits_by_identity_and_is_bounded() {
        let mut c: SchemaCache<u32> = SchemaCache::default();
        let a = optional(Kind::Int8);
        let b = Arc::new(Schema::new(Kind::Int8, true));
        let mut builds = 0;
        for s in [&a, &a, &b] {
            c.get_or_build::<()>(s, None, || {
                builds += 1;
                Ok(builds)
            })
            .unwrap();
        }
        assert_eq!(builds, 1, "an equal schema in another Arc shares the entry");
        assert_eq!(c.len(), 2, "and is remembered by its own pointer");
        for i in 0..40 {
            let s = Arc::new(Schema::new(Kind::Int8, true).named(&format!("s{i}")));
            c.get_or_build::<()>(&s, None, || Ok(0)).unwrap();
        }
        assert_eq!(c.len(), CACHE_SIZE);
    }
}
