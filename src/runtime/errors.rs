//! The one error handler every record failure goes through: `errors.tolerance`,
//! `errors.log.enable`, `errors.log.include.messages` and the dead letter queue.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::message::{Header as KafkaHeader, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::runtime::Handle;

use crate::kafka::{client_config, ClientRole};
use crate::metrics::TaskMetrics;
use crate::worker::WorkerConfig;

/// Connect's processing stages, as named in `__connect.errors.stage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Key conversion.
    KeyConverter,
    /// Value conversion.
    ValueConverter,
    /// Header conversion.
    HeaderConverter,
    /// A transformation.
    Transformation,
    /// `SinkTask::put`.
    TaskPut,
}

impl Stage {
    /// Connect's name for the stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::Transformation => "TRANSFORMATION",
            Stage::TaskPut => "TASK_PUT",
        }
    }
}

/// One record-level failure.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Where it happened.
    pub stage: Stage,
    /// The class executing the stage (converter, transform or task class).
    pub class_name: String,
    /// Java exception class reported in traces and DLQ headers.
    pub exception_class: &'static str,
    /// What went wrong.
    pub message: String,
}

/// Java exception class names used in traces, for tools that parse them.
pub const DATA_EXCEPTION: &str = "org.apache.kafka.connect.errors.DataException";
/// Connect's retriable exception class name (a dependency was away; retries ran out).
pub const RETRIABLE_EXCEPTION: &str = "org.apache.kafka.connect.errors.RetriableException";
/// Generic Connect exception class name.
pub const CONNECT_EXCEPTION: &str = "org.apache.kafka.connect.errors.ConnectException";

/// Why a task stops with FAILED; `trace` is what the status API shows.
#[derive(Debug, Clone)]
pub struct TaskFailure {
    /// Readable trace (first line: exception class and message).
    pub trace: String,
}

impl TaskFailure {
    /// A failure with a plain message.
    pub fn new(message: impl fmt::Display) -> Self {
        Self {
            trace: format!("{CONNECT_EXCEPTION}: {message}"),
        }
    }
}

impl fmt::Display for TaskFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.trace)
    }
}

/// The original Kafka record, as the DLQ must carry it.
pub struct RawRecord<'a> {
    /// Topic.
    pub topic: &'a str,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp (epoch ms).
    pub timestamp: Option<i64>,
    /// Key bytes.
    pub key: Option<&'a [u8]>,
    /// Value bytes.
    pub value: Option<&'a [u8]>,
    /// Headers.
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
}

struct DeadLetterQueue {
    producer: FutureProducer,
    topic: String,
    context_headers: bool,
}

/// Applies the connector's error-handling settings.
pub struct ErrorHandler {
    tolerate_all: bool,
    log: bool,
    log_messages: bool,
    dlq: Option<DeadLetterQueue>,
    connector: String,
    task: u32,
    metrics: TaskMetrics,
}

