//! `TimestampRouter`: `topic.format` with `${topic}` and `${timestamp}` (the record timestamp in
//! `timestamp.format`, a `SimpleDateFormat` pattern, UTC).

use std::sync::Arc;

use crate::configdef::ParsedConfig;
use crate::data::SinkRecord;

use super::date_format::DateFormat;
use super::support::Side;
use super::{TransformError, Transformation};

pub(crate) struct TimestampRouter {
    topic_format: String,
    format: DateFormat,
    /// The last (topic, formatted timestamp) → renamed topic, so records of one partition and
    /// day share one `Arc<str>`.
    last: Option<(Arc<str>, String, Arc<str>)>,
}

pub(crate) fn build(cfg: &ParsedConfig, _: Side) -> Result<Box<dyn Transformation>, String> {
    let topic_format = cfg.get_str("topic.format").map_err(|e| e.to_string())?;
    let pattern = cfg.get_str("timestamp.format").map_err(|e| e.to_string())?;
    let format = DateFormat::new(pattern)
        .map_err(|e| format!("Invalid value {pattern} for configuration timestamp.format: {e}"))?;
    Ok(Box::new(TimestampRouter {
        topic_format: topic_format.to_string(),
        format,
        last: None,
    }))
}

impl Transformation for TimestampRouter {
    fn apply(&mut self, mut record: SinkRecord) -> Result<Option<SinkRecord>, TransformError> {
        let Some(ts) = record.timestamp else {
            return Err(TransformError::Data(format!(
                "Timestamp missing on record: SinkRecord{{topic='{}', partition={}, offset={}}}",
                record.topic, record.partition, record.offset
            )));
        };
        let stamp = self.format.format(ts);
        if let Some((topic, s, renamed)) = &self.last {
            if **topic == *record.topic && *s == stamp {
                record.topic = renamed.clone();
                return Ok(Some(record));
            }
        }
        // Two sequential replacements, exactly as Java's String.replace calls.
        let renamed: Arc<str> = Arc::from(
            self.topic_format
                .replace("${topic}", &record.topic)
                .replace("${timestamp}", &stamp),
        );
        self.last = Some((record.topic.clone(), stamp, renamed.clone()));
        record.topic = renamed;
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use crate::transforms::tests::{props, record, transform};

    #[test]
    fn routes_by_day_and_needs_a_timestamp() {
        let mut t = transform(
            "org.apache.kafka.connect.transforms.TimestampRouter",
            &props(&[]),
        );
        let mut r = record("orders", None, None);
        r.timestamp = Some(1_708_678_334_431);
        assert_eq!(
            &*t.apply(r.clone()).unwrap().unwrap().topic,
            "orders-20240223"
        );
        assert_eq!(
            &*t.apply(r.clone()).unwrap().unwrap().topic,
            "orders-20240223"
        );
        let mut t = transform(
            "org.apache.kafka.connect.transforms.TimestampRouter",
            &props(&[
                ("topic.format", "${timestamp}/${topic}"),
                ("timestamp.format", "yyyy-MM"),
            ]),
        );
        assert_eq!(
            &*t.apply(r.clone()).unwrap().unwrap().topic,
            "2024-02/orders"
        );
        r.timestamp = None;
        let e = t.apply(r).unwrap_err();
        assert!(
            e.to_string().starts_with("Timestamp missing on record"),
            "{e}"
        );
    }
}
