//! The FileStream sink task.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;

use crate::connectors::{SinkError, SinkTask, TaskConfig};
use crate::data::{SinkRecord, TopicPartition};

/// Buffered bytes above which `put` writes through, so memory stays bounded between flushes.
const WRITE_THROUGH_BYTES: usize = 1 << 20;

enum Target {
    Stdout,
    File { path: PathBuf, file: File },
}

/// Writes each record value as one line; whole lines only, so tasks sharing a file (opened
/// with `O_APPEND`) never tear each other's lines.
#[derive(Default)]
pub struct FileStreamSinkTask {
    target: Option<Target>,
    fsync: bool,
    buf: Vec<u8>,
}

impl FileStreamSinkTask {
    fn write_out(&mut self) -> Result<(), SinkError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        match &mut self.target {
            Some(Target::File { path, file }) => file.write_all(&self.buf).map_err(|e| {
                SinkError::Fatal(format!("Error writing to {}: {e}", path.display()))
            })?,
            Some(Target::Stdout) => {
                let mut out = std::io::stdout().lock();
                out.write_all(&self.buf)?;
                out.flush()?;
            }
            None => return Err(SinkError::Fatal("task not started".into())),
        }
        self.buf.clear();
        Ok(())
    }
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    async fn start(&mut self, config: &TaskConfig) -> Result<(), SinkError> {
        self.fsync = config
            .get("file.fsync")
            .map(|v| !v.trim().eq_ignore_ascii_case("false"))
            .unwrap_or(true);
        let file = config
            .get("file")
            .map(|f| f.trim())
            .filter(|f| !f.is_empty());
        self.target = Some(match file {
            None => Target::Stdout,
            Some(f) => {
                let path = PathBuf::from(f);
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&path)
                    .map_err(|e| {
                        SinkError::Fatal(format!(
                            "Couldn't find or create file '{f}' for FileStreamSinkTask: {e}"
                        ))
                    })?;
                Target::File { path, file }
            }
        });
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), SinkError> {
        for r in records {
            match &r.value {
                Some(v) => self.buf.extend_from_slice(v.to_text().as_bytes()),
                // Java's println(null) prints "null"; keep the same line.
                None => self.buf.extend_from_slice(b"null"),
            }
            self.buf.push(b'\n');
        }
        if self.buf.len() >= WRITE_THROUGH_BYTES {
            self.write_out()?;
        }
        Ok(())
    }

    async fn flush(
        &mut self,
        consumed: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        self.write_out()?;
        if self.fsync {
            if let Some(Target::File { path, file }) = &self.target {
                file.sync_data().map_err(|e| {
                    SinkError::Fatal(format!("Error syncing {}: {e}", path.display()))
                })?;
            }
        }
        Ok(consumed.clone())
    }

    async fn stop(&mut self) -> Result<(), SinkError> {
        self.write_out()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Data;

    fn rec(offset: i64, value: Option<&str>) -> SinkRecord {
        SinkRecord {
            topic: "t".into(),
            original_topic: "t".into(),
            partition: 0,
            offset,
            timestamp: None,
            key: None,
            value: value.map(|v| Data::String(v.into())),
            headers: vec![],
        }
    }

    #[tokio::test]
    async fn lines_are_durable_after_flush_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        let mut t = FileStreamSinkTask::default();
        let mut cfg = TaskConfig::new();
        cfg.insert("file".into(), path.display().to_string());
        t.start(&cfg).await.unwrap();
        t.put(&[rec(0, Some("a")), rec(1, None)]).await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "");
        let consumed: HashMap<_, _> = [(TopicPartition::new("t", 0), 2)].into();
        let durable = t.flush(&consumed).await.unwrap();
        assert_eq!(durable, consumed);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "a\nnull\n");
    }

    #[tokio::test]
    async fn unwritable_file_fails_start_with_its_name() {
        let mut t = FileStreamSinkTask::default();
        let mut cfg = TaskConfig::new();
        cfg.insert("file".into(), "/nonexistent-dir/x.txt".into());
        let e = t.start(&cfg).await.err().unwrap();
        assert!(e.to_string().contains("/nonexistent-dir/x.txt"), "{e}");
    }
}
