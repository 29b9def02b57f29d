//! The sink task loop: poll → convert → put → commit durable offsets.

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::Message;

use super::consumer::{flush_and_commit, lock, Core, TaskContext};
use super::errors::{
    ErrorHandler, Failure, RawRecord, Stage, TaskFailure, DATA_EXCEPTION, RETRIABLE_EXCEPTION,
};
use super::offsets::OffsetTracker;
use super::status::State;
use super::{Control, TaskSpec};
use crate::connectors::SinkError;
use crate::data::converter::SIMPLE_HEADER_CONVERTER;
use crate::data::{
    ConvertError, Converter, ConverterKind, Converters, Data, Header, SinkRecord, TopicPartition,
};
use crate::kafka::group::TopicSelector;
use crate::kafka::{client_config, ClientRole};
use crate::transforms::TransformChain;

/// Connect's default `max.poll.records`.
const DEFAULT_BATCH: usize = 500;
/// How long one poll waits when idle; bounds the reaction time to control messages.
const POLL_WAIT: Duration = Duration::from_millis(100);
/// How often a `topics.regex` subscription looks for new matching topics, unless the consumer's
/// `metadata.max.age.ms` says otherwise (Java's pattern subscriptions follow that setting too).
const REGEX_REFRESH: Duration = Duration::from_secs(30);
/// Minimum interval between two calls of the sink's `tick`.
const TICK_EVERY: Duration = Duration::from_millis(100);
/// Minimum interval between two publications of the offsets snapshot.
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// Longest wait between retries, unless `errors.retry.delay.max.ms` says otherwise.
const MAX_RETRY_DELAY: Duration = Duration::from_secs(60);

/// `errors.retry.timeout`: how long retriable failures are retried. Connect's default 0 would
/// send good records to the DLQ whenever a dependency blips, so 0 and -1 both mean "until it
/// works" here; a positive value bounds the retries.
fn retry_timeout(config: &BTreeMap<String, String>) -> Option<Duration> {
    match config
        .get("errors.retry.timeout")
        .and_then(|v| v.trim().parse::<i64>().ok())
    {
        Some(ms) if ms > 0 => Some(Duration::from_millis(ms as u64)),
        _ => None,
    }
}

/// `errors.retry.delay.max.ms`.
fn retry_delay_max(config: &BTreeMap<String, String>) -> Duration {
    config
        .get("errors.retry.delay.max.ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_millis)
        .unwrap_or(MAX_RETRY_DELAY)
}

struct SideConverter {
    class: String,
    conv: Box<dyn Converter>,
}

/// Picks a converter: the connector's own if it names a class (with its settings), else the
/// worker's. Like Kafka Connect, connector-level settings without a class are not used.
fn converter(
    spec: &TaskSpec,
    key: &str,
    kind: ConverterKind,
) -> Result<SideConverter, TaskFailure> {
    let prefix = format!("{key}.");
    let (class, props) = match spec
        .config
        .get(key)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(class) => (class.to_string(), sub(&spec.config, &prefix)),
        None => {
            let default = if kind == ConverterKind::Header {
                SIMPLE_HEADER_CONVERTER
            } else {
                crate::data::converter::JSON_CONVERTER
            };
            let class = spec.worker.get(key).unwrap_or(default).to_string();
            if spec.config.keys().any(|k| k.starts_with(&prefix)) {
                tracing::warn!(
                    "connector {} sets {prefix}* but not {key}; as in Kafka Connect those settings are ignored and the worker's converter is used",
                    spec.connector
                );
            }
            (class, spec.worker.with_prefix(&prefix))
        }
    };
    let conv = Converters::build(&class, &props, kind)
        .map_err(|e| TaskFailure::new(format!("Failed to create {key} {class}: {e}")))?;
    Ok(SideConverter { class, conv })
}

fn sub(config: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    config
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_string(), v.clone())))
        .collect()
}

/// The consumer group of a sink connector: `connect-<name>` unless overridden.
pub fn group_id(connector: &str, config: &BTreeMap<String, String>) -> String {
    config
        .get("consumer.override.group.id")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .unwrap_or_else(|| format!("connect-{connector}"))
}

/// A consumer setting from the connector override, else the worker's `consumer.` settings.
fn consumer_setting<'s>(spec: &'s TaskSpec, key: &str) -> Option<&'s str> {
    spec.config
        .get(&format!("consumer.override.{key}"))
        .or_else(|| spec.worker.raw.get(&format!("consumer.{key}")))
        .map(|v| v.trim())
}

