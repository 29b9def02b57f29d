//! DDL for `auto.create` / `auto.evolve`: Connect schemas → ClickHouse column types and
//! `CREATE TABLE` statements, within what the server's version supports.
//!
//! | Connect (+ logical) | ClickHouse | before 20.1 (no DateTime64) |
//! |---|---|---|
//! | int8…int64, float32/64 | Int8…Int64, Float32/64 | same |
//! | boolean | Bool (UInt8 before 22.1) | UInt8 |
//! | string, bytes, Debezium Json/Bits/ZonedTime, VariableScaleDecimal | String | String |
//! | Decimal(p, s) | Decimal(p, s) (p = 38 without `connect.decimal.precision`; String above 76) | same |
//! | Date | Date32 (Date before 21.9) | Date |
//! | Time / MicroTime / NanoTime, MicroDuration | Int32 / Int64 (raw ms / µs / ns) | same |
//! | Connect Timestamp, Debezium Timestamp | DateTime64(3, 'UTC') | Int64 (ms) |
//! | MicroTimestamp, ZonedTimestamp | DateTime64(6, 'UTC') | Int64 (µs) |
//! | NanoTimestamp | DateTime64(9, 'UTC') | Int64 (ns) |
//! | Uuid | UUID | UUID |
//! | Enum | LowCardinality(String) (String before 19.1) | String |
//! | array / map / struct | Array / Map (21.1+) / Tuple | Array / refused / Tuple |
//!
//! Debezium's wall-time timestamps (no zone) go to `'UTC'` columns so ClickHouse shows the
//! source's wall time unchanged. Optional fields become `Nullable` (not for Array, Map and
//! Tuple, which cannot be Nullable; nor for ORDER BY key columns).

use super::client::Capabilities;
use super::config::TableMode;
use super::types::ChType;
use crate::data::schema::{Kind, Logical, Schema};

/// The version column of replacing tables.
pub const VERSION_COLUMN: &str = "_version";
/// The delete flag column of replacing tables.
pub const DELETED_COLUMN: &str = "is_deleted";

