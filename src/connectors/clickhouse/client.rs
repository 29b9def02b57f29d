//! The HTTP client: the official `clickhouse` crate with its schema validation off (it needs
//! `RowBinaryWithNamesAndTypes` and settings that old servers lack), TabSeparated reads, raw
//! RowBinary inserts, server capabilities, error classes and retries with backoff.

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use thiserror::Error;

use super::config::ClickHouseSinkConfig;

/// A ClickHouse request failure, classified for the task.
#[derive(Debug, Error)]
pub enum ChError {
    /// The server could not be reached or timed out: retry.
    #[error("ClickHouse at {url} is unreachable: {message}")]
    Unavailable {
        /// Server URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// The server refused the request with an exception (`Code: N`).
    #[error("ClickHouse error {code}: {message}")]
    Server {
        /// ClickHouse error code (0 when none was given).
        code: u32,
        /// The exception text.
        message: String,
    },
    /// Anything else from the client.
    #[error("ClickHouse client error: {0}")]
    Client(String),
}

/// Error codes that say the table's columns differ from what was encoded.
const SCHEMA_CODES: &[u32] = &[
    8,   // THERE_IS_NO_COLUMN
    16,  // NO_SUCH_COLUMN_IN_TABLE
    27,  // CANNOT_PARSE_INPUT_ASSERTION_FAILED
    33,  // CANNOT_READ_ALL_DATA (RowBinary shorter than the columns say)
    44,  // ILLEGAL_COLUMN
    47,  // UNKNOWN_IDENTIFIER
    53,  // TYPE_MISMATCH
    117, // INCORRECT_DATA
];
/// Codes of overload and transient server states worth retrying.
const TRANSIENT_CODES: &[u32] = &[
    3,   // UNEXPECTED_END_OF_FILE
    159, // TIMEOUT_EXCEEDED
    164, // READONLY (replica switching)
    202, // TOO_MANY_SIMULTANEOUS_QUERIES
    216, // QUERY_WITH_SAME_ID_IS_ALREADY_RUNNING (a crashed task's insert still on the server)
    209, // SOCKET_TIMEOUT
    210, // NETWORK_ERROR
    241, // MEMORY_LIMIT_EXCEEDED
    242, // TABLE_IS_READ_ONLY
    252, // TOO_MANY_PARTS
    285, // TOO_FEW_LIVE_REPLICAS
    319, // UNKNOWN_STATUS_OF_INSERT
    425, // SYSTEM_ERROR
    999, // KEEPER_EXCEPTION
];

impl ChError {
    /// True when retrying the same request may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            ChError::Unavailable { .. } => true,
            ChError::Server { code, .. } => TRANSIENT_CODES.contains(code),
            ChError::Client(_) => false,
        }
    }

    /// True when the table's columns are not what the insert assumed (refresh and re-encode).
    pub fn is_schema(&self) -> bool {
        matches!(self, ChError::Server { code, .. } if SCHEMA_CODES.contains(code))
    }

    /// True for UNKNOWN_TABLE.
    pub fn is_unknown_table(&self) -> bool {
        matches!(self, ChError::Server { code: 60, .. })
    }
}

/// `Code: 60. DB::Exception: …` → 60.
fn error_code(text: &str) -> u32 {
    text.find("Code: ")
        .map(|i| &text[i + 6..])
        .and_then(|t| {
            let digits: String = t.chars().take_while(|c| c.is_ascii_digit()).collect();
            digits.parse().ok()
        })
        .unwrap_or(0)
}

/// Server version and the settings it knows.
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    /// `(major, minor)` from `version()`.
    pub version: (u32, u32),
    /// Names from `system.settings`.
    pub settings: HashSet<String>,
}

