//! Converters by their Kafka Connect class names: bytes from Kafka → [`Data`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

use super::record::Data;
use super::schema::{Schema, SchemaRef};

/// `org.apache.kafka.connect.json.JsonConverter`.
pub const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
/// `org.apache.kafka.connect.storage.StringConverter`.
pub const STRING_CONVERTER: &str = "org.apache.kafka.connect.storage.StringConverter";
/// `org.apache.kafka.connect.converters.ByteArrayConverter`.
pub const BYTE_ARRAY_CONVERTER: &str = "org.apache.kafka.connect.converters.ByteArrayConverter";
/// `org.apache.kafka.connect.storage.SimpleHeaderConverter` (the worker's default header converter).
pub const SIMPLE_HEADER_CONVERTER: &str = "org.apache.kafka.connect.storage.SimpleHeaderConverter";

/// Converter classes usable as key/value converters.
pub const CONVERTERS: &[&str] = &[
    JSON_CONVERTER,
    STRING_CONVERTER,
    BYTE_ARRAY_CONVERTER,
    super::avro::AVRO_CONVERTER,
];
/// Converter classes usable as header converters (Confluent's AvroConverter is not one).
pub const HEADER_CONVERTERS: &[&str] = &[
    SIMPLE_HEADER_CONVERTER,
    JSON_CONVERTER,
    STRING_CONVERTER,
    BYTE_ARRAY_CONVERTER,
];

/// Why bytes could not be converted (a record-level failure for the error handler), or why a
/// converter could not be configured.
#[derive(Debug, Error)]
pub enum ConvertError {
    /// The bytes do not fit the converter (Connect's `DataException`).
    #[error("{0}")]
    Data(String),
    /// The converter class or its settings are unusable. From `to_connect` it means no record
    /// can convert (e.g. the Schema Registry refuses the credentials), not a poison record.
    #[error("{0}")]
    Config(String),
    /// A passing failure outside the record (Schema Registry unreachable, timing out or
    /// answering 5xx): the same record may convert on a retry, so it is not a poison record.
    #[error("{0}")]
    Retriable(String),
}

/// Which side a converter works on; Java converters are configured with `isKey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConverterKind {
    /// Record key.
    Key,
    /// Record value.
    Value,
    /// Record headers.
    Header,
}

/// Turns the raw bytes of a key, value or header into Connect data. One instance per task.
pub trait Converter: Send {
    /// Converts; `None` in or a null payload out means a null value.
    fn to_connect(
        &mut self,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Data>, ConvertError>;
}

/// Builds converters from a class name and its settings (the `<side>.converter.` keys).
pub struct Converters;

impl Converters {
    /// Creates a converter; an unknown class or bad setting is a `ConvertError::Config`.
    pub fn build(
        class: &str,
        props: &BTreeMap<String, String>,
        kind: ConverterKind,
    ) -> Result<Box<dyn Converter>, ConvertError> {
        match class {
            JSON_CONVERTER => {
                // Java's JsonConverter defaults schemas.enable to true; headers are schemaless.
                let default = kind != ConverterKind::Header;
                let schemas = match props.get("schemas.enable").map(|v| v.trim().to_ascii_lowercase()) {
                    None => default,
                    Some(v) if v == "true" => true,
                    Some(v) if v == "false" => false,
                    Some(v) => {
                        return Err(ConvertError::Config(format!(
                            "Invalid value {v} for configuration schemas.enable: Expected value to be either true or false"
                        )))
                    }
                };
                Ok(Box::new(JsonConverter::new(schemas)))
            }
            STRING_CONVERTER => {
                let enc = props
                    .get("converter.encoding")
                    .or_else(|| {
                        props.get(match kind {
                            ConverterKind::Key => "converter.key.encoding",
                            _ => "converter.value.encoding",
                        })
                    })
                    .map(|s| s.trim().to_ascii_uppercase());
                match enc.as_deref() {
                    None | Some("UTF-8") | Some("UTF8") => Ok(Box::new(StringConverter)),
                    Some(other) => Err(ConvertError::Config(format!(
                        "Invalid value {other} for configuration converter.encoding: only UTF-8 is supported"
                    ))),
                }
            }
            BYTE_ARRAY_CONVERTER => Ok(Box::new(ByteArrayConverter)),
            super::avro::AVRO_CONVERTER => Ok(Box::new(super::avro::AvroConverter::from_props(
                props, kind,
            )?)),
            SIMPLE_HEADER_CONVERTER if kind == ConverterKind::Header => {
                Ok(Box::new(SimpleHeaderConverter))
            }
            other => Err(ConvertError::Config(format!(
                "Class {other} could not be found."
            ))),
        }
    }
}

/// `JsonConverter`: validates JSON; with `schemas.enable` unwraps the `{schema, payload}` envelope.
pub struct JsonConverter {
    schemas_enable: bool,
    /// Distinct schemas seen (by their JSON text), each parsed once and shared by every record.
    schema_cache: HashMap<Box<str>, SchemaRef>,
    /// The schema of the previous message: a topic mostly repeats one schema, and comparing
    /// the text is cheaper than hashing kilobytes of it.
    last_schema: Option<(Box<str>, SchemaRef)>,
}

/// Bound on distinct cached schemas; a pathological topic must not grow memory without limit.
const SCHEMA_CACHE_MAX: usize = 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    schema: &'a RawValue,
    #[serde(borrow)]
    payload: &'a RawValue,
}

