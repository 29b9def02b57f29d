//! The `SinkTask` contract on a real broker: offsets returned by `open` are where consumption
//! resumes (exactly-once sinks), and only what `flush` reports durable is committed.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use common::*;
use serde_json::json;
use sluice::configdef::ConfigDef;
use sluice::connectors::{Plugins, SinkConnector, SinkError, SinkTask, TaskConfig};
use sluice::data::{SinkRecord, TopicPartition};

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "x-connect-class": "test.RecordingSinkConnector",
  "x-connect-plugin-type": "sink",
  "x-connect-groups": ["Test"],
  "properties": {
    "recover.offset": {"type": "integer", "x-connect-type": "LONG", "default": -1,
      "description": "Offset open() returns for every partition (-1: none).",
      "x-connect-importance": "LOW", "x-connect-group": "Test", "x-connect-order": 1},
    "durable.limit": {"type": "integer", "x-connect-type": "LONG", "default": -1,
      "description": "flush() reports at most this offset as durable (-1: everything).",
      "x-connect-importance": "LOW", "x-connect-group": "Test", "x-connect-order": 2}
  },
  "required": []
}"#;

type Seen = Arc<Mutex<Vec<(i32, i64)>>>;

struct RecordingConnector {
    seen: Seen,
}

impl SinkConnector for RecordingConnector {
    fn config_def(&self) -> &'static ConfigDef {
        static DEF: OnceLock<ConfigDef> = OnceLock::new();
        DEF.get_or_init(|| ConfigDef::from_schema_str(SCHEMA).expect("test schema"))
    }
    fn task_class(&self) -> &'static str {
        "test.RecordingSinkTask"
    }
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(RecordingTask {
            seen: self.seen.clone(),
            recover: -1,
            limit: -1,
        })
    }
}

struct RecordingTask {
    seen: Seen,
    recover: i64,
    limit: i64,
}

#[async_trait]
impl SinkTask for RecordingTask {
    async fn start(&mut self, config: &TaskConfig) -> Result<(), SinkError> {
        let get = |k: &str| config.get(k).and_then(|v| v.parse().ok()).unwrap_or(-1);
        self.recover = get("recover.offset");
        self.limit = get("durable.limit");
        Ok(())
    }
    async fn open(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        Ok(if self.recover >= 0 {
            partitions
                .iter()
                .map(|tp| (tp.clone(), self.recover))
                .collect()
        } else {
            HashMap::new()
        })
    }
    async fn put(&mut self, records: &[SinkRecord]) -> Result<(), SinkError> {
        let mut seen = self.seen.lock().unwrap();
        seen.extend(records.iter().map(|r| (r.partition, r.offset)));
        Ok(())
    }
    async fn flush(
        &mut self,
        consumed: &HashMap<TopicPartition, i64>,
    ) -> Result<HashMap<TopicPartition, i64>, SinkError> {
        Ok(consumed
            .iter()
            .map(|(tp, &o)| {
                (
                    tp.clone(),
                    if self.limit >= 0 {
                        o.min(self.limit)
                    } else {
                        o
                    },
                )
            })
            .collect())
    }
}

async fn run_case(recover: i64, limit: i64) -> (Vec<(i32, i64)>, Option<i64>, serde_json::Value) {
    let bootstrap = kafka_bootstrap().expect("checked by caller");
    let dir = tempfile::tempdir().unwrap();
    let topic = unique("contract");
    let name = unique("contract-sink");
    create_topic(&bootstrap, &topic, 1).await;
    produce_json(&bootstrap, &topic, 0, 20).await;
    let seen: Seen = Arc::default();
    let plugins =
        Plugins::builtin().with_connector(Arc::new(RecordingConnector { seen: seen.clone() }));
    let w = TestWorker::start_with(&bootstrap, dir.path(), &[], plugins).await;
    let api = Api::new(&w.url);
    let config = json!({
        "connector.class": "test.RecordingSinkConnector",
        "topics": topic,
        "key.converter": "org.apache.kafka.connect.storage.StringConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter.schemas.enable": "false",
        "recover.offset": recover.to_string(),
        "durable.limit": limit.to_string(),
    });
    api.create(&name, &config).await;
    let expected_last = 19;
    wait_until(
        "the sink saw the last record",
        Duration::from_secs(60),
        || async {
            seen.lock()
                .unwrap()
                .iter()
                .any(|&(_, o)| o == expected_last)
                .then_some(())
        },
    )
    .await;
    let want = if limit >= 0 { limit } else { 20 };
    let (b, g, t) = (bootstrap.clone(), format!("connect-{name}"), topic.clone());
    let committed = wait_until(
        "commit reached the durable offset",
        Duration::from_secs(60),
        || {
            let (b, g, t) = (b.clone(), g.clone(), t.clone());
            async move {
                let c = tokio::task::spawn_blocking(move || committed(&b, &g, &t, 1)[0])
                    .await
                    .unwrap();
                (c == Some(want)).then_some(c)
            }
        },
    )
    .await;
    let offsets = api
        .get(&format!("/connectors/{name}/tasks/0/offsets"))
        .await
        .body;
    w.stop().await;
    let seen = seen.lock().unwrap().clone();
    (seen, committed, offsets)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn open_offsets_are_where_consumption_resumes() {
    if kafka_bootstrap().is_none() {
        return;
    }
    let (seen, committed, _) = run_case(5, -1).await;
    let offsets: Vec<i64> = seen.iter().map(|&(_, o)| o).collect();
    assert_eq!(
        offsets,
        (5..20).collect::<Vec<_>>(),
        "records before the recovered offset are never put"
    );
    assert_eq!(committed, Some(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_durable_offsets_are_committed() {
    if kafka_bootstrap().is_none() {
        return;
    }
    let (seen, committed, offsets) = run_case(-1, 12).await;
    assert_eq!(seen.len(), 20);
    assert_eq!(
        committed,
        Some(12),
        "committed stops at what flush reported durable"
    );
    let p = &offsets["partitions"][0];
    assert_eq!(p["consumed"], 20, "{offsets}");
    assert_eq!(p["durable"], 12, "{offsets}");
    assert_eq!(p["committed"], 12, "{offsets}");
    assert_eq!(p["buffered_from"], 12, "{offsets}");
}
