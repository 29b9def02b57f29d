//! Connector config and target-state store. Embedded mode: one JSON file per connector in the
//! state directory, written atomically (temp file, fsync, rename, fsync directory).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Connect's persisted target state of a connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum TargetState {
    /// Tasks run.
    Started,
    /// Tasks keep their assignment but consume nothing.
    Paused,
    /// No tasks; the only state in which offsets may be altered.
    Stopped,
}

/// What is persisted for one connector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredConnector {
    /// Connector name.
    pub name: String,
    /// The config as submitted (strings), `name` included.
    pub config: BTreeMap<String, String>,
    /// Target state.
    pub target_state: TargetState,
    /// Topics the connector has consumed from (`GET /connectors/{c}/topics`).
    #[serde(default)]
    pub active_topics: BTreeSet<String>,
}

/// Store failures; each names the file concerned.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Filesystem error.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// File or directory.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// A file that is not a valid stored connector.
    #[error("corrupt connector file {path}: {message}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Parser message.
        message: String,
    },
}

/// The directory-backed store.
#[derive(Debug, Clone)]
pub struct ConnectorStore {
    dir: PathBuf,
    /// Saves share one temp file per connector; tasks of a connector may save concurrently
    /// (active topics), so writes are serialised.
    writes: std::sync::Arc<std::sync::Mutex<()>>,
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StoreError + 'a {
    move |source| StoreError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// File-name-safe encoding of a connector name: keeps `[A-Za-z0-9_-]`, percent-encodes the rest
/// (dots too, so "." and ".." can't escape the directory).
fn file_stem(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.is_empty() {
        out.push_str("%00");
    }
    out
}

impl ConnectorStore {
    /// Opens (creating if needed) `<state_dir>/connectors`.
    pub fn open(state_dir: &Path) -> Result<Self, StoreError> {
        let dir = state_dir.join("connectors");
        fs::create_dir_all(&dir).map_err(io("create directory", &dir))?;
        Ok(Self {
            dir,
            writes: Default::default(),
        })
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{}.json", file_stem(name)))
    }

    /// Loads every connector. Corrupt files are returned as errors beside the good ones.
    pub fn load_all(&self) -> Result<(Vec<StoredConnector>, Vec<StoreError>), StoreError> {
        let mut good = Vec::new();
        let mut bad = Vec::new();
        let entries = fs::read_dir(&self.dir).map_err(io("read directory", &self.dir))?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        paths.sort();
        for path in paths {
            let text = match fs::read(&path) {
                Ok(t) => t,
                Err(e) => {
                    bad.push(StoreError::Io {
                        op: "read",
                        path,
                        source: e,
                    });
                    continue;
                }
            };
            match serde_json::from_slice::<StoredConnector>(&text) {
                Ok(c) if self.path_of(&c.name) == path => good.push(c),
                Ok(c) => bad.push(StoreError::Corrupt {
                    message: format!("holds connector '{}', whose file name differs", c.name),
                    path,
                }),
                Err(e) => bad.push(StoreError::Corrupt {
                    path,
                    message: e.to_string(),
                }),
            }
        }
        Ok((good, bad))
    }

    /// Writes one connector atomically.
    pub fn save(&self, c: &StoredConnector) -> Result<(), StoreError> {
        let path = self.path_of(&c.name);
        let tmp = self.dir.join(format!(".{}.tmp", file_stem(&c.name)));
        let body = serde_json::to_vec_pretty(c).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let _serialised = self.writes.lock().unwrap_or_else(|p| p.into_inner());
        {
            let mut f = fs::File::create(&tmp).map_err(io("create", &tmp))?;
            f.write_all(&body).map_err(io("write", &tmp))?;
            f.sync_all().map_err(io("fsync", &tmp))?;
        }
        fs::rename(&tmp, &path).map_err(io("rename", &path))?;
        self.sync_dir()
    }

    /// Removes one connector's file (missing is fine).
    pub fn delete(&self, name: &str) -> Result<(), StoreError> {
        let path = self.path_of(name);
        match fs::remove_file(&path) {
            Ok(()) => self.sync_dir(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StoreError::Io {
                op: "delete",
                path,
                source: e,
            }),
        }
    }

    fn sync_dir(&self) -> Result<(), StoreError> {
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io("fsync directory", &self.dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(name: &str) -> StoredConnector {
        StoredConnector {
            name: name.into(),
            config: [("name".to_string(), name.to_string())].into(),
            target_state: TargetState::Paused,
            active_topics: BTreeSet::new(),
        }
    }

    #[test]
    fn roundtrip_delete_and_odd_names() {
        let dir = tempfile::tempdir().unwrap();
        let s = ConnectorStore::open(dir.path()).unwrap();
        for n in ["a", "../x", "spaces and/slash", "..", "ünï"] {
            s.save(&conn(n)).unwrap();
        }
        let (good, bad) = s.load_all().unwrap();
        assert!(bad.is_empty());
        assert_eq!(good.len(), 5);
        assert!(good.contains(&conn("../x")));
        s.delete("../x").unwrap();
        s.delete("never-existed").unwrap();
        assert_eq!(s.load_all().unwrap().0.len(), 4);
        // nothing escaped the directory
        assert!(!dir.path().join("x.json").exists());
    }

    #[test]
    fn corrupt_file_is_reported_by_name_and_others_load() {
        let dir = tempfile::tempdir().unwrap();
        let s = ConnectorStore::open(dir.path()).unwrap();
        s.save(&conn("good")).unwrap();
        std::fs::write(s.dir().join("bad.json"), b"{not json").unwrap();
        let (good, bad) = s.load_all().unwrap();
        assert_eq!(good, vec![conn("good")]);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].to_string().contains("bad.json"), "{}", bad[0]);
    }

    #[test]
    fn concurrent_saves_of_one_connector_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let s = ConnectorStore::open(dir.path()).unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        s.save(&conn("busy")).expect("save");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("no save failed");
        }
        assert_eq!(s.load_all().unwrap().0, vec![conn("busy")]);
    }
}
