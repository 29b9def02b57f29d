//! The S3-Parquet `SinkTask`: records → per-partition Parquet files → staged uploads →
//! index commit → published files; offsets reported durable only after the commit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

use super::budget::{Lease, MemoryBudget};
use super::config::{NullBehavior, S3SinkConfig};
use super::index::{partition_prefix, CommittedFile, IndexError, PartitionIndex};
use super::partition::next_schedule_boundary;
use super::storage::{self, ObjectStore, StoreError};
use super::writer::partition::{Layout, RecordError, Rotation};
use super::writer::{FileOptions, PartitionWriter};
use crate::connectors::{SinkError, SinkTask, TaskConfig};
use crate::data::arrow::ArrowOptions;
use crate::data::{SinkRecord, TopicPartition};

/// One assigned partition: its writer and its index.
#[derive(Debug)]
struct Slot {
    writer: PartitionWriter,
    index: PartitionIndex,
}

/// Writes records into Parquet files in the store, exactly once.
pub struct S3ParquetSinkTask {
    budget: Arc<MemoryBudget>,
    state: Option<Started>,
}

struct Started {
    config: S3SinkConfig,
    store: Arc<dyn ObjectStore>,
    writer_id: String,
    rotation: Rotation,
    layout: Layout,
    file_options: FileOptions,
    slots: HashMap<TopicPartition, Slot>,
    lease: Lease,
    /// Process start, for monotonic milliseconds.
    epoch: Instant,
}

impl Default for S3ParquetSinkTask {
    fn default() -> Self {
        Self::new()
    }
}

impl S3ParquetSinkTask {
    /// A new, unstarted task using the worker-wide memory budget.
    pub fn new() -> Self {
        Self::with_budget(MemoryBudget::global())
    }

    /// A task using its own budget (tests).
    pub fn with_budget(budget: Arc<MemoryBudget>) -> Self {
        Self {
            budget,
            state: None,
        }
    }

    fn started(&mut self) -> Result<&mut Started, SinkError> {
        self.state
            .as_mut()
            .ok_or_else(|| SinkError::Fatal("the S3-Parquet task was not started".into()))
    }
}

fn wall_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A writer id unique to this task instance: `<connector>/<task>/<nonce>`.
fn writer_id(config: &TaskConfig) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nonce = format!(
        "{:x}{:x}{:x}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    format!(
        "{}/{}/{nonce}",
        config.get("name").map(String::as_str).unwrap_or("sluice"),
        config.get("task.id").map(String::as_str).unwrap_or("0")
    )
}

fn store_error(e: StoreError) -> SinkError {
    if e.is_transient() {
        SinkError::Retriable(e.to_string())
    } else {
        SinkError::Fatal(e.to_string())
    }
}

fn index_error(e: IndexError) -> SinkError {
    if e.is_transient() {
        SinkError::Retriable(e.to_string())
    } else {
        SinkError::Fatal(e.to_string())
    }
}

impl Started {
    fn now_ms(&self) -> i64 {
        self.epoch.elapsed().as_millis() as i64
    }

    async fn open_slot(&mut self, tp: &TopicPartition) -> Result<Option<i64>, SinkError> {
        let prefix = partition_prefix(
            &self.config.topics_dir,
            &self.config.name,
            &tp.topic,
            tp.partition,
        );
        let (index, next) = PartitionIndex::open(
            self.store.as_ref(),
            prefix,
            tp.to_string(),
            self.writer_id.clone(),
        )
        .await
        .map_err(index_error)?;
        let mut writer = PartitionWriter::new(tp.clone(), next);
        writer.last_append_ms = self.now_ms();
        if let (Some(interval), Some(zone)) = (
            self.config.rotate_schedule_interval_ms,
            self.config.timezone.as_ref(),
        ) {
            writer.next_schedule_ms = Some(next_schedule_boundary(wall_ms(), interval, zone));
        }
        self.slots.insert(tp.clone(), Slot { writer, index });
        Ok(next)
    }