const ENVELOPE_ERROR: &str = "JsonConverter with schemas.enable requires \"schema\" and \"payload\" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.";

impl JsonConverter {
    /// A JSON converter; `schemas_enable` as Connect's `schemas.enable`.
    pub fn new(schemas_enable: bool) -> Self {
        Self {
            schemas_enable,
            schema_cache: HashMap::new(),
            last_schema: None,
        }
    }

    fn intern_schema(&mut self, schema: &RawValue) -> Result<Option<SchemaRef>, ConvertError> {
        let text = schema.get();
        if text == "null" {
            return Ok(None);
        }
        if let Some((last, s)) = &self.last_schema {
            if **last == *text {
                return Ok(Some(s.clone()));
            }
        }
        if let Some(s) = self.schema_cache.get(text) {
            let s = s.clone();
            self.last_schema = Some((text.into(), s.clone()));
            return Ok(Some(s));
        }
        let json: serde_json::Value = serde_json::from_str(text).map_err(serialization_error)?;
        let parsed = Schema::from_connect_json(&json)
            .map_err(|e| ConvertError::Data(format!("Invalid schema in JSON envelope: {e}")))?;
        if self.schema_cache.len() >= SCHEMA_CACHE_MAX {
            self.schema_cache.clear();
        }
        let arc = Arc::new(parsed);
        self.schema_cache.insert(text.into(), arc.clone());
        self.last_schema = Some((text.into(), arc.clone()));
        Ok(Some(arc))
    }
}

fn serialization_error(e: serde_json::Error) -> ConvertError {
    ConvertError::Data(format!(
        "Converting byte[] to Kafka Connect data failed due to serialization error: {e}"
    ))
}

impl Converter for JsonConverter {
    fn to_connect(
        &mut self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Data>, ConvertError> {
        let Some(bytes) = bytes.filter(|b| !b.is_empty()) else {
            return Ok(None);
        };
        if !self.schemas_enable {
            // Decoded here, in the one pass that also validates: every consumer of schemaless
            // JSON (transforms, Parquet, ClickHouse) needs the values, and keeping the text
            // would scan each message twice.
            let value = super::json::decode_schemaless_bytes(bytes).map_err(serialization_error)?;
            if matches!(value, super::value::Value::Null) {
                return Ok(None);
            }
            return Ok(Some(Data::Value {
                schema: None,
                value,
            }));
        }
        // One parse on the happy path; on failure a generic parse tells malformed JSON from a
        // missing envelope, so each gets Connect's message.
        let env: Envelope<'_> = match serde_json::from_slice(bytes) {
            Ok(env) => env,
            Err(_) => {
                let _: &RawValue = serde_json::from_slice(bytes).map_err(serialization_error)?;
                return Err(ConvertError::Data(ENVELOPE_ERROR.to_string()));
            }
        };
        if env.payload.get() == "null" {
            return Ok(None);
        }
        let schema = self.intern_schema(env.schema)?;
        Ok(Some(Data::Json {
            schema,
            payload: env.payload.to_owned(),
        }))
    }
}

/// `StringConverter`: UTF-8 text; invalid sequences are replaced, as Java's decoder does.
pub struct StringConverter;

