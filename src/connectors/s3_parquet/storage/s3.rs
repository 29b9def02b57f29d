//! An S3 bucket (AWS, MinIO, moto, …) as an object store, through aws-sdk-s3.
//!
//! Errors are classified for the retry decision (see [`StoreError`]) and carry what an operator
//! needs: the bucket and endpoint, the HTTP status, the S3 error code and message, or the cause
//! chain of a network failure ("tcp connect error: Connection refused").

use std::error::Error as StdError;
use std::time::Duration;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};

use super::{ObjectStore, StoreConfig, StoreError};

/// Time allowed to open a TCP (+TLS) connection to the endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Time allowed for one attempt of one request (a part upload included).
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);
/// S3's smallest multipart part (all but the last).
pub const MIN_PART_SIZE: usize = 5 << 20;
/// S3's largest number of parts in one multipart upload.
pub const MAX_PARTS: usize = 10_000;
/// Parts of one multipart upload in flight at once.
pub const MULTIPART_CONCURRENCY: usize = 4;
/// Region used when the config leaves it empty.
pub const DEFAULT_REGION: &str = "us-east-1";

/// An object store over one S3 bucket.
#[derive(Clone)]
pub struct S3Store {
    client: Client,
    bucket: String,
    endpoint: Option<String>,
    region: String,
    part_size: usize,
    list_page_size: Option<i32>,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("part_size", &self.part_size)
            .finish_non_exhaustive()
    }
}

/// How one failed request ended, before the operation decides what that means.
enum Failure {
    /// HTTP 404 other than `NoSuchBucket`: the object is missing.
    Missing,
    /// HTTP 412: a precondition (`If-None-Match: *`) failed.
    Precondition,
    /// Anything else, already classified.
    Error(StoreError),
}

/// Adds `https://` to an endpoint without a scheme.
fn with_scheme(endpoint: &str) -> String {
    if endpoint.contains("://") {
        endpoint.to_string()
    } else {
        format!("https://{endpoint}")
    }
}

/// An error and its `source()` chain as one line, skipping repeated messages.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// Percent-encodes a key for `x-amz-copy-source` (keeps unreserved characters and `/`).
fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Rejects keys S3 cannot store.
fn validate_key(op: &'static str, key: &str) -> Result<(), StoreError> {
    if key.is_empty() {
        return Err(StoreError::permanent(op, key, "invalid object key: empty"));
    }
    Ok(())
}

impl S3Store {
    /// Builds the client from the config (static credentials when both key id and secret are
    /// set, else the standard AWS chain). Does not contact the server; see `check`.
    pub async fn connect(config: &StoreConfig) -> Result<Self, StoreError> {
        let region = match config.region.trim() {
            "" => DEFAULT_REGION.to_string(),
            r => r.to_string(),
        };
        let endpoint = config
            .endpoint
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(with_scheme);
        let retry = RetryConfig::standard()
            .with_max_attempts(config.retries.saturating_add(1))
            .with_initial_backoff(Duration::from_millis(config.retry_backoff_ms));
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .build();
        let static_credentials = match (&config.access_key_id, &config.secret_access_key) {
            (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => {
                Some(Credentials::new(id, secret, None, None, "sluice"))
            }
            _ => None,
        };
        let mut builder = match static_credentials {
            Some(credentials) => aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new(region.clone()))
                .credentials_provider(credentials),
            None => {
                let shared = aws_config::defaults(BehaviorVersion::latest())
                    .region(Region::new(region.clone()))
                    .load()
                    .await;
                aws_sdk_s3::config::Builder::from(&shared)
            }
        };
        builder = builder
            .force_path_style(config.path_style)
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(endpoint) = &endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        Ok(S3Store {
            client: Client::from_conf(builder.build()),
            bucket: config.bucket.clone(),
            endpoint,
            region,
            part_size: config.part_size,
            list_page_size: None,
        })
    }

    /// Lists at most `n` keys per ListObjectsV2 request (default: the server's, 1,000 on S3).
    pub fn with_list_page_size(mut self, n: i32) -> Self {
        self.list_page_size = Some(n);
        self
    }

