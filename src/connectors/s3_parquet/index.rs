//! The exactly-once index: a per-partition log of commits in the store itself.
//!
//! Under `<topics.dir>/.sluice/<connector>/<topic>/<partition>/` each commit is one create-only
//! object `index/<seq, 20 digits>.json` holding the next offset to read and the files the commit
//! moves from staging to their final keys. Because entries are create-only (`If-None-Match: *`
//! on S3, a hard link locally), only one writer can append entry `seq + 1`: a task that opens a
//! partition appends a claim entry, so a zombie that still holds the partition fails on its next
//! commit instead of publishing files. Files are uploaded to `staging/` first and copied to their
//! final keys only after their entry is written; recovery finishes copies of the last entry.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::storage::{ObjectStore, StoreError};

/// Entries kept behind the latest (older ones are deleted after each commit).
const KEEP_ENTRIES: u64 = 2;
/// Claims attempted before giving up on a partition that keeps changing hands.
const MAX_CLAIM_ATTEMPTS: usize = 10;

/// A file a commit publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedFile {
    /// Where the bytes were uploaded.
    pub staging: String,
    /// The final object key.
    pub key: String,
    /// First Kafka offset in the file.
    pub first_offset: i64,
    /// Last Kafka offset in the file.
    pub last_offset: i64,
    /// Records in the file.
    pub records: u64,
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the log.
    pub seq: u64,
    /// Next offset to read after this commit; `None` when offsets were reset (the group's
    /// offset, or `auto.offset.reset`, decides).
    pub next_offset: Option<i64>,
    /// Files this commit publishes (empty for claims and offset changes).
    #[serde(default)]
    pub files: Vec<CommittedFile>,
    /// Who wrote it: `<connector>/<task>/<nonce>`; a retried write recognises its own entry.
    pub writer: String,
    /// Why: `commit`, `claim`, `alter-offsets`.
    pub kind: String,
    /// Epoch milliseconds of the write.
    pub written_at_ms: i64,
}

/// Index failures.
#[derive(Debug, Error)]
pub enum IndexError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another writer appended to the log: this task no longer owns the partition.
    #[error("{partition}: another writer took over this partition (index entry {seq} was written by {by}); this task's uncommitted data is discarded")]
    Fenced {
        /// `topic-partition`.
        partition: String,
        /// The entry that could not be written.
        seq: u64,
        /// Its actual writer.
        by: String,
    },
    /// An entry is not valid JSON.
    #[error("index entry {key} is unreadable: {message}")]
    Corrupt {
        /// Object key.
        key: String,
        /// Parser message.
        message: String,
    },
}

impl IndexError {
    /// True for store failures worth retrying.
    pub fn is_transient(&self) -> bool {
        matches!(self, IndexError::Store(e) if e.is_transient())
    }
}

/// The log of one Kafka partition, as seen by its current owner.
#[derive(Debug)]
pub struct PartitionIndex {
    prefix: String,
    label: String,
    writer: String,
    last: Entry,
}

/// Prefix of a partition's index and staging objects.
pub fn partition_prefix(topics_dir: &str, connector: &str, topic: &str, partition: i32) -> String {
    let base = topics_dir.trim_end_matches('/');
    let base = if base.is_empty() {
        String::new()
    } else {
        format!("{base}/")
    };
    format!("{base}.sluice/{connector}/{topic}/{partition}/")
}