impl Converter for StringConverter {
    fn to_connect(
        &mut self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Data>, ConvertError> {
        Ok(bytes.map(|b| Data::String(String::from_utf8_lossy(b).into_owned())))
    }
}

/// `ByteArrayConverter`: bytes unchanged.
pub struct ByteArrayConverter;

impl Converter for ByteArrayConverter {
    fn to_connect(
        &mut self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Data>, ConvertError> {
        Ok(bytes.map(|b| Data::Bytes(b.to_vec())))
    }
}

/// `SimpleHeaderConverter`: text when the header is UTF-8, bytes otherwise.
pub struct SimpleHeaderConverter;

impl Converter for SimpleHeaderConverter {
    fn to_connect(
        &mut self,
        _topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Data>, ConvertError> {
        Ok(bytes.map(|b| match std::str::from_utf8(b) {
            Ok(s) => Data::String(s.to_string()),
            Err(_) => Data::Bytes(b.to_vec()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::value::Value;

    fn json(schemas: bool) -> Box<dyn Converter> {
        let mut p = BTreeMap::new();
        p.insert("schemas.enable".to_string(), schemas.to_string());
        Converters::build(JSON_CONVERTER, &p, ConverterKind::Value).unwrap()
    }

    #[test]
    fn json_schemaless_is_decoded_in_one_pass() {
        let mut c = json(false);
        let d = c
            .to_connect("t", Some(br#"{"a": 1, "b": [true, "x"]}"#))
            .unwrap()
            .unwrap();
        let Data::Value {
            schema: None,
            value,
        } = &d
        else {
            panic!("schemaless JSON is decoded: {d:?}");
        };
        assert_eq!(
            value,
            &Value::Map(vec![
                (Value::String("a".into()), Value::Int(1)),
                (
                    Value::String("b".into()),
                    Value::Array(vec![Value::Boolean(true), Value::String("x".into())])
                ),
            ])
        );
        assert_eq!(d.to_text(), r#"{"a":1,"b":[true,"x"]}"#);
        // Written back in the message's key order.
        let d = c
            .to_connect("t", Some(br#"{"z": 1, "a": {"y": 2, "b": 3}}"#))
            .unwrap()
            .unwrap();
        assert_eq!(d.to_text(), r#"{"z":1,"a":{"y":2,"b":3}}"#);
        let e = c.to_connect("t", Some(b"{\"a\": \"\xff\"}")).unwrap_err();
        assert!(e.to_string().contains("serialization error"), "{e}");
        assert_eq!(c.to_connect("t", Some(b"null")).unwrap(), None);
        assert_eq!(c.to_connect("t", None).unwrap(), None);
        let e = c.to_connect("t", Some(b"{nope")).unwrap_err();
        assert!(e.to_string().starts_with(
            "Converting byte[] to Kafka Connect data failed due to serialization error"
        ));
    }

    #[test]
    fn json_envelope_is_required_and_schema_shared() {
        let mut c = JsonConverter::new(true);
        let msg = br#"{"schema":{"type":"int32","optional":false},"payload":5}"#;
        let a = c.to_connect("t", Some(msg)).unwrap().unwrap();
        let b = c.to_connect("t", Some(msg)).unwrap().unwrap();
        match (a, b) {
            (
                Data::Json {
                    schema: Some(s1),
                    payload,
                },
                Data::Json {
                    schema: Some(s2), ..
                },
            ) => {
                assert!(
                    Arc::ptr_eq(&s1, &s2),
                    "schema must be parsed once and shared"
                );
                assert_eq!(payload.get(), "5");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(c.schema_cache.len(), 1);
        let e = c
            .to_connect("t", Some(br#"{"schema":{"type":"nope"},"payload":1}"#))
            .unwrap_err();
        assert!(e.to_string().contains("unknown schema type"), "{e}");
        let e = c.to_connect("t", Some(br#"{"a":1}"#)).unwrap_err();
        assert_eq!(e.to_string(), ENVELOPE_ERROR);
        let e = c
            .to_connect("t", Some(br#"{"schema":null,"payload":1,"x":2}"#))
            .unwrap_err();
        assert_eq!(e.to_string(), ENVELOPE_ERROR);
        assert_eq!(
            c.to_connect("t", Some(br#"{"schema":null,"payload":null}"#))
                .unwrap(),
            None
        );
    }

    #[test]
    fn string_and_bytes() {
        let p = BTreeMap::new();
        let mut s = Converters::build(STRING_CONVERTER, &p, ConverterKind::Value).unwrap();
        assert_eq!(
            s.to_connect("t", Some(b"hi")).unwrap(),
            Some(Data::String("hi".into()))
        );
        let mut b = Converters::build(BYTE_ARRAY_CONVERTER, &p, ConverterKind::Key).unwrap();
        assert_eq!(
            b.to_connect("t", Some(&[0xff])).unwrap(),
            Some(Data::Bytes(vec![0xff]))
        );
        let mut h = Converters::build(SIMPLE_HEADER_CONVERTER, &p, ConverterKind::Header).unwrap();
        assert_eq!(
            h.to_connect("t", Some(&[0xff])).unwrap(),
            Some(Data::Bytes(vec![0xff]))
        );
    }

    #[test]
    fn unknown_class_and_bad_setting() {
        let p = BTreeMap::new();
        let e = Converters::build("com.example.Nope", &p, ConverterKind::Value)
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "Class com.example.Nope could not be found.");
        assert!(Converters::build(SIMPLE_HEADER_CONVERTER, &p, ConverterKind::Value).is_err());
        let mut p = BTreeMap::new();
        p.insert("schemas.enable".into(), "maybe".into());
        assert!(Converters::build(JSON_CONVERTER, &p, ConverterKind::Value).is_err());
    }
}