fn flag(config: &BTreeMap<String, String>, key: &str) -> bool {
    config
        .get(key)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// Delivery timeout for DLQ records; a DLQ that can't take a record fails the task.
const DLQ_TIMEOUT: Duration = Duration::from_secs(30);

impl ErrorHandler {
    /// Builds the handler from the task config; creates the DLQ topic when configured.
    pub fn new(
        rt: &Handle,
        config: &BTreeMap<String, String>,
        worker: &WorkerConfig,
        connector: &str,
        task: u32,
        metrics: TaskMetrics,
    ) -> Result<Self, TaskFailure> {
        let dlq_topic = config
            .get("errors.deadletterqueue.topic.name")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        let bootstrap = worker.bootstrap_servers.as_str();
        let dlq = match dlq_topic {
            None => None,
            Some(topic) => {
                let overrides: BTreeMap<String, String> = config
                    .iter()
                    .filter_map(|(k, v)| {
                        k.strip_prefix("producer.override.")
                            .map(|k| (k.to_string(), v.clone()))
                    })
                    .collect();
                let (cfg, _) = client_config(
                    &[("bootstrap.servers", bootstrap.to_string())],
                    &[&worker.with_prefix("producer."), &overrides],
                    ClientRole::Producer,
                );
                let producer: FutureProducer = cfg.create().map_err(|e| {
                    TaskFailure::new(format!("cannot create the dead letter queue producer: {e}"))
                })?;
                let rf: i32 = config
                    .get("errors.deadletterqueue.topic.replication.factor")
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(3);
                ensure_topic(rt, bootstrap, &worker.with_prefix("admin."), topic, rf);
                Some(DeadLetterQueue {
                    producer,
                    topic: topic.to_string(),
                    context_headers: flag(config, "errors.deadletterqueue.context.headers.enable"),
                })
            }
        };
        Ok(Self {
            tolerate_all: config
                .get("errors.tolerance")
                .is_some_and(|v| v.trim() == "all"),
            log: flag(config, "errors.log.enable"),
            log_messages: flag(config, "errors.log.include.messages"),
            dlq,
            connector: connector.to_string(),
            task,
            metrics,
        })
    }

    /// Handles one failed record: `Ok` means skip it and go on; `Err` means the task fails.
    pub fn handle(
        &self,
        rt: &Handle,
        record: &RawRecord<'_>,
        failure: &Failure,
    ) -> Result<(), TaskFailure> {
        self.metrics.record_error(failure.stage.as_str());
        if self.log {
            let msg = if self.log_messages {
                format!(
                    ", key={:?}, value={:?}",
                    record.key.map(String::from_utf8_lossy),
                    record.value.map(String::from_utf8_lossy)
                )
            } else {
                String::new()
            };
            tracing::error!(
                connector = %self.connector, task = self.task,
                "Error encountered in task {}-{}. Executing stage '{}' with class '{}', where consumed record is {{topic='{}', partition={}, offset={}{msg}}}: {}",
                self.connector, self.task, failure.stage.as_str(), failure.class_name,
                record.topic, record.partition, record.offset, failure.message
            );
        }
        if !self.tolerate_all {
            return Err(TaskFailure {
                trace: self.trace(record, failure),
            });
        }
        if let Some(dlq) = &self.dlq {
            self.send_to_dlq(rt, dlq, record, failure)?;
            self.metrics.records_dlq.inc();
        }
        self.metrics.records_skipped.inc();
        Ok(())
    }

    fn trace(&self, record: &RawRecord<'_>, failure: &Failure) -> String {
        format!(
            "{CONNECT_EXCEPTION}: Tolerance exceeded in error handler\n\
             Caused by: {}: {}\n\
             \tat stage {} ({}) for record topic={} partition={} offset={}\n\
             \tin connector {} task {}",
            failure.exception_class,
            failure.message,
            failure.stage.as_str(),
            failure.class_name,
            record.topic,
            record.partition,
            record.offset,
            self.connector,
            self.task
        )
    }

    fn send_to_dlq(
        &self,
        rt: &Handle,
        dlq: &DeadLetterQueue,
        record: &RawRecord<'_>,
        failure: &Failure,
    ) -> Result<(), TaskFailure> {
        let mut headers = OwnedHeaders::new();
        for (k, v) in &record.headers {
            headers = headers.insert(KafkaHeader { key: k, value: *v });
        }
        if dlq.context_headers {
            let ctx = [
                ("__connect.errors.topic", record.topic.to_string()),
                ("__connect.errors.partition", record.partition.to_string()),
                ("__connect.errors.offset", record.offset.to_string()),
                ("__connect.errors.connector.name", self.connector.clone()),
                ("__connect.errors.task.id", self.task.to_string()),
                ("__connect.errors.stage", failure.stage.as_str().to_string()),
                ("__connect.errors.class.name", failure.class_name.clone()),
                (
                    "__connect.errors.exception.class.name",
                    failure.exception_class.to_string(),
                ),
                (
                    "__connect.errors.exception.message",
                    failure.message.clone(),
                ),
                (
                    "__connect.errors.exception.stacktrace",
                    self.trace(record, failure),
                ),
            ];
            for (k, v) in &ctx {
                headers = headers.insert(KafkaHeader {
                    key: k,
                    value: Some(v.as_bytes()),
                });
            }
        }
        let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&dlq.topic).headers(headers);
        if let Some(k) = record.key {
            rec = rec.key(k);
        }
        if let Some(v) = record.value {
            rec = rec.payload(v);
        }
        if let Some(ts) = record.timestamp {
            rec = rec.timestamp(ts);
        }
        rt.block_on(dlq.producer.send(rec, DLQ_TIMEOUT))
            .map(|_| ())
            .map_err(|(e, _)| {
                TaskFailure::new(format!(
                    "Could not produce message to dead letter queue topic {}: {e}",
                    dlq.topic
                ))
            })
    }
}

/// Creates the DLQ topic (one partition) if it does not exist. The replication factor is capped
/// at the broker count so a one-broker dev cluster works with Connect's default of 3.
fn ensure_topic(
    rt: &Handle,
    bootstrap: &str,
    admin_props: &BTreeMap<String, String>,
    topic: &str,
    rf: i32,
) {
    let (cfg, _) = client_config(
        &[("bootstrap.servers", bootstrap.to_string())],
        &[admin_props],
        ClientRole::Admin,
    );
    let admin: AdminClient<DefaultClientContext> = match cfg.create() {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!("cannot create admin client for the DLQ topic {topic}: {e}");
            return;
        }
    };
    let timeout = Duration::from_secs(10);
    let brokers = admin
        .inner()
        .fetch_metadata(Some(topic), timeout)
        .map(|md| {
            let exists = md
                .topics()
                .iter()
                .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
            (md.brokers().len() as i32, exists)
        });
    let (brokers, exists) = match brokers {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!("cannot read metadata for the DLQ topic {topic}: {e}");
            return;
        }
    };
    if exists {
        return;
    }
    let rf = rf.clamp(1, brokers.max(1));
    let opts = AdminOptions::new()
        .request_timeout(Some(timeout))
        .operation_timeout(Some(timeout));
    let new = NewTopic::new(topic, 1, TopicReplication::Fixed(rf));
    match rt.block_on(admin.create_topics([&new], &opts)) {
        Ok(results) => {
            for r in results {
                if let Err((t, code)) = r {
                    if code != rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists {
                        tracing::warn!(
                            "cannot create DLQ topic {t}: {code}; relying on auto-creation"
                        );
                    }
                }
            }
        }
        Err(e) => tracing::warn!("cannot create DLQ topic {topic}: {e}; relying on auto-creation"),
    }
}
