//! The ClickHouse `SinkTask`: records → per-partition Arrow batches → RowBinary chunks →
//! inserts (per partition, or per table when partitions may be mixed), with the exactly-once
//! state protocol of [`super::state`] and offsets reported durable only once inserted.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use arrow::array::RecordBatch;
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;

use super::batch::{
    encode, missing_fields, plain_meta, ChunkError, Encoded, Envelope, Mapping, RowMeta,
};
use super::client::{literal, Capabilities, ChClient, ChError};
use super::config::{ClickHouseSinkConfig, TableMode};
use super::ddl::{add_columns_sql, create_table_sql, nullable, table_spec};
use super::schema::{TableCache, TableColumns};
use super::state::{Phase, StateStore};
use crate::connectors::{SinkError, SinkTask, TaskConfig};
use crate::data::arrow::{AppendError, ArrowOptions, BatchBuilder, InferredBatchBuilder};
use crate::data::schema::{Kind, Schema, SchemaRef};
use crate::data::{SinkRecord, TopicPartition, Value};

/// How many schema errors in a row one partition's insert may hit before the task fails.
const MAX_SCHEMA_RETRIES: u32 = 3;

/// Writes records into ClickHouse tables.
#[derive(Default)]
pub struct ClickHouseSinkTask {
    state: Option<Started>,
}

impl ClickHouseSinkTask {
    /// A new, unstarted task.
    pub fn new() -> Self {
        Self::default()
    }

    fn started(&mut self) -> Result<&mut Started, SinkError> {
        self.state
            .as_mut()
            .ok_or_else(|| SinkError::Fatal("the ClickHouse task was not started".into()))
    }
}

/// Encoded rows of one partition for one table, with what is needed to encode them again.
struct Chunk {
    table: String,
    batch: RecordBatch,
    meta: Vec<RowMeta>,
    mapping: Mapping,
    enc: Encoded,
}

impl Chunk {
    fn first(&self) -> i64 {
        self.meta.first().map_or(-1, |m| m.offset)
    }

    fn last(&self) -> i64 {
        self.meta.last().map_or(-1, |m| m.offset)
    }

    fn bytes(&self) -> usize {
        self.enc.body.len()
    }

    /// Keeps the first `n` rows.
    fn truncate(&mut self, n: usize) {
        if n >= self.meta.len() {
            return;
        }
        let cut = self
            .enc
            .row_starts
            .get(n)
            .copied()
            .unwrap_or(self.enc.body.len());
        self.enc.body.truncate(cut);
        self.enc.row_starts.truncate(n);
        self.meta.truncate(n);
        self.batch = self.batch.slice(0, n);
    }

    /// Splits off the rows from `n` on.
    fn split_off(&mut self, n: usize) -> Chunk {
        let cut = self
            .enc
            .row_starts
            .get(n)
            .copied()
            .unwrap_or(self.enc.body.len());
        let body = self.enc.body.split_off(cut);
        let row_starts = self
            .enc
            .row_starts
            .split_off(n)
            .into_iter()
            .map(|s| s - cut)
            .collect();
        let meta = self.meta.split_off(n);
        let rest = self.batch.slice(n, self.batch.num_rows() - n);
        self.batch = self.batch.slice(0, n);
        Chunk {
            table: self.table.clone(),
            batch: rest,
            meta,
            mapping: self.mapping,
            enc: Encoded {
                columns: self.enc.columns.clone(),
                body,
                row_starts,
            },
        }
    }
}

/// One assigned partition.
#[derive(Default)]
struct Part {
    chunks: VecDeque<Chunk>,
    /// Every offset below is buffered, inserted or skipped.
    next: Option<i64>,
    /// Every offset below is in ClickHouse (or was skipped before anything was buffered).
    inserted: Option<i64>,
    /// An insert of this range may or may not have happened (state BEFORE, or a failed try).
    pending: Option<(i64, i64)>,
    /// When the oldest buffered chunk arrived.
    since: Option<Instant>,
    schema_failures: u32,
}

impl Part {
    fn rows(&self) -> usize {
        self.chunks.iter().map(|c| c.meta.len()).sum()
    }

    fn bytes(&self) -> usize {
        self.chunks.iter().map(Chunk::bytes).sum()
    }

    fn last_buffered(&self) -> Option<i64> {
        self.chunks.back().map(Chunk::last)
    }
}

/// Shared, read-only during inserts.
struct Ctx {
    config: ClickHouseSinkConfig,
    client: ChClient,
    caps: Capabilities,
    store: Option<StateStore>,
    settings: Vec<(String, String)>,
}

