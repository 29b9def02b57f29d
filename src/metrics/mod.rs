//! Prometheus metrics (text exposition at `GET /metrics`).

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of per-task series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabels {
    /// Connector name.
    pub connector: String,
    /// Task id.
    pub task: String,
}

/// Labels of error series (per failing stage).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    /// Connector name.
    pub connector: String,
    /// Task id.
    pub task: String,
    /// Connect's stage name, e.g. `VALUE_CONVERTER`.
    pub stage: String,
}

/// Labels of per-partition series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// Connector name.
    pub connector: String,
    /// Task id.
    pub task: String,
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: String,
}

/// Labels of state series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    /// Connector name.
    pub connector: String,
    /// Task id, or "connector" for the connector itself.
    pub task: String,
    /// Runtime state.
    pub state: String,
}

type HistogramFamily = Family<TaskLabels, Histogram, fn() -> Histogram>;

/// Every metric Sluice exports.
pub struct Metrics {
    registry: Registry,
    records_read: Family<TaskLabels, Counter>,
    records_put: Family<TaskLabels, Counter>,
    record_errors: Family<StageLabels, Counter>,
    records_dlq: Family<TaskLabels, Counter>,
    records_skipped: Family<TaskLabels, Counter>,
    offset_commits: Family<TaskLabels, Counter>,
    offset_commit_failures: Family<TaskLabels, Counter>,
    put_seconds: HistogramFamily,
    partition_lag: Family<PartitionLabels, Gauge>,
    /// 1 for the current state of each connector and task.
    pub states: Family<StateLabels, Gauge>,
}

fn put_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("sluice");
        let m = Metrics {
            records_read: Family::default(),
            records_put: Family::default(),
            record_errors: Family::default(),
            records_dlq: Family::default(),
            records_skipped: Family::default(),
            offset_commits: Family::default(),
            offset_commit_failures: Family::default(),
            put_seconds: Family::new_with_constructor(put_histogram),
            partition_lag: Family::default(),
            states: Family::default(),
            registry: Registry::default(),
        };
        registry.register(
            "sink_records_read",
            "Records read from Kafka",
            m.records_read.clone(),
        );
        registry.register(
            "sink_records_put",
            "Records handed to the sink",
            m.records_put.clone(),
        );
        registry.register(
            "sink_record_errors",
            "Record failures by stage",
            m.record_errors.clone(),
        );
        registry.register(
            "sink_records_dlq",
            "Records sent to the dead letter queue",
            m.records_dlq.clone(),
        );
        registry.register(
            "sink_records_skipped",
            "Records skipped by errors.tolerance=all",
            m.records_skipped.clone(),
        );
        registry.register(
            "offset_commits",
            "Successful offset commits",
            m.offset_commits.clone(),
        );
        registry.register(
            "offset_commit_failures",
            "Failed offset commits",
            m.offset_commit_failures.clone(),
        );
        registry.register(
            "sink_put_seconds",
            "Time spent in SinkTask::put",
            m.put_seconds.clone(),
        );
        registry.register(
            "sink_partition_lag_records",
            "End offset minus committed offset per assigned partition",
            m.partition_lag.clone(),
        );
        registry.register(
            "state",
            "1 for the current runtime state of a connector or task",
            m.states.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Pre-resolved series for one task (no label lookups on the hot path).
    pub fn task(&self, connector: &str, task: u32) -> TaskMetrics {
        let labels = TaskLabels {
            connector: connector.to_string(),
            task: task.to_string(),
        };
        TaskMetrics {
            records_read: self.records_read.get_or_create_owned(&labels),
            records_put: self.records_put.get_or_create_owned(&labels),
            records_dlq: self.records_dlq.get_or_create_owned(&labels),
            records_skipped: self.records_skipped.get_or_create_owned(&labels),
            offset_commits: self.offset_commits.get_or_create_owned(&labels),
            offset_commit_failures: self.offset_commit_failures.get_or_create_owned(&labels),
            put_seconds: self.put_seconds.get_or_create_owned(&labels),
            record_errors: self.record_errors.clone(),
            partition_lag: self.partition_lag.clone(),
            labels,
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// One task's series.
#[derive(Clone)]
pub struct TaskMetrics {
    labels: TaskLabels,
    /// Records read.
    pub records_read: Counter,
    /// Records put.
    pub records_put: Counter,
    /// Records to the DLQ.
    pub records_dlq: Counter,
    /// Records skipped (tolerated).
    pub records_skipped: Counter,
    /// Offset commits.
    pub offset_commits: Counter,
    /// Failed offset commits.
    pub offset_commit_failures: Counter,
    /// Put latency.
    pub put_seconds: Histogram,
    record_errors: Family<StageLabels, Counter>,
    partition_lag: Family<PartitionLabels, Gauge>,
}

impl TaskMetrics {
    /// Counts one failure at `stage`.
    pub fn record_error(&self, stage: &str) {
        self.record_errors
            .get_or_create(&StageLabels {
                connector: self.labels.connector.clone(),
                task: self.labels.task.clone(),
                stage: stage.to_string(),
            })
            .inc();
    }

    fn partition(&self, topic: &str, partition: i32) -> PartitionLabels {
        PartitionLabels {
            connector: self.labels.connector.clone(),
            task: self.labels.task.clone(),
            topic: topic.to_string(),
            partition: partition.to_string(),
        }
    }

    /// Sets a partition's lag.
    pub fn set_lag(&self, topic: &str, partition: i32, lag: i64) {
        self.partition_lag
            .get_or_create(&self.partition(topic, partition))
            .set(lag);
    }

    /// Drops a partition's lag series (partition revoked).
    pub fn clear_lag(&self, topic: &str, partition: i32) {
        self.partition_lag.remove(&self.partition(topic, partition));
    }
}
