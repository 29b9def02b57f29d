//! Per-partition offset tracking: consumed, buffered-from, durable, committed, end.
//!
//! All offsets are "next offset to read", Kafka's committed-offset convention. The runtime
//! commits only durable offsets, so a commit never runs past data the sink could still lose.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::data::TopicPartition;

/// What is known of one assigned partition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PartitionOffsets {
    /// After the last record handed to the sink (or skipped by the error handler).
    pub consumed: Option<i64>,
    /// Oldest record handed to the sink and not yet durable.
    pub buffered_from: Option<i64>,
    /// Up to where the sink says data is durable.
    pub durable: Option<i64>,
    /// Last offset committed to the consumer group.
    pub committed: Option<i64>,
    /// The partition's end offset (high watermark) from the client's statistics.
    pub end: Option<i64>,
}

impl PartitionOffsets {
    /// End offset minus committed offset, when both are known.
    pub fn lag(&self) -> Option<i64> {
        Some((self.end? - self.committed.or(self.consumed)?).max(0))
    }
}

/// Offsets of a task's assigned partitions.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    parts: BTreeMap<TopicPartition, PartitionOffsets>,
}

impl OffsetTracker {
    /// A partition was assigned; `committed` is the group's offset if known.
    pub fn assign(&mut self, tp: TopicPartition, committed: Option<i64>) {
        self.parts.insert(
            tp,
            PartitionOffsets {
                committed,
                ..Default::default()
            },
        );
    }

    /// The sink recovered `next` as the partition's position from its own state: it is durable
    /// already, so the next commit mirrors it into the group (lag tools see the real position).
    pub fn recovered(&mut self, tp: &TopicPartition, next: i64) {
        if let Some(p) = self.parts.get_mut(tp) {
            p.consumed = Some(next);
            p.durable = Some(next);
        }
    }

    /// A partition was revoked.
    pub fn revoke(&mut self, tp: &TopicPartition) {
        self.parts.remove(tp);
    }

    /// True when the partition is assigned.
    pub fn is_assigned(&self, tp: &TopicPartition) -> bool {
        self.parts.contains_key(tp)
    }

    /// Assigned partitions.
    pub fn partitions(&self) -> Vec<TopicPartition> {
        self.parts.keys().cloned().collect()
    }

    /// Records up to `next` (exclusive) were handed over or skipped; `first_put` is the first
    /// offset handed to the sink in this step, if any.
    pub fn consumed(&mut self, tp: &TopicPartition, next: i64, first_put: Option<i64>) {
        if let Some(p) = self.parts.get_mut(tp) {
            if p.consumed.is_none_or(|c| next > c) {
                p.consumed = Some(next);
            }
            if p.buffered_from.is_none() {
                p.buffered_from = first_put;
            }
        }
    }

    /// Consumed offsets to pass to `SinkTask::flush`, optionally for some partitions only.
    pub fn consumed_map(&self, only: Option<&[TopicPartition]>) -> HashMap<TopicPartition, i64> {
        self.parts
            .iter()
            .filter(|(tp, _)| only.is_none_or(|o| o.contains(tp)))
            .filter_map(|(tp, p)| p.consumed.map(|c| (tp.clone(), c)))
            .collect()
    }

    /// Applies what the sink reports as durable (never beyond what was consumed).
    pub fn durable(&mut self, durable: &HashMap<TopicPartition, i64>) {
        for (tp, &d) in durable {
            if let Some(p) = self.parts.get_mut(tp) {
                let d = p.consumed.map_or(d, |c| d.min(c));
                p.durable = Some(d);
                match (p.consumed, p.buffered_from) {
                    (Some(c), _) if d >= c => p.buffered_from = None,
                    (_, Some(b)) if b < d => p.buffered_from = Some(d),
                    _ => {}
                }
            }
        }
    }

    /// Durable offsets not yet committed, optionally for some partitions only.
    pub fn to_commit(&self, only: Option<&[TopicPartition]>) -> Vec<(TopicPartition, i64)> {
        self.parts
            .iter()
            .filter(|(tp, _)| only.is_none_or(|o| o.contains(tp)))
            .filter_map(|(tp, p)| match (p.durable, p.committed) {
                (Some(d), Some(c)) if d == c => None,
                (Some(d), _) => Some((tp.clone(), d)),
                _ => None,
            })
            .collect()
    }

    /// Offsets were committed.
    pub fn committed(&mut self, done: &[(TopicPartition, i64)]) {
        for (tp, o) in done {
            if let Some(p) = self.parts.get_mut(tp) {
                p.committed = Some(*o);
            }
        }
    }

    /// Sets a partition's end offset.
    pub fn set_end(&mut self, tp: &TopicPartition, end: i64) {
        if let Some(p) = self.parts.get_mut(tp) {
            p.end = Some(end);
        }
    }

    /// A copy of everything, for status reporting.
    pub fn snapshot(&self) -> BTreeMap<TopicPartition, PartitionOffsets> {
        self.parts.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_only_durable_and_never_past_consumed() {
        let tp = TopicPartition::new("t", 0);
        let mut t = OffsetTracker::default();
        t.assign(tp.clone(), Some(5));
        t.consumed(&tp, 10, Some(5));
        assert_eq!(t.snapshot()[&tp].buffered_from, Some(5));
        assert!(t.to_commit(None).is_empty(), "nothing durable yet");
        // a sink that claims more than it was given is clamped
        t.durable(&[(tp.clone(), 99)].into());
        assert_eq!(t.to_commit(None), vec![(tp.clone(), 10)]);
        assert_eq!(t.snapshot()[&tp].buffered_from, None);
        t.committed(&[(tp.clone(), 10)]);
        assert!(t.to_commit(None).is_empty());
        t.set_end(&tp, 15);
        assert_eq!(t.snapshot()[&tp].lag(), Some(5));
    }

    #[test]
    fn recovered_offsets_are_committed_without_new_records() {
        let tp = TopicPartition::new("t", 2);
        let mut t = OffsetTracker::default();
        t.assign(tp.clone(), Some(40));
        t.recovered(&tp, 70);
        assert_eq!(t.to_commit(None), vec![(tp.clone(), 70)]);
        assert_eq!(t.consumed_map(None)[&tp], 70);
        t.committed(&[(tp.clone(), 70)]);
        assert!(t.to_commit(None).is_empty());
    }

    #[test]
    fn partial_durability_keeps_open_data_visible() {
        let tp = TopicPartition::new("t", 1);
        let mut t = OffsetTracker::default();
        t.assign(tp.clone(), None);
        t.consumed(&tp, 100, Some(0));
        t.durable(&[(tp.clone(), 40)].into());
        let p = &t.snapshot()[&tp];
        assert_eq!((p.durable, p.buffered_from), (Some(40), Some(40)));
        assert_eq!(
            t.to_commit(Some(std::slice::from_ref(&tp))),
            vec![(tp.clone(), 40)]
        );
        assert!(t.to_commit(Some(&[TopicPartition::new("x", 0)])).is_empty());
        t.revoke(&tp);
        assert!(!t.is_assigned(&tp));
        t.consumed(&tp, 200, None); // ignored after revoke
        assert!(t.consumed_map(None).is_empty());
    }
}
