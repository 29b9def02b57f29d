//! Java Kafka client properties → librdkafka properties.
//!
//! Users paste Java Connect configs (`consumer.override.max.poll.records`, assignor class
//! names, ...). librdkafka rejects unknown names, so Java-only settings are translated where a
//! librdkafka equivalent exists and dropped with a warning otherwise.

use std::collections::BTreeMap;

use rdkafka::ClientConfig;

/// Which client a config is for (a few keys only make sense for one kind).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientRole {
    /// A sink task's group consumer.
    Consumer,
    /// The DLQ producer.
    Producer,
    /// Admin operations.
    Admin,
}

/// Java client keys with no librdkafka equivalent; Sluice consumes some itself
/// (`max.poll.records` sizes batches).
const JAVA_ONLY: &[&str] = &[
    "key.deserializer",
    "value.deserializer",
    "key.serializer",
    "value.serializer",
    "interceptor.classes",
    "max.poll.records",
    "default.api.timeout.ms",
    "exclude.internal.topics",
    "allow.auto.create.topics",
    "metric.reporters",
    "metrics.num.samples",
    "metrics.sample.window.ms",
    "metrics.recording.level",
    "auto.include.jmx.reporter",
    "ssl.truststore.location",
    "ssl.truststore.password",
    "ssl.truststore.type",
    "ssl.keystore.location",
    "ssl.keystore.password",
    "ssl.keystore.type",
    "ssl.key.password",
    "ssl.endpoint.identification.algorithm.class",
    "sasl.jaas.config",
    "sasl.client.callback.handler.class",
    "sasl.login.callback.handler.class",
    "security.providers",
    "buffer.memory",
    "delivery.timeout.ms.class",
    "max.block.ms",
    "internal.leave.group.on.close",
    "client.dns.lookup",
    "send.buffer.bytes",
    "receive.buffer.bytes",
    "reconnect.backoff.max.ms.class",
];

fn assignor(v: &str) -> Option<String> {
    let names: Vec<String> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            let short = s.rsplit('.').next().unwrap_or(s);
            match short {
                "RangeAssignor" => "range".to_string(),
                "RoundRobinAssignor" => "roundrobin".to_string(),
                "CooperativeStickyAssignor" => "cooperative-sticky".to_string(),
                // librdkafka has no eager sticky assignor; roundrobin spreads the same way.
                "StickyAssignor" => "roundrobin".to_string(),
                other => other.to_string(),
            }
        })
        .collect();
    // librdkafka refuses to mix eager and cooperative assignors; Java lists both by default.
    if names.iter().any(|n| n == "cooperative-sticky") && names.len() > 1 {
        let eager: Vec<String> = names
            .into_iter()
            .filter(|n| n != "cooperative-sticky")
            .collect();
        return Some(eager.join(","));
    }
    (!names.is_empty()).then(|| names.join(","))
}

/// Translates one Java client property. Returns `None` when it has no librdkafka meaning.
fn translate(key: &str, value: &str, role: ClientRole) -> Option<(String, String)> {
    if JAVA_ONLY.contains(&key) {
        return None;
    }
    match key {
        "partition.assignment.strategy" if role == ClientRole::Consumer => {
            assignor(value).map(|v| (key.to_string(), v))
        }
        "partition.assignment.strategy" => None,
        "request.timeout.ms" if role == ClientRole::Consumer => None,
        _ => Some((key.to_string(), value.to_string())),
    }
}

/// Builds a librdkafka config: `base` first, then each layer in order (later wins), translated.
/// Returns the config and warnings for dropped keys.
pub fn client_config(
    base: &[(&str, String)],
    layers: &[&BTreeMap<String, String>],
    role: ClientRole,
) -> (ClientConfig, Vec<String>) {
    let mut merged: BTreeMap<String, String> = base
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    let mut warnings = Vec::new();
    for layer in layers {
        for (k, v) in layer.iter() {
            match translate(k, v, role) {
                Some((k, v)) => {
                    merged.insert(k, v);
                }
                None if k == "max.poll.records" => {}
                None => warnings.push(format!(
                    "client setting '{k}' has no librdkafka equivalent and is ignored"
                )),
            }
        }
    }
    let mut cfg = ClientConfig::new();
    for (k, v) in merged {
        cfg.set(k, v);
    }
    (cfg, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_settings_are_translated_or_dropped() {
        let layer: BTreeMap<String, String> = [
            ("max.poll.records", "10"),
            ("key.deserializer", "x"),
            ("auto.offset.reset", "latest"),
            (
                "partition.assignment.strategy",
                "org.apache.kafka.clients.consumer.RangeAssignor,org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
            ),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (cfg, warnings) = client_config(
            &[("auto.offset.reset", "earliest".into())],
            &[&layer],
            ClientRole::Consumer,
        );
        assert_eq!(cfg.get("auto.offset.reset"), Some("latest"));
        assert_eq!(cfg.get("partition.assignment.strategy"), Some("range"));
        assert_eq!(cfg.get("max.poll.records"), None);
        assert_eq!(cfg.get("key.deserializer"), None);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
    }
}
