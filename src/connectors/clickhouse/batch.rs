//! Arrow record batches → RowBinary bodies for one table: which table column takes which
//! Arrow column (or metadata value), Debezium unwrapping, and per-row byte positions so a
//! body can be cut or filtered at any record.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::buffer::NullBuffer;
use thiserror::Error;

use super::ddl::{DELETED_COLUMN, VERSION_COLUMN};
use super::encode::{column_cell, put_i64, put_str, Cell};
use super::schema::TableColumns;
use super::types::ChType;
use crate::data::schema::{Kind, Schema};
use crate::data::value::Value;

/// What Sluice knows of a record beyond its value: Kafka coordinates and Debezium metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowMeta {
    /// Kafka offset.
    pub offset: i64,
    /// Debezium `op` (`c`, `r`, `u`, `d`, `t`, `m`), if the value is an envelope.
    pub op: Option<char>,
    /// `_version`: `source.lsn`, else `source.ts_ms * 10^6 + offset mod 10^6`, else the offset.
    pub version: u64,
    /// `source.ts_ms`.
    pub source_ts_ms: Option<i64>,
    /// `op = d`.
    pub deleted: bool,
}

/// Field positions of a Debezium envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// `before`.
    pub before: usize,
    /// `after`.
    pub after: usize,
    /// `op`.
    pub op: usize,
    /// `source`, with its `lsn` and `ts_ms` positions.
    pub source: Option<(usize, Option<usize>, Option<usize>)>,
}

impl Envelope {
    /// The layout when `schema` is a Debezium envelope (`before`, `after`, `op` fields).
    pub fn of(schema: &Schema) -> Option<Envelope> {
        let pos = |n: &str| schema.fields().iter().position(|f| f.name == n);
        let (before, after, op) = (pos("before")?, pos("after")?, pos("op")?);
        let source = pos("source").map(|s| {
            let src = &schema.fields()[s].schema;
            let p = |n: &str| src.fields().iter().position(|f| f.name == n);
            (s, p("lsn"), p("ts_ms"))
        });
        Some(Envelope {
            before,
            after,
            op,
            source,
        })
    }

    /// The row schema (`after`'s struct).
    pub fn row_schema<'a>(&self, schema: &'a Schema) -> &'a Schema {
        &schema.fields()[self.after].schema
    }

    /// The metadata of one envelope value.
    pub fn meta(&self, value: &Value, offset: i64) -> RowMeta {
        let Value::Struct(fields) = value else {
            return plain_meta(offset);
        };
        let op = match fields.get(self.op) {
            Some(Value::String(s)) => s.chars().next(),
            _ => None,
        };
        let (mut lsn, mut ts) = (None, None);
        if let Some((s, l, t)) = self.source {
            if let Some(Value::Struct(src)) = fields.get(s) {
                let int = |i: Option<usize>| match i.and_then(|i| src.get(i)) {
                    Some(Value::Int(v)) => Some(*v),
                    _ => None,
                };
                lsn = int(l);
                ts = int(t);
            }
        }
        let version = match (lsn, ts) {
            (Some(l), _) if l >= 0 => l as u64,
            (_, Some(t)) if t >= 0 => (t as u64) * 1_000_000 + offset.rem_euclid(1_000_000) as u64,
            _ => offset.max(0) as u64,
        };
        RowMeta {
            offset,
            op,
            version,
            source_ts_ms: ts,
            deleted: op == Some('d'),
        }
    }
}

/// Metadata of a non-envelope value.
pub fn plain_meta(offset: i64) -> RowMeta {
    RowMeta {
        offset,
        op: None,
        version: offset.max(0) as u64,
        source_ts_ms: None,
        deleted: false,
    }
}

/// Why a batch could not be encoded.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// Nothing of the batch fits (a column's type, a missing required column).
    #[error("{0}")]
    Batch(String),
    /// Row `row` does not fit; rows before it were encoded.
    #[error("{message}")]
    Row {
        /// Row index in the batch.
        row: usize,
        /// What is wrong (names the column).
        message: String,
        /// The rows before it, encoded.
        partial: Box<Encoded>,
    },
}

