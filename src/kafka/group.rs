//! Consumer-group offset administration for the KIP-875 offsets API: read, alter, delete.
//!
//! Reads use OffsetFetch through an unsubscribed consumer of the group; alters commit through
//! one (a group without members accepts such commits, as Kafka's `alterConsumerGroupOffsets`
//! does); one partition's reset uses OffsetDelete; a full reset deletes the group.

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};
use regex::Regex;
use thiserror::Error;

use super::props::{client_config, ClientRole};

/// Failures of group administration.
#[derive(Debug, Error)]
pub enum GroupError {
    /// The group still has active members (Kafka's `GroupNotEmptyException`).
    #[error("the consumer group {0} still has active members")]
    NotEmpty(String),
    /// Any other Kafka failure.
    #[error("{0}")]
    Kafka(String),
}

impl From<KafkaError> for GroupError {
    fn from(e: KafkaError) -> Self {
        GroupError::Kafka(e.to_string())
    }
}

/// Which topics a sink connector consumes.
#[derive(Debug, Clone)]
pub enum TopicSelector {
    /// `topics`.
    List(Vec<String>),
    /// `topics.regex`, matched against whole topic names.
    Regex(Regex),
}

impl TopicSelector {
    /// From a sink config: `topics.regex` (whole-name match) when set, else the `topics` list.
    pub fn from_config(config: &BTreeMap<String, String>) -> Result<Self, regex::Error> {
        match config
            .get("topics.regex")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            Some(re) => Regex::new(&format!("^(?:{re})$")).map(TopicSelector::Regex),
            None => Ok(TopicSelector::List(
                config
                    .get("topics")
                    .map(|t| {
                        t.split(',')
                            .map(|s| s.trim().to_string())
                            .filter(|s| !s.is_empty())
                            .collect()
                    })
                    .unwrap_or_default(),
            )),
        }
    }

    /// True when the topic is selected.
    pub fn matches(&self, topic: &str) -> bool {
        match self {
            TopicSelector::List(l) => l.iter().any(|t| t == topic),
            TopicSelector::Regex(r) => r.is_match(topic),
        }
    }
}

/// One partition's committed offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOffset {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Next offset to read.
    pub offset: i64,
}

/// Runs group operations with the worker's client settings.
#[derive(Clone)]
pub struct GroupAdmin {
    bootstrap: String,
    admin: BTreeMap<String, String>,
    consumer: BTreeMap<String, String>,
    timeout: Duration,
}

impl GroupAdmin {
    /// Group admin with worker-level `admin.*` and `consumer.*` settings.
    pub fn new(
        bootstrap: &str,
        admin: BTreeMap<String, String>,
        consumer: BTreeMap<String, String>,
        timeout: Duration,
    ) -> Self {
        Self {
            bootstrap: bootstrap.to_string(),
            admin,
            consumer,
            timeout,
        }
    }

    fn consumer_for(
        &self,
        group: &str,
        overrides: &BTreeMap<String, String>,
    ) -> Result<BaseConsumer, GroupError> {
        let (mut cfg, _) = client_config(
            &[("bootstrap.servers", self.bootstrap.clone())],
            &[&self.consumer, overrides],
            ClientRole::Consumer,
        );
        cfg.set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("client.id", format!("sluice-offsets-{group}"));
        Ok(cfg.create()?)
    }

    fn admin_client(&self) -> Result<AdminClient<DefaultClientContext>, GroupError> {
        let (cfg, _): (ClientConfig, _) = client_config(
            &[("bootstrap.servers", self.bootstrap.clone())],
            &[&self.admin],
            ClientRole::Admin,
        );
        Ok(cfg.create()?)
    }

