//! Kafka Connect REST entities with their exact JSON field names.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerInfo {
    /// Connect REST API level implemented.
    pub version: String,
    /// Build identifier.
    pub commit: String,
    /// The Kafka cluster id (snake_case, as Connect writes it).
    pub kafka_cluster_id: Option<String>,
    /// Sluice's own version (additive field).
    pub sluice_version: String,
}

/// `{"connector": name, "task": n}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorTaskId {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: u32,
}

/// `ConnectorInfo`: `GET /connectors/{c}` and create/update responses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorInfo {
    /// Name.
    pub name: String,
    /// Config (strings).
    pub config: BTreeMap<String, String>,
    /// Task ids (`[]` when none or STOPPED).
    pub tasks: Vec<ConnectorTaskId>,
    /// `sink`, `source` or `unknown`.
    #[serde(rename = "type")]
    pub connector_type: String,
}

/// State of the connector instance in `ConnectorStateInfo`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorState {
    /// Uppercase state.
    pub state: String,
    /// `host:port` of the worker.
    pub worker_id: String,
    /// Failure trace; omitted when empty.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub trace: Option<String>,
}

/// State of one task in `ConnectorStateInfo` and `GET .../tasks/{t}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskState {
    /// Task number.
    pub id: u32,
    /// Uppercase state.
    pub state: String,
    /// `host:port` of the worker.
    pub worker_id: String,
    /// Failure trace; omitted when empty.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub trace: Option<String>,
}

fn is_empty(t: &Option<String>) -> bool {
    t.as_deref().is_none_or(str::is_empty)
}

/// `ConnectorStateInfo`: `GET /connectors/{c}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorStateInfo {
    /// Name.
    pub name: String,
    /// The connector instance.
    pub connector: ConnectorState,
    /// Tasks, sorted by id.
    pub tasks: Vec<TaskState>,
    /// `sink`, `source` or `unknown`.
    #[serde(rename = "type")]
    pub connector_type: String,
}

/// `TaskInfo`: `GET /connectors/{c}/tasks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskInfo {
    /// Task id.
    pub id: ConnectorTaskId,
    /// Task config.
    pub config: BTreeMap<String, String>,
}

/// `{"kafka_topic", "kafka_partition"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkPartition {
    /// Topic.
    pub kafka_topic: String,
    /// Partition.
    pub kafka_partition: i32,
}

/// `{"kafka_offset"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SinkOffset {
    /// Next offset to read.
    pub kafka_offset: i64,
}

/// One entry of `ConnectorOffsets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorOffset {
    /// The partition.
    pub partition: SinkPartition,
    /// Its offset.
    pub offset: SinkOffset,
}

/// `ConnectorOffsets`: `GET /connectors/{c}/offsets`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectorOffsets {
    /// Committed offsets.
    pub offsets: Vec<ConnectorOffset>,
}

/// `Message`: `{"message": ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Text.
    pub message: String,
}

/// `WorkerStatus`: `GET /health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkerStatus {
    /// `healthy`, `starting` or `unhealthy`.
    pub status: String,
    /// Explanation.
    pub message: String,
}

/// `LoggerLevel`: `GET /admin/loggers/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggerLevel {
    /// Level name (uppercase).
    pub level: String,
    /// When it was last set (epoch ms), `null` if never.
    pub last_modified: Option<i64>,
}

/// `{"topics": [...]}` of `ActiveTopicsInfo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveTopics {
    /// Topic names.
    pub topics: Vec<String>,
}
