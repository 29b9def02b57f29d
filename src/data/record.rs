//! The sink record: one Kafka record after conversion, as a `SinkTask` sees it.

use std::fmt;
use std::sync::Arc;

use serde_json::value::RawValue;

use super::schema::SchemaRef;
use super::value::Value;

/// A topic and partition, the unit of assignment and offset tracking.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition number.
    pub partition: i32,
}

impl TopicPartition {
    /// Builds a topic-partition.
    pub fn new(topic: impl Into<Arc<str>>, partition: i32) -> Self {
        Self {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A converted key, value or header. Kept close to the wire: JSON stays validated raw text, so
/// no `serde_json::Value` tree is built per record.
#[derive(Debug, Clone)]
pub enum Data {
    /// Text (StringConverter, or a JSON string).
    String(String),
    /// Opaque bytes (ByteArrayConverter).
    Bytes(Vec<u8>),
    /// Validated JSON, not yet decoded; `schema` is the Connect schema when the message
    /// carried one (JsonConverter with schemas.enable=true), parsed once per distinct schema.
    Json {
        /// The envelope's schema, shared by every record that uses it.
        schema: Option<SchemaRef>,
        /// The payload, as the original JSON text.
        payload: Box<RawValue>,
    },
    /// A decoded value (after transforms, or from a binary converter such as Avro).
    Value {
        /// Its schema; `None` for schemaless data.
        schema: Option<SchemaRef>,
        /// The value.
        value: Value,
    },
}

impl PartialEq for Data {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Data::String(a), Data::String(b)) => a == b,
            (Data::Bytes(a), Data::Bytes(b)) => a == b,
            (
                Data::Json {
                    schema: s1,
                    payload: p1,
                },
                Data::Json {
                    schema: s2,
                    payload: p2,
                },
            ) => p1.get() == p2.get() && s1 == s2,
            (
                Data::Value {
                    schema: s1,
                    value: v1,
                },
                Data::Value {
                    schema: s2,
                    value: v2,
                },
            ) => v1 == v2 && s1 == s2,
            _ => false,
        }
    }
}

impl Data {
    /// The decoded value and its schema: JSON is decoded with its schema (or schemalessly),
    /// strings and bytes become string and bytes values.
    pub fn to_value(&self) -> Result<(Option<SchemaRef>, Value), super::json::DecodeError> {
        Ok(match self {
            Data::String(s) => (None, Value::String(s.clone())),
            Data::Bytes(b) => (None, Value::Bytes(b.clone())),
            Data::Json {
                schema: Some(schema),
                payload,
            } => (
                Some(schema.clone()),
                super::json::decode(payload.get(), schema)?,
            ),
            Data::Json {
                schema: None,
                payload,
            } => (None, super::json::decode_schemaless(payload.get())?),
            Data::Value { schema, value } => (schema.clone(), value.clone()),
        })
    }

    /// Like [`Data::to_value`], but an already decoded value is borrowed, not copied.
    pub fn decoded(
        &self,
    ) -> Result<(Option<SchemaRef>, std::borrow::Cow<'_, Value>), super::json::DecodeError> {
        match self {
            Data::Value { schema, value } => {
                Ok((schema.clone(), std::borrow::Cow::Borrowed(value)))
            }
            other => other
                .to_value()
                .map(|(schema, value)| (schema, std::borrow::Cow::Owned(value))),
        }
    }

    /// The value as one line of text: strings as-is, JSON as its text, decoded values as their
    /// JsonConverter JSON with numeric decimals, bytes as UTF-8 (lossy).
    pub fn to_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Data::String(s) => s.as_str().into(),
            Data::Bytes(b) => String::from_utf8_lossy(b),
            Data::Json { payload, .. } => payload.get().into(),
            // With a schema, the JsonConverter form (structs as objects with field names).
            Data::Value {
                schema: Some(schema),
                value,
            } => super::json::encode_as(value, schema, super::json::DecimalFormat::Numeric)
                .to_string()
                .into(),
            Data::Value {
                schema: None,
                value,
            } => {
                let mut text = String::new();
                value.write_json(&mut text);
                text.into()
            }
        }
    }
}

/// A record header after header conversion.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Header key.
    pub key: String,
    /// Header value (`None` for a null header).
    pub value: Option<Data>,
}

/// One record handed to a sink task.
#[derive(Debug, Clone, PartialEq)]
pub struct SinkRecord {
    /// Topic of the record (transforms such as RegexRouter may rename it).
    pub topic: Arc<str>,
    /// The Kafka topic it was read from, never changed by transforms (KIP-793's
    /// `originalTopic`); sinks key offsets and exactly-once state on this.
    pub original_topic: Arc<str>,
    /// Kafka partition.
    pub partition: i32,
    /// Kafka offset.
    pub offset: i64,
    /// Record timestamp in epoch milliseconds, if any.
    pub timestamp: Option<i64>,
    /// Converted key (`None` = null key).
    pub key: Option<Data>,
    /// Converted value (`None` = tombstone).
    pub value: Option<Data>,
    /// Converted headers, in order.
    pub headers: Vec<Header>,
}

impl SinkRecord {
    /// The Kafka topic-partition this record was read from.
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(self.original_topic.clone(), self.partition)
    }
}
