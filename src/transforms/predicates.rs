//! Kafka's predicates (`TopicNameMatches`, `HasHeaderKey`, `RecordIsTombstone`) and the
//! `Filter` transformation they usually guard.

use regex::Regex;

use crate::configdef::ParsedConfig;
use crate::data::{Data, SinkRecord, Value};

use super::support::Side;
use super::{Predicate, TransformError, Transformation};

/// `TopicNameMatches`: the whole topic name matches `pattern`.
pub(crate) struct TopicNameMatches {
    pattern: Regex,
}

/// Compiles a pattern that must match a whole name (Java's `Matcher.matches()`).
pub(crate) fn whole_match_regex(pattern: &str) -> Result<Regex, String> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|e| {
        let text = e.to_string();
        let one_line: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        format!("Invalid regex: {}", one_line.join(" "))
    })
}

pub(crate) fn build_topic_name_matches(cfg: &ParsedConfig) -> Result<Box<dyn Predicate>, String> {
    let pattern = cfg.get_str("pattern").map_err(|e| e.to_string())?;
    if pattern.is_empty() {
        return Err(format!(
            "Invalid value {pattern} for configuration pattern: String must be non-empty"
        ));
    }
    let pattern = whole_match_regex(pattern)
        .map_err(|e| format!("Invalid value {pattern} for configuration pattern: {e}"))?;
    Ok(Box::new(TopicNameMatches { pattern }))
}

impl Predicate for TopicNameMatches {
    fn test(&self, record: &SinkRecord) -> bool {
        self.pattern.is_match(&record.topic)
    }
}

/// `HasHeaderKey`: at least one header has this key.
pub(crate) struct HasHeaderKey {
    name: String,
}

pub(crate) fn build_has_header_key(cfg: &ParsedConfig) -> Result<Box<dyn Predicate>, String> {
    let name = cfg.get_str("name").map_err(|e| e.to_string())?;
    if name.is_empty() {
        return Err(format!(
            "Invalid value {name} for configuration name: String must be non-empty"
        ));
    }
    Ok(Box::new(HasHeaderKey {
        name: name.to_string(),
    }))
}

impl Predicate for HasHeaderKey {
    fn test(&self, record: &SinkRecord) -> bool {
        record.headers.iter().any(|h| h.key == self.name)
    }
}

/// `RecordIsTombstone`: the value is null.
pub(crate) struct RecordIsTombstone;

pub(crate) fn build_record_is_tombstone(_: &ParsedConfig) -> Result<Box<dyn Predicate>, String> {
    Ok(Box::new(RecordIsTombstone))
}

impl Predicate for RecordIsTombstone {
    fn test(&self, record: &SinkRecord) -> bool {
        is_null(Side::Value.get(record))
    }
}

/// A null value, whether a Kafka null or a decoded null.
pub(crate) fn is_null(data: Option<&Data>) -> bool {
    matches!(
        data,
        None | Some(Data::Value {
            value: Value::Null,
            ..
        })
    )
}

/// `Filter`: drops every record it is applied to (used behind a predicate).
pub(crate) struct Filter;

pub(crate) fn build_filter(_: &ParsedConfig, _: Side) -> Result<Box<dyn Transformation>, String> {
    Ok(Box::new(Filter))
}

impl Transformation for Filter {
    fn apply(&mut self, _record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        Ok(None)
    }
}
