//! Record model and converters: Kafka bytes in, Connect data out.

pub mod arrow;
pub mod avro;
pub mod converter;
pub mod json;
pub mod record;
pub mod schema;
pub mod value;

pub use converter::{ConvertError, Converter, ConverterKind, Converters};
pub use record::{Data, Header, SinkRecord, TopicPartition};
pub use schema::{Field, Kind, Logical, Schema, SchemaRef};
pub use value::{Decimal, Value};
