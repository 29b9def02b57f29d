//! The task's consumer context: rebalance handling (open/flush/commit/close around partition
//! moves) and end offsets from librdkafka statistics.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaResult;
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Offset, Statistics, TopicPartitionList};
use tokio::runtime::Handle;

use super::errors::TaskFailure;
use super::offsets::OffsetTracker;
use super::status::TaskShared;
use crate::connectors::{SinkError, SinkTask};
use crate::data::TopicPartition;
use crate::metrics::TaskMetrics;

/// State the task loop and the rebalance callback share. The loop never holds the lock while
/// polling, and callbacks only run inside `poll`, so the two never contend.
pub struct Core {
    /// The sink task.
    pub sink: Box<dyn SinkTask>,
    /// Offsets of assigned partitions.
    pub tracker: OffsetTracker,
    /// Target state is PAUSED: newly assigned partitions are paused too.
    pub paused: bool,
    /// The task is failing or stopped: callbacks must not touch the sink any more.
    pub closed: bool,
    /// A failure raised inside a callback, for the loop to act on.
    pub pending_failure: Option<TaskFailure>,
    /// Count of revocations, so the loop can tell whether a batch may hold revoked records.
    pub revocations: u64,
}

/// The consumer context of one task.
pub struct TaskContext {
    /// Shared with the task loop.
    pub core: Arc<Mutex<Core>>,
    /// Runtime used to drive the async sink from this thread.
    pub rt: Handle,
    /// Status and offsets published to the herder.
    pub shared: Arc<TaskShared>,
    /// Series of this task.
    pub metrics: TaskMetrics,
    /// `connector-task` for logs.
    pub name: String,
}

/// Locks the core even if a previous holder panicked (the panic is reported separately).
pub fn lock(core: &Mutex<Core>) -> MutexGuard<'_, Core> {
    core.lock().unwrap_or_else(|p| p.into_inner())
}

fn partitions(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

/// Flushes the sink and commits what it reports durable, optionally for some partitions only.
/// A failed commit is logged and retried at the next commit point; a failed flush fails the task
/// unless retriable.
pub fn flush_and_commit(
    consumer: &BaseConsumer<TaskContext>,
    core: &mut Core,
    rt: &Handle,
    only: Option<&[TopicPartition]>,
) -> Result<(), TaskFailure> {
    let ctx = consumer.context();
    let consumed = core.tracker.consumed_map(only);
    if !consumed.is_empty() {
        match rt.block_on(core.sink.flush(&consumed)) {
            Ok(durable) => {
                core.tracker.durable(&durable);
                ctx.shared.set_retry_trace(None);
            }
            Err(SinkError::Retriable(m)) => {
                tracing::warn!(task = %ctx.name, "flush will be retried: {m}");
                ctx.shared.set_retry_trace(Some(format!(
                    "Retrying a failed write (nothing is committed past it): {m}"
                )));
                return Ok(());
            }
            Err(e) => return Err(TaskFailure::new(format!("flush failed: {e}"))),
        }
    }
    let to_commit = core.tracker.to_commit(only);
    if to_commit.is_empty() {
        return Ok(());
    }
    let mut tpl = TopicPartitionList::new();
    for (tp, o) in &to_commit {
        // Adding to a fresh list only fails for invalid partitions, which we never hold.
        let _ = tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*o));
    }
    match consumer.commit(&tpl, CommitMode::Sync) {
        Ok(()) => {
            core.tracker.committed(&to_commit);
            ctx.metrics.offset_commits.inc();
            tracing::debug!(task = %ctx.name, "committed {} partition offset(s)", to_commit.len());
        }
        Err(e) => {
            ctx.metrics.offset_commit_failures.inc();
            tracing::warn!(task = %ctx.name, "offset commit failed, will retry: {e}");
        }
    }
    ctx.shared.publish_offsets(core.tracker.snapshot());
    Ok(())
}

