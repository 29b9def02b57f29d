//! A local directory as an object store: key `a/b/c.parquet` is the file `root/a/b/c.parquet`.
//!
//! Writes are atomic and durable: a temp file in the target directory (`.<name>.<unique>.tmp`,
//! which readers and `list` ignore), fsync, rename (or hard link for create-only writes), fsync
//! of the directory. All file I/O runs on the blocking pool.

use std::fs::{self, File};
use std::io::{self, ErrorKind, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;

use super::{ObjectStore, StoreError};

/// Suffix of in-progress temp files (their names also start with `.`).
const TEMP_SUFFIX: &str = ".tmp";

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// An object store over a local directory.
#[derive(Debug, Clone)]
pub struct LocalStore {
    root: PathBuf,
}

impl LocalStore {
    /// A store rooted at `root` (created by `check` or the first write if missing).
    pub fn new(root: PathBuf) -> Self {
        LocalStore { root }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file for a key; rejects empty keys, absolute paths and `..` / `.` components.
    fn path_for(&self, op: &'static str, key: &str) -> Result<PathBuf, StoreError> {
        validate_key(op, key, false)?;
        Ok(self.root.join(key))
    }

    /// Runs blocking file I/O on the blocking pool.
    async fn blocking<T, F>(op: &'static str, key: &str, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, StoreError> + Send + 'static,
    {
        match tokio::task::spawn_blocking(f).await {
            Ok(r) => r,
            Err(e) => Err(StoreError::transient(
                op,
                key,
                format!("I/O task failed: {e}"),
            )),
        }
    }
}

/// Checks a key (or, with `prefix`, a list prefix, which may be empty or end with `/`).
fn validate_key(op: &'static str, key: &str, prefix: bool) -> Result<(), StoreError> {
    let bad = |why: &str| {
        Err(StoreError::permanent(
            op,
            key,
            format!("invalid object key: {why}"),
        ))
    };
    if key.is_empty() {
        return if prefix { Ok(()) } else { bad("empty") };
    }
    if key.contains('\0') {
        return bad("contains a NUL byte");
    }
    if key.starts_with('/') || Path::new(key).is_absolute() {
        return bad("absolute path");
    }
    if !prefix && key.ends_with('/') {
        return bad("ends with '/'");
    }
    for part in key.split('/') {
        if part == ".." || part == "." {
            return bad("'.' or '..' path component");
        }
    }
    for c in Path::new(key).components() {
        if !matches!(c, Component::Normal(_)) {
            return bad("not a relative path");
        }
    }
    Ok(())
}

/// Classifies an I/O error: permission and path problems are permanent, the rest transient.
fn io_error(op: &'static str, key: &str, what: &str, path: &Path, e: &io::Error) -> StoreError {
    let message = format!("{what} {}: {e}", path.display());
    match e.kind() {
        ErrorKind::PermissionDenied
        | ErrorKind::ReadOnlyFilesystem
        | ErrorKind::InvalidInput
        | ErrorKind::InvalidData
        | ErrorKind::NotADirectory
        | ErrorKind::IsADirectory
        | ErrorKind::Unsupported => StoreError::permanent(op, key, message),
        _ => StoreError::transient(op, key, message),
    }
}

/// Whether a file name is one of our temp files.
fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(TEMP_SUFFIX)
}

/// A fresh temp file path next to `target`.
fn temp_path(target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let tmp = format!(".{name}.{}-{n}-{nanos}{TEMP_SUFFIX}", std::process::id());
    target.with_file_name(tmp)
}

/// The parent directory of a target file.
fn parent_of(path: &Path) -> &Path {
    path.parent().unwrap_or_else(|| Path::new("."))
}

/// Creates the parent directories of `path`.
fn create_parent(op: &'static str, key: &str, path: &Path) -> Result<(), StoreError> {
    let dir = parent_of(path);
    fs::create_dir_all(dir).map_err(|e| io_error(op, key, "cannot create directory", dir, &e))
}

/// Fsyncs a directory so a rename / link / unlink in it is durable.
fn sync_dir(op: &'static str, key: &str, dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error(op, key, "cannot sync directory", dir, &e))
}

/// Writes `body` to a new temp file next to `target` and fsyncs it; returns the temp path.
/// The temp file is removed on failure.
fn write_temp(
    op: &'static str,
    key: &str,
    target: &Path,
    body: &[u8],
) -> Result<PathBuf, StoreError> {
    create_parent(op, key, target)?;
    let tmp = temp_path(target);
    let result = File::options()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(body)?;
            f.sync_all()
        });
    match result {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(io_error(op, key, "cannot write", &tmp, &e))
        }
    }
}

