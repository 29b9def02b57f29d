//! Object stores: S3 (aws-sdk-s3) and a local directory, behind one trait.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;

pub mod local;
pub mod s3;

pub use local::LocalStore;
pub use s3::S3Store;

/// Where and how to reach the store; built from the connector config by `config.rs`.
#[derive(Debug, Clone, PartialEq)]
pub struct StoreConfig {
    /// `s3.bucket.name`.
    pub bucket: String,
    /// `s3.region`.
    pub region: String,
    /// `store.url` for S3-compatible servers, with a scheme (`https://` added when missing).
    pub endpoint: Option<String>,
    /// `s3.path.style.access.enabled`.
    pub path_style: bool,
    /// `aws.access.key.id`; with `secret_access_key`, static credentials. Else the AWS chain.
    pub access_key_id: Option<String>,
    /// `aws.secret.access.key`.
    pub secret_access_key: Option<String>,
    /// `s3.part.size`: multipart part size, and the size above which uploads are multipart.
    pub part_size: usize,
    /// `s3.part.retries`: SDK retries per request.
    pub retries: u32,
    /// `s3.retry.backoff.ms`: first SDK backoff.
    pub retry_backoff_ms: u64,
    /// A local directory standing in for the bucket (`store.url=file:///dir`, or
    /// `local.dir` + bucket name): the same keys, as files under this root.
    pub local_root: Option<PathBuf>,
}

/// A flat key → bytes store (an S3 bucket or a local directory); keys are `/`-separated.
#[async_trait::async_trait]
pub trait ObjectStore: Send + Sync + std::fmt::Debug {
    /// Where this store writes, for logs and errors: `s3://bucket (endpoint …)` or `file:///dir`.
    fn describe(&self) -> String;

    /// Checks that the bucket exists and is reachable with these credentials, or that the
    /// directory exists (or can be created) and is writable; a `Permanent` error otherwise.
    async fn check(&self) -> Result<(), StoreError>;

    /// Writes an object, replacing any previous one (S3: multipart above the part size).
    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError>;

    /// Create-only write: `Ok(true)` if created, `Ok(false)` if the key already existed.
    async fn put_if_absent(&self, key: &str, body: Bytes) -> Result<bool, StoreError>;

    /// Reads an object; `Ok(None)` when it does not exist.
    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError>;

    /// Whether an object exists.
    async fn exists(&self, key: &str) -> Result<bool, StoreError>;

    /// Copies an object inside the store (replacing `to`); a missing source is `NotFound`.
    async fn copy(&self, from: &str, to: &str) -> Result<(), StoreError>;

    /// Every key under a prefix, sorted ascending.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;

    /// Deletes an object; succeeds when it is already missing.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// A failed store operation, classified for the retry decision.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Worth retrying: timeouts, connection refused/reset, 5xx, throttling, 409 conflicts.
    #[error("{op} {key}: {message}")]
    Transient {
        /// The operation (`put`, `get`, …).
        op: &'static str,
        /// The object key (or the bucket / directory for `check`).
        key: String,
        /// What went wrong, for an operator.
        message: String,
    },
    /// A missing object where one was required (the source of a copy).
    #[error("{op} {key}: not found")]
    NotFound {
        /// The operation.
        op: &'static str,
        /// The missing key.
        key: String,
    },
    /// Not worth retrying: access denied, bad credentials, no such bucket, invalid request,
    /// local permission errors.
    #[error("{op} {key}: {message}")]
    Permanent {
        /// The operation.
        op: &'static str,
        /// The object key (or the bucket / directory for `check`).
        key: String,
        /// What went wrong, for an operator.
        message: String,
    },
}

impl StoreError {
    /// Whether retrying the operation later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Transient { .. })
    }

    pub(crate) fn transient(op: &'static str, key: &str, message: impl Into<String>) -> Self {
        StoreError::Transient {
            op,
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn permanent(op: &'static str, key: &str, message: impl Into<String>) -> Self {
        StoreError::Permanent {
            op,
            key: key.to_string(),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(op: &'static str, key: &str) -> Self {
        StoreError::NotFound {
            op,
            key: key.to_string(),
        }
    }
}

/// Builds the store: a [`LocalStore`] when `local_root` is set, else an [`S3Store`].
pub async fn open(config: &StoreConfig) -> Result<Arc<dyn ObjectStore>, StoreError> {
    match &config.local_root {
        Some(root) => Ok(Arc::new(LocalStore::new(root.clone()))),
        None => Ok(Arc::new(S3Store::connect(config).await?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_classification() {
        assert!(StoreError::transient("put", "k", "x").is_transient());
        assert!(!StoreError::permanent("put", "k", "x").is_transient());
        assert!(!StoreError::not_found("copy", "k").is_transient());
        assert_eq!(
            StoreError::not_found("copy", "a/b").to_string(),
            "copy a/b: not found"
        );
    }

    #[tokio::test]
    async fn open_picks_local_store() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = StoreConfig {
            bucket: "lake".into(),
            region: "us-east-1".into(),
            endpoint: None,
            path_style: false,
            access_key_id: None,
            secret_access_key: None,
            part_size: 5 << 20,
            retries: 0,
            retry_backoff_ms: 100,
            local_root: Some(dir.path().to_path_buf()),
        };
        let store = open(&config).await.expect("open");
        assert_eq!(store.describe(), format!("file://{}", dir.path().display()));
        store.check().await.expect("check");
        store.put("x", Bytes::from_static(b"1")).await.expect("put");
        assert_eq!(
            store.get("x").await.expect("get"),
            Some(Bytes::from_static(b"1"))
        );
    }
}
