//! The herder: connector registry, lifecycle state machine, task assignment, restart, pause,
//! resume, stop and the offsets API. Every REST operation ends here.

mod error;
pub mod offsets;
mod slot;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use tokio::runtime::Handle;

use crate::configdef::{ConfigInfos, ConfigKeyInfo};
use crate::connectors::{PluginInfo, Plugins, SinkConnector};
use crate::kafka::group::TopicSelector;
use crate::kafka::GroupAdmin;
use crate::metrics::Metrics;
use crate::rest::entities::{
    ActiveTopics, ConnectorInfo, ConnectorOffset, ConnectorOffsets, ConnectorState,
    ConnectorStateInfo, ConnectorTaskId, Message, SinkOffset, SinkPartition, TaskInfo, TaskState,
};
use crate::runtime::{self, PartitionOffsets, State, TaskShared, TaskSpec};
use crate::store::{ConnectorStore, StoredConnector, TargetState};
use crate::worker::WorkerConfig;

pub use error::HerderError;
use slot::{Slot, SlotState, TaskSlot};

type Result<T> = std::result::Result<T, HerderError>;

/// Shared state behind the cheap-to-clone [`Herder`].
struct Inner {
    worker: Arc<WorkerConfig>,
    worker_id: String,
    plugins: Arc<Plugins>,
    store: ConnectorStore,
    groups: GroupAdmin,
    metrics: Arc<Metrics>,
    rt: Handle,
    slots: RwLock<BTreeMap<String, Arc<Slot>>>,
    ready: AtomicBool,
    cluster_id: OnceLock<String>,
    /// `${env:..}` / `${file:..}` resolution of task configs (stored configs keep placeholders).
    providers: crate::connectors::debezium_proxy::ConfigProviders,
}

/// The connector manager. Cloning shares the same state.
#[derive(Clone)]
pub struct Herder {
    inner: Arc<Inner>,
}

fn not_found(name: &str) -> HerderError {
    HerderError::NotFound(format!("Connector {name} not found"))
}

fn consumer_overrides(config: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    config
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix("consumer.override.")
                .map(|k| (k.to_string(), v.clone()))
        })
        .collect()
}

impl Herder {
    /// A herder for this worker. `bound_port` is the REST port actually bound.
    pub fn new(
        worker: Arc<WorkerConfig>,
        plugins: Arc<Plugins>,
        store: ConnectorStore,
        metrics: Arc<Metrics>,
        bound_port: u16,
    ) -> Self {
        let port = worker.advertised_port.unwrap_or(bound_port);
        let providers = crate::connectors::debezium_proxy::ConfigProviders::from_worker(&worker);
        let groups = GroupAdmin::new(
            &worker.bootstrap_servers,
            worker.with_prefix("admin."),
            worker.with_prefix("consumer."),
            Duration::from_secs(30),
        );
        Herder {
            inner: Arc::new(Inner {
                worker_id: format!("{}:{port}", worker.advertised_host),
                worker,
                plugins,
                store,
                groups,
                metrics,
                rt: Handle::current(),
                slots: RwLock::new(BTreeMap::new()),
                ready: AtomicBool::new(false),
                cluster_id: OnceLock::new(),
                providers,
            }),
        }
    }

    /// `host:port` reported as `worker_id`.
    pub fn worker_id(&self) -> &str {
        &self.inner.worker_id
    }

