//! Parsing and texts of the KIP-875 offsets API for sink connectors (`SinkUtils` rules).

use serde_json::Value;

use super::HerderError;

/// One requested change: set (`Some`) or reset (`None`) a partition's offset.
pub type OffsetChange = (String, i32, Option<i64>);

fn bad(msg: impl Into<String>) -> HerderError {
    HerderError::BadRequest(msg.into())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Connect's first check of an alter request (made before the connector is looked up).
pub fn require_entries(body: &Value) -> Result<&[Value], HerderError> {
    match body.get("offsets") {
        Some(Value::Array(a)) if !a.is_empty() => Ok(a),
        _ => Err(bad(
            "Partitions / offsets need to be provided for an alter offsets request",
        )),
    }
}

/// Parses a `PATCH /connectors/{c}/offsets` body. Numbers may be JSON numbers or numeric strings.
pub fn parse_alter_request(body: &Value) -> Result<Vec<OffsetChange>, HerderError> {
    let offsets = require_entries(body)?;
    let mut out = Vec::with_capacity(offsets.len());
    for entry in offsets {
        let partition = match entry.get("partition") {
            Some(Value::Object(p)) => p,
            _ => {
                return Err(bad(
                    "The partition for a sink connector offset cannot be null or missing",
                ))
            }
        };
        let (Some(topic), Some(part)) = (
            partition.get("kafka_topic"),
            partition.get("kafka_partition"),
        ) else {
            return Err(bad(
                "The partition for a sink connector offset must contain the keys 'kafka_topic' and 'kafka_partition'",
            ));
        };
        let topic = match topic {
            Value::Null => {
                return Err(bad(
                    "Kafka topic names must be valid strings and may not be null",
                ))
            }
            t => text_of(t),
        };
        if part.is_null() {
            return Err(bad(
                "Kafka partitions must be valid numbers and may not be null",
            ));
        }
        let part: i32 = text_of(part).trim().parse().map_err(|_| {
            bad(format!(
                "Failed to parse the following Kafka partition value in the provided offsets: '{}'. Partition values for sink connectors need to be integers.",
                text_of(part)
            ))
        })?;
        let offset = match entry.get("offset") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => {
                let Some(v) = o.get("kafka_offset") else {
                    return Err(bad(
                        "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
                    ));
                };
                let n: i64 = text_of(v).trim().parse().map_err(|_| {
                    bad(format!(
                        "Failed to parse the following Kafka offset value in the provided offsets: '{}'. Offset values for sink connectors need to be integers.",
                        text_of(v)
                    ))
                })?;
                if n < 0 {
                    return Err(bad(format!(
                        "Kafka offsets must be non-negative, but {n} was provided for partition {topic}-{part}"
                    )));
                }
                Some(n)
            }
            Some(_) => {
                return Err(bad(
                    "The offset for a sink connector should either be null or contain the key 'kafka_offset'",
                ))
            }
        };
        out.push((topic, part, offset));
    }
    Ok(out)
}

/// The 400 text when offsets are changed on a connector that is not STOPPED.
pub fn not_stopped(name: &str) -> HerderError {
    bad(format!(
        "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
    ))
}

/// Success text of an alter (`reset == false`) or reset; `external` when the plugin also
/// rewrote offsets it keeps in its target.
pub fn success_message(reset: bool, external: bool) -> String {
    let (verb, verb2) = if reset {
        ("reset", "reset")
    } else {
        ("altered", "altered")
    };
    if external {
        format!("The offsets for this connector have been {verb} successfully")
    } else {
        format!(
            "The Connect framework-managed offsets for this connector have been {verb} successfully. However, if this connector manages offsets externally, they will need to be manually {verb2} in the system that the connector uses."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn accepts_numbers_strings_and_null() {
        let body = json!({"offsets": [
            {"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"kafka_offset": 5}},
            {"partition": {"kafka_topic": "t", "kafka_partition": "1"}, "offset": {"kafka_offset": "7"}},
            {"partition": {"kafka_topic": "t", "kafka_partition": 2}, "offset": null}
        ]});
        assert_eq!(
            parse_alter_request(&body).unwrap(),
            vec![
                ("t".into(), 0, Some(5)),
                ("t".into(), 1, Some(7)),
                ("t".into(), 2, None)
            ]
        );
    }

    #[test]
    fn rejects_with_connect_texts() {
        let e = parse_alter_request(&json!({"offsets": []})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Partitions / offsets need to be provided for an alter offsets request"
        );
        let e = parse_alter_request(
            &json!({"offsets": [{"partition": {"kafka_topic": "t"}, "offset": null}]}),
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .contains("must contain the keys 'kafka_topic' and 'kafka_partition'"));
        let e = parse_alter_request(
            &json!({"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": "x"}, "offset": null}]}),
        )
        .unwrap_err();
        assert!(e
            .to_string()
            .starts_with("Failed to parse the following Kafka partition value"));
        let e = parse_alter_request(
            &json!({"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": {"x": 1}}]}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("'kafka_offset'"));
        assert_eq!(e.status(), 400);
    }
}