impl Capabilities {
    /// True for `major.minor` or later.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        self.version >= (major, minor)
    }

    /// `insert_deduplication_token` exists (22.2+).
    pub fn dedup_token(&self) -> bool {
        self.settings.contains("insert_deduplication_token")
    }

    /// `ReplacingMergeTree(ver, is_deleted)` exists (23.2+).
    pub fn is_deleted_engine(&self) -> bool {
        self.at_least(23, 2)
    }

    /// DateTime64 exists (20.1+).
    pub fn datetime64(&self) -> bool {
        self.at_least(20, 1)
    }

    /// Bool exists (22.1+; older servers get UInt8).
    pub fn bool_type(&self) -> bool {
        self.at_least(22, 1)
    }

    /// Date32 exists (21.9+).
    pub fn date32(&self) -> bool {
        self.at_least(21, 9)
    }

    /// `non_replicated_deduplication_window` (dedup of plain MergeTree inserts, 20.10+).
    pub fn non_replicated_dedup(&self) -> bool {
        self.at_least(20, 10)
    }
}

/// Parses `18.16.1` / `24.3.2.23` into `(major, minor)`.
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let mut it = text.trim().split('.');
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

/// A connected client with the connector's retry policy.
#[derive(Clone)]
pub struct ChClient {
    inner: clickhouse::Client,
    url: String,
    timeout: Duration,
    retries: u32,
}

impl ChClient {
    /// A client for the config's server and database.
    pub fn new(config: &ClickHouseSinkConfig) -> ChClient {
        let url = config.url();
        let inner = clickhouse::Client::default()
            .with_url(&url)
            .with_user(&config.username)
            .with_password(&config.password)
            .with_database(&config.database)
            .with_compression(clickhouse::Compression::Lz4)
            // The crate's schema validation needs RowBinaryWithNamesAndTypes and
            // describe_include_subcolumns; Sluice checks columns itself (system.columns).
            .with_validation(false);
        ChClient {
            inner,
            url,
            timeout: config.timeout,
            retries: config.retry_count,
        }
    }

    /// The server URL (for messages).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn classify(&self, e: clickhouse::error::Error) -> ChError {
        use clickhouse::error::Error as E;
        match e {
            E::Network(e) => ChError::Unavailable {
                url: self.url.clone(),
                message: e.to_string(),
            },
            E::TimedOut => ChError::Unavailable {
                url: self.url.clone(),
                message: format!("timed out after {:?}", self.timeout),
            },
            E::BadResponse(text) => ChError::Server {
                code: error_code(&text),
                message: text.trim().to_string(),
            },
            other => {
                let text = other.to_string();
                if text.contains("Code: ") {
                    ChError::Server {
                        code: error_code(&text),
                        message: text,
                    }
                } else {
                    ChError::Client(text)
                }
            }
        }
    }

    /// Runs `op` with `retryCount` retries on transient errors (backoff from 100 ms, doubling).
    async fn retrying<T, F, Fut>(&self, what: &str, mut op: F) -> Result<T, ChError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ChError>>,
    {
        let mut delay = Duration::from_millis(100);
        let mut attempt = 0;
        loop {
            match tokio::time::timeout(self.timeout, op()).await {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) if e.is_transient() && attempt < self.retries => {
                    tracing::warn!(url = %self.url, attempt, "{what} failed, retrying in {delay:?}: {e}");
                }
                Ok(Err(e)) => return Err(e),
                Err(_) if attempt < self.retries => {
                    tracing::warn!(url = %self.url, attempt, "{what} timed out after {:?}, retrying in {delay:?}", self.timeout);
                }
                Err(_) => {
                    return Err(ChError::Unavailable {
                        url: self.url.clone(),
                        message: format!("{what} timed out after {:?}", self.timeout),
                    })
                }
            }
            attempt += 1;
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(5));
        }
    }

    /// Runs a statement that returns nothing (DDL, small inserts).
    pub async fn execute(&self, sql: &str) -> Result<(), ChError> {
        self.retrying("statement", || async {
            self.inner
                .query(sql)
                .execute()
                .await
                .map_err(|e| self.classify(e))
        })
        .await
    }

    /// Runs a query and returns its TabSeparated rows, unescaped.
    pub async fn rows(&self, sql: &str) -> Result<Vec<Vec<String>>, ChError> {
        let bytes = self
            .retrying("query", || async {
                let mut cursor = self
                    .inner
                    .query(sql)
                    .fetch_bytes("TabSeparated")
                    .map_err(|e| self.classify(e))?;
                cursor.collect().await.map_err(|e| self.classify(e))
            })
            .await?;
        Ok(parse_tsv(&bytes))
    }

    /// Server version and known settings.
    pub async fn capabilities(&self) -> Result<Capabilities, ChError> {
        let version = self.rows("SELECT version()").await?;
        let text = version
            .first()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or_default();
        let version = parse_version(&text)
            .ok_or_else(|| ChError::Client(format!("unexpected version() answer '{text}'")))?;
        let settings = self
            .rows("SELECT name FROM system.settings")
            .await?
            .into_iter()
            .filter_map(|r| r.into_iter().next())
            .collect();
        Ok(Capabilities { version, settings })
    }

    /// Inserts one RowBinary body (one attempt; the caller decides about retries, since a
    /// retry of an insert is only safe when its outcome is known or deduplicated).
    pub async fn insert_rowbinary(
        &self,
        table: &str,
        columns: &[String],
        body: Bytes,
        settings: &[(String, String)],
    ) -> Result<(), ChError> {
        let cols = columns
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("INSERT INTO `{table}` ({cols}) FORMAT RowBinary");
        let run = async {
            let mut insert = self.inner.insert_formatted_with(sql);
            for (k, v) in settings {
                insert = insert.with_setting(k.clone(), v.clone());
            }
            insert.send(body).await.map_err(|e| self.classify(e))?;
            insert.end().await.map_err(|e| self.classify(e))
        };
        match tokio::time::timeout(self.timeout, run).await {
            Ok(r) => r,
            Err(_) => Err(ChError::Unavailable {
                url: self.url.clone(),
                message: format!("insert into {table} timed out after {:?}", self.timeout),
            }),
        }
    }
}

