//! One Parquet file being written: Arrow builders in front of a parquet `ArrowWriter`.
//!
//! Records with a schema stream into an `ArrowWriter` over an in-memory buffer (row groups are
//! encoded as they fill, so memory is roughly the encoded file). Schemaless records are held in
//! an `InferredBatchBuilder` until the file is finished, because the file's schema is the union
//! of all its rows.

use std::sync::Arc;

use arrow::datatypes::Schema as ArrowSchema;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use thiserror::Error;

use crate::data::arrow::{
    AppendError, ArrowOptions, BatchBuilder, InferredBatchBuilder, MappingError,
};
use crate::data::{SchemaRef, Value};

/// Rows buffered in Arrow builders before they are handed to the Parquet encoder.
const BATCH_ROWS: usize = 4096;

/// Failures while encoding a file.
#[derive(Debug, Error)]
pub enum WriteError {
    /// The record does not fit the file's columns.
    #[error("{0}")]
    Append(#[from] AppendError),
    /// The record schema has no Arrow mapping.
    #[error("{0}")]
    Mapping(#[from] MappingError),
    /// The Parquet encoder failed.
    #[error("parquet encoding failed: {0}")]
    Parquet(#[from] ParquetError),
}

/// How files are encoded.
#[derive(Debug, Clone)]
pub struct FileOptions {
    /// Column compression.
    pub compression: Compression,
    /// Rows per row group.
    pub row_group_size: usize,
    /// Arrow conversion policies.
    pub arrow: ArrowOptions,
}

impl FileOptions {
    fn properties(&self) -> WriterProperties {
        WriterProperties::builder()
            .set_compression(self.compression)
            .set_max_row_group_row_count(Some(self.row_group_size.max(1)))
            .set_dictionary_enabled(true)
            .set_statistics_enabled(EnabledStatistics::Page)
            .set_created_by(format!("sluice version {}", env!("CARGO_PKG_VERSION")))
            .build()
    }
}

enum Body {
    Typed {
        schema: SchemaRef,
        builder: BatchBuilder,
        writer: Box<ArrowWriter<Vec<u8>>>,
    },
    Inferred(InferredBatchBuilder),
}

/// A file of one output directory of one Kafka partition.
pub struct ParquetFile {
    /// First Kafka offset written.
    pub first_offset: i64,
    /// Last Kafka offset written.
    pub last_offset: i64,
    /// Rows written.
    pub records: u64,
    body: Body,
    options: FileOptions,
}

impl std::fmt::Debug for ParquetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetFile")
            .field("first_offset", &self.first_offset)
            .field("last_offset", &self.last_offset)
            .field("records", &self.records)
            .finish()
    }
}

impl ParquetFile {
    /// A file for records with this Connect schema (a struct).
    pub fn typed(schema: &SchemaRef, options: &FileOptions) -> Result<Self, WriteError> {
        let builder = BatchBuilder::with_options(schema, options.arrow.clone())?;
        let writer = Box::new(ArrowWriter::try_new(
            Vec::new(),
            builder.schema().clone(),
            Some(options.properties()),
        )?);
        Ok(Self {
            first_offset: -1,
            last_offset: -1,
            records: 0,
            body: Body::Typed {
                schema: schema.clone(),
                builder,
                writer,
            },
            options: options.clone(),
        })
    }

    /// A file for schemaless records (JSON objects); columns are inferred and widened.
    pub fn inferred(options: &FileOptions) -> Self {
        Self {
            first_offset: -1,
            last_offset: -1,
            records: 0,
            body: Body::Inferred(InferredBatchBuilder::new(options.arrow.clone())),
            options: options.clone(),
        }
    }

    /// The file's Connect schema (`None` for schemaless files).
    pub fn schema(&self) -> Option<&SchemaRef> {
        match &self.body {
            Body::Typed { schema, .. } => Some(schema),
            Body::Inferred(_) => None,
        }
    }

    /// True when a record with `schema` belongs in this file.
    pub fn accepts(&self, schema: Option<&SchemaRef>) -> bool {
        match (&self.body, schema) {
            (Body::Typed { schema: mine, .. }, Some(s)) => Arc::ptr_eq(mine, s) || **mine == **s,
            (Body::Inferred(_), None) => true,
            _ => false,
        }
    }

    /// Appends one record value at `offset`; on error the file is unchanged.
    pub fn append(&mut self, value: &Value, offset: i64) -> Result<(), WriteError> {
        match &mut self.body {
            Body::Typed {
                builder, writer, ..
            } => {
                builder.append(value)?;
                if builder.len() >= BATCH_ROWS {
                    writer.write(&builder.finish())?;
                }
            }
            Body::Inferred(b) => b.append(value)?,
        }
        if self.records == 0 {
            self.first_offset = offset;
        }
        self.last_offset = offset;
        self.records += 1;
        Ok(())
    }

    /// Bytes held in memory (builders, encoded row groups, the encoded output so far).
    pub fn memory_bytes(&self) -> usize {
        match &self.body {
            Body::Typed {
                builder, writer, ..
            } => builder.estimated_bytes() + writer.memory_size() + writer.inner().capacity(),
            Body::Inferred(b) => b.estimated_bytes(),
        }
    }

    /// Estimated size of the finished file (for `flush.size.bytes`). Schemaless files are
    /// estimated from their Arrow size, which overstates the compressed size.
    pub fn encoded_bytes(&self) -> usize {
        match &self.body {
            Body::Typed {
                builder, writer, ..
            } => writer.bytes_written() + writer.in_progress_size() + builder.estimated_bytes() / 4,
            Body::Inferred(b) => b.estimated_bytes() / 4,
        }
    }

    /// Finishes the file with key-value metadata; returns its bytes.
    pub fn finish(self, metadata: Vec<(String, String)>) -> Result<Vec<u8>, WriteError> {
        let mut writer = match self.body {
            Body::Typed {
                mut builder,
                mut writer,
                ..
            } => {
                if !builder.is_empty() {
                    writer.write(&builder.finish())?;
                }
                *writer
            }
            Body::Inferred(mut b) => {
                let batch = b.finish();
                let schema: Arc<ArrowSchema> = batch.schema();
                let mut w =
                    ArrowWriter::try_new(Vec::new(), schema, Some(self.options.properties()))?;
                w.write(&batch)?;
                w
            }
        };
        for (k, v) in metadata {
            writer.append_key_value_metadata(KeyValue::new(k, v));
        }
        Ok(writer.into_inner()?)
    }
}
