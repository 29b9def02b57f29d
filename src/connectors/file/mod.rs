//! FileStream sink: each record value as one line of a file (or stdout), durable on flush.

mod task;

use super::{SinkConnector, SinkTask};
use crate::configdef::{schemas, ConfigDef};

pub use task::FileStreamSinkTask;

/// `io.sluice.connect.file.FileStreamSinkConnector`, alias of Kafka's `FileStreamSinkConnector`.
pub struct FileStreamSinkConnector;

impl SinkConnector for FileStreamSinkConnector {
    fn config_def(&self) -> &'static ConfigDef {
        schemas::file_stream_sink()
    }

    fn task_class(&self) -> &'static str {
        "io.sluice.connect.file.FileStreamSinkTask"
    }

    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileStreamSinkTask::default())
    }
}