/// TabSeparated text → rows of unescaped fields.
pub fn parse_tsv(bytes: &[u8]) -> Vec<Vec<String>> {
    let text = String::from_utf8_lossy(bytes);
    text.lines()
        .map(|line| line.split('\t').map(unescape).collect())
        .collect()
}

fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// A string literal for SQL text.
pub fn literal(s: &str) -> String {
    format!("'{}'", super::types::quote(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_codes_and_tsv() {
        assert_eq!(parse_version("18.16.1"), Some((18, 16)));
        assert_eq!(parse_version("24.3.2.23"), Some((24, 3)));
        assert_eq!(parse_version("x"), None);
        assert_eq!(
            error_code("Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist"),
            60
        );
        assert_eq!(error_code("no code"), 0);
        assert_eq!(
            parse_tsv(b"a\tEnum8(\\'a\\' = 1)\nb\\tc\t\n"),
            vec![
                vec!["a".to_string(), "Enum8('a' = 1)".to_string()],
                vec!["b\tc".to_string(), String::new()]
            ]
        );
        let caps = Capabilities {
            version: (18, 16),
            settings: HashSet::new(),
        };
        assert!(!caps.dedup_token() && !caps.is_deleted_engine() && !caps.datetime64());
        let caps = Capabilities {
            version: (23, 2),
            settings: ["insert_deduplication_token".to_string()].into(),
        };
        assert!(caps.dedup_token() && caps.is_deleted_engine() && caps.datetime64());
    }

    #[test]
    fn classifies_errors() {
        let schema = ChError::Server {
            code: 16,
            message: String::new(),
        };
        assert!(schema.is_schema() && !schema.is_transient());
        let parts = ChError::Server {
            code: 252,
            message: String::new(),
        };
        assert!(parts.is_transient());
        assert!(ChError::Unavailable {
            url: String::new(),
            message: String::new()
        }
        .is_transient());
    }
}