impl ClientContext for TaskContext {
    fn stats(&self, stats: Statistics) {
        let mut core = lock(&self.core);
        for (topic, t) in &stats.topics {
            for (p, part) in &t.partitions {
                let tp = TopicPartition::new(topic.as_str(), *p);
                if *p >= 0 && core.tracker.is_assigned(&tp) && part.hi_offset >= 0 {
                    core.tracker.set_end(&tp, part.hi_offset);
                }
            }
        }
        let snap = core.tracker.snapshot();
        for (tp, o) in &snap {
            if let Some(lag) = o.lag() {
                self.metrics.set_lag(&tp.topic, tp.partition, lag);
            }
        }
        self.shared.publish_offsets(snap);
    }
}

impl TaskContext {
    fn on_assign(&self, consumer: &BaseConsumer<Self>, tpl: &mut TopicPartitionList) {
        let parts = partitions(tpl);
        let mut core = lock(&self.core);
        let mut recovered_offsets = Vec::new();
        if !core.closed {
            match self.rt.block_on(core.sink.open(&parts)) {
                Ok(recovered) => {
                    for (tp, off) in recovered {
                        let _ =
                            tpl.set_partition_offset(&tp.topic, tp.partition, Offset::Offset(off));
                        tracing::info!(task = %self.name, "{tp}: resuming from offset {off} recovered from the sink");
                        recovered_offsets.push((tp, off));
                    }
                }
                Err(e) => {
                    core.pending_failure
                        .get_or_insert(TaskFailure::new(format!("opening partitions failed: {e}")));
                }
            }
        }
        // The group's committed offsets, so status shows them before the first commit.
        let committed = consumer
            .committed_offsets(tpl.clone(), Duration::from_secs(5))
            .ok();
        for tp in &parts {
            let c = committed
                .as_ref()
                .and_then(|l| l.find_partition(&tp.topic, tp.partition))
                .and_then(|e| match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                });
            core.tracker.assign(tp.clone(), c);
        }
        for (tp, off) in &recovered_offsets {
            core.tracker.recovered(tp, *off);
        }
        let assigned: KafkaResult<()> = match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_assign(tpl),
            _ => consumer.assign(tpl),
        };
        if let Err(e) = assigned {
            tracing::error!(task = %self.name, "assign failed: {e}");
        }
        if core.paused {
            let _ = consumer.pause(tpl);
        }
        tracing::info!(task = %self.name, "assigned partitions: {}", names(&parts));
        self.shared.publish_offsets(core.tracker.snapshot());
    }

    fn on_revoke(&self, consumer: &BaseConsumer<Self>, tpl: &TopicPartitionList) {
        let parts = partitions(tpl);
        let mut core = lock(&self.core);
        if !core.closed && !parts.is_empty() {
            if let Err(f) = flush_and_commit(consumer, &mut core, &self.rt, Some(&parts)) {
                core.pending_failure.get_or_insert(f);
            }
            if let Err(e) = self.rt.block_on(core.sink.close(&parts)) {
                tracing::warn!(task = %self.name, "closing partitions failed: {e}");
            }
        }
        core.revocations += 1;
        for tp in &parts {
            core.tracker.revoke(tp);
            self.metrics.clear_lag(&tp.topic, tp.partition);
        }
        let r = match consumer.rebalance_protocol() {
            RebalanceProtocol::Cooperative => consumer.incremental_unassign(tpl),
            _ => consumer.unassign(),
        };
        if let Err(e) = r {
            tracing::warn!(task = %self.name, "unassign failed: {e}");
        }
        tracing::info!(task = %self.name, "revoked partitions: {}", names(&parts));
        self.shared.publish_offsets(core.tracker.snapshot());
    }
}

fn names(parts: &[TopicPartition]) -> String {
    parts
        .iter()
        .map(|p| p.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

impl ConsumerContext for TaskContext {
    fn rebalance(
        &self,
        consumer: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => self.on_assign(consumer, tpl),
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => self.on_revoke(consumer, tpl),
            other => {
                tracing::error!(task = %self.name, "rebalance error: {other:?}");
                let _ = consumer.unassign();
            }
        }
    }
}