/// A RowBinary body and where each row starts in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Encoded {
    /// Insert column list.
    pub columns: Vec<String>,
    /// RowBinary rows.
    pub body: Vec<u8>,
    /// Byte position of each row.
    pub row_starts: Vec<usize>,
}

/// Where a table column's values come from.
enum Source<'a> {
    Cell(Cell<'a>),
    Meta(MetaColumn, ChType),
}

#[derive(Clone, Copy)]
enum MetaColumn {
    Topic,
    Partition,
    Offset,
    Op,
    SourceTs,
    Version,
    Deleted,
}

fn meta_column(name: &str) -> Option<MetaColumn> {
    Some(match name {
        "_topic" => MetaColumn::Topic,
        "_partition" => MetaColumn::Partition,
        "_offset" => MetaColumn::Offset,
        "_op" => MetaColumn::Op,
        "_source_ts_ms" => MetaColumn::SourceTs,
        VERSION_COLUMN => MetaColumn::Version,
        DELETED_COLUMN => MetaColumn::Deleted,
        _ => return None,
    })
}

/// A column by dotted path (`after.id`, `source.lsn`), with the nulls of its struct parents.
fn resolve<'a>(
    columns: &[(&'a str, &'a dyn Array)],
    path: &str,
) -> Option<(&'a dyn Array, Vec<&'a NullBuffer>)> {
    if let Some((_, a)) = columns.iter().find(|(n, _)| *n == path) {
        return Some((*a, Vec::new()));
    }
    let (head, rest) = path.split_once('.')?;
    let (_, parent) = columns.iter().find(|(n, _)| *n == head)?;
    let s = parent.as_struct_opt()?;
    let children: Vec<(&str, &dyn Array)> = s
        .fields()
        .iter()
        .zip(s.columns())
        .map(|(f, c)| (f.name().as_str(), c.as_ref()))
        .collect();
    let (a, mut nulls) = resolve(&children, rest)?;
    if let Some(n) = s.nulls() {
        nulls.push(n);
    }
    Some((a, nulls))
}

/// How records map onto the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapping {
    /// Columns are the value's fields (dotted paths reach nested structs).
    Plain,
    /// Debezium: columns are the `after` row's fields (`before`'s for deletes).
    Unwrap {
        /// Position of `before` in the batch.
        before: usize,
        /// Position of `after` in the batch.
        after: usize,
    },
}