    /// The worker configuration.
    pub fn worker(&self) -> &WorkerConfig {
        &self.inner.worker
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Prometheus text, with task states refreshed first.
    pub fn render_metrics(&self) -> String {
        for slot in self.slots() {
            slot.lock()
                .update_task_metrics(&self.inner.metrics, &slot.name);
        }
        self.inner.metrics.render()
    }

    /// True once stored connectors are loaded and started (`GET /health`).
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    /// Kafka cluster id, fetched once and cached.
    pub async fn kafka_cluster_id(&self) -> Option<String> {
        if let Some(id) = self.inner.cluster_id.get() {
            return Some(id.clone());
        }
        let bootstrap = self.inner.worker.bootstrap_servers.clone();
        let admin = self.inner.worker.with_prefix("admin.");
        let id = tokio::task::spawn_blocking(move || {
            let (cfg, _) = crate::kafka::client_config(
                &[("bootstrap.servers", bootstrap)],
                &[&admin],
                crate::kafka::ClientRole::Admin,
            );
            let consumer: rdkafka::consumer::BaseConsumer = cfg.create().ok()?;
            use rdkafka::consumer::Consumer;
            consumer.client().fetch_cluster_id(Duration::from_secs(5))
        })
        .await
        .ok()
        .flatten()?;
        Some(self.inner.cluster_id.get_or_init(|| id).clone())
    }

    fn slot(&self, name: &str) -> Option<Arc<Slot>> {
        self.inner
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
    }

    fn slots(&self) -> Vec<Arc<Slot>> {
        self.inner
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Loads stored connectors and starts each in its target state. Corrupt files are logged
    /// by name and skipped.
    pub async fn start(&self) -> std::result::Result<(), crate::store::StoreError> {
        let (good, bad) = self.inner.store.load_all()?;
        for e in bad {
            tracing::error!("skipping connector file: {e}");
        }
        for stored in good {
            let slot = Arc::new(Slot::new(
                stored.name.clone(),
                SlotState::new(stored.config, stored.target_state, stored.active_topics),
            ));
            self.inner
                .slots
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .insert(stored.name.clone(), slot.clone());
            let _op = slot.op.lock().await;
            self.start_connector(&slot);
            tracing::info!(
                "loaded connector {} ({:?})",
                stored.name,
                stored.target_state
            );
        }
        self.inner.ready.store(true, Ordering::Release);
        Ok(())
    }

    /// Stops every task (flush + commit), bounded by `task.shutdown.graceful.timeout.ms` each.
    pub async fn shutdown(&self) {
        self.inner.ready.store(false, Ordering::Release);
        let slots = self.slots();
        let stops = slots.iter().map(|s| async move {
            let _op = s.op.lock().await;
            self.stop_tasks(s).await;
        });
        futures::future::join_all(stops).await;
    }

    // ----- reads -------------------------------------------------------------------------

    /// Connector names.
    pub fn connector_names(&self) -> Vec<String> {
        self.inner
            .slots
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    fn connector_type(&self, config: &BTreeMap<String, String>) -> String {
        match config
            .get("connector.class")
            .and_then(|c| self.inner.plugins.connector(c))
        {
            Some(c) => c.config_def().plugin_type().as_str().to_string(),
            None => "unknown".into(),
        }
    }

    /// `ConnectorInfo`.
    pub fn connector_info(&self, name: &str) -> Result<ConnectorInfo> {
        let slot = self.slot(name).ok_or_else(|| not_found(name))?;
        let st = slot.lock();
        Ok(ConnectorInfo {
            name: name.to_string(),
            config: st.config.clone(),
            tasks: st
                .tasks
                .iter()
                .map(|t| ConnectorTaskId {
                    connector: name.to_string(),
                    task: t.id,
                })
                .collect(),
            connector_type: self.connector_type(&st.config),
        })
    }

    /// The stored config.
    pub fn connector_config(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let slot = self.slot(name).ok_or_else(|| not_found(name))?;
        let config = slot.lock().config.clone();
        Ok(config)
    }

    fn task_state(&self, t: &TaskSlot) -> TaskState {
        let s = t.shared.status();
        TaskState {
            id: t.id,
            state: s.state.as_str().to_string(),
            worker_id: self.inner.worker_id.clone(),
            trace: s.trace,
        }
    }

    /// `ConnectorStateInfo`.
    pub fn connector_status(&self, name: &str) -> Result<ConnectorStateInfo> {
        let slot = self.slot(name).ok_or_else(|| {
            HerderError::NotFound(format!("No status found for connector {name}"))
        })?;
        let st = slot.lock();
        Ok(ConnectorStateInfo {
            name: name.to_string(),
            connector: ConnectorState {
                state: st.status.state.as_str().to_string(),
                worker_id: self.inner.worker_id.clone(),
                trace: st.status.trace.clone(),
            },
            tasks: st.tasks.iter().map(|t| self.task_state(t)).collect(),
            connector_type: self.connector_type(&st.config),
        })
    }

    /// One task's status.
    pub fn task_status(&self, name: &str, task: u32) -> Result<TaskState> {
        let missing = || HerderError::NotFound(format!("No status found for task {name}-{task}"));
        let slot = self.slot(name).ok_or_else(missing)?;
        let st = slot.lock();
        st.tasks
            .iter()
            .find(|t| t.id == task)
            .map(|t| self.task_state(t))
            .ok_or_else(missing)
    }

    /// Per-partition offsets of one task (Sluice extension).
    pub fn task_offsets(
        &self,
        name: &str,
        task: u32,
    ) -> Result<BTreeMap<crate::data::TopicPartition, PartitionOffsets>> {
        let missing = || HerderError::NotFound(format!("Unknown task: {name}-{task}"));
        let slot = self.slot(name).ok_or_else(missing)?;
        let st = slot.lock();
        st.tasks
            .iter()
            .find(|t| t.id == task)
            .map(|t| t.shared.offsets())
            .ok_or_else(missing)
    }

    /// `TaskInfo` list.
    pub fn task_configs(&self, name: &str) -> Result<Vec<TaskInfo>> {
        let slot = self.slot(name).ok_or_else(|| not_found(name))?;
        let st = slot.lock();
        Ok(st
            .tasks
            .iter()
            .map(|t| TaskInfo {
                id: ConnectorTaskId {
                    connector: name.to_string(),
                    task: t.id,
                },
                config: t.config.clone(),
            })
            .collect())
    }

    /// Topics the connector has used.
    pub fn active_topics(&self, name: &str) -> Result<BTreeMap<String, ActiveTopics>> {
        if !self.inner.worker.topic_tracking {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        let topics = self
            .slot(name)
            .map(|s| s.lock().active_topics.iter().cloned().collect())
            .unwrap_or_default();
        Ok([(name.to_string(), ActiveTopics { topics })].into())
    }

    /// Forgets the topics the connector has used.
    pub async fn reset_active_topics(&self, name: &str) -> Result<()> {
        if !self.inner.worker.topic_tracking {
            return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
        }
        if !self.inner.worker.topic_tracking_reset {
            return Err(HerderError::Forbidden(
                "Topic tracking reset is disabled.".into(),
            ));
        }
        if let Some(slot) = self.slot(name) {
            let _op = slot.op.lock().await;
            slot.lock().active_topics.clear();
            self.persist(&slot)?;
        }
        Ok(())
    }

    // ----- plugins and validation ---------------------------------------------------------

    /// `GET /connector-plugins`.
    pub fn plugins(&self, connectors_only: bool) -> Vec<PluginInfo> {
        self.inner.plugins.list(connectors_only)
    }

    /// `GET /connector-plugins/{p}/config`.
    pub fn plugin_config(&self, plugin: &str) -> Result<Vec<ConfigKeyInfo>> {
        validate::plugin_config(&self.inner.plugins, plugin)
    }

    /// `PUT /connector-plugins/{p}/config/validate`.
    pub fn validate(
        &self,
        path_plugin: Option<&str>,
        config: &BTreeMap<String, String>,
    ) -> Result<ConfigInfos> {
        validate::validate(&self.inner.plugins, &self.inner.worker, path_plugin, config)
    }

    // ----- writes ---------------------------------------------------------------------------

    /// Creates (or, with `allow_replace`, updates) a connector. Returns whether it was created.
    pub async fn put_connector(
        &self,
        name: &str,
        mut config: BTreeMap<String, String>,
        allow_replace: bool,
        initial_state: Option<TargetState>,
    ) -> Result<(bool, ConnectorInfo)> {
        match config.get("name") {
            Some(n) if n != name => {
                return Err(HerderError::BadRequest(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                )))
            }
            _ => {
                config.insert("name".into(), name.to_string());
            }
        }
        let infos = self.validate(None, &config)?;
        if let Some(msg) = infos.invalid_config_message() {
            return Err(HerderError::BadRequest(msg));
        }
        // A new slot is locked before it becomes visible, so a concurrent delete or lifecycle
        // call waits until it is persisted and started instead of racing the create.
        let fresh = Arc::new(Slot::new(
            name.to_string(),
            SlotState::new(
                config.clone(),
                initial_state.unwrap_or(TargetState::Started),
                BTreeSet::new(),
            ),
        ));
        let fresh_op = fresh.op.try_lock().expect("a new slot is unlocked");
        let (slot, created) = {
            let mut slots = self.inner.slots.write().unwrap_or_else(|p| p.into_inner());
            match slots.get(name) {
                Some(_) if !allow_replace => {
                    return Err(HerderError::Conflict(format!(
                        "Connector {name} already exists"
                    )))
                }
                Some(s) => (s.clone(), false),
                None => {
                    slots.insert(name.to_string(), fresh.clone());
                    (fresh.clone(), true)
                }
            }
        };
        let _op = if created {
            fresh_op
        } else {
            drop(fresh_op);
            slot.op.lock().await
        };
        if created {
            if let Err(e) = self.persist(&slot) {
                slot.lock().deleted = true;
                self.inner
                    .slots
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(name);
                return Err(e);
            }
        } else {
            if slot.lock().deleted {
                return Err(not_found(name));
            }
            self.stop_tasks(&slot).await;
            slot.lock().config = config;
            self.persist(&slot)?;
        }
        self.start_connector(&slot);
        // Read before releasing the slot, so a delete queued behind this call cannot turn a
        // successful create or update into a 404.
        let info = self.connector_info(name)?;
        drop(_op);
        Ok((created, info))
    }

    /// `PATCH /connectors/{c}/config`: merges; a `None` value removes the key.
    pub async fn patch_connector(
        &self,
        name: &str,
        patch: BTreeMap<String, Option<String>>,
    ) -> Result<ConnectorInfo> {
        let mut config = self.connector_config(name)?;
        for (k, v) in patch {
            match v {
                Some(v) => {
                    config.insert(k, v);
                }
                None => {
                    config.remove(&k);
                }
            }
        }
        Ok(self.put_connector(name, config, true, None).await?.1)
    }

    /// Deletes a connector after stopping its tasks.
    pub async fn delete_connector(&self, name: &str) -> Result<()> {
        let slot = self.slot(name).ok_or_else(|| not_found(name))?;
        let _op = slot.op.lock().await;
        if slot.lock().deleted {
            return Err(not_found(name));
        }
        self.stop_tasks(&slot).await;
        self.inner
            .store
            .delete(name)
            .map_err(|e| HerderError::Internal(e.to_string()))?;
        slot.lock().deleted = true;
        self.inner
            .slots
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
        self.clear_state_metrics(name, &slot);
        Ok(())
    }

    fn clear_state_metrics(&self, name: &str, slot: &Slot) {
        let st = slot.lock();
        st.clear_metrics(&self.inner.metrics, name);
    }

    /// Sets the target state PAUSED.
    pub async fn pause(&self, name: &str) -> Result<()> {
        self.set_target(name, TargetState::Paused).await
    }

    /// Sets the target state STARTED (also from STOPPED).
    pub async fn resume(&self, name: &str) -> Result<()> {
        self.set_target(name, TargetState::Started).await
    }

    /// Sets the target state STOPPED: tasks are shut down and the task list emptied.
    pub async fn stop(&self, name: &str) -> Result<()> {
        self.set_target(name, TargetState::Stopped).await
    }

    async fn set_target(&self, name: &str, target: TargetState) -> Result<()> {
        let unknown = || HerderError::NotFound(format!("Unknown connector {name}"));
        let slot = self.slot(name).ok_or_else(unknown)?;
        let _op = slot.op.lock().await;
        let previous = {
            let mut st = slot.lock();
            if st.deleted {
                return Err(unknown());
            }
            std::mem::replace(&mut st.target, target)
        };
        self.persist(&slot)?;
        if previous == target {
            return Ok(());
        }
        match (previous, target) {
            (_, TargetState::Stopped) => {
                self.stop_tasks(&slot).await;
                self.start_connector(&slot);
            }
            (TargetState::Stopped, _) => self.start_connector(&slot),
            (_, t) => {
                let mut st = slot.lock();
                let paused = t == TargetState::Paused;
                for task in &st.tasks {
                    if let Some(h) = &task.handle {
                        if !h.finished() {
                            h.send(if paused {
                                runtime::Control::Pause
                            } else {
                                runtime::Control::Resume
                            });
                        }
                    }
                }
                st.status.state = if paused {
                    State::Paused
                } else {
                    State::Running
                };
                st.update_metrics(&self.inner.metrics, name);
            }
        }
        Ok(())
    }

    /// `POST /connectors/{c}/restart`. Returns the restart plan when tasks are involved.
    pub async fn restart_connector(
        &self,
        name: &str,
        include_tasks: bool,
        only_failed: bool,
    ) -> Result<Option<ConnectorStateInfo>> {
        let unknown = || HerderError::NotFound(format!("Unknown connector: {name}"));
        let slot = self.slot(name).ok_or_else(unknown)?;
        if !include_tasks && !only_failed {
            let _op = slot.op.lock().await;
            self.restart_connector_instance(&slot);
            return Ok(None);
        }
        let (restart_conn, restart_tasks, mut plan) = {
            let st = slot.lock();
            let restart_conn = !only_failed || st.status.state == State::Failed;
            let tasks: Vec<u32> = st
                .tasks
                .iter()
                .filter(|t| {
                    include_tasks && (!only_failed || t.shared.status().state == State::Failed)
                })
                .map(|t| t.id)
                .collect();
            drop(st);
            (restart_conn, tasks, self.connector_status(name)?)
        };
        if restart_conn {
            plan.connector.state = State::Restarting.as_str().into();
            plan.connector.trace = None;
        }
        for t in plan.tasks.iter_mut() {
            if restart_tasks.contains(&t.id) {
                t.state = State::Restarting.as_str().into();
                t.trace = None;
            }
        }
        let this = self.clone();
        let name = name.to_string();
        tokio::spawn(async move {
            let _op = slot.op.lock().await;
            if slot.lock().deleted {
                return;
            }
            if restart_conn {
                this.restart_connector_instance(&slot);
            }
            for id in restart_tasks {
                if let Err(e) = this.restart_task_locked(&slot, id).await {
                    tracing::warn!("restart of {name}-{id} failed: {e}");
                }
            }
        });
        Ok(Some(plan))
    }

    /// `POST /connectors/{c}/tasks/{t}/restart`.
    pub async fn restart_task(&self, name: &str, task: u32) -> Result<()> {
        let slot = self
            .slot(name)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown connector: {name}")))?;
        let _op = slot.op.lock().await;
        self.restart_task_locked(&slot, task).await
    }

    async fn restart_task_locked(&self, slot: &Arc<Slot>, task: u32) -> Result<()> {
        let name = slot.name.clone();
        let handle = {
            let mut st = slot.lock();
            let t = st
                .tasks
                .iter_mut()
                .find(|t| t.id == task)
                .ok_or_else(|| HerderError::NotFound(format!("Unknown task: {name}-{task}")))?;
            t.shared.set(State::Restarting);
            t.handle.take()
        };
        if let Some(h) = handle {
            if !h.stop(self.inner.worker.task_shutdown_timeout).await {
                tracing::warn!(
                    "task {name}-{task} did not stop in time; starting its replacement anyway"
                );
            }
        }
        let mut st = slot.lock();
        let paused = st.target == TargetState::Paused;
        let config = st.config.clone();
        let plugin = config
            .get("connector.class")
            .and_then(|c| self.inner.plugins.connector(c));
        if let (Some(plugin), Some(t)) = (plugin, st.tasks.iter_mut().find(|t| t.id == task)) {
            t.shared = Arc::new(TaskShared::default());
            t.handle = self.spawn_task(
                slot,
                &plugin,
                t.id,
                t.config.clone(),
                t.shared.clone(),
                paused,
            );
        }
        st.update_metrics(&self.inner.metrics, &name);
        Ok(())
    }

    /// Restarting the connector instance re-derives its state (recovering a FAILED one).
    fn restart_connector_instance(&self, slot: &Arc<Slot>) {
        let needs_start = {
            let st = slot.lock();
            st.status.state == State::Failed
        };
        if needs_start {
            self.start_connector(slot);
        }
    }

    // ----- offsets --------------------------------------------------------------------------

    /// `GET /connectors/{c}/offsets`: the group's committed offsets.
    pub async fn offsets(&self, name: &str) -> Result<ConnectorOffsets> {
        let config = self.connector_config(name)?;
        let group = runtime::group_id(name, &config);
        let list = self
            .inner
            .groups
            .committed(
                &group,
                &TopicSelector::from_config(&config)
                    .map_err(|e| HerderError::BadRequest(format!("invalid topics.regex: {e}")))?,
                &consumer_overrides(&config),
            )
            .await
            .map_err(|e| {
                HerderError::Internal(format!(
                    "Failed to retrieve consumer group offsets for sink connector {name}: {e}"
                ))
            })?;
        Ok(ConnectorOffsets {
            offsets: list
                .into_iter()
                .map(|p| ConnectorOffset {
                    partition: SinkPartition {
                        kafka_topic: p.topic,
                        kafka_partition: p.partition,
                    },
                    offset: SinkOffset {
                        kafka_offset: p.offset,
                    },
                })
                .collect(),
        })
    }

    /// Connect's preconditions for changing offsets, checked under the connector's op lock:
    /// known, target STOPPED and no tasks. Returns the config.
    fn stopped_config(&self, name: &str, slot: &Slot) -> Result<BTreeMap<String, String>> {
        let st = slot.lock();
        if st.deleted {
            return Err(not_found(name));
        }
        if st.target != TargetState::Stopped || !st.tasks.is_empty() {
            return Err(offsets::not_stopped(name));
        }
        Ok(st.config.clone())
    }

    /// `PATCH /connectors/{c}/offsets`.
    pub async fn alter_offsets(&self, name: &str, body: &serde_json::Value) -> Result<Message> {
        offsets::require_entries(body)?;
        let slot = self.slot(name).ok_or_else(|| not_found(name))?;
        let _op = slot.op.lock().await;
        let config = self.stopped_config(name, &slot)?;
        let changes = offsets::parse_alter_request(body)?;
        let external = self
            .alter_external_offsets(name, &config, Some(&changes))
            .await?;
        let group = runtime::group_id(name, &config);
        self.inner
            .groups
            .alter(&group, changes, &consumer_overrides(&config))
            .await
            .map_err(|e| {
                HerderError::Internal(format!(
                    "Failed to alter consumer group offsets for connector {name}: {e}"
                ))
            })?;
        Ok(Message {
            message: offsets::success_message(false, external),
        })
    }

    /// Lets the plugin rewrite the offsets it keeps in its target (exactly-once sinks).
    async fn alter_external_offsets(
        &self,
        name: &str,
        config: &BTreeMap<String, String>,
        changes: Option<&[offsets::OffsetChange]>,
    ) -> Result<bool> {
        let Some(plugin) = config
            .get("connector.class")
            .and_then(|c| self.inner.plugins.connector(c))
        else {
            return Ok(false);
        };
        let changes: Option<Vec<crate::connectors::OffsetChange>> = changes.map(|c| {
            c.iter()
                .map(|(t, p, o)| (crate::data::TopicPartition::new(t.as_str(), *p), *o))
                .collect()
        });
        plugin
            .alter_offsets(config, changes.as_deref())
            .await
            .map_err(|e| {
                HerderError::Internal(format!(
                    "Failed to alter the offsets connector {name} keeps in its target: {e}"
                ))
            })
    }

    /// `DELETE /connectors/{c}/offsets`: deletes the consumer group.
    pub async fn reset_offsets(&self, name: &str) -> Result<Message> {
        let slot = self.slot(name).ok_or_else(|| not_found(name))?;
        let _op = slot.op.lock().await;
        let config = self.stopped_config(name, &slot)?;
        let external = self.alter_external_offsets(name, &config, None).await?;
        let group = runtime::group_id(name, &config);
        self.inner.groups.delete_group(&group).await.map_err(|e| {
            HerderError::Internal(format!(
                "Failed to reset consumer group offsets for connector {name}: {e}"
            ))
        })?;
        Ok(Message {
            message: offsets::success_message(true, external),
        })
    }

    // ----- internals ------------------------------------------------------------------------

    fn persist(&self, slot: &Slot) -> Result<()> {
        let stored = {
            let st = slot.lock();
            // Calls queued behind a delete must not write the connector back: it would
            // return on the next start.
            if st.deleted {
                return Ok(());
            }
            StoredConnector {
                name: slot.name.clone(),
                config: st.config.clone(),
                target_state: st.target,
                active_topics: st.active_topics.clone(),
            }
        };
        self.inner
            .store
            .save(&stored)
            .map_err(|e| HerderError::Internal(format!("cannot persist connector: {e}")))
    }

    /// Brings the connector to its target state from "no tasks running". Caller holds `op`.
    fn start_connector(&self, slot: &Arc<Slot>) {
        let name = slot.name.clone();
        let mut st = slot.lock();
        st.tasks.clear();
        st.status.trace = None;
        let plugin = st
            .config
            .get("connector.class")
            .and_then(|c| self.inner.plugins.connector(c));
        let Some(plugin) = plugin else {
            let class = st
                .config
                .get("connector.class")
                .cloned()
                .unwrap_or_default();
            st.status.state = State::Failed;
            st.status.trace = Some(format!(
                "{}: Failed to find any class that implements Connector and which name matches {class}",
                runtime::errors::CONNECT_EXCEPTION
            ));
            st.update_metrics(&self.inner.metrics, &name);
            return;
        };
        match st.target {
            TargetState::Stopped => {
                st.status.state = State::Stopped;
            }
            target => {
                let max = st
                    .config
                    .get("tasks.max")
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .filter(|&n| n > 0)
                    .unwrap_or(1);
                let paused = target == TargetState::Paused;
                let configs = plugin.task_configs(&st.config, max);
                for (i, mut config) in configs.into_iter().enumerate() {
                    config.insert("task.class".into(), plugin.task_class().into());
                    let id = i as u32;
                    let shared = Arc::new(TaskShared::default());
                    let handle =
                        self.spawn_task(slot, &plugin, id, config.clone(), shared.clone(), paused);
                    st.tasks.push(TaskSlot {
                        id,
                        config,
                        shared,
                        handle,
                    });
                }
                st.status.state = if paused {
                    State::Paused
                } else {
                    State::Running
                };
            }
        }
        st.update_metrics(&self.inner.metrics, &name);
    }

    fn spawn_task(
        &self,
        slot: &Arc<Slot>,
        plugin: &Arc<dyn SinkConnector>,
        id: u32,
        config: BTreeMap<String, String>,
        shared: Arc<TaskShared>,
        paused: bool,
    ) -> Option<runtime::TaskHandle> {
        // Placeholders resolve only here, when the task gets its config, so secrets stay out
        // of the state directory and of the REST answers.
        let config = match self.inner.providers.resolve(&config) {
            Ok(c) => c,
            Err(e) => {
                shared.fail(format!("{}: {e}", runtime::errors::CONNECT_EXCEPTION));
                return None;
            }
        };
        let weak = Arc::downgrade(slot);
        let this = self.clone();
        let on_topic = Arc::new(move |topic: &str| {
            if let Some(slot) = weak.upgrade() {
                let added = slot.lock().active_topics.insert(topic.to_string());
                if added && this.inner.worker.topic_tracking {
                    if let Err(e) = this.persist(&slot) {
                        tracing::warn!("cannot persist active topics: {e}");
                    }
                }
            }
        });
        let spec = TaskSpec {
            connector: slot.name.clone(),
            task_id: id,
            config,
            plugin: plugin.clone(),
            worker: self.inner.worker.clone(),
            shared: shared.clone(),
            on_topic,
            metrics: self.inner.metrics.task(&slot.name, id),
            start_paused: paused,
            runtime: self.inner.rt.clone(),
        };
        match runtime::spawn(spec) {
            Ok(h) => Some(h),
            Err(e) => {
                shared.fail(format!(
                    "{}: cannot start task thread: {e}",
                    runtime::errors::CONNECT_EXCEPTION
                ));
                None
            }
        }
    }

    /// Stops all tasks of a connector and empties its task list. Caller holds `op`.
    async fn stop_tasks(&self, slot: &Arc<Slot>) {
        let handles: Vec<_> = {
            let mut st = slot.lock();
            let hs = st
                .tasks
                .iter_mut()
                .filter_map(|t| t.handle.take().map(|h| (t.id, h)))
                .collect();
            st.clear_metrics(&self.inner.metrics, &slot.name);
            st.tasks.clear();
            hs
        };
        let timeout = self.inner.worker.task_shutdown_timeout;
        let name = slot.name.clone();
        let waits = handles.into_iter().map(|(id, h)| {
            let name = name.clone();
            async move {
                if !h.stop(timeout).await {
                    tracing::warn!("task {name}-{id} did not stop within {timeout:?}");
                }
            }
        });
        futures::future::join_all(waits).await;
    }
}
