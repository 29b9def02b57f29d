//! S3-Parquet sink: Confluent S3 sink (Parquet format) compatible config and object layout,
//! exactly-once through a per-partition index in the bucket, a local-directory store by default.
//!
//! Folders: `storage/` (S3 and local object stores), `partition/` (partitioners, timestamp
//! extractors, path formats), `writer/` (Parquet files and per-partition rotation); `config.rs`
//! (typed config), `index.rs` (exactly-once index log), `budget.rs` (worker-wide memory budget),
//! `task.rs` (the `SinkTask`).

pub mod budget;
pub mod config;
pub mod connector;
pub mod index;
pub mod partition;
pub mod storage;
pub mod task;
pub mod writer;

pub use connector::S3ParquetSinkConnector;
