//! `TimestampConverter$Key` / `TimestampConverter$Value`: converts a timestamp field (or the
//! whole key/value) between a formatted string, a Unix number (`unix.precision`), and Connect's
//! Date, Time and Timestamp logical types. Everything is UTC.

use std::sync::Arc;

use crate::configdef::ParsedConfig;
use crate::data::schema::names;
use crate::data::{Kind, Schema, SchemaRef, SinkRecord, Value};

use super::date_format::DateFormat;
use super::support::{
    decode, encode, java_class, logical_schema, map_get, map_put, primitive, require_map,
    require_struct, struct_from, with_default, SchemaCache, Side,
};
use super::{TransformError, Transformation};

const PURPOSE: &str = "converting timestamp formats";
const MS_PER_DAY: i64 = 86_400_000;

/// A timestamp representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Repr {
    String,
    Unix,
    Date,
    Time,
    Timestamp,
}

/// `unix.precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

pub(crate) struct TimestampConverter {
    side: Side,
    field: String,
    target: Repr,
    format: Option<DateFormat>,
    precision: Precision,
    replace_null: bool,
    cache: SchemaCache<SchemaRef>,
}

pub(crate) fn build(cfg: &ParsedConfig, side: Side) -> Result<Box<dyn Transformation>, String> {
    let field = cfg.get_str("field").map_err(|e| e.to_string())?;
    let target = cfg.get_str("target.type").map_err(|e| e.to_string())?;
    let target = match target {
        "string" => Repr::String,
        "unix" => Repr::Unix,
        "Date" => Repr::Date,
        "Time" => Repr::Time,
        "Timestamp" => Repr::Timestamp,
        other => {
            return Err(format!(
                "Unknown timestamp type in TimestampConverter: {other}. Valid values are string, unix, Date, Time, Timestamp."
            ))
        }
    };
    let pattern = cfg.get_str("format").map_err(|e| e.to_string())?;
    if target == Repr::String && pattern.trim().is_empty() {
        return Err(
            "TimestampConverter requires format option to be specified when using string timestamps"
                .into(),
        );
    }
    let format = if pattern.trim().is_empty() {
        None
    } else {
        Some(DateFormat::new(pattern).map_err(|e| {
            format!("TimestampConverter requires a SimpleDateFormat-compatible pattern for string timestamps: {pattern} ({e})")
        })?)
    };
    let precision = match cfg.get_str("unix.precision").map_err(|e| e.to_string())? {
        "seconds" => Precision::Seconds,
        "microseconds" => Precision::Micros,
        "nanoseconds" => Precision::Nanos,
        _ => Precision::Millis,
    };
    Ok(Box::new(TimestampConverter {
        side,
        field: field.to_string(),
        target,
        format,
        precision,
        replace_null: cfg
            .get_bool("replace.null.with.default")
            .map_err(|e| e.to_string())?,
        cache: SchemaCache::default(),
    }))
}

/// The schema of a representation.
fn schema_of(repr: Repr, optional: bool) -> SchemaRef {
    match repr {
        Repr::String => primitive(Kind::String, optional),
        Repr::Unix => primitive(Kind::Int64, optional),
        Repr::Date => Arc::new(logical_schema(Kind::Int32, names::DATE, optional)),
        Repr::Time => Arc::new(logical_schema(Kind::Int32, names::TIME, optional)),
        Repr::Timestamp => Arc::new(logical_schema(Kind::Int64, names::TIMESTAMP, optional)),
    }
}

/// The representation a schema stands for (`timestampTypeFromSchema`).
fn repr_of_schema(schema: &Schema) -> Result<Repr, TransformError> {
    match (schema.name.as_deref(), &schema.kind) {
        (Some(names::TIMESTAMP), _) => Ok(Repr::Timestamp),
        (Some(names::DATE), _) => Ok(Repr::Date),
        (Some(names::TIME), _) => Ok(Repr::Time),
        (_, Kind::String) => Ok(Repr::String),
        (_, Kind::Int64) => Ok(Repr::Unix),
        _ => Err(TransformError::Data(format!(
            "Schema {} does not correspond to a known timestamp type format",
            schema.to_connect_json()
        ))),
    }
}

/// The representation of a schemaless value (`inferTimestampType`).
fn repr_of_value(value: &Value) -> Result<Repr, TransformError> {
    match value {
        Value::String(_) => Ok(Repr::String),
        Value::Int(_) => Ok(Repr::Unix),
        other => Err(TransformError::Data(format!(
            "TimestampConverter does not support {} objects as timestamps",
            java_class(other, None)
        ))),
    }
}

