//! Reading back what the S3-Parquet sink wrote: every Parquet file under a local directory or
//! an S3 prefix, with its rows (as JSON) and key-value metadata.

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;
use sluice::connectors::s3_parquet::storage::ObjectStore;

/// One Parquet file of the lake.
#[derive(Debug, Clone)]
pub struct LakeFile {
    /// Key relative to the store root, `/`-separated.
    pub key: String,
    /// Rows as JSON objects.
    pub rows: Vec<Value>,
    /// Key-value metadata.
    pub metadata: BTreeMap<String, String>,
    /// Arrow schema of the file, as text (`name: type` per column).
    pub columns: Vec<String>,
}

/// Decodes one Parquet file.
pub fn decode(key: &str, bytes: Bytes) -> LakeFile {
    let builder = ParquetRecordBatchReaderBuilder::try_new(bytes)
        .unwrap_or_else(|e| panic!("{key} is not a readable Parquet file: {e}"));
    let metadata = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kvs| {
            kvs.iter()
                .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let columns = builder
        .schema()
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect();
    let reader = builder.build().expect("reader");
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.expect("batch");
        let schema = batch.schema();
        for r in 0..batch.num_rows() {
            let mut obj = serde_json::Map::new();
            for (c, field) in schema.fields().iter().enumerate() {
                let v = sluice::data::arrow::array_value(batch.column(c), field, r);
                obj.insert(field.name().clone(), v.to_json());
            }
            rows.push(Value::Object(obj));
        }
    }
    LakeFile {
        key: key.to_string(),
        rows,
        metadata,
        columns,
    }
}

/// Every `.parquet` file under `root` (recursively; hidden entries skipped), sorted by key.
pub fn read_dir(root: &Path) -> Vec<LakeFile> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<LakeFile>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if name.ends_with(".parquet") {
                let key = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                let bytes = Bytes::from(std::fs::read(&p).unwrap());
                out.push(decode(&key, bytes));
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// Every `.parquet` object under `prefix` of a store (keys under `.sluice/` skipped).
pub async fn read_store(store: &dyn ObjectStore, prefix: &str) -> Vec<LakeFile> {
    let mut out = Vec::new();
    for key in store.list(prefix).await.expect("list") {
        if !key.ends_with(".parquet") || key.contains("/.sluice/") || key.starts_with(".sluice/") {
            continue;
        }
        let bytes = store
            .get(&key)
            .await
            .expect("get")
            .expect("listed object exists");
        out.push(decode(&key, bytes));
    }
    out
}

/// Runs `tests/readers/read_parquet.py` with an independent reader (pyarrow, duckdb, chdb)
/// when `SLUICE_READERS_PYTHON` is set; `None` otherwise (or panics with
/// `SLUICE_REQUIRE_SERVICES=1`).
pub fn python_reader(reader: &str, path: &str, s3_endpoint: Option<&str>) -> Option<Value> {
    let python = match std::env::var("SLUICE_READERS_PYTHON") {
        Ok(p) if !p.is_empty() => p,
        _ => {
            if std::env::var("SLUICE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("SLUICE_READERS_PYTHON is not set but SLUICE_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped {reader}: SLUICE_READERS_PYTHON not set (run scripts/test.sh)");
            return None;
        }
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/readers/read_parquet.py");
    let mut cmd = std::process::Command::new(python);
    cmd.args([script, "--reader", reader, "--path", path]);
    if let Some(e) = s3_endpoint {
        cmd.args(["--s3-endpoint", e]);
    }
    let out = cmd.output().expect("run read_parquet.py");
    assert!(
        out.status.success(),
        "{reader} could not read {path}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("reader JSON"))
}

/// The S3 test server from `scripts/services.sh` (moto): endpoint, or `None` to skip
/// (panics with `SLUICE_REQUIRE_SERVICES=1`).
pub fn s3_endpoint() -> Option<String> {
    match std::env::var("S3_ENDPOINT") {
        Ok(e) if !e.is_empty() => Some(e),
        _ => {
            if std::env::var("SLUICE_REQUIRE_SERVICES").as_deref() == Ok("1") {
                panic!("S3_ENDPOINT is not set but SLUICE_REQUIRE_SERVICES=1");
            }
            eprintln!("skipped: S3_ENDPOINT not set (run scripts/test.sh)");
            None
        }
    }
}

fn env_or(key: &str, default: &str) -> String {
    std::env::var(key)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// Access key, secret and region of the test server.
pub fn s3_credentials() -> (String, String, String) {
    (
        env_or("AWS_ACCESS_KEY_ID", "test"),
        env_or("AWS_SECRET_ACCESS_KEY", "testtest"),
        env_or("AWS_REGION", "us-east-1"),
    )
}

/// Creates a bucket on the test server.
pub async fn create_bucket(endpoint: &str, bucket: &str) {
    let (key, secret, region) = s3_credentials();
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
        .create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
}

/// The sink's store over a bucket of the test server (to read back what it wrote).
pub async fn s3_store(endpoint: &str, bucket: &str) -> std::sync::Arc<dyn ObjectStore> {
    let (key, secret, region) = s3_credentials();
    sluice::connectors::s3_parquet::storage::open(
        &sluice::connectors::s3_parquet::storage::StoreConfig {
            bucket: bucket.to_string(),
            region,
            endpoint: Some(endpoint.to_string()),
            path_style: true,
            access_key_id: Some(key),
            secret_access_key: Some(secret),
            part_size: 5 << 20,
            retries: 3,
            retry_backoff_ms: 100,
            local_root: None,
        },
    )
    .await
    .expect("open store")
}

/// A local store over a directory.
pub async fn local_store(root: &Path) -> std::sync::Arc<dyn ObjectStore> {
    sluice::connectors::s3_parquet::storage::open(
        &sluice::connectors::s3_parquet::storage::StoreConfig {
            bucket: "local".to_string(),
            region: "us-east-1".into(),
            endpoint: None,
            path_style: true,
            access_key_id: None,
            secret_access_key: None,
            part_size: 5 << 20,
            retries: 0,
            retry_backoff_ms: 100,
            local_root: Some(root.to_path_buf()),
        },
    )
    .await
    .expect("open store")
}

/// The `i` values of every row, per Kafka partition (from the files' `sluice.partition`).
pub fn ids_by_partition(files: &[LakeFile]) -> BTreeMap<i32, Vec<i64>> {
    let mut out: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for f in files {
        let p: i32 = f.metadata["sluice.partition"].parse().unwrap();
        for r in &f.rows {
            out.entry(p)
                .or_default()
                .push(r["i"].as_i64().expect("row has i"));
        }
    }
    out
}
