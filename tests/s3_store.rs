//! The S3-Parquet sink's object-store layer against a real S3 API server (moto, from
//! `scripts/services.sh up s3`): check, put (single and multipart), create-only put, copy,
//! paginated list, delete, and a server that is down.
//!
//! Without `S3_ENDPOINT` the tests print a skip line (they fail with `SLUICE_REQUIRE_SERVICES=1`).

#[path = "common/lake.rs"]
#[allow(dead_code)]
mod lake;

use std::sync::atomic::{AtomicU32, Ordering};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use sluice::connectors::s3_parquet::storage::{
    self, ObjectStore, S3Store, StoreConfig, StoreError,
};

const MIB: usize = 1 << 20;

/// The store config for `bucket` on the test server.
fn config(endpoint: &str, bucket: &str) -> StoreConfig {
    let (key, secret, region) = lake::s3_credentials();
    StoreConfig {
        bucket: bucket.to_string(),
        region,
        endpoint: Some(endpoint.to_string()),
        path_style: true,
        access_key_id: Some(key),
        secret_access_key: Some(secret),
        part_size: 5 * MIB,
        retries: 3,
        retry_backoff_ms: 100,
        local_root: None,
    }
}

/// A bucket name unique to this run (lowercase, digits and dashes).
fn unique_bucket(what: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or(0);
    format!(
        "sluice-{what}-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates a fresh bucket and opens the store over it.
async fn fresh_store(endpoint: &str, what: &str) -> (String, std::sync::Arc<dyn ObjectStore>) {
    let bucket = unique_bucket(what);
    lake::create_bucket(endpoint, &bucket).await;
    let store = storage::open(&config(endpoint, &bucket))
        .await
        .expect("open store");
    (bucket, store)
}

/// A plain SDK client for looking behind the store's back.
fn raw_client(endpoint: &str) -> aws_sdk_s3::Client {
    let (key, secret, region) = lake::s3_credentials();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(region))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            key, secret, None, None, "test",
        ))
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// `len` bytes that differ from part to part (so a reordered or repeated part is caught).
fn patterned(len: usize) -> Bytes {
    Bytes::from(
        (0..len)
            .map(|i| (i.wrapping_mul(31) ^ (i >> 13)) as u8)
            .collect::<Vec<u8>>(),
    )
}

#[tokio::test]
async fn check_accepts_an_existing_bucket_and_names_a_missing_one() {
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let (bucket, store) = fresh_store(&endpoint, "check").await;
    store.check().await.expect("check of an existing bucket");
    assert_eq!(
        store.describe(),
        format!("s3://{bucket} (endpoint {endpoint})")
    );

    let missing = unique_bucket("missing");
    let store = storage::open(&config(&endpoint, &missing))
        .await
        .expect("open");
    let err = store.check().await.expect_err("check of a missing bucket");
    assert!(!err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&format!("Non-existent S3 bucket: {missing}")),
        "{text}"
    );
    assert!(text.contains(&endpoint), "{text}");

    // Object operations on a missing bucket are permanent errors, not "object missing".
    let err = store.get("a").await.expect_err("get in a missing bucket");
    assert!(!err.is_transient(), "{err}");
    assert!(err.to_string().contains("Non-existent S3 bucket"), "{err}");
    let err = store
        .copy("a", "b")
        .await
        .expect_err("copy in a missing bucket");
    assert!(matches!(err, StoreError::Permanent { .. }), "{err:?}");
}

#[tokio::test]
async fn put_get_exists_delete() {
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let (_bucket, store) = fresh_store(&endpoint, "basic").await;
    let key = "topics/t/year=2024/part 0+x.parquet";
    assert_eq!(store.get(key).await.expect("get missing"), None);
    assert!(!store.exists(key).await.expect("exists missing"));
    store
        .put(key, Bytes::from_static(b"hello"))
        .await
        .expect("put");
    assert_eq!(
        store.get(key).await.expect("get"),
        Some(Bytes::from_static(b"hello"))
    );
    assert!(store.exists(key).await.expect("exists"));
    store
        .put(key, Bytes::from_static(b"again"))
        .await
        .expect("replace");
    assert_eq!(
        store.get(key).await.expect("get"),
        Some(Bytes::from_static(b"again"))
    );
    store.put("empty", Bytes::new()).await.expect("put empty");
    assert_eq!(
        store.get("empty").await.expect("get empty"),
        Some(Bytes::new())
    );
    store.delete(key).await.expect("delete");
    assert!(!store.exists(key).await.expect("exists after delete"));
    store
        .delete(key)
        .await
        .expect("delete of a missing key is ok");
    store
        .delete("never/existed")
        .await
        .expect("delete of a missing key is ok");
}

