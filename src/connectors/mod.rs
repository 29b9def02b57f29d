//! Connector plugins: the `SinkConnector` / `SinkTask` contracts and one folder per plugin.

pub mod clickhouse;
pub mod debezium_proxy;
pub mod file;
pub mod registry;
pub mod s3_parquet;

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use thiserror::Error;

use crate::configdef::ConfigDef;
use crate::data::{SinkRecord, TopicPartition};

pub use registry::{PluginInfo, Plugins};

/// A connector's task configuration (strings, as in Connect).
pub type TaskConfig = BTreeMap<String, String>;

/// Errors a sink task reports. The runtime decides what each means for the task.
#[derive(Debug, Error)]
pub enum SinkError {
    /// Temporary (target down, throttled): the runtime retries the same call with backoff.
    #[error("{0}")]
    Retriable(String),
    /// Record `index` of the batch given to `put` cannot be written; records before it were
    /// accepted, records after it were not looked at. The error handler decides (tolerance/DLQ).
    #[error("{message}")]
    Record {
        /// Index of the failing record in the batch.
        index: usize,
        /// Why it failed.
        message: String,
    },
    /// Anything else: the task fails with this message in its trace.
    #[error("{0}")]
    Fatal(String),
}

impl From<std::io::Error> for SinkError {
    fn from(e: std::io::Error) -> Self {
        SinkError::Fatal(e.to_string())
    }
}

/// A partition offset change of `PATCH .../offsets` (`None` = reset that partition).
pub type OffsetChange = (TopicPartition, Option<i64>);

/// A sink connector plugin: its config definitions and how it splits work into tasks.
#[async_trait]
pub trait SinkConnector: Send + Sync {
    /// The plugin's config definitions (from `schemas/<plugin>.json`).
    fn config_def(&self) -> &'static ConfigDef;

    /// The class name reported as `task.class` in task configs.
    fn task_class(&self) -> &'static str;

    /// Cross-field checks beyond the schema: `(key, message)` pairs.
    fn validate(&self, _config: &BTreeMap<String, String>) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Task configs for up to `max_tasks` tasks (Connect copies the connector config by default).
    fn task_configs(&self, config: &BTreeMap<String, String>, max_tasks: usize) -> Vec<TaskConfig> {
        vec![config.clone(); max_tasks]
    }

    /// A new, unstarted task.
    fn create_task(&self) -> Box<dyn SinkTask>;

    /// Rewrites offsets the plugin keeps in its target (KIP-875's `alterOffsets`), called while
    /// the connector is stopped, before the group offsets change. `changes` is `None` for a
    /// reset of every partition. Returns true when the plugin keeps such offsets.
    async fn alter_offsets(
        &self,
        _config: &BTreeMap<String, String>,
        _changes: Option<&[OffsetChange]>,
    ) -> Result<bool, String> {
        Ok(false)
    }
}

/// A sink task: Kafka Connect's `SinkTask` contract, async.
///
/// Offsets are "next offset to read" (Kafka's committed-offset convention).
#[async_trait]
pub trait SinkTask: Send {
    /// Starts with the task config.
    async fn start(&mut self, config: &TaskConfig) -> Result<(), SinkError>;

    /// Partitions were assigned. Returns offsets to resume from, for sinks that keep their
    /// position in the target (exactly-once); the runtime seeks there.
    async fn open(
        &mut self,
        _partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        Ok(HashMap::new())
    }

    /// Takes a batch of records, in offset order per partition.
    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), SinkError>;

    /// Makes data durable and returns, per partition, the offset up to which it is durable.
    /// `consumed` is what the runtime has handed over (or skipped) so far.
    async fn flush(
        &mut self,
        consumed: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>, SinkError>;

    /// Called regularly (about every 100 ms, also when no records arrive) for time-driven work
    /// such as idle or scheduled file rotation. Errors are handled like `put`'s.
    async fn tick(&mut self) -> Result<(), SinkError> {
        Ok(())
    }

    /// Partitions were revoked (after a final `flush`).
    async fn close(&mut self, _partitions: &[TopicPartition]) -> Result<(), SinkError> {
        Ok(())
    }

    /// The task is stopping for good.
    async fn stop(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
}