struct Started {
    ctx: Ctx,
    tables: TableCache,
    parts: HashMap<TopicPartition, Part>,
}

/// Rows of one partition (or several, when batching ignores partitions) for one insert.
struct Job {
    table: String,
    columns: Vec<String>,
    /// `(partition, chunks)`, in order.
    parts: Vec<(TopicPartition, Vec<Chunk>)>,
    /// Exactly-once: the range is checked against the table before inserting.
    check: Option<(i64, i64)>,
}

impl Job {
    fn range(&self) -> (i64, i64) {
        let chunks = self.parts.iter().flat_map(|(_, c)| c.iter());
        let min = chunks.clone().map(Chunk::first).min().unwrap_or(-1);
        let max = chunks.map(Chunk::last).max().unwrap_or(-1);
        (min, max)
    }

    /// The part of the checked range after this job's rows: still unknown once the job is in.
    fn unchecked(&self) -> Option<(i64, i64)> {
        let (_, max) = self.range();
        self.check
            .and_then(|(_, cmax)| (max < cmax).then_some((max + 1, cmax)))
    }

    fn rows(&self) -> usize {
        self.parts
            .iter()
            .flat_map(|(_, c)| c.iter())
            .map(|c| c.meta.len())
            .sum()
    }
}

/// Why an insert job failed.
enum JobError {
    /// The table's columns changed (or it vanished): refresh, re-encode, retry.
    Schema(ChError),
    /// Retry later.
    Transient(String),
    /// The task cannot go on.
    Fatal(String),
}

fn ch_error(e: ChError, what: &str) -> JobError {
    if e.is_schema() || e.is_unknown_table() {
        JobError::Schema(e)
    } else if e.is_transient() {
        JobError::Transient(format!("{what}: {e}"))
    } else {
        JobError::Fatal(format!("{what}: {e}"))
    }
}

fn sink_error(e: ChError, what: &str) -> SinkError {
    if e.is_transient() {
        SinkError::Retriable(format!("{what}: {e}"))
    } else {
        SinkError::Fatal(format!("{what}: {e}"))
    }
}

