//! One connector's registry entry: config, target state, runtime status and tasks.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::metrics::{Metrics, StateLabels};
use crate::runtime::{State, Status, TaskHandle, TaskShared};
use crate::store::TargetState;

/// A task of a connector.
pub(super) struct TaskSlot {
    /// Task number.
    pub id: u32,
    /// Its config (connector config + `task.class`).
    pub config: BTreeMap<String, String>,
    /// Status and offsets published by the task thread.
    pub shared: Arc<TaskShared>,
    /// The running thread, if any.
    pub handle: Option<TaskHandle>,
}

/// Mutable state of a connector.
pub(super) struct SlotState {
    pub config: BTreeMap<String, String>,
    pub target: TargetState,
    pub status: Status,
    pub tasks: Vec<TaskSlot>,
    pub active_topics: BTreeSet<String>,
    /// Set once deleted, so operations queued behind the delete see it.
    pub deleted: bool,
}

impl SlotState {
    pub fn new(
        config: BTreeMap<String, String>,
        target: TargetState,
        active_topics: BTreeSet<String>,
    ) -> Self {
        Self {
            config,
            target,
            status: Status {
                state: State::Unassigned,
                trace: None,
            },
            tasks: Vec::new(),
            active_topics,
            deleted: false,
        }
    }

    fn labels(name: &str, task: &str, state: State) -> StateLabels {
        StateLabels {
            connector: name.to_string(),
            task: task.to_string(),
            state: state.as_str().to_string(),
        }
    }

    const STATES: [State; 6] = [
        State::Unassigned,
        State::Running,
        State::Paused,
        State::Failed,
        State::Restarting,
        State::Stopped,
    ];

    /// Publishes the connector's state as `sluice_state{...} 1`.
    pub fn update_metrics(&self, metrics: &Metrics, name: &str) {
        for s in Self::STATES {
            metrics
                .states
                .get_or_create(&Self::labels(name, "connector", s))
                .set(i64::from(s == self.status.state));
        }
    }

    /// Removes the connector's and its tasks' state series.
    pub fn clear_metrics(&self, metrics: &Metrics, name: &str) {
        for s in Self::STATES {
            metrics.states.remove(&Self::labels(name, "connector", s));
            for t in &self.tasks {
                metrics
                    .states
                    .remove(&Self::labels(name, &t.id.to_string(), s));
            }
        }
    }

    /// Task states, refreshed on scrape.
    pub fn update_task_metrics(&self, metrics: &Metrics, name: &str) {
        for t in &self.tasks {
            let cur = t.shared.status().state;
            for s in Self::STATES {
                metrics
                    .states
                    .get_or_create(&Self::labels(name, &t.id.to_string(), s))
                    .set(i64::from(s == cur));
            }
        }
    }
}

/// A connector entry: a lock serialising lifecycle operations, and the state itself.
pub(super) struct Slot {
    pub name: String,
    /// Held for the whole of a lifecycle operation (create/update/delete/pause/...).
    pub op: tokio::sync::Mutex<()>,
    state: Mutex<SlotState>,
}

impl Slot {
    pub fn new(name: String, state: SlotState) -> Self {
        Self {
            name,
            op: tokio::sync::Mutex::new(()),
            state: Mutex::new(state),
        }
    }

    /// Short, non-async access to the state.
    pub fn lock(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
