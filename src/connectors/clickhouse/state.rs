//! The exactly-once state table: per connector and partition, the offset range of the last
//! insert and whether it is known to have finished.
//!
//! Protocol of one insert of offsets `min..=max` of a partition: write `BEFORE(min, max)`,
//! insert (with `insert_deduplication_token` where the server has it), write
//! `AFTER(min, max)`, and only then report `max + 1` durable. After a crash, `AFTER` resumes at
//! `max + 1`; `BEFORE` resumes at `min` and the first insert of that range is checked against
//! what the table already holds (`_topic`/`_partition`/`_offset`), or re-sent with the same
//! token. `SET(o)` and `RESET` come from the offsets REST API.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::client::{literal, ChClient, ChError};
use super::config::StateEngine;
use crate::data::TopicPartition;

/// What the state table says about a partition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// An insert of `min..=max` started; its outcome is unknown.
    Before {
        /// First offset of the range.
        min: i64,
        /// Last offset of the range.
        max: i64,
    },
    /// `min..=max` is in the table.
    After {
        /// First offset of the range.
        min: i64,
        /// Last offset of the range.
        max: i64,
    },
    /// Resume at this offset (set through `PATCH .../offsets`).
    Set(i64),
    /// No position: the consumer group's offset (or `auto.offset.reset`) decides.
    Reset,
}

impl Phase {
    /// The offset to resume reading from.
    pub fn resume_at(&self) -> Option<i64> {
        match *self {
            Phase::Before { min, .. } => Some(min),
            Phase::After { max, .. } => Some(max + 1),
            Phase::Set(o) => Some(o),
            Phase::Reset => None,
        }
    }

    fn columns(&self) -> (i64, i64, &'static str) {
        match *self {
            Phase::Before { min, max } => (min, max, "BEFORE"),
            Phase::After { min, max } => (min, max, "AFTER"),
            Phase::Set(o) => (o, o - 1, "SET"),
            Phase::Reset => (-1, -1, "RESET"),
        }
    }

    fn from_columns(min: i64, max: i64, state: &str) -> Option<Phase> {
        Some(match state {
            "BEFORE" => Phase::Before { min, max },
            "AFTER" => Phase::After { min, max },
            "SET" => Phase::Set(min),
            "RESET" => Phase::Reset,
            _ => return None,
        })
    }
}

/// Access to the state table of one connector.
#[derive(Clone)]
pub struct StateStore {
    client: ChClient,
    database: String,
    table: String,
    connector: String,
}

/// Sequence numbers: wall-clock nanoseconds, strictly increasing within the process, so the
/// latest row of a partition wins even when two writes share a clock tick.
fn next_seq() -> u64 {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut prev = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(prev + 1);
        match LAST.compare_exchange(prev, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(p) => prev = p,
        }
    }
}

impl StateStore {
    /// The store of `connector` in `database`.`table`.
    pub fn new(client: ChClient, database: &str, table: &str, connector: &str) -> StateStore {
        StateStore {
            client,
            database: database.to_string(),
            table: table.to_string(),
            connector: connector.to_string(),
        }
    }

    fn qualified(&self) -> String {
        format!("`{}`.`{}`", self.database, self.table)
    }

    /// The `CREATE TABLE IF NOT EXISTS` statement.
    pub fn create_sql(
        &self,
        engine: StateEngine,
        zk_path: &str,
        on_cluster: Option<&str>,
    ) -> String {
        let on_cluster = on_cluster
            .map(|c| format!(" ON CLUSTER `{c}`"))
            .unwrap_or_default();
        let (key, engine) = match engine {
            StateEngine::ReplacingMergeTree => (
                "",
                "ReplacingMergeTree(seq) ORDER BY (connector, topic, partition)".to_string(),
            ),
            StateEngine::KeeperMap => (
                "key String, ",
                format!("KeeperMap({}) PRIMARY KEY key", literal(zk_path)),
            ),
        };
        format!(
            "CREATE TABLE IF NOT EXISTS {}{on_cluster} ({key}connector String, topic String, \
             partition Int32, min_offset Int64, max_offset Int64, state String, seq UInt64, \
             updated DateTime DEFAULT now()) ENGINE = {engine}",
            self.qualified()
        )
    }

    /// Creates the table if needed.
    pub async fn ensure(
        &self,
        engine: StateEngine,
        zk_path: &str,
        on_cluster: Option<&str>,
    ) -> Result<(), ChError> {
        self.client
            .execute(&self.create_sql(engine, zk_path, on_cluster))
            .await
    }

    /// The latest phase of every partition of the connector.
    pub async fn load(&self) -> Result<HashMap<TopicPartition, Phase>, ChError> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT topic, partition, argMax(min_offset, seq), argMax(max_offset, seq), \
                 argMax(state, seq) FROM {} WHERE connector = {} GROUP BY topic, partition",
                self.qualified(),
                literal(&self.connector)
            ))
            .await?;
        let mut out = HashMap::new();
        for r in rows {
            let [topic, partition, min, max, state] = r.as_slice() else {
                continue;
            };
            let (Ok(p), Ok(min), Ok(max)) = (partition.parse(), min.parse(), max.parse()) else {
                continue;
            };
            if let Some(phase) = Phase::from_columns(min, max, state) {
                out.insert(TopicPartition::new(topic.as_str(), p), phase);
            }
        }
        Ok(out)
    }

    /// Records a partition's phase.
    pub async fn write(&self, tp: &TopicPartition, phase: Phase) -> Result<(), ChError> {
        let (min, max, state) = phase.columns();
        let key = format!("{}/{}/{}", self.connector, tp.topic, tp.partition);
        let (key_col, key_val) = if self.table_has_key().await {
            ("key, ", format!("{}, ", literal(&key)))
        } else {
            ("", String::new())
        };
        self.client
            .execute(&format!(
                "INSERT INTO {} ({key_col}connector, topic, partition, min_offset, max_offset, \
                 state, seq) VALUES ({key_val}{}, {}, {}, {min}, {max}, '{state}', {})",
                self.qualified(),
                literal(&self.connector),
                literal(&tp.topic),
                tp.partition,
                next_seq()
            ))
            .await
    }

    /// True when the table is the KeeperMap variant (it has a `key` column).
    async fn table_has_key(&self) -> bool {
        static CACHE: std::sync::OnceLock<std::sync::Mutex<HashMap<String, bool>>> =
            std::sync::OnceLock::new();
        let cache = CACHE.get_or_init(Default::default);
        let id = format!("{}|{}|{}", self.client.url(), self.database, self.table);
        if let Some(v) = cache.lock().ok().and_then(|c| c.get(&id).copied()) {
            return v;
        }
        let has = super::schema::fetch(&self.client, &self.database, &self.table)
            .await
            .ok()
            .flatten()
            .is_some_and(|t| t.get("key").is_some());
        if let Ok(mut c) = cache.lock() {
            c.insert(id, has);
        }
        has
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_round_trip_and_resume() {
        for p in [
            Phase::Before { min: 5, max: 9 },
            Phase::After { min: 5, max: 9 },
            Phase::Set(42),
            Phase::Reset,
        ] {
            let (min, max, state) = p.columns();
            assert_eq!(Phase::from_columns(min, max, state), Some(p));
        }
        assert_eq!(Phase::Before { min: 5, max: 9 }.resume_at(), Some(5));
        assert_eq!(Phase::After { min: 5, max: 9 }.resume_at(), Some(10));
        assert_eq!(Phase::Set(42).resume_at(), Some(42));
        assert_eq!(Phase::Reset.resume_at(), None);
        let a = next_seq();
        assert!(next_seq() > a);
    }
}