impl Ctx {
    /// Settings sent with every insert: Sluice's defaults the server knows, then the user's.
    fn insert_settings(caps: &Capabilities, user: &[(String, String)]) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = [
            ("wait_end_of_query", "1"),
            ("input_format_skip_unknown_fields", "1"),
            ("async_insert", "0"),
        ]
        .into_iter()
        // wait_end_of_query is an HTTP interface parameter (never in system.settings);
        // async_insert only exists from 21.11.
        .filter(|(k, _)| *k != "async_insert" || caps.settings.contains(*k))
        .filter(|(k, _)| !user.iter().any(|(u, _)| u == k))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        out.extend(user.iter().cloned());
        out
    }

    /// Offsets of `tp` in `min..=max` that `table` already holds.
    async fn present(
        &self,
        table: &str,
        tp: &TopicPartition,
        min: i64,
        max: i64,
    ) -> Result<Vec<i64>, ChError> {
        let rows = self
            .client
            .rows(&format!(
                "SELECT DISTINCT _offset FROM `{}`.`{table}` WHERE _topic = {} AND _partition = {} \
                 AND _offset >= {min} AND _offset <= {max}",
                self.config.database,
                literal(&tp.topic),
                tp.partition
            ))
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.first().and_then(|v| v.parse().ok()))
            .collect())
    }

    /// The `query_id` of the exactly-once insert of `min..=max` of `tp`, so that a retry after
    /// a crash can tell whether that earlier try is still running on the server.
    fn insert_query_id(&self, tp: &TopicPartition, min: i64, max: i64) -> String {
        format!(
            "sluice-{}-{}-{}-{min}-{max}",
            self.config.name, tp.topic, tp.partition
        )
    }

    /// Waits until no query with this id runs on the server: an insert whose client was killed
    /// may still be writing its rows, and checking the table before it ends would miss them.
    async fn wait_until_finished(&self, query_id: &str) -> Result<(), ChError> {
        let deadline = Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let rows = self
                .client
                .rows(&format!(
                    "SELECT count() FROM system.processes WHERE query_id = {}",
                    literal(query_id)
                ))
                .await?;
            let running: u64 = rows
                .first()
                .and_then(|r| r.first())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if running == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(ChError::Server {
                    code: 216,
                    message: format!("the earlier insert {query_id} is still running"),
                });
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Runs one insert (exactly-once: BEFORE, insert, AFTER).
    async fn run(&self, job: &Job) -> Result<(), JobError> {
        let (min, max) = job.range();
        let single = job.parts.len() == 1;
        let tp = job.parts.first().map(|(tp, _)| tp.clone());
        let what = format!(
            "insert into {} ({} rows, offsets {min}..={max} of {})",
            job.table,
            job.rows(),
            job.parts
                .iter()
                .map(|(tp, _)| tp.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        // The range whose outcome stays unknown while this try runs: the whole pending range
        // of an earlier try, even when this job covers only its first offsets.
        let (bmin, bmax) = match job.check {
            Some((cmin, cmax)) => (cmin.min(min), cmax.max(max)),
            None => (min, max),
        };
        // Rows already in the table (a previous try whose outcome was unknown) are left out.
        let mut skip: Vec<i64> = Vec::new();
        if let (Some((cmin, cmax)), Some(tp)) = (job.check, &tp) {
            self.wait_until_finished(&self.insert_query_id(tp, cmin, cmax))
                .await
                .map_err(|e| ch_error(e, &what))?;
            skip = self
                .present(&job.table, tp, cmin, cmax)
                .await
                .map_err(|e| ch_error(e, &what))?;
            skip.sort_unstable();
            if !skip.is_empty() {
                tracing::info!(partition = %tp, table = %job.table, "{} of offsets {cmin}..={cmax} are already in {}: not inserting them again", skip.len(), job.table);
            }
        }
        let mut body = Vec::new();
        let mut rows = 0usize;
        for (_, chunks) in &job.parts {
            for c in chunks {
                if skip.is_empty() {
                    body.extend_from_slice(&c.enc.body);
                    rows += c.meta.len();
                    continue;
                }
                for (i, m) in c.meta.iter().enumerate() {
                    if skip.binary_search(&m.offset).is_ok() {
                        continue;
                    }
                    let start = c.enc.row_starts[i];
                    let end = c
                        .enc
                        .row_starts
                        .get(i + 1)
                        .copied()
                        .unwrap_or(c.enc.body.len());
                    body.extend_from_slice(&c.enc.body[start..end]);
                    rows += 1;
                }
            }
        }
        let store = if single { self.store.as_ref() } else { None };
        if let (Some(store), Some(tp)) = (store, &tp) {
            store
                .write(
                    tp,
                    Phase::Before {
                        min: bmin,
                        max: bmax,
                    },
                )
                .await
                .map_err(|e| ch_error(e, "state table"))?;
        }
        if rows > 0 {
            let mut settings = self.settings.clone();
            if let (Some(_), Some(tp)) = (store, &tp) {
                settings.push(("query_id".into(), self.insert_query_id(tp, bmin, bmax)));
                if self.caps.dedup_token() {
                    settings.push((
                        "insert_deduplication_token".into(),
                        format!("{}-{}-{min}-{max}", tp.topic, tp.partition),
                    ));
                }
            }
            let started = Instant::now();
            self.client
                .insert_rowbinary(&job.table, &job.columns, Bytes::from(body), &settings)
                .await
                .map_err(|e| ch_error(e, &what))?;
            tracing::debug!(table = %job.table, rows, elapsed = ?started.elapsed(), "inserted");
        }
        if let (Some(store), Some(tp)) = (store, &tp) {
            // Offsets after this job that the earlier try may have written stay unknown
            // until a later job checks them.
            let phase = match job.unchecked() {
                Some((min, max)) => Phase::Before { min, max },
                None => Phase::After { min, max },
            };
            store
                .write(tp, phase)
                .await
                .map_err(|e| ch_error(e, "state table"))?;
        }
        Ok(())
    }
}

/// Records of one partition for one table, collected during a `put`.
struct Staged {
    tp: TopicPartition,
    table: String,
    /// `None` for schemaless values (JSON objects), whose Arrow types are inferred.
    schema: Option<SchemaRef>,
    mapping: Mapping,
    builder: Rows,
    meta: Vec<RowMeta>,
    index: Vec<usize>,
    key_fields: Vec<String>,
}

/// An Arrow batch under construction: from the record schema, or inferred from JSON objects.
enum Rows {
    Typed(BatchBuilder),
    Inferred(InferredBatchBuilder),
}

impl Rows {
    fn append(&mut self, value: &Value) -> Result<(), AppendError> {
        match self {
            Rows::Typed(b) => b.append(value),
            Rows::Inferred(b) => b.append(value),
        }
    }

    fn finish(&mut self) -> RecordBatch {
        match self {
            Rows::Typed(b) => b.finish(),
            Rows::Inferred(b) => b.finish(),
        }
    }
}

fn key_fields(record: &SinkRecord) -> Vec<String> {
    let Some(key) = &record.key else {
        return Vec::new();
    };
    match key.to_value() {
        Ok((Some(schema), _)) => match &schema.kind {
            Kind::Struct(fields) => fields.iter().map(|f| f.name.clone()).collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

impl Started {
    fn part(&mut self, tp: &TopicPartition) -> &mut Part {
        self.parts.entry(tp.clone()).or_default()
    }

    /// The table's columns, creating or evolving it when configured.
    async fn columns_for(
        &mut self,
        table: &str,
        schema: &Schema,
        mapping: Mapping,
        key: &[String],
    ) -> Result<Arc<TableColumns>, SinkError> {
        let c = &self.ctx;
        let db = c.config.database.clone();
        let row: &Schema = match mapping {
            Mapping::Unwrap { after, .. } => &schema.fields()[after].schema,
            Mapping::Plain => schema,
        };
        let cols = match self
            .tables
            .get(&c.client, &db, table)
            .await
            .map_err(|e| sink_error(e, "reading system.columns"))?
        {
            Some(cols) => cols,
            None if c.config.auto_create => {
                let mode = match mapping {
                    Mapping::Unwrap { .. } => TableMode::Replacing,
                    Mapping::Plain => TableMode::Staging,
                };
                let spec = table_spec(mode, row, key, &c.config.metadata_columns, &c.caps)
                    .map_err(|e| SinkError::Fatal(format!("auto.create of {table}: {e}")))?;
                let sql = create_table_sql(&db, table, &spec, c.config.cluster.as_deref(), &c.caps);
                tracing::info!(table, "auto.create: {sql}");
                c.client
                    .execute(&sql)
                    .await
                    .map_err(|e| sink_error(e, &format!("auto.create of {table}")))?;
                self.tables
                    .get(&c.client, &db, table)
                    .await
                    .map_err(|e| sink_error(e, "reading system.columns"))?
                    .ok_or_else(|| {
                        SinkError::Fatal(format!(
                            "table {db}.{table} is missing after CREATE TABLE"
                        ))
                    })?
            }
            None => {
                return Err(SinkError::Fatal(format!(
                    "Table {db}.{table} does not exist in ClickHouse at {}: create it, or set \
                     auto.create=true",
                    c.client.url()
                )))
            }
        };
        if c.config.auto_evolve && matches!(row.kind, Kind::Struct(_)) {
            let missing = missing_fields(row, &cols);
            if !missing.is_empty() {
                let adds = missing
                    .iter()
                    .map(|f| {
                        nullable(&f.schema, &c.caps).map(|mut t| {
                            // Rows written before the column existed have no value: Nullable.
                            if !t.is_nullable()
                                && !matches!(
                                    t,
                                    super::types::ChType::Array(_)
                                        | super::types::ChType::Map(..)
                                        | super::types::ChType::Tuple(_)
                                )
                            {
                                t = super::types::ChType::Nullable(Box::new(t));
                            }
                            (f.name.clone(), t)
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| SinkError::Fatal(format!("auto.evolve of {table}: {e}")))?;
                let sql = add_columns_sql(&db, table, &adds, c.config.cluster.as_deref(), &c.caps);
                tracing::info!(table, "auto.evolve: {sql}");
                match c.client.execute(&sql).await {
                    Ok(()) => {}
                    // DUPLICATE_COLUMN: another task added it first.
                    Err(ChError::Server { code: 15, .. }) => {}
                    Err(e) => return Err(sink_error(e, &format!("auto.evolve of {table}"))),
                }
                self.tables.invalidate(table);
                return self
                    .tables
                    .get(&c.client, &db, table)
                    .await
                    .map_err(|e| sink_error(e, "reading system.columns"))?
                    .ok_or_else(|| SinkError::Fatal(format!("table {db}.{table} vanished")));
            }
        }
        Ok(cols)
    }

    /// Inserts what is due: every partition with `all`, else those over a size or age limit.
    async fn insert_due(
        &mut self,
        all: bool,
        consumed: Option<&HashMap<TopicPartition, i64>>,
    ) -> Result<(), SinkError> {
        let cfg = &self.ctx.config;
        let due: Vec<TopicPartition> = self
            .parts
            .iter()
            .filter(|(_, p)| !p.chunks.is_empty())
            .filter(|(_, p)| {
                all || p.rows() >= cfg.batch_max_rows
                    || p.bytes() >= cfg.batch_max_bytes
                    || p.since
                        .is_some_and(|s| s.elapsed().as_millis() as u64 >= cfg.batch_max_ms)
            })
            .map(|(tp, _)| tp.clone())
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let jobs = self.take_jobs(&due, consumed)?;
        if jobs.is_empty() {
            return Ok(());
        }
        let ctx = &self.ctx;
        // Futures built up front: a stream holding the closure would not be `Send` for every
        // lifetime (async_trait needs it).
        let runs: Vec<_> = jobs.iter().map(|j| ctx.run(j)).collect();
        let results: Vec<Result<(), JobError>> = futures::stream::iter(runs)
            .buffered(ctx.config.insert_parallelism.max(1))
            .collect()
            .await;
        let mut first_error: Option<SinkError> = None;
        let mut reencode = Vec::new();
        for (job, result) in jobs.into_iter().zip(results) {
            let (min, max) = job.range();
            let exactly_once = self.ctx.store.is_some();
            let unchecked = job.unchecked();
            match result {
                Ok(()) => {
                    for (tp, chunks) in job.parts {
                        let part = self.part(&tp);
                        let last = chunks.last().map(Chunk::last).unwrap_or(max);
                        part.inserted = Some(last + 1);
                        part.pending = unchecked;
                        part.schema_failures = 0;
                        if part.chunks.is_empty() {
                            part.since = None;
                        }
                    }
                }
                Err(e) => {
                    let table = job.table.clone();
                    let tps: Vec<TopicPartition> =
                        job.parts.iter().map(|(tp, _)| tp.clone()).collect();
                    // Back to the front of their partitions, in order, for the next try.
                    for (tp, chunks) in job.parts.into_iter().rev() {
                        let part = self.part(&tp);
                        for c in chunks.into_iter().rev() {
                            part.chunks.push_front(c);
                        }
                        if exactly_once {
                            // Widened, never narrowed: offsets of an earlier unknown try that
                            // this job did not reach are still unknown.
                            part.pending = Some(match part.pending {
                                Some((a, b)) => (a.min(min), b.max(max)),
                                None => (min, max),
                            });
                        }
                    }
                    let err = match e {
                        JobError::Transient(m) => SinkError::Retriable(m),
                        JobError::Fatal(m) => SinkError::Fatal(m),
                        JobError::Schema(e) => {
                            let mut fatal = None;
                            for tp in &tps {
                                let part = self.part(tp);
                                part.schema_failures += 1;
                                if part.schema_failures >= MAX_SCHEMA_RETRIES {
                                    fatal = Some(format!(
                                        "insert into {table} keeps failing after refreshing its \
                                         columns ({tp} offsets {min}..={max}): {e}"
                                    ));
                                }
                            }
                            reencode.push((table.clone(), tps));
                            match fatal {
                                Some(m) => SinkError::Fatal(m),
                                None => SinkError::Retriable(format!(
                                    "insert into {table} failed on its columns, re-reading them: {e}"
                                )),
                            }
                        }
                    };
                    tracing::warn!("{err}");
                    if first_error.is_none() || matches!(err, SinkError::Fatal(_)) {
                        first_error = Some(err);
                    }
                }
            }
        }
        for (table, tps) in reencode {
            self.tables.invalidate(&table);
            for tp in tps {
                self.reencode(&tp).await?;
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Encodes a partition's chunks again with freshly read table columns.
    async fn reencode(&mut self, tp: &TopicPartition) -> Result<(), SinkError> {
        let chunks: Vec<Chunk> = self.part(tp).chunks.drain(..).collect();
        let mut out = VecDeque::new();
        for mut c in chunks {
            let schema = c.batch.schema();
            let _ = schema;
            let cols = match self
                .tables
                .get(&self.ctx.client, &self.ctx.config.database, &c.table)
                .await
            {
                Ok(Some(cols)) => cols,
                Ok(None) => {
                    return Err(SinkError::Fatal(format!(
                        "table {} no longer exists ({tp})",
                        c.table
                    )))
                }
                Err(e) => {
                    out.push_back(c);
                    self.part(tp).chunks = out;
                    return Err(sink_error(e, "reading system.columns"));
                }
            };
            match encode(&c.batch, &c.meta, &tp.topic, tp.partition, &cols, c.mapping) {
                Ok(enc) => c.enc = enc,
                Err(ChunkError::Batch(m)) => {
                    return Err(SinkError::Fatal(format!(
                        "table {}: {m} ({tp} offset {})",
                        c.table,
                        c.first()
                    )))
                }
                Err(ChunkError::Row { row, message, .. }) => {
                    return Err(SinkError::Fatal(format!(
                        "table {}: {message} ({tp} offset {})",
                        c.table,
                        c.meta.get(row).map_or(-1, |m| m.offset)
                    )))
                }
            }
            out.push_back(c);
        }
        self.part(tp).chunks = out;
        Ok(())
    }

    /// Moves the chunks of due partitions into insert jobs.
    fn take_jobs(
        &mut self,
        due: &[TopicPartition],
        consumed: Option<&HashMap<TopicPartition, i64>>,
    ) -> Result<Vec<Job>, SinkError> {
        let exactly_once = self.ctx.store.is_some();
        let mut jobs: Vec<Job> = Vec::new();
        for tp in due {
            let Some(part) = self.parts.get_mut(tp) else {
                continue;
            };
            let Some(front) = part.chunks.front() else {
                continue;
            };
            let (table, columns) = (front.table.clone(), front.enc.columns.clone());
            // Every offset of the pending range was skipped (tombstones, truncates): nothing
            // of it is left to check.
            if part.pending.is_some_and(|(_, pmax)| front.first() > pmax) {
                part.pending = None;
            }
            let limit = part.pending.map(|(_, max)| max);
            let mut check = None;
            if let Some((pmin, pmax)) = part.pending {
                let has_meta = ["_topic", "_partition", "_offset"]
                    .iter()
                    .all(|c| columns.iter().any(|k| k == c));
                if has_meta {
                    check = Some((pmin, pmax));
                } else if self.ctx.caps.dedup_token() {
                    // The same range goes again with the same token: wait until it is complete.
                    let complete = part.last_buffered().is_some_and(|l| l >= pmax)
                        || consumed.and_then(|c| c.get(tp)).is_some_and(|&c| c > pmax);
                    if !complete {
                        continue;
                    }
                } else {
                    return Err(SinkError::Fatal(format!(
                        "exactlyOnce=true: the outcome of the insert of {tp} offsets \
                         {pmin}..={pmax} into {table} is unknown, and ClickHouse {}.{} has no \
                         insert_deduplication_token (22.2+) and {table} has no _topic, \
                         _partition and _offset columns to check it",
                        self.ctx.caps.version.0, self.ctx.caps.version.1
                    )));
                }
            } else if exactly_once && !self.ctx.caps.dedup_token() {
                let has_meta = ["_topic", "_partition", "_offset"]
                    .iter()
                    .all(|c| columns.iter().any(|k| k == c));
                if !has_meta {
                    return Err(SinkError::Fatal(format!(
                        "exactlyOnce=true needs insert_deduplication_token (ClickHouse 22.2+; \
                         this server is {}.{}) or the _topic, _partition and _offset columns in \
                         table {table}: add them (auto.create adds them)",
                        self.ctx.caps.version.0, self.ctx.caps.version.1
                    )));
                }
            }
            let mut taken = Vec::new();
            while let Some(c) = part.chunks.front() {
                if c.table != table || c.enc.columns != columns {
                    break;
                }
                if let Some(limit) = limit {
                    if c.first() > limit {
                        break;
                    }
                    if c.last() > limit {
                        let n = c.meta.iter().take_while(|m| m.offset <= limit).count();
                        let mut c = part.chunks.pop_front().expect("front exists");
                        let rest = c.split_off(n);
                        part.chunks.push_front(rest);
                        taken.push(c);
                        break;
                    }
                }
                taken.push(part.chunks.pop_front().expect("front exists"));
            }
            if taken.is_empty() {
                continue;
            }
            // Without exactly-once, partitions of one table may share an insert.
            if self.ctx.config.ignore_partitions && !exactly_once {
                if let Some(j) = jobs
                    .iter_mut()
                    .find(|j| j.table == table && j.columns == columns)
                {
                    j.parts.push((tp.clone(), taken));
                    continue;
                }
            }
            jobs.push(Job {
                table,
                columns,
                parts: vec![(tp.clone(), taken)],
                check,
            });
        }
        Ok(jobs)
    }
}

#[async_trait]
impl SinkTask for ClickHouseSinkTask {
    async fn start(&mut self, config: &TaskConfig) -> Result<(), SinkError> {
        let parsed = ClickHouseSinkConfig::parse(config)
            .map_err(|errors| SinkError::Fatal(crate::configdef::describe_errors(&errors)))?;
        let client = ChClient::new(&parsed);
        let caps = client
            .capabilities()
            .await
            .map_err(|e| sink_error(e, "connecting to ClickHouse"))?;
        tracing::info!(url = %client.url(), version = ?caps.version, dedup_token = caps.dedup_token(), "ClickHouse sink connected");
        let store = if parsed.exactly_once {
            let store = StateStore::new(
                client.clone(),
                &parsed.database,
                &parsed.state_table,
                &parsed.name,
            );
            store
                .ensure(
                    parsed.state_engine,
                    &parsed.zk_path,
                    parsed.keeper_on_cluster.as_deref(),
                )
                .await
                .map_err(|e| sink_error(e, "creating the state table"))?;
            Some(store)
        } else {
            None
        };
        let settings = Ctx::insert_settings(&caps, &parsed.settings);
        self.state = Some(Started {
            tables: TableCache::new(parsed.table_refresh),
            ctx: Ctx {
                config: parsed,
                client,
                caps,
                store,
                settings,
            },
            parts: HashMap::new(),
        });
        Ok(())
    }

    async fn open(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        let s = self.started()?;
        for tp in partitions {
            s.parts.insert(tp.clone(), Part::default());
        }
        let Some(store) = &s.ctx.store else {
            return Ok(HashMap::new());
        };
        let phases = store
            .load()
            .await
            .map_err(|e| sink_error(e, "reading the state table"))?;
        let mut out = HashMap::new();
        for tp in partitions {
            let Some(phase) = phases.get(tp) else {
                continue;
            };
            let part = s.part(tp);
            if let Phase::Before { min, max } = *phase {
                tracing::info!(partition = %tp, "the insert of offsets {min}..={max} may not have finished: checking it before going on");
                part.pending = Some((min, max));
            }
            if let Some(at) = phase.resume_at() {
                part.next = Some(at);
                part.inserted = Some(at);
                out.insert(tp.clone(), at);
            }
        }
        Ok(out)
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), SinkError> {
        let s = self.started()?;
        let cfg = s.ctx.config.clone();
        let mut staged: Vec<Staged> = Vec::new();
        let mut open: HashMap<TopicPartition, usize> = HashMap::new();
        let mut skips: Vec<(TopicPartition, i64, usize)> = Vec::new();
        let mut fail: Option<(usize, String)> = None;
        let mut seen: HashMap<TopicPartition, i64> = HashMap::new();
        for (i, record) in records.iter().enumerate() {
            let tp = record.topic_partition();
            let next = match seen.get(&tp) {
                Some(n) => Some(*n),
                None => s.part(&tp).next,
            };
            if next.is_some_and(|n| record.offset < n) {
                continue;
            }
            seen.insert(tp.clone(), record.offset + 1);
            let record_fail = |m: String| {
                format!(
                    "{m} (table {}, {tp} offset {})",
                    cfg.table_for(&record.topic),
                    record.offset
                )
            };
            // Tombstones carry no row: skipped, like the Java connector does.
            let Some(data) = &record.value else {
                skips.push((tp, record.offset, i));
                continue;
            };
            let (schema, value) = match data.to_value() {
                Ok(v) => v,
                Err(e) => {
                    fail = Some((i, record_fail(e.to_string())));
                    break;
                }
            };
            // Schemaless JSON objects are written by field name, their types inferred; they are
            // never unwrapped (Debezium unwrapping needs the envelope's schema).
            if schema.is_none() && !matches!(value, Value::Map(_)) {
                fail = Some((
                    i,
                    record_fail(
                        "the value is neither a struct with a schema nor a JSON object".into(),
                    ),
                ));
                break;
            }
            let envelope = match &schema {
                Some(schema) if cfg.debezium => Envelope::of(schema),
                _ => None,
            };
            let (mapping, meta) = match &envelope {
                Some(env) => {
                    let meta = env.meta(&value, record.offset);
                    let unwrap = cfg.table_mode == TableMode::Replacing;
                    // Truncates and messages change no row of the replacing table.
                    if unwrap && matches!(meta.op, Some('t') | Some('m') | None) {
                        skips.push((tp, record.offset, i));
                        continue;
                    }
                    let mapping = if unwrap {
                        Mapping::Unwrap {
                            before: env.before,
                            after: env.after,
                        }
                    } else {
                        Mapping::Plain
                    };
                    (mapping, meta)
                }
                None => (Mapping::Plain, plain_meta(record.offset)),
            };
            let table = cfg.table_for(&record.topic);
            let same_schema = |a: &Option<SchemaRef>| match (a, &schema) {
                (Some(a), Some(b)) => Arc::ptr_eq(a, b) || a == b,
                (None, None) => true,
                _ => false,
            };
            let slot = match open.get(&tp) {
                Some(&k)
                    if staged[k].table == table
                        && same_schema(&staged[k].schema)
                        && staged[k].mapping == mapping =>
                {
                    k
                }
                _ => {
                    let builder = match &schema {
                        Some(schema) => match BatchBuilder::new(schema) {
                            Ok(b) => Rows::Typed(b),
                            Err(e) => {
                                fail = Some((i, record_fail(e.to_string())));
                                break;
                            }
                        },
                        None => Rows::Inferred(InferredBatchBuilder::new(ArrowOptions::default())),
                    };
                    staged.push(Staged {
                        tp: tp.clone(),
                        table,
                        schema: schema.clone(),
                        mapping,
                        builder,
                        meta: Vec::new(),
                        index: Vec::new(),
                        key_fields: key_fields(record),
                    });
                    open.insert(tp.clone(), staged.len() - 1);
                    staged.len() - 1
                }
            };
            let st = &mut staged[slot];
            if let Err(e) = st.builder.append(&value) {
                fail = Some((i, record_fail(e.to_string())));
                break;
            }
            st.meta.push(meta);
            st.index.push(i);
        }

        // Encode every staged batch; the first failing record (in put order) bounds what is
        // kept, so nothing after it counts as written.
        let mut encoded: Vec<(Staged, RecordBatch, Result<Encoded, ChunkError>)> = Vec::new();
        for mut st in staged {
            let schema = match (&st.schema, &st.builder) {
                (Some(schema), _) => schema.clone(),
                (None, Rows::Inferred(b)) => Arc::new(b.inferred().schema()),
                (None, Rows::Typed(_)) => continue,
            };
            let batch = st.builder.finish();
            let cols = match s
                .columns_for(&st.table, &schema, st.mapping, &st.key_fields)
                .await
            {
                Ok(c) => c,
                Err(e) => return Err(e),
            };
            let r = encode(
                &batch,
                &st.meta,
                &st.tp.topic,
                st.tp.partition,
                &cols,
                st.mapping,
            );
            match &r {
                Err(ChunkError::Batch(m)) => {
                    let at = st.index.first().copied().unwrap_or(0);
                    let off = st.meta.first().map_or(-1, |m| m.offset);
                    if fail.as_ref().is_none_or(|(k, _)| at < *k) {
                        fail = Some((
                            at,
                            format!("table {}: {m} ({} offset {off})", st.table, st.tp),
                        ));
                    }
                }
                Err(ChunkError::Row { row, message, .. }) => {
                    let at = st.index[*row];
                    if fail.as_ref().is_none_or(|(k, _)| at < *k) {
                        fail = Some((
                            at,
                            format!(
                                "table {}: {message} ({} offset {})",
                                st.table, st.tp, st.meta[*row].offset
                            ),
                        ));
                    }
                }
                Ok(_) => {}
            }
            encoded.push((st, batch, r));
        }
        let bound = fail.as_ref().map_or(usize::MAX, |(k, _)| *k);
        for (st, batch, r) in encoded {
            let keep = st.index.iter().take_while(|&&k| k < bound).count();
            let enc = match r {
                Ok(enc) => enc,
                Err(ChunkError::Row { partial, .. }) => *partial,
                Err(_) => continue,
            };
            if keep == 0 || enc.row_starts.len() < keep {
                continue;
            }
            let mut chunk = Chunk {
                table: st.table,
                batch,
                meta: st.meta,
                mapping: st.mapping,
                enc,
            };
            chunk.truncate(keep);
            let part = s.part(&st.tp);
            part.next = Some(chunk.last() + 1);
            if part.since.is_none() {
                part.since = Some(Instant::now());
            }
            part.chunks.push_back(chunk);
        }
        for (tp, offset, k) in skips {
            if k < bound {
                let part = s.part(&tp);
                part.next = Some(part.next.map_or(offset + 1, |n| n.max(offset + 1)));
                if part.chunks.is_empty() && part.pending.is_none() {
                    part.inserted = Some(offset + 1);
                }
            }
        }
        if let Some((index, message)) = fail {
            s.insert_due(false, None).await?;
            return Err(SinkError::Record { index, message });
        }
        s.insert_due(false, None).await
    }

    async fn flush(
        &mut self,
        consumed: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        let s = self.started()?;
        s.insert_due(true, Some(consumed)).await?;
        let mut durable = HashMap::new();
        for (tp, part) in &s.parts {
            let at = if part.chunks.is_empty() && part.pending.is_none() {
                consumed.get(tp).copied().or(part.inserted)
            } else {
                part.inserted
            };
            if let Some(o) = at {
                durable.insert(tp.clone(), o);
            }
        }
        Ok(durable)
    }

    async fn tick(&mut self) -> Result<(), SinkError> {
        let s = self.started()?;
        s.insert_due(false, None).await
    }

    async fn close(&mut self, partitions: &[TopicPartition]) -> Result<(), SinkError> {
        if let Some(s) = self.state.as_mut() {
            for tp in partitions {
                // Uninserted rows are dropped: the partition's next owner reads them again.
                s.parts.remove(tp);
            }
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), SinkError> {
        self.state = None;
        Ok(())
    }
}