    /// The bucket name.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// `endpoint <url>` or `region <r>`, for messages that already name the bucket.
    fn location(&self) -> String {
        match &self.endpoint {
            Some(endpoint) => format!("endpoint {endpoint}"),
            None => format!("region {}", self.region),
        }
    }

    /// Classifies a failed request.
    fn classify<E>(&self, op: &'static str, key: &str, err: SdkError<E>) -> Failure
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let at = self.describe();
        match &err {
            SdkError::ServiceError(service) => {
                let raw = service.raw();
                let status = raw.status().as_u16();
                let e = service.err();
                let code = e.code().unwrap_or_default();
                let mut detail = format!("HTTP {status}");
                if !code.is_empty() {
                    detail.push(' ');
                    detail.push_str(code);
                }
                if let Some(m) = e.message().filter(|m| !m.is_empty()) {
                    detail.push_str(": ");
                    detail.push_str(m);
                }
                if code == "NoSuchBucket" {
                    let message = format!(
                        "Non-existent S3 bucket: {} ({}; {detail})",
                        self.bucket,
                        self.location()
                    );
                    return Failure::Error(StoreError::permanent(op, key, message));
                }
                match status {
                    404 => Failure::Missing,
                    412 => Failure::Precondition,
                    403 => Failure::Error(StoreError::permanent(
                        op,
                        key,
                        format!(
                            "Access denied to bucket {}: {detail} ({}; check the access key, the \
                             secret and the bucket policy)",
                            self.bucket,
                            self.location()
                        ),
                    )),
                    301 | 307 => {
                        let hint = match raw.headers().get("x-amz-bucket-region") {
                            Some(r) => format!("the bucket is in region {r}; set s3.region"),
                            None => {
                                "wrong region or endpoint? check s3.region and store.url".into()
                            }
                        };
                        Failure::Error(StoreError::permanent(
                            op,
                            key,
                            format!("{at}: {detail} ({hint})"),
                        ))
                    }
                    _ if status == 408
                        || status == 409
                        || status == 429
                        || status >= 500
                        || matches!(
                            code,
                            "SlowDown" | "Throttling" | "RequestTimeout" | "InternalError"
                        ) =>
                    {
                        Failure::Error(StoreError::transient(op, key, format!("{at}: {detail}")))
                    }
                    _ => Failure::Error(StoreError::permanent(op, key, format!("{at}: {detail}"))),
                }
            }
            SdkError::ConstructionFailure(_) => Failure::Error(StoreError::permanent(
                op,
                key,
                format!("{at}: cannot build the request: {}", chain(&err)),
            )),
            SdkError::TimeoutError(_) => Failure::Error(StoreError::transient(
                op,
                key,
                format!("{at}: timed out: {}", chain(&err)),
            )),
            SdkError::DispatchFailure(d) if d.is_user() => Failure::Error(StoreError::permanent(
                op,
                key,
                format!("{at}: {}", chain(&err)),
            )),
            SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => Failure::Error(
                StoreError::transient(op, key, format!("cannot reach {at}: {}", chain(&err))),
            ),
            // E.g. no credentials from the AWS chain (its sources may come back: transient).
            SdkError::DispatchFailure(_) => Failure::Error(StoreError::transient(
                op,
                key,
                format!("{at}: request not sent: {}", chain(&err)),
            )),
            SdkError::ResponseError(r) => Failure::Error(StoreError::transient(
                op,
                key,
                format!(
                    "{at}: bad response (HTTP {}): {}",
                    r.raw().status().as_u16(),
                    chain(&err)
                ),
            )),
            _ => Failure::Error(StoreError::transient(
                op,
                key,
                format!("{at}: {}", chain(&err)),
            )),
        }
    }

    /// Classifies a failed request where neither 404 nor 412 means anything special.
    fn error<E>(&self, op: &'static str, key: &str, err: SdkError<E>) -> StoreError
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        match self.classify(op, key, err) {
            Failure::Error(e) => e,
            Failure::Missing => StoreError::permanent(
                op,
                key,
                format!(
                    "{}: HTTP {} (not found)",
                    self.describe(),
                    status.unwrap_or(404)
                ),
            ),
            Failure::Precondition => StoreError::permanent(
                op,
                key,
                format!(
                    "{}: HTTP {} (precondition failed)",
                    self.describe(),
                    status.unwrap_or(412)
                ),
            ),
        }
    }

