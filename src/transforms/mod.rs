//! Single message transforms (SMTs) and predicates, by their Kafka Connect and Debezium class
//! names, applied between conversion and `SinkTask::put`.
//!
//! A connector config names them exactly as in Kafka Connect (`transforms=unwrap,route`,
//! `transforms.unwrap.type=io.debezium.transforms.ExtractNewRecordState`,
//! `transforms.route.predicate=...`, `predicates=...`); [`TransformChain::from_config`] reads it.
//! Each class's keys are defined once in `schemas/transforms/<class>.json`, which also drives
//! validation of `transforms.<alias>.*` keys ([`transform_def`], [`predicate_def`]).
//!
//! Transforms work on schema'd data (structs with a Connect schema, producing an updated schema
//! that is cached per input schema) and on schemaless data (maps), as Connect's SMTs do. Data
//! is decoded only when a transform needs the key or value; routers and filters never decode.

mod cast;
mod catalog;
mod chain;
pub(crate) mod date_format;
mod extract_field;
mod extract_new_record_state;
mod flatten;
mod hoist_field;
mod insert_field;
mod mask_field;
mod predicates;
mod regex_router;
mod replace_field;
mod support;
mod timestamp_converter;
mod timestamp_router;
mod value_to_key;

#[cfg(test)]
mod tests;

use thiserror::Error;

use crate::data::json::DecodeError;
use crate::data::SinkRecord;

pub use catalog::{
    predicate_classes, predicate_def, transform_def, transformation_classes,
    EXTRACT_NEW_RECORD_STATE, FILTER, HAS_HEADER_KEY, RECORD_IS_TOMBSTONE, REGEX_ROUTER,
    TOPIC_NAME_MATCHES,
};
pub use chain::{ChainError, TransformChain, TransformConfigError};
pub use support::Side;

/// Connect's `DataException`, the class reported for a failing transform.
pub const DATA_EXCEPTION: &str = "org.apache.kafka.connect.errors.DataException";

/// A single message transform (Connect's `Transformation`).
pub trait Transformation: Send {
    /// Transforms one record; `Ok(None)` drops it (it still counts as consumed).
    fn apply(&mut self, record: SinkRecord) -> Result<Option<SinkRecord>, TransformError>;
}

/// A condition deciding whether a transform applies to a record (Connect's `Predicate`).
pub trait Predicate: Send {
    /// Whether the record matches.
    fn test(&self, record: &SinkRecord) -> bool;
}

/// Why a transform could not process a record: a record-level failure that goes through the
/// task's error handler (`errors.tolerance`, DLQ) at stage `TRANSFORMATION`.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum TransformError {
    /// The record does not have the shape the transform needs (Connect's `DataException`).
    #[error("{0}")]
    Data(String),
    /// The key or value could not be decoded with its schema.
    #[error("{0}")]
    Decode(#[from] DecodeError),
}

impl TransformError {
    /// The Java exception class Connect reports for this failure.
    pub fn exception_class(&self) -> &'static str {
        DATA_EXCEPTION
    }
}