    /// Uploads, indexes and publishes every sealed set of a partition, oldest first.
    async fn commit_sealed(&mut self, tp: &TopicPartition) -> Result<(), SinkError> {
        let store = self.store.clone();
        let Some(slot) = self.slots.get_mut(tp) else {
            return Ok(());
        };
        while let Some(set) = slot.writer.sealed.front_mut() {
            if !set.indexed {
                while set.uploaded < set.files.len() {
                    let f = &set.files[set.uploaded];
                    let staging = slot.index.staging_key(&f.file_name);
                    store
                        .put(&staging, f.bytes.clone())
                        .await
                        .map_err(store_error)?;
                    set.uploaded += 1;
                }
                let files = set
                    .files
                    .iter()
                    .map(|f| CommittedFile {
                        staging: slot.index.staging_key(&f.file_name),
                        key: f.key.clone(),
                        first_offset: f.first_offset,
                        last_offset: f.last_offset,
                        records: f.records,
                    })
                    .collect();
                match slot
                    .index
                    .append_commit(store.as_ref(), set.next_offset, files)
                    .await
                {
                    Ok(()) => set.indexed = true,
                    Err(e @ IndexError::Fenced { .. }) => {
                        return Err(SinkError::Fatal(e.to_string()));
                    }
                    Err(e) => return Err(index_error(e)),
                }
            }
            slot.index
                .republish(store.as_ref())
                .await
                .map_err(index_error)?;
            let set = slot.writer.sealed.pop_front().expect("front exists");
            slot.writer.committed = Some(set.next_offset);
            tracing::debug!(partition = %tp, files = set.files.len(), next_offset = set.next_offset, "committed file set");
        }
        Ok(())
    }

    async fn commit_all_sealed(&mut self) -> Result<(), SinkError> {
        let pending: Vec<TopicPartition> = self
            .slots
            .iter()
            .filter(|(_, s)| !s.writer.sealed.is_empty())
            .map(|(tp, _)| tp.clone())
            .collect();
        for tp in pending {
            self.commit_sealed(&tp).await?;
        }
        self.update_lease();
        Ok(())
    }

    fn update_lease(&mut self) {
        let used = self.slots.values().map(|s| s.writer.memory_bytes()).sum();
        self.lease.set(used);
    }

    /// Rotates the largest partitions while the worker is over its memory budget.
    async fn relieve_memory(&mut self) -> Result<(), SinkError> {
        self.update_lease();
        while self.lease.budget().exceeded() && self.lease.held() > 0 {
            let Some(tp) = self
                .slots
                .iter()
                .filter(|(_, s)| s.writer.open_records() > 0)
                .max_by_key(|(_, s)| s.writer.memory_bytes())
                .map(|(tp, _)| tp.clone())
            else {
                break;
            };
            tracing::debug!(partition = %tp, used = self.lease.budget().used(), limit = self.lease.budget().limit(), "memory budget reached: rotating early");
            let layout = self.layout.clone();
            if let Some(slot) = self.slots.get_mut(&tp) {
                slot.writer
                    .seal(&layout)
                    .map_err(|e| SinkError::Fatal(e.to_string()))?;
            }
            self.commit_sealed(&tp).await?;
            self.update_lease();
        }
        Ok(())
    }