impl TimestampConverter {
    /// Epoch milliseconds of a value in representation `from`.
    fn to_raw(&self, value: &Value, from: Repr) -> Result<i64, TransformError> {
        let expected = |what: &str| {
            TransformError::Data(format!(
                "Expected {what}, but found {}",
                java_class(value, None)
            ))
        };
        match (from, value) {
            (Repr::String, Value::String(s)) => {
                let Some(format) = &self.format else {
                    return Err(TransformError::Data(
                        "TimestampConverter requires format option to be specified when using string timestamps".into(),
                    ));
                };
                format.parse(s).map_err(|_| {
                    TransformError::Data(format!(
                        "Could not parse timestamp: value ({s}) does not match pattern ({})",
                        format.pattern()
                    ))
                })
            }
            (Repr::String, _) => Err(expected("string timestamp to be a String")),
            (Repr::Unix, Value::Int(v)) => Ok(match self.precision {
                Precision::Seconds => v.saturating_mul(1000),
                Precision::Millis => *v,
                // TimeUnit.toMillis truncates toward zero.
                Precision::Micros => v / 1000,
                Precision::Nanos => v / 1_000_000,
            }),
            (Repr::Unix, _) => Err(expected("Unix timestamp to be a Long")),
            (Repr::Date, Value::Int(days)) => Ok(days.saturating_mul(MS_PER_DAY)),
            (Repr::Date, _) => Err(expected("Date to be a java.util.Date")),
            (Repr::Time | Repr::Timestamp, Value::Int(ms)) => Ok(*ms),
            (Repr::Time, _) => Err(expected("Time to be a java.util.Date")),
            (Repr::Timestamp, _) => Err(expected("Timestamp to be a java.util.Date")),
        }
    }

    /// The target representation of epoch milliseconds.
    fn to_target(&self, ms: i64) -> Value {
        match self.target {
            Repr::String => Value::String(
                self.format
                    .as_ref()
                    .map_or_else(|| ms.to_string(), |f| f.format(ms)),
            ),
            Repr::Unix => Value::Int(match self.precision {
                Precision::Seconds => ms / 1000,
                Precision::Millis => ms,
                Precision::Micros => ms.saturating_mul(1000),
                Precision::Nanos => ms.saturating_mul(1_000_000),
            }),
            Repr::Date => Value::Int(ms.div_euclid(MS_PER_DAY)),
            Repr::Time => Value::Int(ms.rem_euclid(MS_PER_DAY)),
            Repr::Timestamp => Value::Int(ms),
        }
    }

    fn convert(&self, value: Value, from: Option<Repr>) -> Result<Value, TransformError> {
        if value.is_null() {
            return Ok(Value::Null);
        }
        let from = match from {
            Some(r) => r,
            None => repr_of_value(&value)?,
        };
        Ok(self.to_target(self.to_raw(&value, from)?))
    }

    fn updated_struct_schema(&self, schema: &Schema) -> Result<SchemaRef, TransformError> {
        let fields = schema
            .fields()
            .iter()
            .map(|f| {
                let s = if f.name == self.field {
                    schema_of(self.target, f.schema.optional)
                } else {
                    f.schema.clone()
                };
                (f.name.clone(), s)
            })
            .collect();
        let mut out = struct_from(Some(schema), fields)?;
        out.optional = schema.optional;
        Ok(Arc::new(out))
    }
}