/// `max.poll.records`.
fn batch_size(spec: &TaskSpec) -> usize {
    consumer_setting(spec, "max.poll.records")
        .and_then(|v| v.parse().ok())
        .filter(|&n: &usize| n > 0)
        .unwrap_or(DEFAULT_BATCH)
}

/// How often a regex subscription is re-resolved.
fn regex_refresh(spec: &TaskSpec) -> Duration {
    consumer_setting(spec, "metadata.max.age.ms")
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
        .unwrap_or(REGEX_REFRESH)
}

/// Which converter of a record.
#[derive(Clone, Copy)]
enum Side {
    Key,
    Value,
    Header,
}

/// Why a record did not become a `SinkRecord`.
enum Rejected {
    /// A record failure, for the error handler (tolerance, DLQ).
    Record(Failure),
    /// The task cannot go on.
    Fatal(TaskFailure),
    /// A stop was requested while retrying.
    Stopped,
}

/// Per-partition progress of one batch: (topic, partition, next offset, first offset put).
#[derive(Default)]
struct Progress(Vec<(Arc<str>, i32, i64, Option<i64>)>);

impl Progress {
    /// Records that `offset` was handled (`put`: handed to the sink; else skipped).
    fn note(&mut self, topic: &Arc<str>, partition: i32, offset: i64, put: bool) {
        let i = match self
            .0
            .iter()
            .position(|e| e.1 == partition && Arc::ptr_eq(&e.0, topic))
        {
            Some(i) => i,
            None => {
                self.0.push((topic.clone(), partition, offset + 1, None));
                self.0.len() - 1
            }
        };
        let e = &mut self.0[i];
        e.2 = e.2.max(offset + 1);
        if put {
            e.3 = Some(e.3.map_or(offset, |f| f.min(offset)));
        }
    }
}

struct Loop<'a> {
    spec: &'a TaskSpec,
    retry_timeout: Option<Duration>,
    retry_delay_max: Duration,
    consumer: &'a BaseConsumer<TaskContext>,
    core: Arc<Mutex<Core>>,
    key: SideConverter,
    value: SideConverter,
    header: SideConverter,
    transforms: TransformChain,
    errors: ErrorHandler,
    topics: HashMap<String, Arc<str>>,
    last_topic: Option<Arc<str>>,
    task_class: String,
    published_at: Instant,
}