    /// Time-driven rotations: `rotate.idle.ms` and `rotate.schedule.interval.ms`.
    fn seal_due(&mut self) -> Result<(), SinkError> {
        let now = self.now_ms();
        let wall = wall_ms();
        let idle = self.config.rotate_idle_ms;
        let schedule = self.config.rotate_schedule_interval_ms;
        for slot in self.slots.values_mut() {
            let w = &mut slot.writer;
            let mut due = false;
            if let Some(next) = w.next_schedule_ms {
                if wall >= next {
                    due = true;
                    if let (Some(interval), Some(zone)) = (schedule, self.config.timezone.as_ref())
                    {
                        w.next_schedule_ms = Some(next_schedule_boundary(wall, interval, zone));
                    }
                }
            }
            if idle.is_some_and(|i| now - w.last_append_ms >= i) {
                due = true;
            }
            if due && w.open_records() > 0 {
                w.seal(&self.layout)
                    .map_err(|e| SinkError::Fatal(e.to_string()))?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl SinkTask for S3ParquetSinkTask {
    async fn start(&mut self, config: &TaskConfig) -> Result<(), SinkError> {
        let parsed = S3SinkConfig::parse(config)
            .map_err(|errors| SinkError::Fatal(crate::configdef::describe_errors(&errors)))?;
        let store = storage::open(&parsed.store).await.map_err(store_error)?;
        store
            .check()
            .await
            .map_err(|e| SinkError::Fatal(format!("{}: {e}", store.describe())))?;
        tracing::info!(store = %store.describe(), "S3-Parquet sink writing to {}", store.describe());
        let rotation = Rotation {
            flush_size: parsed.flush_size.max(1),
            flush_size_bytes: parsed.flush_size_bytes,
            interval_ms: parsed.rotate_interval_ms,
            compatibility: parsed.schema_compatibility,
        };
        let layout = Layout {
            topics_dir: parsed.topics_dir.clone(),
            directory_delim: parsed.directory_delim.clone(),
            file_delim: parsed.file_delim.clone(),
            zero_pad: parsed.zero_pad,
            extension: parsed.codec.extension(),
        };
        let file_options = FileOptions {
            compression: parsed.codec.compression(),
            row_group_size: parsed.row_group_size,
            arrow: ArrowOptions::default(),
        };
        self.state = Some(Started {
            writer_id: writer_id(config),
            config: parsed,
            store,
            rotation,
            layout,
            file_options,
            slots: HashMap::new(),
            lease: self.budget.lease(),
            epoch: Instant::now(),
        });
        Ok(())
    }

    async fn open(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        let s = self.started()?;
        let mut out = HashMap::new();
        for tp in partitions {
            if let Some(next) = s.open_slot(tp).await? {
                out.insert(tp.clone(), next);
            }
        }
        Ok(out)
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), SinkError> {
        let s = self.started()?;
        // Sets a failed upload left behind go first: nothing new is taken until they are in.
        s.commit_all_sealed().await?;
        let wall = wall_ms();
        let now = s.now_ms();
        for (i, record) in records.iter().enumerate() {
            let tp = record.topic_partition();
            if !s.slots.contains_key(&tp) {
                s.open_slot(&tp).await?;
            }
            let slot = s.slots.get_mut(&tp).expect("opened above");
            if slot.writer.seen(record.offset) {
                continue;
            }
            let Some(data) = &record.value else {
                match s.config.on_null {
                    NullBehavior::Ignore => {
                        slot.writer.skip(record.offset);
                        continue;
                    }
                    NullBehavior::Fail => {
                        return Err(SinkError::Record {
                            index: i,
                            message: format!(
                                "null (tombstone) value at {tp} offset {}: set behavior.on.null.values=ignore to skip tombstones",
                                record.offset
                            ),
                        })
                    }
                }
            };
            let fail = |message: String| SinkError::Record {
                index: i,
                message: format!("{tp} offset {}: {message}", record.offset),
            };
            let (schema, value) = data.decoded().map_err(|e| fail(e.to_string()))?;
            let ts = s
                .config
                .partitioning
                .timestamp(record, &value, schema.as_deref(), wall)
                .map_err(|e| fail(e.to_string()))?;
            let encoded = s
                .config
                .partitioning
                .encode(record, &value, schema.as_deref(), ts)
                .map_err(|e| fail(e.to_string()))?;
            let written = slot.writer.write(
                &record.topic,
                encoded,
                schema.as_ref(),
                &value,
                record.offset,
                ts,
                now,
                &s.rotation,
                &s.layout,
                &s.file_options,
            );
            match written {
                Ok(()) => {}
                Err(RecordError::Write(super::writer::WriteError::Parquet(e))) => {
                    return Err(SinkError::Fatal(format!(
                        "{tp}: parquet encoding failed: {e}"
                    )))
                }
                Err(e) => return Err(fail(e.to_string())),
            }
            if !slot.writer.sealed.is_empty() {
                s.commit_sealed(&tp).await?;
            }
        }
        s.relieve_memory().await
    }

    async fn flush(
        &mut self,
        consumed: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        let s = self.started()?;
        s.seal_due()?;
        s.commit_all_sealed().await?;
        let mut durable = HashMap::new();
        for (tp, slot) in &s.slots {
            let w = &slot.writer;
            // Nothing buffered: every consumed record is in a committed file or was skipped.
            let at = if w.is_idle() {
                consumed.get(tp).copied().or(w.committed)
            } else {
                w.committed
            };
            if let Some(o) = at {
                durable.insert(tp.clone(), o);
            }
        }
        Ok(durable)
    }

    async fn tick(&mut self) -> Result<(), SinkError> {
        let s = self.started()?;
        s.seal_due()?;
        s.commit_all_sealed().await
    }

    async fn close(&mut self, partitions: &[TopicPartition]) -> Result<(), SinkError> {
        if let Some(s) = self.state.as_mut() {
            for tp in partitions {
                // Uncommitted data is dropped: the partition's next owner reads it again.
                s.slots.remove(tp);
            }
            s.update_lease();
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), SinkError> {
        self.state = None;
        Ok(())
    }
}