#[tokio::test]
async fn large_put_is_multipart_and_round_trips() {
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let (bucket, store) = fresh_store(&endpoint, "multipart").await;
    let body = patterned(12 * MIB);
    store
        .put("big/object.parquet", body.clone())
        .await
        .expect("multipart put");
    let back = store
        .get("big/object.parquet")
        .await
        .expect("get")
        .expect("object exists");
    assert_eq!(back.len(), body.len());
    assert!(
        back == body,
        "multipart object differs from what was written"
    );

    // Three parts of 5 + 5 + 2 MiB: S3's multipart ETag ends with "-3".
    let head = raw_client(&endpoint)
        .head_object()
        .bucket(&bucket)
        .key("big/object.parquet")
        .send()
        .await
        .expect("head");
    let etag = head.e_tag().unwrap_or_default();
    assert!(
        etag.trim_matches('"').ends_with("-3"),
        "not a 3-part upload: ETag {etag}"
    );
    // Exactly the part size stays a single PutObject.
    store
        .put("exact", patterned(5 * MIB))
        .await
        .expect("single put");
    let head = raw_client(&endpoint)
        .head_object()
        .bucket(&bucket)
        .key("exact")
        .send()
        .await
        .expect("head");
    assert!(
        !head.e_tag().unwrap_or_default().contains('-'),
        "{:?}",
        head.e_tag()
    );

    // No upload is left behind.
    let uploads = raw_client(&endpoint)
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list uploads");
    assert!(uploads.uploads().is_empty(), "{:?}", uploads.uploads());
}

#[tokio::test]
async fn put_if_absent_creates_once() {
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let (_bucket, store) = fresh_store(&endpoint, "create").await;
    assert!(store
        .put_if_absent("index/00000001", Bytes::from_static(b"first"))
        .await
        .expect("create"));
    assert!(!store
        .put_if_absent("index/00000001", Bytes::from_static(b"second"))
        .await
        .expect("already exists"));
    assert_eq!(
        store.get("index/00000001").await.expect("get"),
        Some(Bytes::from_static(b"first"))
    );
}

#[tokio::test]
async fn copy_and_missing_source() {
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let (_bucket, store) = fresh_store(&endpoint, "copy").await;
    let from = "staging/a b=c+d.parquet";
    store
        .put(from, Bytes::from_static(b"payload"))
        .await
        .expect("put");
    store
        .copy(from, "topics/t/partition=0/x.parquet")
        .await
        .expect("copy");
    assert_eq!(
        store
            .get("topics/t/partition=0/x.parquet")
            .await
            .expect("get"),
        Some(Bytes::from_static(b"payload"))
    );
    assert!(store.exists(from).await.expect("source still exists"));

    match store.copy("staging/missing", "topics/t/y").await {
        Err(StoreError::NotFound { op, key }) => {
            assert_eq!(op, "copy");
            assert_eq!(key, "staging/missing");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    assert!(!store.exists("topics/t/y").await.expect("exists"));
}

#[tokio::test]
async fn list_is_sorted_and_paginated() {
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    let (bucket, store) = fresh_store(&endpoint, "list").await;
    // 1,100 keys: more than one default page (1,000) of ListObjectsV2.
    let n = 1_100;
    futures::stream::iter(0..n)
        .map(|i| {
            let store = store.clone();
            async move {
                store
                    .put(&format!("p/{:05}", n - 1 - i), Bytes::from_static(b"x"))
                    .await
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await
        .expect("puts");
    store
        .put("q/other", Bytes::from_static(b"x"))
        .await
        .expect("put");
    store.put("p", Bytes::from_static(b"x")).await.expect("put");

    let expected: Vec<String> = (0..n).map(|i| format!("p/{i:05}")).collect();
    assert_eq!(store.list("p/").await.expect("list"), expected);
    assert_eq!(store.list("p").await.expect("list").len(), n + 1);
    assert_eq!(store.list("").await.expect("list").len(), n + 2);
    assert!(store.list("nothing/").await.expect("list").is_empty());

    // Small pages: many continuation tokens.
    let small = S3Store::connect(&config(&endpoint, &bucket))
        .await
        .expect("connect")
        .with_list_page_size(7);
    let listed = small.list("p/000").await.expect("list in pages of 7");
    assert_eq!(listed, expected[..100].to_vec());
}

#[tokio::test]
async fn server_down_is_a_transient_connection_error() {
    // Runs without the test server: only a closed local port is needed.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let mut config = config(&format!("http://127.0.0.1:{port}"), "down");
    config.access_key_id = Some("test".into());
    config.secret_access_key = Some("testtest".into());
    config.retries = 1;
    config.retry_backoff_ms = 10;
    let store = storage::open(&config).await.expect("open");
    let err = store
        .check()
        .await
        .expect_err("check against a closed port");
    assert!(err.is_transient(), "{err}");
    let text = err.to_string();
    assert!(text.to_lowercase().contains("connection"), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    let err = store
        .put("k", Bytes::from_static(b"x"))
        .await
        .expect_err("put");
    assert!(err.is_transient(), "{err}");
    assert!(
        err.to_string().to_lowercase().contains("connection"),
        "{err}"
    );
    let err = store.get("k").await.expect_err("get");
    assert!(err.is_transient(), "{err}");
}

#[tokio::test]
async fn credentials_from_the_standard_chain() {
    let Some(endpoint) = lake::s3_endpoint() else {
        return;
    };
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
        eprintln!("skipped: AWS_ACCESS_KEY_ID not set, the standard chain has no credentials");
        return;
    }
    let (bucket, _) = fresh_store(&endpoint, "chain").await;
    let mut config = config(&endpoint, &bucket);
    config.access_key_id = None;
    config.secret_access_key = None;
    let store = storage::open(&config).await.expect("open");
    store.check().await.expect("check with env credentials");
    store.put("k", Bytes::from_static(b"v")).await.expect("put");
    assert_eq!(
        store.get("k").await.expect("get"),
        Some(Bytes::from_static(b"v"))
    );
}