fn entry_key(prefix: &str, seq: u64) -> String {
    format!("{prefix}index/{seq:020}.json")
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn latest(store: &dyn ObjectStore, prefix: &str) -> Result<Option<Entry>, IndexError> {
    let keys = store.list(&format!("{prefix}index/")).await?;
    // Keys sort by sequence; a newer entry may be missing only if it was pruned concurrently.
    for key in keys.iter().rev().filter(|k| k.ends_with(".json")) {
        if let Some(body) = store.get(key).await? {
            return serde_json::from_slice(&body)
                .map(Some)
                .map_err(|e| IndexError::Corrupt {
                    key: key.clone(),
                    message: e.to_string(),
                });
        }
    }
    Ok(None)
}

/// Appends `entry` at its sequence number. `Ok(None)` when written (or found already written by
/// this writer after a lost response); `Ok(Some(other))` when another writer owns that slot.
async fn append(
    store: &dyn ObjectStore,
    prefix: &str,
    entry: &Entry,
) -> Result<Option<Entry>, IndexError> {
    let key = entry_key(prefix, entry.seq);
    let body = serde_json::to_vec_pretty(entry).map_err(|e| IndexError::Corrupt {
        key: key.clone(),
        message: e.to_string(),
    })?;
    if store.put_if_absent(&key, Bytes::from(body)).await? {
        return Ok(None);
    }
    let existing = match store.get(&key).await? {
        Some(b) => serde_json::from_slice::<Entry>(&b).map_err(|e| IndexError::Corrupt {
            key: key.clone(),
            message: e.to_string(),
        })?,
        // Created then pruned by a newer writer: someone else moved on.
        None => {
            return Ok(Some(Entry {
                writer: "a newer writer".into(),
                ..entry.clone()
            }))
        }
    };
    if existing.writer == entry.writer && existing == *entry {
        Ok(None)
    } else {
        Ok(Some(existing))
    }
}

/// Copies the files of `entry` to their final keys (idempotent) and removes their staging
/// copies. A missing staging object means an earlier run already finished that file.
async fn publish(store: &dyn ObjectStore, entry: &Entry) -> Result<(), IndexError> {
    for f in &entry.files {
        match store.copy(&f.staging, &f.key).await {
            Ok(()) => {}
            Err(StoreError::NotFound { .. }) => {
                if !store.exists(&f.key).await? {
                    tracing::error!(key = %f.key, "staged file of a committed index entry is gone and its final object is missing");
                }
                continue;
            }
            Err(e) => return Err(e.into()),
        }
        store.delete(&f.staging).await?;
    }
    Ok(())
}

impl PartitionIndex {
    /// Takes ownership of a partition: finishes the last commit, appends a claim (fencing the
    /// previous owner), removes abandoned staging objects. Returns the index and the offset to
    /// resume from (`None`: no index yet, or offsets were reset).
    pub async fn open(
        store: &dyn ObjectStore,
        prefix: String,
        label: String,
        writer: String,
    ) -> Result<(Self, Option<i64>), IndexError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = latest(store, &prefix).await?;
            if let Some(e) = &last {
                publish(store, e).await?;
            }
            let claim = Entry {
                seq: last.as_ref().map_or(1, |e| e.seq + 1),
                next_offset: last.as_ref().and_then(|e| e.next_offset),
                files: Vec::new(),
                writer: writer.clone(),
                kind: "claim".into(),
                written_at_ms: now_ms(),
            };
            match append(store, &prefix, &claim).await? {
                None => {
                    let index = PartitionIndex {
                        prefix,
                        label,
                        writer,
                        last: claim,
                    };
                    index.prune(store).await;
                    index.clean_staging(store).await?;
                    let next = index.last.next_offset;
                    return Ok((index, next));
                }
                Some(other) if attempts >= MAX_CLAIM_ATTEMPTS => {
                    return Err(IndexError::Fenced {
                        partition: label,
                        seq: claim.seq,
                        by: other.writer,
                    })
                }
                Some(_) => continue,
            }
        }
    }

    /// The staging key for a new file of this partition.
    pub fn staging_key(&self, file_name: &str) -> String {
        format!(
            "{}staging/{}-{}.tmp",
            self.prefix,
            file_name,
            self.writer.rsplit('/').next().unwrap_or("w")
        )
    }

    /// The offset the log says to resume from.
    pub fn next_offset(&self) -> Option<i64> {
        self.last.next_offset
    }

    /// Records a commit of staged files and the new next offset; [`republish`](Self::republish)
    /// then moves the files to their final keys.
    pub async fn append_commit(
        &mut self,
        store: &dyn ObjectStore,
        next_offset: i64,
        files: Vec<CommittedFile>,
    ) -> Result<(), IndexError> {
        let entry = Entry {
            seq: self.last.seq + 1,
            next_offset: Some(next_offset),
            files,
            writer: self.writer.clone(),
            kind: "commit".into(),
            written_at_ms: now_ms(),
        };
        self.append_own(store, entry).await?;
        self.prune(store).await;
        Ok(())
    }

    /// Finishes publishing the last entry (after a failure between commit and copy).
    pub async fn republish(&self, store: &dyn ObjectStore) -> Result<(), IndexError> {
        publish(store, &self.last).await
    }

    async fn append_own(
        &mut self,
        store: &dyn ObjectStore,
        entry: Entry,
    ) -> Result<(), IndexError> {
        match append(store, &self.prefix, &entry).await? {
            None => {
                self.last = entry;
                Ok(())
            }
            Some(other) => Err(IndexError::Fenced {
                partition: self.label.clone(),
                seq: entry.seq,
                by: other.writer,
            }),
        }
    }

    /// Deletes entries older than the last [`KEEP_ENTRIES`]; failures only leave extra entries.
    async fn prune(&self, store: &dyn ObjectStore) {
        if self.last.seq <= KEEP_ENTRIES {
            return;
        }
        let keys = match store.list(&format!("{}index/", self.prefix)).await {
            Ok(k) => k,
            Err(_) => return,
        };
        let keep_from = entry_key(&self.prefix, self.last.seq - KEEP_ENTRIES);
        for k in keys.iter().filter(|k| k.as_str() < keep_from.as_str()) {
            let _ = store.delete(k).await;
        }
    }

    /// Removes staging objects no entry refers to (a crashed or fenced writer's uploads).
    async fn clean_staging(&self, store: &dyn ObjectStore) -> Result<(), IndexError> {
        for k in store.list(&format!("{}staging/", self.prefix)).await? {
            store.delete(&k).await?;
        }
        Ok(())
    }
}

