//! Runtime states and the status a task shares with the herder.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::offsets::PartitionOffsets;
use crate::data::TopicPartition;

/// Connect's runtime states (`AbstractStatus.State`), serialised in uppercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// Created, not yet running.
    Unassigned,
    /// Running.
    Running,
    /// Paused.
    Paused,
    /// Failed; see the trace.
    Failed,
    /// Being restarted.
    Restarting,
    /// Stopped (connectors only).
    Stopped,
}

impl State {
    /// The uppercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unassigned => "UNASSIGNED",
            State::Running => "RUNNING",
            State::Paused => "PAUSED",
            State::Failed => "FAILED",
            State::Restarting => "RESTARTING",
            State::Stopped => "STOPPED",
        }
    }
}

/// A state plus, when failed, a readable trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Current state.
    pub state: State,
    /// Failure trace (only when FAILED).
    pub trace: Option<String>,
}

/// What a task thread publishes for the herder and the REST API.
pub struct TaskShared {
    status: Mutex<Status>,
    offsets: Mutex<BTreeMap<TopicPartition, PartitionOffsets>>,
    stopping: AtomicBool,
}

impl Default for TaskShared {
    fn default() -> Self {
        Self {
            status: Mutex::new(Status {
                state: State::Unassigned,
                trace: None,
            }),
            offsets: Mutex::new(BTreeMap::new()),
            stopping: AtomicBool::new(false),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking task thread must not take the status API down with it.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl TaskShared {
    /// Current status.
    pub fn status(&self) -> Status {
        lock(&self.status).clone()
    }

    /// Sets the state and clears the trace.
    pub fn set(&self, state: State) {
        *lock(&self.status) = Status { state, trace: None };
    }

    /// Marks the task FAILED with a trace.
    pub fn fail(&self, trace: String) {
        *lock(&self.status) = Status {
            state: State::Failed,
            trace: Some(trace),
        };
    }

    /// While RUNNING or PAUSED, shows why the task is retrying in its trace (`None` clears it).
    pub fn set_retry_trace(&self, trace: Option<String>) {
        let mut s = lock(&self.status);
        if matches!(s.state, State::Running | State::Paused) && s.trace != trace {
            s.trace = trace;
        }
    }

    /// Replaces the per-partition offsets snapshot.
    pub fn publish_offsets(&self, offsets: BTreeMap<TopicPartition, PartitionOffsets>) {
        *lock(&self.offsets) = offsets;
    }

    /// Asks the task to stop: retry loops give up waiting at once.
    pub fn request_stop(&self) {
        self.stopping.store(true, Ordering::Release);
    }

    /// True once a stop was requested.
    pub fn stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// The per-partition offsets snapshot.
    pub fn offsets(&self) -> BTreeMap<TopicPartition, PartitionOffsets> {
        lock(&self.offsets).clone()
    }
}
