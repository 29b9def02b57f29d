//! Parquet files and the per-partition writer that rotates them.

pub mod compat;
pub mod file;
pub mod partition;

pub use file::{FileOptions, ParquetFile, WriteError};
pub use partition::{PartitionWriter, SealedFile};