/// The ClickHouse type for a Connect schema (nullability not applied).
pub fn column_type(schema: &Schema, caps: &Capabilities) -> Result<ChType, String> {
    let dt64 = |p: u8, raw: ChType| {
        if caps.datetime64() {
            ChType::DateTime64(p, Some("UTC".into()))
        } else {
            raw
        }
    };
    if let Some(logical) = schema.logical() {
        let t = match logical {
            Logical::Decimal { scale, precision } => {
                let p = precision.unwrap_or(38).max(1);
                let s = scale.max(0) as u8;
                if p > 76 || scale < 0 {
                    ChType::String
                } else {
                    ChType::Decimal(p.max(s), s)
                }
            }
            Logical::VariableScaleDecimal | Logical::Json | Logical::Bits | Logical::ZonedTime => {
                ChType::String
            }
            Logical::Date if caps.date32() => ChType::Date32,
            Logical::Date => ChType::Date,
            Logical::TimeMillis => ChType::Int(32),
            Logical::TimeMicros | Logical::TimeNanos | Logical::MicroDuration => ChType::Int(64),
            Logical::TimestampMillisUtc | Logical::TimestampMillis => dt64(3, ChType::Int(64)),
            Logical::TimestampMicros | Logical::ZonedTimestamp => dt64(6, ChType::Int(64)),
            Logical::TimestampNanos => dt64(9, ChType::Int(64)),
            Logical::Uuid => ChType::Uuid,
            Logical::Enum if caps.at_least(19, 1) => {
                ChType::LowCardinality(Box::new(ChType::String))
            }
            Logical::Enum => ChType::String,
        };
        return Ok(t);
    }
    Ok(match &schema.kind {
        Kind::Int8 => ChType::Int(8),
        Kind::Int16 => ChType::Int(16),
        Kind::Int32 => ChType::Int(32),
        Kind::Int64 => ChType::Int(64),
        Kind::Float32 => ChType::Float32,
        Kind::Float64 => ChType::Float64,
        Kind::Boolean if caps.bool_type() => ChType::Bool,
        Kind::Boolean => ChType::UInt(8),
        Kind::String | Kind::Bytes => ChType::String,
        Kind::Array(item) => ChType::Array(Box::new(nullable(item, caps)?)),
        Kind::Map(k, v) => {
            if !caps.at_least(21, 1) {
                return Err(format!(
                    "ClickHouse {}.{} has no Map type",
                    caps.version.0, caps.version.1
                ));
            }
            ChType::Map(
                Box::new(column_type(k, caps)?),
                Box::new(nullable(v, caps)?),
            )
        }
        Kind::Struct(fields) => ChType::Tuple(
            fields
                .iter()
                .map(|f| {
                    let name = caps.at_least(21, 1).then(|| f.name.clone());
                    nullable(&f.schema, caps).map(|t| (name, t))
                })
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// The type with `Nullable` for optional schemas (where ClickHouse allows it).
pub fn nullable(schema: &Schema, caps: &Capabilities) -> Result<ChType, String> {
    let t = column_type(schema, caps)?;
    Ok(if schema.optional { wrap_nullable(t) } else { t })
}

fn wrap_nullable(t: ChType) -> ChType {
    match t {
        ChType::Array(_) | ChType::Map(..) | ChType::Tuple(_) | ChType::Nullable(_) => t,
        ChType::LowCardinality(inner) => ChType::LowCardinality(Box::new(wrap_nullable(*inner))),
        t => ChType::Nullable(Box::new(t)),
    }
}

/// The metadata columns Sluice knows, with their types.
pub fn metadata_type(name: &str) -> Option<ChType> {
    Some(match name {
        "_topic" | "_op" => ChType::String,
        "_partition" => ChType::Int(32),
        "_offset" | "_source_ts_ms" => ChType::Int(64),
        _ => return None,
    })
}

/// Column definitions for a new table.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSpec {
    /// `(name, type)` in order.
    pub columns: Vec<(String, ChType)>,
    /// ORDER BY columns (empty = `tuple()`).
    pub order_by: Vec<String>,
    /// Replacing (Debezium current state) or a plain MergeTree.
    pub replacing: bool,
}

/// The columns of a flattened struct: `prefix.field` for nested structs, every leaf Nullable.
fn flatten(prefix: &str, schema: &Schema, caps: &Capabilities, out: &mut Vec<(String, ChType)>) {
    for f in schema.fields() {
        let name = if prefix.is_empty() {
            f.name.clone()
        } else {
            format!("{prefix}.{}", f.name)
        };
        match (&f.schema.kind, f.schema.logical()) {
            (Kind::Struct(_), None) => flatten(&name, &f.schema, caps, out),
            _ => {
                // Staging rows hold either side of a change: every column may be null.
                let t = column_type(&f.schema, caps).unwrap_or(ChType::String);
                out.push((name, wrap_nullable(t)));
            }
        }
    }
}

/// The table for a topic: `row` is the Debezium row struct (`after`) in replacing mode or
/// the value schema (a Debezium envelope or any struct) in staging mode; `key` names the
/// record key's fields.
pub fn table_spec(
    mode: TableMode,
    row: &Schema,
    key: &[String],
    metadata: &[String],
    caps: &Capabilities,
) -> Result<TableSpec, String> {
    if !matches!(row.kind, Kind::Struct(_)) {
        return Err("auto.create needs struct values (JsonConverter with schemas, Avro)".into());
    }
    let mut columns = Vec::new();
    let mut order_by = Vec::new();
    match mode {
        TableMode::Replacing => {
            for f in row.fields() {
                let is_key = key.contains(&f.name);
                let t = if is_key {
                    column_type(&f.schema, caps)
                } else {
                    nullable(&f.schema, caps)
                }
                .map_err(|e| format!("field {}: {e}", f.name))?;
                if is_key {
                    order_by.push(f.name.clone());
                }
                columns.push((f.name.clone(), t));
            }
            columns.push((VERSION_COLUMN.into(), ChType::UInt(64)));
            columns.push((DELETED_COLUMN.into(), ChType::UInt(8)));
        }
        TableMode::Staging => flatten("", row, caps, &mut columns),
    }
    for m in metadata {
        if let Some(t) = metadata_type(m) {
            if !columns.iter().any(|(n, _)| n == m) {
                columns.push((m.clone(), t));
            }
        }
    }
    Ok(TableSpec {
        columns,
        order_by,
        replacing: mode == TableMode::Replacing,
    })
}

/// `CREATE TABLE IF NOT EXISTS` for a spec.
pub fn create_table_sql(
    database: &str,
    table: &str,
    spec: &TableSpec,
    cluster: Option<&str>,
    caps: &Capabilities,
) -> String {
    let cols = spec
        .columns
        .iter()
        .map(|(n, t)| format!("    `{n}` {t}"))
        .collect::<Vec<_>>()
        .join(",\n");
    let engine = if !spec.replacing {
        "MergeTree".to_string()
    } else if caps.is_deleted_engine() {
        format!("ReplacingMergeTree({VERSION_COLUMN}, {DELETED_COLUMN})")
    } else {
        // Before 23.2 the engine keeps the latest version of a delete too; queries filter
        // `WHERE is_deleted = 0` after FINAL.
        format!("ReplacingMergeTree({VERSION_COLUMN})")
    };
    let order = if spec.order_by.is_empty() {
        "tuple()".to_string()
    } else {
        format!(
            "({})",
            spec.order_by
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let on_cluster = cluster
        .map(|c| format!(" ON CLUSTER `{c}`"))
        .unwrap_or_default();
    // Plain MergeTree tables deduplicate inserts (insert_deduplication_token) only with a
    // non-replicated deduplication window.
    let settings = if caps.non_replicated_dedup() && caps.dedup_token() {
        "\nSETTINGS non_replicated_deduplication_window = 1000"
    } else {
        ""
    };
    format!(
        "CREATE TABLE IF NOT EXISTS `{database}`.`{table}`{on_cluster}\n(\n{cols}\n)\nENGINE = {engine}\nORDER BY {order}{settings}"
    )
}

/// `ALTER TABLE … ADD COLUMN [IF NOT EXISTS]` for `auto.evolve` (servers before 19.1 have no
/// `IF NOT EXISTS` there; a concurrent add then fails with DUPLICATE_COLUMN, which callers
/// treat as done).
pub fn add_columns_sql(
    database: &str,
    table: &str,
    columns: &[(String, ChType)],
    cluster: Option<&str>,
    caps: &Capabilities,
) -> String {
    let if_not_exists = if caps.at_least(19, 1) {
        " IF NOT EXISTS"
    } else {
        ""
    };
    let on_cluster = cluster
        .map(|c| format!(" ON CLUSTER `{c}`"))
        .unwrap_or_default();
    let adds = columns
        .iter()
        .map(|(n, t)| format!("ADD COLUMN{if_not_exists} `{n}` {t}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("ALTER TABLE `{database}`.`{table}`{on_cluster} {adds}")
}

#[cfg(test)]
mod tests;