/// Runs one task until stopped (`Ok`) or failed (`Err` with the trace).
pub fn run(spec: TaskSpec, control: Receiver<Control>) -> Result<(), TaskFailure> {
    let name = format!("{}-{}", spec.connector, spec.task_id);
    let key = converter(&spec, "key.converter", ConverterKind::Key)?;
    let value = converter(&spec, "value.converter", ConverterKind::Value)?;
    let header = converter(&spec, "header.converter", ConverterKind::Header)?;
    let transforms = TransformChain::from_config(&spec.config).map_err(TaskFailure::new)?;
    let topics = TopicSelector::from_config(&spec.config)
        .map_err(|e| TaskFailure::new(format!("invalid topics.regex: {e}")))?;
    let errors = ErrorHandler::new(
        &spec.runtime,
        &spec.config,
        &spec.worker,
        &spec.connector,
        spec.task_id,
        spec.metrics.clone(),
    )?;

    let mut sink = spec.plugin.create_task();
    spec.runtime
        .block_on(sink.start(&spec.config))
        .map_err(|e| TaskFailure::new(format!("task start failed: {e}")))?;
    let core = Arc::new(Mutex::new(Core {
        sink,
        tracker: OffsetTracker::default(),
        paused: spec.start_paused,
        closed: false,
        pending_failure: None,
        revocations: 0,
    }));

    let overrides = sub(&spec.config, "consumer.override.");
    let (cfg, warnings) = client_config(
        &[
            ("bootstrap.servers", spec.worker.bootstrap_servers.clone()),
            ("enable.auto.commit", "false".into()),
            ("enable.auto.offset.store", "false".into()),
            ("auto.offset.reset", "earliest".into()),
            ("statistics.interval.ms", "5000".into()),
            // librdkafka prefetches up to 64 MiB per consumer by default, most of a sink's RSS;
            // 16 MiB is still many fetches ahead of the sink (overridable as consumer.*). When
            // the queue is full librdkafka waits fetch.queue.backoff.ms (1 s by default) before
            // fetching again, which with a small queue halves throughput: check every 10 ms.
            ("queued.max.messages.kbytes", "16384".into()),
            ("fetch.queue.backoff.ms", "10".into()),
        ],
        &[&spec.worker.with_prefix("consumer."), &overrides],
        ClientRole::Consumer,
    );
    for w in warnings {
        tracing::warn!(task = %name, "{w}");
    }
    let mut cfg = cfg;
    cfg.set("group.id", group_id(&spec.connector, &spec.config))
        .set("client.id", format!("connector-consumer-{name}"));
    let ctx = TaskContext {
        core: core.clone(),
        rt: spec.runtime.clone(),
        shared: spec.shared.clone(),
        metrics: spec.metrics.clone(),
        name: name.clone(),
    };
    let consumer: BaseConsumer<TaskContext> = cfg
        .create_with_context(ctx)
        .map_err(|e| TaskFailure::new(format!("cannot create the consumer: {e}")))?;

    let mut lp = Loop {
        spec: &spec,
        retry_timeout: retry_timeout(&spec.config),
        retry_delay_max: retry_delay_max(&spec.config),
        consumer: &consumer,
        core: core.clone(),
        key,
        value,
        header,
        transforms,
        errors,
        topics: HashMap::new(),
        last_topic: None,
        task_class: spec.plugin.task_class().to_string(),
        published_at: Instant::now(),
    };
    let result = lp.run(&control, &topics);
    // Whatever happened, make durable what can be and commit it before leaving.
    let mut final_result = result;
    {
        let mut c = lock(&core);
        if let Err(f) = flush_and_commit(&consumer, &mut c, &spec.runtime, None) {
            final_result = final_result.and(Err(f));
        }
        let parts = c.tracker.partitions();
        if final_result.is_ok() {
            if let Err(e) = spec.runtime.block_on(c.sink.close(&parts)) {
                tracing::warn!(task = %name, "closing partitions failed: {e}");
            }
        }
        c.closed = true;
    }
    consumer.unsubscribe();
    drop(lp);
    drop(consumer);
    let mut c = lock(&core);
    if let Err(e) = spec.runtime.block_on(c.sink.stop()) {
        tracing::warn!(task = %name, "stopping the sink failed: {e}");
    }
    final_result
}

impl<'a> Loop<'a> {
    fn run(
        &mut self,
        control: &Receiver<Control>,
        topics: &TopicSelector,
    ) -> Result<(), TaskFailure> {
        let spec = self.spec;
        self.subscribe(topics)?;
        let mut subscribed_at = Instant::now();
        spec.shared.set(if spec.start_paused {
            State::Paused
        } else {
            State::Running
        });
        let interval = spec.worker.offset_flush_interval;
        let mut next_commit = Instant::now() + interval;
        let max = batch_size(spec);
        let refresh = regex_refresh(spec);
        let mut last_tick = Instant::now();
        loop {
            loop {
                match control.try_recv() {
                    Ok(Control::Stop) | Err(TryRecvError::Disconnected) => return Ok(()),
                    Ok(Control::Pause) => self.set_paused(true)?,
                    Ok(Control::Resume) => self.set_paused(false)?,
                    Err(TryRecvError::Empty) => break,
                }
            }
            if matches!(topics, TopicSelector::Regex(_)) && subscribed_at.elapsed() >= refresh {
                self.subscribe(topics)?;
                subscribed_at = Instant::now();
            }
            let batch = self.poll_batch(max)?;
            if let Some(f) = lock(&self.core).pending_failure.take() {
                return Err(f);
            }
            if !batch.is_empty() {
                self.process(batch)?;
                self.publish_offsets();
            }
            if last_tick.elapsed() >= TICK_EVERY {
                self.tick()?;
                last_tick = Instant::now();
            }
            if Instant::now() >= next_commit {
                self.commit()?;
                next_commit = Instant::now() + interval;
            }
        }
    }

    /// Keeps the per-partition view of `GET .../tasks/{t}/offsets` live, at most 10 times a second.
    fn publish_offsets(&mut self) {
        if self.published_at.elapsed() >= PUBLISH_EVERY {
            self.spec
                .shared
                .publish_offsets(lock(&self.core).tracker.snapshot());
            self.published_at = Instant::now();
        }
    }

