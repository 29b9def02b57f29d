//! The writer of one Kafka partition: its open files (one per output directory) and when
//! they rotate. Pure bookkeeping: finished files come out as [`SealedSet`]s that the task
//! uploads and commits; nothing here does I/O.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use bytes::Bytes;

use super::super::config::SchemaCompatibility;
use super::compat;
use super::file::{FileOptions, ParquetFile, WriteError};
use crate::data::{Kind, SchemaRef, TopicPartition, Value};

/// Rotation settings (from the connector config).
#[derive(Debug, Clone)]
pub struct Rotation {
    /// `flush.size`: records per file set.
    pub flush_size: u64,
    /// `flush.size.bytes`: estimated encoded bytes of one file.
    pub flush_size_bytes: Option<u64>,
    /// `rotate.interval.ms`: record-time span of a file set.
    pub interval_ms: Option<i64>,
    /// `schema.compatibility`: what a schema change does to open files.
    pub compatibility: SchemaCompatibility,
}

/// Where files go: `<topics.dir>/<topic>/<encoded>/<topic>+<partition>+<start>.<ext>`.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `topics.dir`.
    pub topics_dir: String,
    /// `directory.delim`.
    pub directory_delim: String,
    /// `file.delim`.
    pub file_delim: String,
    /// `filename.offset.zero.pad.width`.
    pub zero_pad: usize,
    /// File name suffix, e.g. `.snappy.parquet`.
    pub extension: &'static str,
}

impl Layout {
    /// The file name of a file starting at `start`.
    pub fn file_name(&self, topic: &str, partition: i32, start: i64) -> String {
        format!(
            "{topic}{d}{partition}{d}{start:0width$}{ext}",
            d = self.file_delim,
            width = self.zero_pad,
            ext = self.extension
        )
    }

    /// The object key of a file.
    pub fn key(&self, topic: &str, encoded: &str, file_name: &str) -> String {
        let d = &self.directory_delim;
        let dir = self.topics_dir.trim_end_matches(d.as_str());
        if dir.is_empty() {
            format!("{topic}{d}{encoded}{d}{file_name}")
        } else {
            format!("{dir}{d}{topic}{d}{encoded}{d}{file_name}")
        }
    }
}

/// A finished file, ready to upload.
#[derive(Debug, Clone)]
pub struct SealedFile {
    /// Final object key.
    pub key: String,
    /// Its file name (last key component).
    pub file_name: String,
    /// Parquet bytes.
    pub bytes: Bytes,
    /// First offset in the file.
    pub first_offset: i64,
    /// Last offset in the file.
    pub last_offset: i64,
    /// Rows.
    pub records: u64,
}

/// Every file of a partition closed at one rotation; committed together.
#[derive(Debug, Clone)]
pub struct SealedSet {
    /// The files.
    pub files: Vec<SealedFile>,
    /// The next offset to read once the set is committed.
    pub next_offset: i64,
    /// Staging uploads done so far (prefix of `files`).
    pub uploaded: usize,
    /// The index entry is written (only publishing may remain).
    pub indexed: bool,
}

impl SealedSet {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.bytes.len()).sum()
    }
}

/// Why a record was not written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The value has a shape Parquet rows cannot take.
    #[error("{0}")]
    Shape(String),
    /// Encoding failed.
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// One Kafka partition's open files and pending commits.
#[derive(Debug)]
pub struct PartitionWriter {
    tp: TopicPartition,
    files: BTreeMap<(Arc<str>, String), ParquetFile>,
    /// Records below this offset were already taken (a retried `put` skips them).
    next_expected: Option<i64>,
    set_records: u64,
    base_ts: Option<i64>,
    last_offset: Option<i64>,
    /// Monotonic ms of the last append, for `rotate.idle.ms`.
    pub last_append_ms: i64,
    /// Wall-clock ms of the next scheduled rotation.
    pub next_schedule_ms: Option<i64>,
    /// Finished sets waiting to be committed, oldest first.
    pub sealed: VecDeque<SealedSet>,
    /// Next offset durable in the store (the index's position).
    pub committed: Option<i64>,
}

impl PartitionWriter {
    /// A writer resuming at `committed`.
    pub fn new(tp: TopicPartition, committed: Option<i64>) -> Self {
        Self {
            tp,
            files: BTreeMap::new(),
            next_expected: committed,
            set_records: 0,
            base_ts: None,
            last_offset: None,
            last_append_ms: 0,
            next_schedule_ms: None,
            sealed: VecDeque::new(),
            committed,
        }
    }

    /// True when `offset` was already taken.
    pub fn seen(&self, offset: i64) -> bool {
        self.next_expected.is_some_and(|n| offset < n)
    }

    /// Marks `offset` as taken without writing it (ignored nulls).
    pub fn skip(&mut self, offset: i64) {
        self.next_expected = Some(offset + 1);
    }

    /// True when nothing is buffered or waiting.
    pub fn is_idle(&self) -> bool {
        self.files.is_empty() && self.sealed.is_empty()
    }

    /// Rows in open files.
    pub fn open_records(&self) -> u64 {
        self.set_records
    }