    /// One PutObject.
    async fn put_single(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error("put", key, e))
    }

    /// A multipart upload of `body`, aborted when any step fails.
    async fn put_multipart(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(|e| self.error("put", key, e))?;
        let Some(upload_id) = created.upload_id().map(str::to_string) else {
            return Err(StoreError::transient(
                "put",
                key,
                format!(
                    "{}: CreateMultipartUpload returned no upload id",
                    self.describe()
                ),
            ));
        };
        let result = self.upload_parts(key, &upload_id, body).await;
        if result.is_err() {
            if let Err(e) = self
                .client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await
            {
                tracing::warn!(
                    store = %self.describe(),
                    key,
                    upload_id,
                    error = %self.error("put", key, e),
                    "could not abort a failed multipart upload; a bucket lifecycle rule \
                     (AbortIncompleteMultipartUpload) cleans it up"
                );
            }
        }
        result
    }

    /// Uploads the parts (a few at a time) and completes the upload.
    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        body: Bytes,
    ) -> Result<(), StoreError> {
        let len = body.len();
        let chunk = self
            .part_size
            .max(MIN_PART_SIZE)
            .max(len.div_ceil(MAX_PARTS));
        let parts: Vec<(i32, Bytes)> = (0..len)
            .step_by(chunk)
            .zip(1..)
            .map(|(start, number)| (number, body.slice(start..len.min(start + chunk))))
            .collect();
        let completed: Vec<CompletedPart> = futures::stream::iter(parts)
            .map(|(number, part)| async move {
                let out = self
                    .client
                    .upload_part()
                    .bucket(&self.bucket)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .checksum_algorithm(ChecksumAlgorithm::Crc32)
                    .body(ByteStream::from(part))
                    .send()
                    .await
                    .map_err(|e| self.error("put", key, e))?;
                let Some(etag) = out.e_tag() else {
                    return Err(StoreError::transient(
                        "put",
                        key,
                        format!("{}: UploadPart {number} returned no ETag", self.describe()),
                    ));
                };
                Ok(CompletedPart::builder()
                    .part_number(number)
                    .e_tag(etag)
                    .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                    .build())
            })
            .buffered(MULTIPART_CONCURRENCY)
            .try_collect()
            .await?;
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.error("put", key, e))
    }
}

#[async_trait::async_trait]
impl ObjectStore for S3Store {
    fn describe(&self) -> String {
        format!("s3://{} ({})", self.bucket, self.location())
    }

    async fn check(&self) -> Result<(), StoreError> {
        const OP: &str = "check";
        match self.client.head_bucket().bucket(&self.bucket).send().await {
            Ok(_) => Ok(()),
            Err(e) => match self.classify(OP, &self.bucket, e) {
                Failure::Missing => Err(StoreError::permanent(
                    OP,
                    &self.bucket,
                    format!(
                        "Non-existent S3 bucket: {} ({})",
                        self.bucket,
                        self.location()
                    ),
                )),
                Failure::Precondition => Err(StoreError::permanent(
                    OP,
                    &self.bucket,
                    format!("{}: HTTP 412 on HeadBucket", self.describe()),
                )),
                Failure::Error(e) => Err(e),
            },
        }
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        validate_key("put", key)?;
        if body.len() <= self.part_size {
            self.put_single(key, body).await
        } else {
            self.put_multipart(key, body).await
        }
    }

