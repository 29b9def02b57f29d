//! Record model and converters: Kafka bytes in, Connect data out.

pub mod converter;
pub mod record;

pub use converter::{ConvertError, Converter, ConverterKind, Converters};
pub use record::{Data, Header, SinkRecord, TopicPartition};