    /// The sink's time-driven work; retriable failures are retried at the next tick.
    fn tick(&self) -> Result<(), TaskFailure> {
        let rt = self.spec.runtime.clone();
        let result = {
            let mut c = lock(&self.core);
            if c.closed {
                return Ok(());
            }
            rt.block_on(c.sink.tick())
        };
        match result {
            Ok(()) => {
                self.spec.shared.set_retry_trace(None);
                Ok(())
            }
            Err(SinkError::Retriable(msg)) => {
                tracing::warn!(connector = %self.spec.connector, task = self.spec.task_id, "time-driven work will be retried: {msg}");
                self.spec.shared.set_retry_trace(Some(format!(
                    "Retrying a failed write (nothing is committed past it): {msg}"
                )));
                Ok(())
            }
            Err(e) => Err(TaskFailure::new(format!("sink failed: {e}"))),
        }
    }

    fn commit(&self) -> Result<(), TaskFailure> {
        let mut c = lock(&self.core);
        flush_and_commit(self.consumer, &mut c, &self.spec.runtime, None)
    }

    fn subscribe(&self, topics: &TopicSelector) -> Result<(), TaskFailure> {
        let list: Vec<String> = match topics {
            TopicSelector::List(l) => l.clone(),
            TopicSelector::Regex(_) => {
                match self.consumer.fetch_metadata(None, Duration::from_secs(10)) {
                    Ok(md) => {
                        let mut l: Vec<String> = md
                            .topics()
                            .iter()
                            .map(|t| t.name().to_string())
                            .filter(|t| topics.matches(t))
                            .collect();
                        l.sort();
                        l
                    }
                    Err(e) => {
                        tracing::warn!("listing topics for topics.regex failed, will retry: {e}");
                        return Ok(());
                    }
                }
            }
        };
        let current = self.consumer.subscription().map(|s| {
            let mut v: Vec<String> = s.elements().iter().map(|e| e.topic().to_string()).collect();
            v.sort();
            v
        });
        if current.as_ref().ok() == Some(&list) {
            return Ok(());
        }
        if list.is_empty() {
            self.consumer.unsubscribe();
            return Ok(());
        }
        let refs: Vec<&str> = list.iter().map(String::as_str).collect();
        self.consumer
            .subscribe(&refs)
            .map_err(|e| TaskFailure::new(format!("subscribe failed: {e}")))?;
        tracing::info!(connector = %self.spec.connector, task = self.spec.task_id, "subscribed to {}", list.join(", "));
        Ok(())
    }

    fn set_paused(&self, paused: bool) -> Result<(), TaskFailure> {
        {
            let mut c = lock(&self.core);
            c.paused = paused;
            if let Ok(a) = self.consumer.assignment() {
                let r = if paused {
                    self.consumer.pause(&a)
                } else {
                    self.consumer.resume(&a)
                };
                if let Err(e) = r {
                    tracing::warn!("pause/resume failed: {e}");
                }
            }
        }
        self.spec.shared.set(if paused {
            State::Paused
        } else {
            State::Running
        });
        if paused {
            self.commit()?;
        }
        Ok(())
    }