    /// A single PutObject with `If-None-Match: *` whatever the size (up to S3's 5 GiB).
    async fn put_if_absent(&self, key: &str, body: Bytes) -> Result<bool, StoreError> {
        const OP: &str = "put_if_absent";
        validate_key(OP, key)?;
        let sent = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .if_none_match("*")
            .body(ByteStream::from(body))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(true),
            Err(e) => match self.classify(OP, key, e) {
                Failure::Precondition => Ok(false),
                Failure::Missing => Err(StoreError::permanent(
                    OP,
                    key,
                    format!("{}: HTTP 404 on PutObject", self.describe()),
                )),
                Failure::Error(e) => Err(e),
            },
        }
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        validate_key("get", key)?;
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                return match self.classify("get", key, e) {
                    Failure::Missing => Ok(None),
                    Failure::Precondition => Err(StoreError::permanent(
                        "get",
                        key,
                        format!("{}: HTTP 412 on GetObject", self.describe()),
                    )),
                    Failure::Error(e) => Err(e),
                }
            }
        };
        match out.body.collect().await {
            Ok(body) => Ok(Some(body.into_bytes())),
            Err(e) => Err(StoreError::transient(
                "get",
                key,
                format!(
                    "{}: reading the body failed: {}",
                    self.describe(),
                    chain(&e)
                ),
            )),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        validate_key("exists", key)?;
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) => match self.classify("exists", key, e) {
                Failure::Missing => Ok(false),
                Failure::Precondition => Err(StoreError::permanent(
                    "exists",
                    key,
                    format!("{}: HTTP 412 on HeadObject", self.describe()),
                )),
                Failure::Error(e) => Err(e),
            },
        }
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), StoreError> {
        validate_key("copy", from)?;
        validate_key("copy", to)?;
        let sent = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(to)
            .copy_source(format!("{}/{}", self.bucket, encode_key(from)))
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e) => match self.classify("copy", &format!("{from} -> {to}"), e) {
                Failure::Missing => Err(StoreError::not_found("copy", from)),
                Failure::Precondition => Err(StoreError::permanent(
                    "copy",
                    &format!("{from} -> {to}"),
                    format!("{}: HTTP 412 on CopyObject", self.describe()),
                )),
                Failure::Error(e) => Err(e),
            },
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut request = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take());
            if let Some(n) = self.list_page_size {
                request = request.max_keys(n);
            }
            let page = request
                .send()
                .await
                .map_err(|e| self.error("list", prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_string)),
            );
            match (page.is_truncated(), page.next_continuation_token()) {
                (Some(true), Some(next)) if !next.is_empty() => token = Some(next.to_string()),
                (Some(true), _) => {
                    return Err(StoreError::transient(
                        "list",
                        prefix,
                        format!(
                            "{}: truncated listing without a continuation token",
                            self.describe()
                        ),
                    ))
                }
                _ => break,
            }
        }
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key("delete", key)?;
        match self
            .client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => match self.classify("delete", key, e) {
                Failure::Missing => Ok(()),
                Failure::Precondition => Err(StoreError::permanent(
                    "delete",
                    key,
                    format!("{}: HTTP 412 on DeleteObject", self.describe()),
                )),
                Failure::Error(e) => Err(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_keys_are_encoded() {
        assert_eq!(
            encode_key("topics/t/year=2024/a b+c.parquet"),
            "topics/t/year%3D2024/a%20b%2Bc.parquet"
        );
        assert_eq!(encode_key("é"), "%C3%A9");
    }

    #[test]
    fn endpoints_get_a_scheme() {
        assert_eq!(with_scheme("minio:9000"), "https://minio:9000");
        assert_eq!(
            with_scheme("http://127.0.0.1:9000"),
            "http://127.0.0.1:9000"
        );
    }

    #[tokio::test]
    async fn describe_names_bucket_and_endpoint() {
        let mut config = StoreConfig {
            bucket: "lake".into(),
            region: "eu-west-1".into(),
            endpoint: Some("http://127.0.0.1:9000".into()),
            path_style: true,
            access_key_id: Some("k".into()),
            secret_access_key: Some("s".into()),
            part_size: MIN_PART_SIZE,
            retries: 0,
            retry_backoff_ms: 10,
            local_root: None,
        };
        let store = S3Store::connect(&config).await.expect("connect");
        assert_eq!(
            store.describe(),
            "s3://lake (endpoint http://127.0.0.1:9000)"
        );
        config.endpoint = None;
        let store = S3Store::connect(&config).await.expect("connect");
        assert_eq!(store.describe(), "s3://lake (region eu-west-1)");
    }
}