/// Encodes `batch` (one row per `meta`) into the table's RowBinary.
pub fn encode(
    batch: &RecordBatch,
    meta: &[RowMeta],
    topic: &str,
    partition: i32,
    table: &TableColumns,
    mapping: Mapping,
) -> Result<Encoded, ChunkError> {
    let schema = batch.schema();
    let top: Vec<(&str, &dyn Array)> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| (f.name().as_str(), c.as_ref()))
        .collect();
    let deleted: Vec<bool> = meta.iter().map(|m| m.deleted).collect();
    let side = |pos: usize| -> Option<Vec<(&str, &dyn Array)>> {
        let s = batch.column(pos).as_struct_opt()?;
        Some(
            s.fields()
                .iter()
                .zip(s.columns())
                .map(|(f, c)| (f.name().as_str(), c.as_ref()))
                .collect(),
        )
    };
    let unwrap = match mapping {
        Mapping::Unwrap { before, after } => Some((
            side(before).unwrap_or_default(),
            side(after).unwrap_or_default(),
            batch.column(before).nulls(),
            batch.column(after).nulls(),
        )),
        Mapping::Plain => None,
    };
    let mut names = Vec::new();
    let mut sources: Vec<Source<'_>> = Vec::new();
    for col in &table.columns {
        let fail = |e: String| ChunkError::Batch(format!("column {} ({}): {e}", col.name, col.ty));
        let found = match &unwrap {
            Some((before, after, bn, an)) => {
                match (resolve(after, &col.name), resolve(before, &col.name)) {
                    (Some((a, mut ap)), Some((b, mut bp))) => {
                        ap.extend(*an);
                        bp.extend(*bn);
                        let a = column_cell(a, ap, &col.ty, None).map_err(fail)?;
                        let b = column_cell(b, bp, &col.ty, Some(&deleted)).map_err(fail)?;
                        let del = &deleted;
                        Some(Source::Cell(Box::new(move |i, out| {
                            if del[i] {
                                b(i, out)
                            } else {
                                a(i, out)
                            }
                        })))
                    }
                    _ => None,
                }
            }
            None => None,
        };
        let found = match found {
            Some(s) => Some(s),
            None => match meta_column(&col.name) {
                Some(m) => Some(Source::Meta(m, col.ty.clone())),
                None => match resolve(&top, &col.name) {
                    Some((a, parents)) => Some(Source::Cell(
                        column_cell(a, parents, &col.ty, None).map_err(fail)?,
                    )),
                    None => None,
                },
            },
        };
        match found {
            Some(s) => {
                names.push(col.name.clone());
                sources.push(s);
            }
            None if col.ty.is_nullable() || col.has_default => {}
            None => {
                return Err(ChunkError::Batch(format!(
                    "column {} ({}) is not Nullable and has no DEFAULT, and the record has no \
                     field {}",
                    col.name, col.ty, col.name
                )))
            }
        }
    }
    let rows = batch.num_rows();
    let mut body = Vec::with_capacity(rows * 16 * names.len().max(1));
    let mut row_starts = Vec::with_capacity(rows);
    for (i, row_meta) in meta.iter().enumerate().take(rows) {
        let start = body.len();
        row_starts.push(start);
        for (n, s) in sources.iter().enumerate() {
            let r = match s {
                Source::Cell(c) => c(i, &mut body),
                Source::Meta(m, ty) => put_meta(&mut body, *m, ty, row_meta, topic, partition),
            };
            if let Err(message) = r {
                body.truncate(start);
                row_starts.pop();
                return Err(ChunkError::Row {
                    row: i,
                    message: format!("column {}: {message}", names[n]),
                    partial: Box::new(Encoded {
                        columns: names,
                        body,
                        row_starts,
                    }),
                });
            }
        }
    }
    Ok(Encoded {
        columns: names,
        body,
        row_starts,
    })
}

fn put_meta(
    out: &mut Vec<u8>,
    m: MetaColumn,
    ty: &ChType,
    meta: &RowMeta,
    topic: &str,
    partition: i32,
) -> Result<(), String> {
    let (nullable, base) = match ty {
        ChType::Nullable(t) => (true, t.base()),
        t => (false, t.base()),
    };
    let ts = meta.source_ts_ms;
    if nullable {
        if matches!(m, MetaColumn::SourceTs) && ts.is_none() {
            out.push(1);
            return Ok(());
        }
        out.push(0);
    }
    let op = meta.op.map(String::from).unwrap_or_default();
    match m {
        MetaColumn::Topic => put_str(out, topic, base),
        MetaColumn::Partition => put_i64(out, partition.into(), base),
        MetaColumn::Offset => put_i64(out, meta.offset, base),
        MetaColumn::Op => put_str(out, &op, base),
        MetaColumn::SourceTs => match (ts, base) {
            (Some(t), ChType::DateTime64(..) | ChType::DateTime(_)) => {
                super::encode::put_instant(out, t, 1_000, base)
            }
            (t, base) => put_i64(out, t.unwrap_or(0), base),
        },
        MetaColumn::Version => {
            super::encode::put_i64(out, i64::try_from(meta.version).unwrap_or(i64::MAX), base)
        }
        MetaColumn::Deleted => put_i64(out, meta.deleted.into(), base),
    }
}

/// Fields of `row` that the table has no column for (for `auto.evolve`).
pub fn missing_fields<'a>(row: &'a Schema, table: &TableColumns) -> Vec<&'a crate::data::Field> {
    row.fields()
        .iter()
        .filter(|f| table.get(&f.name).is_none())
        .filter(|f| !matches!(f.schema.kind, Kind::Struct(_)) || f.schema.logical().is_some())
        .collect()
}

#[cfg(test)]
mod tests;