/// Atomically replaces `target` with `body`.
fn put_blocking(op: &'static str, key: &str, target: &Path, body: &[u8]) -> Result<(), StoreError> {
    let tmp = write_temp(op, key, target, body)?;
    if let Err(e) = fs::rename(&tmp, target) {
        let _ = fs::remove_file(&tmp);
        return Err(io_error(op, key, "cannot rename into", target, &e));
    }
    sync_dir(op, key, parent_of(target))
}

/// Walks `dir` (key prefix `rel`) recursively, pushing the `/`-separated keys of regular
/// files that start with `prefix`, skipping temp files.
fn walk(dir: &Path, rel: &str, prefix: &str, out: &mut Vec<String>) -> Result<(), StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
            return Ok(())
        }
        Err(e) => return Err(io_error("list", prefix, "cannot read directory", dir, &e)),
    };
    for entry in entries {
        let entry =
            entry.map_err(|e| io_error("list", prefix, "cannot read directory", dir, &e))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue; // not a key this store can have written
        };
        let key = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(io_error("list", prefix, "cannot stat", &entry.path(), &e)),
        };
        if file_type.is_dir() {
            // Only descend where keys under the prefix can be.
            let dir_key = format!("{key}/");
            if dir_key.starts_with(prefix) || prefix.starts_with(&dir_key) {
                walk(&entry.path(), &key, prefix, out)?;
            }
        } else if !is_temp_name(&name) && key.starts_with(prefix) {
            let is_file = file_type.is_file()
                || fs::metadata(entry.path())
                    .map(|m| m.is_file())
                    .unwrap_or(false);
            if is_file {
                out.push(key);
            }
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl ObjectStore for LocalStore {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn check(&self) -> Result<(), StoreError> {
        let root = self.root.clone();
        let shown = root.display().to_string();
        Self::blocking("check", &shown, move || {
            let shown = root.display().to_string();
            let not_writable = |e: &io::Error| {
                StoreError::permanent(
                    "check",
                    &shown,
                    format!("Directory {shown} is not writable: {e}"),
                )
            };
            fs::create_dir_all(&root).map_err(|e| not_writable(&e))?;
            let meta = fs::metadata(&root).map_err(|e| not_writable(&e))?;
            if !meta.is_dir() {
                return Err(StoreError::permanent(
                    "check",
                    &shown,
                    format!("Directory {shown} is not writable: not a directory"),
                ));
            }
            let probe = temp_path(&root.join("sluice-probe"));
            let written = File::options()
                .write(true)
                .create_new(true)
                .open(&probe)
                .and_then(|mut f| f.write_all(b"probe"));
            let _ = fs::remove_file(&probe);
            written.map_err(|e| not_writable(&e))
        })
        .await
    }

    async fn put(&self, key: &str, body: Bytes) -> Result<(), StoreError> {
        let path = self.path_for("put", key)?;
        let k = key.to_string();
        Self::blocking("put", key, move || put_blocking("put", &k, &path, &body)).await
    }

    async fn put_if_absent(&self, key: &str, body: Bytes) -> Result<bool, StoreError> {
        const OP: &str = "put_if_absent";
        let path = self.path_for(OP, key)?;
        let k = key.to_string();
        Self::blocking(OP, key, move || {
            let tmp = write_temp(OP, &k, &path, &body)?;
            let linked = fs::hard_link(&tmp, &path);
            let _ = fs::remove_file(&tmp);
            match linked {
                Ok(()) => {
                    sync_dir(OP, &k, parent_of(&path))?;
                    Ok(true)
                }
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
                Err(e) => Err(io_error(OP, &k, "cannot link into", &path, &e)),
            }
        })
        .await
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, StoreError> {
        let path = self.path_for("get", key)?;
        let k = key.to_string();
        Self::blocking("get", key, move || match fs::read(&path) {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("get", &k, "cannot read", &path, &e)),
        })
        .await
    }

    async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let path = self.path_for("exists", key)?;
        let k = key.to_string();
        Self::blocking("exists", key, move || match fs::metadata(&path) {
            Ok(m) => Ok(m.is_file()),
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                Ok(false)
            }
            Err(e) => Err(io_error("exists", &k, "cannot stat", &path, &e)),
        })
        .await
    }

    async fn copy(&self, from: &str, to: &str) -> Result<(), StoreError> {
        let src = self.path_for("copy", from)?;
        let dst = self.path_for("copy", to)?;
        let (f, t) = (from.to_string(), to.to_string());
        Self::blocking("copy", from, move || {
            let body = match fs::read(&src) {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    return Err(StoreError::not_found("copy", &f))
                }
                Err(e) => return Err(io_error("copy", &f, "cannot read", &src, &e)),
            };
            put_blocking("copy", &t, &dst, &body)
        })
        .await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        validate_key("list", prefix, true)?;
        let root = self.root.clone();
        let p = prefix.to_string();
        Self::blocking("list", prefix, move || {
            // Start at the deepest directory the prefix names completely.
            let (start_rel, start_dir) = match p.rfind('/') {
                Some(i) => (p[..i].to_string(), root.join(&p[..i])),
                None => (String::new(), root.clone()),
            };
            let mut out = Vec::new();
            walk(&start_dir, &start_rel, &p, &mut out)?;
            out.sort();
            Ok(out)
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.path_for("delete", key)?;
        let k = key.to_string();
        Self::blocking("delete", key, move || match fs::remove_file(&path) {
            Ok(()) => sync_dir("delete", &k, parent_of(&path)),
            Err(e) if e.kind() == ErrorKind::NotFound || e.kind() == ErrorKind::NotADirectory => {
                Ok(())
            }
            Err(e) => Err(io_error("delete", &k, "cannot delete", &path, &e)),
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (tempfile::TempDir, LocalStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = LocalStore::new(dir.path().join("lake"));
        (dir, store)
    }

    fn b(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[tokio::test]
    async fn put_get_exists_delete() {
        let (_dir, store) = store();
        store.check().await.expect("check creates the root");
        assert_eq!(store.get("a/b/c.parquet").await.expect("get"), None);
        assert!(!store.exists("a/b/c.parquet").await.expect("exists"));
        store.put("a/b/c.parquet", b("one")).await.expect("put");
        assert_eq!(
            store.get("a/b/c.parquet").await.expect("get"),
            Some(b("one"))
        );
        assert!(store.exists("a/b/c.parquet").await.expect("exists"));
        assert!(!store.exists("a/b").await.expect("a directory is no object"));
        store.put("a/b/c.parquet", b("two")).await.expect("replace");
        assert_eq!(
            store.get("a/b/c.parquet").await.expect("get"),
            Some(b("two"))
        );
        assert!(store.root().join("a/b/c.parquet").is_file());
        store.delete("a/b/c.parquet").await.expect("delete");
        assert!(!store.exists("a/b/c.parquet").await.expect("exists"));
        store
            .delete("a/b/c.parquet")
            .await
            .expect("deleting a missing key is ok");
        store
            .delete("never/was/here")
            .await
            .expect("missing dirs are ok");
    }

    #[tokio::test]
    async fn put_if_absent_creates_once() {
        let (_dir, store) = store();
        assert!(store
            .put_if_absent("idx/0001", b("first"))
            .await
            .expect("create"));
        assert!(!store
            .put_if_absent("idx/0001", b("second"))
            .await
            .expect("exists"));
        assert_eq!(store.get("idx/0001").await.expect("get"), Some(b("first")));
        assert_eq!(
            store.list("").await.expect("list"),
            vec!["idx/0001".to_string()]
        );
    }

    #[tokio::test]
    async fn put_if_absent_races_have_one_winner() {
        let (_dir, store) = store();
        let store = std::sync::Arc::new(store);
        let mut handles = Vec::new();
        for i in 0..8 {
            let s = store.clone();
            handles.push(tokio::spawn(async move {
                s.put_if_absent("race", Bytes::from(format!("{i}")))
                    .await
                    .expect("put_if_absent")
            }));
        }
        let mut winners = 0;
        for h in handles {
            if h.await.expect("join") {
                winners += 1;
            }
        }
        assert_eq!(winners, 1);
    }

    #[tokio::test]
    async fn copy_and_missing_source() {
        let (_dir, store) = store();
        store.put("staging/x", b("data")).await.expect("put");
        store
            .copy("staging/x", "final/y/x.parquet")
            .await
            .expect("copy");
        assert_eq!(
            store.get("final/y/x.parquet").await.expect("get"),
            Some(b("data"))
        );
        assert_eq!(store.get("staging/x").await.expect("get"), Some(b("data")));
        store.put("final/y/x.parquet", b("old")).await.expect("put");
        store
            .copy("staging/x", "final/y/x.parquet")
            .await
            .expect("copy replaces");
        assert_eq!(
            store.get("final/y/x.parquet").await.expect("get"),
            Some(b("data"))
        );
        match store.copy("staging/missing", "final/z").await {
            Err(StoreError::NotFound { op: "copy", key }) => assert_eq!(key, "staging/missing"),
            other => panic!("expected NotFound, got {other:?}"),
        }
        assert!(!store.exists("final/z").await.expect("exists"));
    }

    #[tokio::test]
    async fn list_is_recursive_sorted_and_skips_temp_files() {
        let (_dir, store) = store();
        assert!(store
            .list("")
            .await
            .expect("list of a missing root")
            .is_empty());
        for k in [
            "t/p=1/b",
            "t/p=1/a",
            "t/p=10/a",
            "t/p=2/a",
            "u/a",
            "t.x",
            "t/p=1/sub/c",
        ] {
            store.put(k, b("x")).await.expect("put");
        }
        // A leftover temp file from a crash is no object.
        fs::write(store.root().join("t/p=1/.a.123-0-0.tmp"), "partial").expect("write temp");
        assert_eq!(
            store.list("t/").await.expect("list"),
            vec!["t/p=1/a", "t/p=1/b", "t/p=1/sub/c", "t/p=10/a", "t/p=2/a"]
        );
        assert_eq!(
            store.list("t/p=1").await.expect("list"),
            vec!["t/p=1/a", "t/p=1/b", "t/p=1/sub/c", "t/p=10/a"]
        );
        assert_eq!(
            store.list("t/p=1/").await.expect("list"),
            vec!["t/p=1/a", "t/p=1/b", "t/p=1/sub/c"]
        );
        assert_eq!(store.list("t").await.expect("list").len(), 6);
        assert_eq!(store.list("").await.expect("list").len(), 7);
        assert!(store.list("nope/").await.expect("list").is_empty());
        assert!(store
            .list("u/a/")
            .await
            .expect("list under a file")
            .is_empty());
    }

    #[tokio::test]
    async fn escaping_keys_are_rejected() {
        let (_dir, store) = store();
        for key in ["../x", "a/../../x", "/etc/passwd", "a/./b", "", "a/", ".."] {
            let err = store.put(key, b("x")).await.expect_err(key);
            assert!(!err.is_transient(), "{key}: {err}");
            assert!(
                err.to_string().contains("invalid object key"),
                "{key}: {err}"
            );
        }
        assert!(store.get("../x").await.is_err());
        assert!(store.copy("a", "../b").await.is_err());
        assert!(store.list("../").await.is_err());
        assert!(store.delete("/tmp/x").await.is_err());
    }

    #[tokio::test]
    async fn unwritable_directory_fails_check() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let ro = dir.path().join("ro");
        fs::create_dir(&ro).expect("mkdir");
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o500)).expect("chmod");
        // Root ignores permissions: only assert when a write really is refused.
        let refused = File::create(ro.join("try")).is_err();
        let _ = fs::remove_file(ro.join("try"));
        for store in [LocalStore::new(ro.clone()), LocalStore::new(ro.join("sub"))] {
            let result = store.check().await;
            if refused {
                let err = result.expect_err("read-only directory");
                assert!(!err.is_transient(), "{err}");
                assert!(err.to_string().contains("is not writable"), "{err}");
                assert!(
                    err.to_string()
                        .contains(&store.root().display().to_string()),
                    "{err}"
                );
                let put = store.put("a/b", b("x")).await.expect_err("put");
                assert!(!put.is_transient(), "{put}");
            } else {
                eprintln!("running as root: permission assertions skipped");
            }
        }
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o700)).expect("chmod back");
    }

    #[tokio::test]
    async fn file_as_root_fails_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("file");
        fs::write(&file, "x").expect("write");
        let err = LocalStore::new(file)
            .check()
            .await
            .expect_err("a file is no directory");
        assert!(!err.is_transient(), "{err}");
        assert!(err.to_string().contains("is not writable"), "{err}");
    }
}