    /// Committed offsets of `group` for the selected topics' partitions.
    pub async fn committed(
        &self,
        group: &str,
        topics: &TopicSelector,
        overrides: &BTreeMap<String, String>,
    ) -> Result<Vec<PartitionOffset>, GroupError> {
        let this = self.clone();
        let (group, topics, overrides) = (group.to_string(), topics.clone(), overrides.clone());
        blocking(move || {
            let consumer = this.consumer_for(&group, &overrides)?;
            let md = consumer.fetch_metadata(None, this.timeout)?;
            let mut tpl = TopicPartitionList::new();
            for t in md.topics().iter().filter(|t| topics.matches(t.name())) {
                for p in t.partitions() {
                    tpl.add_partition(t.name(), p.id());
                }
            }
            if tpl.count() == 0 {
                return Ok(Vec::new());
            }
            let committed = consumer.committed_offsets(tpl, this.timeout)?;
            let mut out: Vec<PartitionOffset> = committed
                .elements()
                .iter()
                .filter_map(|e| match e.offset() {
                    Offset::Offset(o) => Some(PartitionOffset {
                        topic: e.topic().to_string(),
                        partition: e.partition(),
                        offset: o,
                    }),
                    _ => None,
                })
                .collect();
            out.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
            Ok(out)
        })
        .await
    }

    /// Sets offsets (`Some`) or removes them (`None`) for partitions of an inactive group.
    pub async fn alter(
        &self,
        group: &str,
        offsets: Vec<(String, i32, Option<i64>)>,
        overrides: &BTreeMap<String, String>,
    ) -> Result<(), GroupError> {
        let set: Vec<PartitionOffset> = offsets
            .iter()
            .filter_map(|(t, p, o)| {
                o.map(|offset| PartitionOffset {
                    topic: t.clone(),
                    partition: *p,
                    offset,
                })
            })
            .collect();
        let delete: Vec<(String, i32)> = offsets
            .iter()
            .filter(|(_, _, o)| o.is_none())
            .map(|(t, p, _)| (t.clone(), *p))
            .collect();
        self.commit(group, &set, overrides).await?;
        if delete.is_empty() {
            return Ok(());
        }
        // Resetting single partitions: rust-rdkafka has no OffsetDelete (and some brokers,
        // tansu among them, lack it), so the inactive group is re-created without them.
        let all =
            TopicSelector::Regex(Regex::new(".*").map_err(|e| GroupError::Kafka(e.to_string()))?);
        let keep: Vec<PartitionOffset> = self
            .committed(group, &all, overrides)
            .await?
            .into_iter()
            .filter(|o| {
                !delete
                    .iter()
                    .any(|(t, p)| *t == o.topic && *p == o.partition)
            })
            .collect();
        self.delete_group(group).await?;
        self.commit(group, &keep, overrides).await
    }

    /// Commits offsets as an inactive member of `group`.
    async fn commit(
        &self,
        group: &str,
        offsets: &[PartitionOffset],
        overrides: &BTreeMap<String, String>,
    ) -> Result<(), GroupError> {
        if offsets.is_empty() {
            return Ok(());
        }
        let this = self.clone();
        let (group, overrides, offsets) = (group.to_string(), overrides.clone(), offsets.to_vec());
        blocking(move || {
            let mut tpl = TopicPartitionList::new();
            for o in &offsets {
                tpl.add_partition_offset(&o.topic, o.partition, Offset::Offset(o.offset))?;
            }
            let consumer = this.consumer_for(&group, &overrides)?;
            consumer
                .commit(&tpl, CommitMode::Sync)
                .map_err(|e| not_empty_or(e, &group))
        })
        .await
    }

    /// Deletes the whole group; a group that does not exist counts as deleted.
    pub async fn delete_group(&self, group: &str) -> Result<(), GroupError> {
        let admin = self.admin_client()?;
        let opts = AdminOptions::new().request_timeout(Some(self.timeout));
        let results = admin.delete_groups(&[group], &opts).await?;
        for r in results {
            match r {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::GroupIdNotFound)) => {}
                Err((g, RDKafkaErrorCode::NonEmptyGroup)) => return Err(GroupError::NotEmpty(g)),
                Err((g, code)) => {
                    return Err(GroupError::Kafka(format!(
                        "deleting group {g} failed: {code}"
                    )))
                }
            }
        }
        Ok(())
    }
}

fn not_empty_or(e: KafkaError, group: &str) -> GroupError {
    match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::UnknownMemberId)
        | Some(RDKafkaErrorCode::IllegalGeneration)
        | Some(RDKafkaErrorCode::RebalanceInProgress) => GroupError::NotEmpty(group.to_string()),
        _ => GroupError::Kafka(e.to_string()),
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, GroupError> + Send + 'static,
) -> Result<T, GroupError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| GroupError::Kafka(format!("offset operation aborted: {e}")))?
}
