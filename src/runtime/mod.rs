//! Sink task runtime: one thread per task driving a group consumer and a `SinkTask`, with
//! per-partition offset tracking, commits of durable offsets only, and the error handler.

pub mod consumer;
pub mod errors;
pub mod offsets;
pub mod status;
pub mod task;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::watch;

use crate::connectors::{SinkConnector, TaskConfig};
use crate::metrics::TaskMetrics;
use crate::worker::WorkerConfig;

pub use errors::TaskFailure;
pub use offsets::PartitionOffsets;
pub use status::{State, Status, TaskShared};
pub use task::group_id;

/// Commands from the herder to a running task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Stop consuming, keep the assignment.
    Pause,
    /// Consume again.
    Resume,
    /// Flush, commit, close and exit.
    Stop,
}

/// Everything a task needs to run.
pub struct TaskSpec {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task_id: u32,
    /// The task config.
    pub config: TaskConfig,
    /// The plugin that creates the sink task.
    pub plugin: Arc<dyn SinkConnector>,
    /// Worker settings (client properties, converters, commit interval).
    pub worker: Arc<WorkerConfig>,
    /// Status shared with the herder.
    pub shared: Arc<TaskShared>,
    /// Called once per topic the task first reads from (topic tracking).
    pub on_topic: Arc<dyn Fn(&str) + Send + Sync>,
    /// This task's metric series.
    pub metrics: TaskMetrics,
    /// Start in PAUSED.
    pub start_paused: bool,
    /// Runtime that drives the async sink.
    pub runtime: Handle,
}

/// The herder's handle on a running task.
pub struct TaskHandle {
    tx: mpsc::Sender<Control>,
    done: watch::Receiver<bool>,
    /// Status and offsets of the task.
    pub shared: Arc<TaskShared>,
}

impl TaskHandle {
    /// Sends a control command (ignored if the task already ended).
    pub fn send(&self, c: Control) {
        let _ = self.tx.send(c);
    }

    /// True once the task thread has ended (stopped or failed).
    pub fn finished(&self) -> bool {
        *self.done.borrow()
    }

    /// Asks the task to stop and waits up to `timeout` for it to flush, commit and exit.
    /// Returns false if it did not finish in time (it keeps shutting down in the background).
    pub async fn stop(mut self, timeout: Duration) -> bool {
        self.shared.request_stop();
        self.send(Control::Stop);
        matches!(
            tokio::time::timeout(timeout, self.done.wait_for(|d| *d)).await,
            Ok(Ok(_)) | Ok(Err(_))
        )
    }
}

/// Starts a task on its own thread.
pub fn spawn(spec: TaskSpec) -> std::io::Result<TaskHandle> {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done) = watch::channel(false);
    let shared = spec.shared.clone();
    let name = format!("{}-{}", spec.connector, spec.task_id);
    std::thread::Builder::new()
        .name("sluice-task".into())
        .spawn(move || {
            let shared = spec.shared.clone();
            match catch_unwind(AssertUnwindSafe(|| task::run(spec, rx))) {
                Ok(Ok(())) => tracing::info!(task = %name, "task stopped"),
                Ok(Err(f)) => {
                    tracing::error!(task = %name, "task failed: {f}");
                    shared.fail(f.trace);
                }
                Err(panic) => {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_else(|| "unknown panic".into());
                    tracing::error!(task = %name, "task panicked: {msg}");
                    shared.fail(format!(
                        "{}: task panicked: {msg}",
                        errors::CONNECT_EXCEPTION
                    ));
                }
            }
            let _ = done_tx.send(true);
        })?;
    Ok(TaskHandle { tx, done, shared })
}