    /// Bytes held by open files and unsent sets.
    pub fn memory_bytes(&self) -> usize {
        self.files
            .values()
            .map(ParquetFile::memory_bytes)
            .sum::<usize>()
            + self.sealed.iter().map(SealedSet::bytes).sum::<usize>()
    }

    /// Whether files rotate before a record with record time `ts`, `schema` and `value` goes to
    /// `key`, and the value to write (projected into the open file's schema when
    /// `schema.compatibility` allows it).
    fn before_write(
        &self,
        key: &(Arc<str>, String),
        schema: Option<&SchemaRef>,
        value: &Value,
        ts: i64,
        rot: &Rotation,
    ) -> (bool, Option<Value>) {
        if self.files.is_empty() {
            return (false, None);
        }
        let mut projected = None;
        if let Some(f) = self.files.get(key) {
            if !f.accepts(schema) {
                match (schema, f.schema()) {
                    (Some(s), Some(current)) => {
                        match compat::decide(rot.compatibility, s, value, current) {
                            compat::Decision::Project(v) => projected = Some(v),
                            compat::Decision::Rotate => return (true, None),
                        }
                    }
                    _ => return (true, None),
                }
            }
        }
        let due = matches!((rot.interval_ms, self.base_ts), (Some(i), Some(b)) if ts - b >= i);
        if due {
            (true, None)
        } else {
            (false, projected)
        }
    }

    /// Writes one record. Rotations it triggers are queued in `sealed`.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &mut self,
        topic: &Arc<str>,
        encoded: String,
        schema: Option<&SchemaRef>,
        value: &Value,
        offset: i64,
        ts: i64,
        now_ms: i64,
        rot: &Rotation,
        layout: &Layout,
        opts: &FileOptions,
    ) -> Result<(), RecordError> {
        match schema {
            Some(s) if !matches!(s.kind, Kind::Struct(_)) => {
                return Err(RecordError::Shape(format!(
                    "a Parquet row needs a struct value, but the record's schema is {}",
                    s.kind.type_name()
                )))
            }
            None if !matches!(value, Value::Map(_)) => {
                return Err(RecordError::Shape(
                    "a schemaless record must be a JSON object to become a Parquet row".into(),
                ))
            }
            _ => {}
        }
        let key = (topic.clone(), encoded);
        let (rotate, projected) = self.before_write(&key, schema, value, ts, rot);
        if rotate {
            self.seal(layout)?;
        }
        let value = projected.as_ref().unwrap_or(value);
        let created = !self.files.contains_key(&key);
        if created {
            let file = match schema {
                Some(s) => ParquetFile::typed(s, opts)?,
                None => ParquetFile::inferred(opts),
            };
            self.files.insert(key.clone(), file);
        }
        let file = self.files.get_mut(&key).expect("inserted above");
        if let Err(e) = file.append(value, offset) {
            if created {
                self.files.remove(&key);
            }
            return Err(e.into());
        }
        let encoded_bytes = file.encoded_bytes() as u64;
        self.next_expected = Some(offset + 1);
        self.last_offset = Some(offset);
        self.set_records += 1;
        self.base_ts.get_or_insert(ts);
        self.last_append_ms = now_ms;
        if self.set_records >= rot.flush_size
            || rot.flush_size_bytes.is_some_and(|b| encoded_bytes >= b)
        {
            self.seal(layout)?;
        }
        Ok(())
    }

    /// Closes every open file into a set to commit (no-op without open files).
    pub fn seal(&mut self, layout: &Layout) -> Result<(), WriteError> {
        let Some(last) = self.last_offset else {
            return Ok(());
        };
        if self.files.is_empty() {
            return Ok(());
        }
        let files = std::mem::take(&mut self.files);
        let mut sealed = Vec::with_capacity(files.len());
        for ((topic, encoded), file) in files {
            let file_name = layout.file_name(&topic, self.tp.partition, file.first_offset);
            let key = layout.key(&topic, &encoded, &file_name);
            let (first_offset, last_offset, records) =
                (file.first_offset, file.last_offset, file.records);
            let metadata = vec![
                ("sluice.topic".to_string(), topic.to_string()),
                ("sluice.kafka.topic".to_string(), self.tp.topic.to_string()),
                (
                    "sluice.partition".to_string(),
                    self.tp.partition.to_string(),
                ),
                ("sluice.offset.first".to_string(), first_offset.to_string()),
                ("sluice.offset.last".to_string(), last_offset.to_string()),
                ("sluice.records".to_string(), records.to_string()),
                (
                    "sluice.version".to_string(),
                    env!("CARGO_PKG_VERSION").to_string(),
                ),
            ];
            let bytes = file.finish(metadata)?;
            sealed.push(SealedFile {
                key,
                file_name,
                bytes: Bytes::from(bytes),
                first_offset,
                last_offset,
                records,
            });
        }
        self.sealed.push_back(SealedSet {
            files: sealed,
            next_offset: last + 1,
            uploaded: 0,
            indexed: false,
        });
        self.set_records = 0;
        self.base_ts = None;
        Ok(())
    }
}
