//! Consumer-group offset administration for the KIP-875 offsets API: read, alter, delete.
//!
//! Reads use OffsetFetch through an unsubscribed consumer of the group; alters commit through
//! one (a group without members accepts such commits, as Kafka's `alterConsumerGroupOffsets`
//! does); one partition's reset uses OffsetDelete; a full reset deletes the group.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::bindings as rdsys;
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
        let this = self.clone();
        let (group, overrides) = (group.to_string(), overrides.clone());
        blocking(move || {
            let mut set = TopicPartitionList::new();
            let mut delete = TopicPartitionList::new();
            for (t, p, o) in &offsets {
                match o {
                    Some(o) => set.add_partition_offset(t, *p, Offset::Offset(*o))?,
                    None => {
                        delete.add_partition(t, *p);
                    }
                }
            }
            if set.count() > 0 {
                let consumer = this.consumer_for(&group, &overrides)?;
                consumer
                    .commit(&set, CommitMode::Sync)
                    .map_err(|e| not_empty_or(e, &group))?;
            }
            if delete.count() > 0 {
                let admin = this.admin_client()?;
                delete_partition_offsets(&admin, &group, &delete, this.timeout)?;
            }
            Ok(())
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

/// Kafka's OffsetDelete for some partitions of a group. rust-rdkafka does not wrap
/// `rd_kafka_DeleteConsumerGroupOffsets`, so this calls librdkafka directly.
fn delete_partition_offsets(
    admin: &AdminClient<DefaultClientContext>,
    group: &str,
    partitions: &TopicPartitionList,
    timeout: Duration,
) -> Result<(), GroupError> {
    let c_group = CString::new(group).map_err(|e| GroupError::Kafka(e.to_string()))?;
    let rk = admin.inner().native_ptr();
    // SAFETY: every pointer is created here and destroyed before returning; librdkafka copies
    // the partition list and group name into the request.
    unsafe {
        let queue = rdsys::rd_kafka_queue_new(rk);
        let del =
            rdsys::rd_kafka_DeleteConsumerGroupOffsets_new(c_group.as_ptr(), partitions.ptr());
        let mut dels = [del];
        rdsys::rd_kafka_DeleteConsumerGroupOffsets(
            rk,
            dels.as_mut_ptr(),
            1,
            std::ptr::null(),
            queue,
        );
        let event = rdsys::rd_kafka_queue_poll(queue, timeout.as_millis() as i32);
        let result = if event.is_null() {
            Err(GroupError::Kafka(format!(
                "deleting offsets of group {group} timed out"
            )))
        } else {
            let err = rdsys::rd_kafka_event_error(event);
            let r = if err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                Err(GroupError::Kafka(format!(
                    "deleting offsets of group {group} failed: {}",
                    RDKafkaErrorCode::from(err)
                )))
            } else {
                group_result(event, group)
            };
            rdsys::rd_kafka_event_destroy(event);
            r
        };
        rdsys::rd_kafka_DeleteConsumerGroupOffsets_destroy(del);
        rdsys::rd_kafka_queue_destroy(queue);
        result
    }
}

/// Reads the group-level and per-partition errors of an OffsetDelete result event.
///
/// # Safety
/// `event` must be a live DeleteConsumerGroupOffsets result event.
unsafe fn group_result(event: *mut rdsys::rd_kafka_event_t, group: &str) -> Result<(), GroupError> {
    let res = rdsys::rd_kafka_event_DeleteConsumerGroupOffsets_result(event);
    if res.is_null() {
        return Err(GroupError::Kafka("unexpected OffsetDelete result".into()));
    }
    let mut n = 0usize;
    let groups = rdsys::rd_kafka_DeleteConsumerGroupOffsets_result_groups(res, &mut n);
    for i in 0..n {
        let g = *groups.add(i);
        let gerr = rdsys::rd_kafka_group_result_error(g);
        if !gerr.is_null() {
            let code = RDKafkaErrorCode::from(rdsys::rd_kafka_error_code(gerr));
            return Err(match code {
                RDKafkaErrorCode::NonEmptyGroup => GroupError::NotEmpty(group.to_string()),
                _ => GroupError::Kafka(format!("deleting offsets of group {group} failed: {code}")),
            });
        }
        let parts = rdsys::rd_kafka_group_result_partitions(g);
        if !parts.is_null() {
            let list = &*parts;
            for j in 0..list.cnt as usize {
                let e = &*list.elems.add(j);
                if e.err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR
                    && e.err != rdsys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND
                {
                    return Err(GroupError::Kafka(format!(
                        "deleting offset of partition {} of group {group} failed: {}",
                        e.partition,
                        RDKafkaErrorCode::from(e.err)
                    )));
                }
            }
        }
    }
    Ok(())
}
