//! Avro with a Confluent Schema Registry: the wire format, a registry client, Avro schema
//! parsing, Confluent AvroData's Avro → Connect mapping, and binary decoding straight into
//! [`Value`](crate::data::Value). The converter class is `io.confluent.connect.avro.AvroConverter`.

pub mod converter;
pub mod decode;
pub mod mapping;
pub mod registry;
pub mod schema;
pub mod wire;

pub use converter::{AvroConverter, AvroConverterConfig, SubjectNameStrategy, AVRO_CONVERTER};
pub use decode::DecodeError;
pub use mapping::{AvroData, AvroDataConfig, Mapped, MappingError};
pub use registry::{
    Auth, RegisteredSchema, RegistryClient, RegistryConfig, RegistryError, SchemaReference,
};
pub use schema::{AvroField, AvroKind, AvroSchema, AvroSchemaError, FullName, Names};