    fn poll_batch(&self, max: usize) -> Result<Vec<BorrowedMessage<'a>>, TaskFailure> {
        let mut out = Vec::new();
        let mut wait = POLL_WAIT;
        let revocations = lock(&self.core).revocations;
        while out.len() < max {
            match self.consumer.poll(wait) {
                None => break,
                Some(Ok(m)) => out.push(m),
                Some(Err(e)) => {
                    if let Some(code) = e.rdkafka_error_code() {
                        if code == rdkafka::types::RDKafkaErrorCode::Fatal {
                            return Err(TaskFailure::new(format!("fatal consumer error: {e}")));
                        }
                    }
                    tracing::warn!(connector = %self.spec.connector, task = self.spec.task_id, "consumer error: {e}");
                    break;
                }
            }
            wait = Duration::ZERO;
        }
        // Records of partitions revoked while the batch was collected belong to another owner now.
        let c = lock(&self.core);
        if c.revocations == revocations {
            return Ok(out);
        }
        out.retain(|m| {
            c.tracker
                .is_assigned(&TopicPartition::new(m.topic(), m.partition()))
        });
        Ok(out)
    }

    /// The interned topic name; the first time a topic is seen it is reported for topic tracking.
    fn topic_arc(&mut self, topic: &str) -> Arc<str> {
        if let Some(last) = &self.last_topic {
            if &**last == topic {
                return last.clone();
            }
        }
        let t = match self.topics.get(topic) {
            Some(t) => t.clone(),
            None => {
                let t: Arc<str> = Arc::from(topic);
                self.topics.insert(topic.to_string(), t.clone());
                (self.spec.on_topic)(topic);
                t
            }
        };
        self.last_topic = Some(t.clone());
        t
    }

    fn convert(
        &mut self,
        m: &BorrowedMessage<'_>,
        topic_arc: Arc<str>,
    ) -> Result<SinkRecord, Rejected> {
        let topic = m.topic();
        let key = self.convert_side(Side::Key, topic, m.key())?;
        let value = self.convert_side(Side::Value, topic, m.payload())?;
        let mut headers = Vec::new();
        if let Some(hs) = m.headers() {
            for h in hs.iter() {
                let value = self.convert_side(Side::Header, topic, h.value)?;
                headers.push(Header {
                    key: h.key.to_string(),
                    value,
                });
            }
        }
        Ok(SinkRecord {
            topic: topic_arc.clone(),
            original_topic: topic_arc,
            partition: m.partition(),
            offset: m.offset(),
            timestamp: m.timestamp().to_millis(),
            key,
            value,
            headers,
        })
    }

    /// Runs one converter. Bad bytes are a record failure for the error handler; a converter
    /// that cannot work at all (bad credentials) fails the task; a passing outage (Schema
    /// Registry down) is retried with backoff, so good records never go to the DLQ because a
    /// dependency was away.
    fn convert_side(
        &mut self,
        side: Side,
        topic: &str,
        bytes: Option<&[u8]>,
    ) -> Result<Option<Data>, Rejected> {
        let mut delay = Duration::from_millis(100);
        let started = Instant::now();
        loop {
            let (conv, stage) = match side {
                Side::Key => (&mut self.key, Stage::KeyConverter),
                Side::Value => (&mut self.value, Stage::ValueConverter),
                Side::Header => (&mut self.header, Stage::HeaderConverter),
            };
            match conv.conv.to_connect(topic, bytes) {
                Ok(d) => return Ok(d),
                Err(ConvertError::Data(message)) => {
                    return Err(Rejected::Record(Failure {
                        stage,
                        class_name: conv.class.clone(),
                        exception_class: DATA_EXCEPTION,
                        message,
                    }))
                }
                Err(ConvertError::Config(message)) => {
                    return Err(Rejected::Fatal(TaskFailure::new(format!(
                        "{} {} cannot convert: {message}",
                        stage.as_str(),
                        conv.class
                    ))))
                }
                Err(ConvertError::Retriable(message)) => {
                    if self.retry_timeout.is_some_and(|t| started.elapsed() >= t) {
                        return Err(Rejected::Record(Failure {
                            stage,
                            class_name: conv.class.clone(),
                            exception_class: RETRIABLE_EXCEPTION,
                            message: format!("{message} (gave up after errors.retry.timeout)"),
                        }));
                    }
                    tracing::warn!(connector = %self.spec.connector, task = self.spec.task_id, "{} will be retried in {delay:?}: {message}", stage.as_str());
                    if !self.backoff(&mut delay) {
                        return Err(Rejected::Stopped);
                    }
                }
            }
        }
    }

    /// Sleeps `delay` (then doubles it, up to the retry cap) unless a stop is requested;
    /// false means stop.
    fn backoff(&self, delay: &mut Duration) -> bool {
        let until = Instant::now() + *delay;
        while Instant::now() < until {
            if self.spec.shared.stopping() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50).min(*delay));
        }
        *delay = (*delay * 2).min(self.retry_delay_max);
        !self.spec.shared.stopping()
    }

    /// Applies the transformation chain; a failure is a record failure at stage TRANSFORMATION,
    /// reported with the failing transformation's class.
    fn transform(&mut self, record: SinkRecord) -> Result<Option<SinkRecord>, Rejected> {
        if self.transforms.is_empty() {
            return Ok(Some(record));
        }
        self.transforms.apply(record).map_err(|e| {
            Rejected::Record(Failure {
                stage: Stage::Transformation,
                exception_class: e.error.exception_class(),
                message: e.error.to_string(),
                class_name: e.class,
            })
        })
    }

    /// Converts and puts a batch; records the error handler skips still count as consumed.
    fn process(&mut self, batch: Vec<BorrowedMessage<'_>>) -> Result<(), TaskFailure> {
        let rt = self.spec.runtime.clone();
        self.spec.metrics.records_read.inc_by(batch.len() as u64);
        let mut records = Vec::with_capacity(batch.len());
        let mut origin = Vec::with_capacity(batch.len());
        let mut progress = Progress::default();
        for (i, m) in batch.iter().enumerate() {
            let topic = self.topic_arc(m.topic());
            let converted = self
                .convert(m, topic.clone())
                .and_then(|r| self.transform(r));
            // Progress is keyed by the Kafka topic read, whatever a transform renamed it to.
            match converted {
                Ok(Some(r)) => {
                    progress.note(&topic, m.partition(), m.offset(), true);
                    records.push(r);
                    origin.push(i);
                }
                // Dropped by a transform or predicate: consumed, never put.
                Ok(None) => progress.note(&topic, m.partition(), m.offset(), false),
                // Stop requested while waiting on a dependency: nothing of this batch counts.
                Err(Rejected::Stopped) => return Ok(()),
                Err(Rejected::Fatal(f)) => {
                    self.put_all(&records, &origin, &batch)?;
                    self.mark_consumed(progress);
                    self.commit()?;
                    return Err(f);
                }
                Err(Rejected::Record(failure)) => {
                    if let Err(f) = self.errors.handle(&rt, &raw(m), &failure) {
                        // Make everything before the poison record durable, nothing after it.
                        self.put_all(&records, &origin, &batch)?;
                        self.mark_consumed(progress);
                        self.commit()?;
                        return Err(f);
                    }
                    progress.note(&topic, m.partition(), m.offset(), false);
                }
            }
        }
        self.put_all(&records, &origin, &batch)?;
        self.mark_consumed(progress);
        Ok(())
    }

    fn mark_consumed(&self, progress: Progress) {
        let mut c = lock(&self.core);
        for (topic, partition, next, first) in progress.0 {
            c.tracker
                .consumed(&TopicPartition { topic, partition }, next, first);
        }
    }

    /// Puts records, handling per-record sink failures through the error handler and retrying
    /// retriable ones with backoff.
    fn put_all(
        &mut self,
        records: &[SinkRecord],
        origin: &[usize],
        batch: &[BorrowedMessage<'_>],
    ) -> Result<(), TaskFailure> {
        let rt = self.spec.runtime.clone();
        let mut base = 0usize;
        let mut delay = Duration::from_millis(100);
        while base < records.len() {
            let rest = &records[base..];
            let started = Instant::now();
            let result = {
                let mut c = lock(&self.core);
                rt.block_on(c.sink.put(rest))
            };
            self.spec
                .metrics
                .put_seconds
                .observe(started.elapsed().as_secs_f64());
            match result {
                Ok(()) => {
                    self.spec.metrics.records_put.inc_by(rest.len() as u64);
                    self.spec.shared.set_retry_trace(None);
                    return Ok(());
                }
                Err(SinkError::Record { index, message }) if index < rest.len() => {
                    self.spec.metrics.records_put.inc_by(index as u64);
                    let m = &batch[origin[base + index]];
                    let failure = Failure {
                        stage: Stage::TaskPut,
                        class_name: self.task_class.clone(),
                        exception_class: DATA_EXCEPTION,
                        message,
                    };
                    self.errors.handle(&rt, &raw(m), &failure)?;
                    base += index + 1;
                }
                Err(SinkError::Retriable(msg)) => {
                    tracing::warn!(connector = %self.spec.connector, task = self.spec.task_id, "put will be retried in {delay:?}: {msg}");
                    self.spec.shared.set_retry_trace(Some(format!(
                        "Retrying a failed write (nothing is committed past it): {msg}"
                    )));
                    if !self.backoff(&mut delay) {
                        return Err(TaskFailure::new(format!(
                            "stopped while retrying a failed put: {msg}"
                        )));
                    }
                }
                Err(e) => return Err(TaskFailure::new(format!("put failed: {e}"))),
            }
        }
        Ok(())
    }
}

fn raw<'a>(m: &'a BorrowedMessage<'a>) -> RawRecord<'a> {
    RawRecord {
        topic: m.topic(),
        partition: m.partition(),
        offset: m.offset(),
        timestamp: m.timestamp().to_millis(),
        key: m.key(),
        value: m.payload(),
        headers: m
            .headers()
            .map(|hs| hs.iter().map(|h| (h.key, h.value)).collect())
            .unwrap_or_default(),
    }
}
