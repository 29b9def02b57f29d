//! Target table columns from `system.columns`, cached per table and refreshed on
//! `tableRefreshInterval` and after an insert fails with a schema error.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::client::{literal, ChClient, ChError};
use super::types::ChType;

/// One insertable column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Its type (`Other` when Sluice does not know it).
    pub ty: ChType,
    /// `DEFAULT` when the column has a default expression (it may be left out of inserts).
    pub has_default: bool,
}

/// The insertable columns of a table (MATERIALIZED, ALIAS and EPHEMERAL ones are left out).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableColumns {
    /// Columns in table order.
    pub columns: Vec<Column>,
}

impl TableColumns {
    /// A column by name.
    pub fn get(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Builds from `(name, type, default_kind)` rows.
    pub fn from_rows(rows: &[Vec<String>]) -> TableColumns {
        let columns = rows
            .iter()
            .filter(|r| r.len() >= 2)
            .filter(|r| {
                !matches!(
                    r.get(2).map(String::as_str),
                    Some("MATERIALIZED" | "ALIAS" | "EPHEMERAL")
                )
            })
            .map(|r| Column {
                name: r[0].clone(),
                ty: ChType::parse(&r[1]).unwrap_or_else(|_| ChType::Other(r[1].clone())),
                has_default: r.get(2).is_some_and(|k| k == "DEFAULT"),
            })
            .collect();
        TableColumns { columns }
    }
}

/// Reads a table's columns; `None` when the table does not exist.
pub async fn fetch(
    client: &ChClient,
    database: &str,
    table: &str,
) -> Result<Option<TableColumns>, ChError> {
    let rows = client
        .rows(&format!(
            "SELECT name, type, default_kind FROM system.columns WHERE database = {} AND table = {}",
            literal(database),
            literal(table)
        ))
        .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    Ok(Some(TableColumns::from_rows(&rows)))
}

/// Cached table columns.
#[derive(Debug, Default)]
pub struct TableCache {
    entries: HashMap<String, (Arc<TableColumns>, Instant)>,
    refresh: Option<Duration>,
}

impl TableCache {
    /// A cache refreshing entries older than `refresh` (never, when `None`).
    pub fn new(refresh: Option<Duration>) -> TableCache {
        TableCache {
            entries: HashMap::new(),
            refresh,
        }
    }

    /// The table's columns, from the cache unless stale; `None` when the table is missing.
    pub async fn get(
        &mut self,
        client: &ChClient,
        database: &str,
        table: &str,
    ) -> Result<Option<Arc<TableColumns>>, ChError> {
        if let Some((cols, at)) = self.entries.get(table) {
            if self.refresh.is_none_or(|r| at.elapsed() < r) {
                return Ok(Some(cols.clone()));
            }
        }
        match fetch(client, database, table).await? {
            Some(cols) => {
                let cols = Arc::new(cols);
                tracing::debug!(table, columns = cols.columns.len(), "table columns loaded");
                self.entries
                    .insert(table.to_string(), (cols.clone(), Instant::now()));
                Ok(Some(cols))
            }
            None => {
                self.entries.remove(table);
                Ok(None)
            }
        }
    }

    /// Forgets a table (after a schema error or DDL), so the next use reads it again.
    pub fn invalidate(&mut self, table: &str) {
        self.entries.remove(table);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_computed_columns_and_keeps_unknown_types() {
        let rows: Vec<Vec<String>> = [
            ["id", "Int64", ""],
            ["total", "Nullable(Decimal(12, 2))", ""],
            ["ingested", "DateTime", "DEFAULT"],
            ["day", "Date", "MATERIALIZED"],
            ["alias", "String", "ALIAS"],
            ["ip", "IPv6", ""],
        ]
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
        let t = TableColumns::from_rows(&rows);
        let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "total", "ingested", "ip"]);
        assert!(t.get("ingested").is_some_and(|c| c.has_default));
        assert_eq!(
            t.get("ip").map(|c| &c.ty),
            Some(&ChType::Other("IPv6".into()))
        );
    }
}