impl Transformation for TimestampConverter {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(data) = self.side.take(&mut record) else {
            return Ok(Some(record));
        };
        let (schema, value) = decode(data)?;
        let out = match (schema, self.field.is_empty()) {
            (None, true) => encode(None, self.convert(value, None)?),
            (None, false) => {
                let mut entries = require_map(value, PURPOSE)?;
                let current = map_get(&entries, &self.field)
                    .cloned()
                    .unwrap_or(Value::Null);
                let converted = self.convert(current, None)?;
                map_put(&mut entries, &self.field, converted);
                encode(None, Value::Map(entries))
            }
            (Some(schema), true) => {
                let from = repr_of_schema(&schema)?;
                let converted = self.convert(value, Some(from))?;
                let target = self.target;
                let updated = self.cache.get_or_build(&schema, None, || {
                    Ok::<_, TransformError>(schema_of(target, schema.optional))
                })?;
                encode(Some(updated), converted)
            }
            (Some(schema), false) => {
                let values = require_struct(value, &schema, PURPOSE)?;
                let updated = match self.cache.get(&schema, None) {
                    Some(u) => u,
                    None => {
                        let u = self.updated_struct_schema(&schema)?;
                        self.cache.insert(&schema, None, u.clone());
                        u
                    }
                };
                let mut out = Vec::with_capacity(values.len());
                for (v, f) in values.into_iter().zip(schema.fields()) {
                    let v = with_default(v, &f.schema, self.replace_null);
                    out.push(if f.name == self.field {
                        self.convert(v, Some(repr_of_schema(&f.schema)?))?
                    } else {
                        v
                    });
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
    use crate::data::Kind;
    use crate::transforms::tests::{
        as_json, json_data, props, record, schema, schemaless, struct_of, transform,
    };

    const VALUE: &str = "org.apache.kafka.connect.transforms.TimestampConverter$Value";
    const KEY: &str = "org.apache.kafka.connect.transforms.TimestampConverter$Key";
    const TS: i64 = 1_708_678_334_431;

    fn row() -> crate::data::SchemaRef {
        schema(json!({"type":"struct","fields":[
            {"field":"at","type":"int64","name":"org.apache.kafka.connect.data.Timestamp","version":1,"optional":true},
            {"field":"text","type":"string","optional":true},
            {"field":"n","type":"int32"}]}))
    }

    #[test]
    fn timestamp_field_to_string_and_back() {
        let s = row();
        let mut t = transform(
            VALUE,
            &props(&[
                ("field", "at"),
                ("target.type", "string"),
                ("format", "yyyy-MM-dd HH:mm:ss.SSS"),
            ]),
        );
        let out = t
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"at":TS,"text":null,"n":1}))),
            ))
            .unwrap()
            .unwrap();
        let (us, _) = struct_of(out.value.as_ref());
        let at = &us.field("at").unwrap().schema;
        assert_eq!(
            (&at.kind, at.optional, at.name.clone()),
            (&Kind::String, true, None)
        );
        assert_eq!(
            as_json(out.value.as_ref()).1["at"],
            "2024-02-23 08:52:14.431"
        );
        let null = t
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"at":null,"text":null,"n":1}))),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(as_json(null.value.as_ref()).1["at"], json!(null));

        let mut back = transform(
            VALUE,
            &props(&[
                ("field", "text"),
                ("target.type", "Timestamp"),
                ("format", "yyyy-MM-dd'T'HH:mm:ss.SSSX"),
            ]),
        );
        let out = back
            .apply(record(
                "t",
                None,
                Some(json_data(
                    &s,
                    json!({"at":null,"text":"2024-02-23T09:52:14.431+01:00","n":1}),
                )),
            ))
            .unwrap()
            .unwrap();
        let (us, v) = struct_of(out.value.as_ref());
        assert_eq!(
            us.field("text").unwrap().schema.name.as_deref(),
            Some(names::TIMESTAMP)
        );
        assert_eq!(v[1], crate::data::Value::Int(TS));
        let e = back
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"at":null,"text":"nope","n":1}))),
            ))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Could not parse timestamp: value (nope) does not match pattern (yyyy-MM-dd'T'HH:mm:ss.SSSX)"
        );
        let e = transform(VALUE, &props(&[("field", "n"), ("target.type", "unix")]))
            .apply(record(
                "t",
                None,
                Some(json_data(&s, json!({"at":null,"text":null,"n":1}))),
            ))
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("does not correspond to a known timestamp type"),
            "{e}"
        );
    }

    #[test]
    fn unix_precision_date_time_and_schemaless() {
        let mut t = transform(
            VALUE,
            &props(&[
                ("field", "ts"),
                ("target.type", "Date"),
                ("unix.precision", "seconds"),
            ]),
        );
        let out = t
            .apply(record(
                "t",
                None,
                Some(schemaless(json!({"ts": TS / 1000}))),
            ))
            .unwrap()
            .unwrap();
        assert_eq!(as_json(out.value.as_ref()).1, json!({"ts": 19776}));
        let mut t = transform(
            KEY,
            &props(&[("target.type", "unix"), ("unix.precision", "microseconds")]),
        );
        let s =
            schema(json!({"type":"int32","name":"org.apache.kafka.connect.data.Time","version":1}));
        let out = t
            .apply(record("t", Some(json_data(&s, json!(31_934_431))), None))
            .unwrap()
            .unwrap();
        assert_eq!(
            as_json(out.key.as_ref()),
            (
                Some(json!({"type":"int64","optional":false})),
                json!(31_934_431_000i64)
            )
        );
        let mut t = transform(VALUE, &props(&[("target.type", "Time")]));
        let out = t
            .apply(record("t", None, Some(schemaless(json!(TS)))))
            .unwrap()
            .unwrap();
        assert_eq!(as_json(out.value.as_ref()).1, json!(31_934_431));
        let mut t = transform(
            VALUE,
            &props(&[("target.type", "string"), ("format", "yyyyMMdd")]),
        );
        let e = t
            .apply(record("t", None, Some(schemaless(json!(true)))))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "TimestampConverter does not support java.lang.Boolean objects as timestamps"
        );
    }
}