/// Rewrites a partition's position (`PATCH`/`DELETE .../offsets` while the connector is
/// stopped): appends an entry with `next_offset` (`None` = reset).
pub async fn alter_offset(
    store: &dyn ObjectStore,
    prefix: &str,
    writer: &str,
    next_offset: Option<i64>,
) -> Result<(), IndexError> {
    for _ in 0..MAX_CLAIM_ATTEMPTS {
        let last = latest(store, prefix).await?;
        if let Some(e) = &last {
            publish(store, e).await?;
        }
        let entry = Entry {
            seq: last.as_ref().map_or(1, |e| e.seq + 1),
            next_offset,
            files: Vec::new(),
            writer: writer.to_string(),
            kind: "alter-offsets".into(),
            written_at_ms: now_ms(),
        };
        if append(store, prefix, &entry).await?.is_none() {
            return Ok(());
        }
    }
    Err(IndexError::Fenced {
        partition: prefix.to_string(),
        seq: 0,
        by: "a running task".into(),
    })
}

/// Every `(prefix, topic, partition)` with an index under a connector's reserved prefix.
pub async fn indexed_partitions(
    store: &dyn ObjectStore,
    topics_dir: &str,
    connector: &str,
) -> Result<Vec<(String, String, i32)>, IndexError> {
    let root = partition_prefix(topics_dir, connector, "", 0);
    // `partition_prefix` with an empty topic gives `<root>//0/`; strip to `<root>/`.
    let root = root
        .trim_end_matches("/0/")
        .trim_end_matches('/')
        .to_string()
        + "/";
    let mut out = Vec::new();
    for key in store.list(&root).await? {
        let Some(rest) = key.strip_prefix(&root) else {
            continue;
        };
        let mut parts = rest.splitn(3, '/');
        let (Some(topic), Some(partition), Some(tail)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let Ok(partition) = partition.parse::<i32>() else {
            continue;
        };
        if tail.starts_with("index/") {
            let prefix = partition_prefix(topics_dir, connector, topic, partition);
            let item = (prefix, topic.to_string(), partition);
            if !out.contains(&item) {
                out.push(item);
            }
        }
    }
    Ok(out)
}
