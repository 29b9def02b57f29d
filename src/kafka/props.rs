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
    "ssl.endpoint.identification.algorithm.class",
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

/// Pulls a quoted `key="value"` out of a JAAS line.
fn jaas_option(jaas: &str, key: &str) -> Option<String> {
    let start = jaas.find(&format!("{key}=\""))? + key.len() + 2;
    let len = jaas[start..].find('"')?;
    Some(jaas[start..start + len].to_string())
}

/// Java's TLS and SASL settings → librdkafka's. Handled keys are removed from `raw`.
fn translate_security(
    raw: &mut BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(jaas) = raw.remove("sasl.jaas.config") {
        match (jaas_option(&jaas, "username"), jaas_option(&jaas, "password")) {
            (Some(u), Some(p)) if jaas.contains("PlainLoginModule") || jaas.contains("ScramLoginModule") => {
                out.push(("sasl.username".to_string(), u));
                out.push(("sasl.password".to_string(), p));
            }
            _ => warnings.push(
                "sasl.jaas.config: only PlainLoginModule and ScramLoginModule with username/password are translated; set librdkafka's sasl.* keys instead".to_string(),
            ),
        }
    }
    let trust_type = raw
        .remove("ssl.truststore.type")
        .unwrap_or_else(|| "JKS".into());
    if let Some(loc) = raw.remove("ssl.truststore.location") {
        if trust_type.eq_ignore_ascii_case("PEM") {
            out.push(("ssl.ca.location".to_string(), loc));
        } else {
            warnings.push(format!(
                "ssl.truststore.location: a {trust_type} truststore cannot be read by librdkafka; give a PEM file with ssl.truststore.type=PEM or ssl.ca.location"
            ));
        }
    }
    raw.remove("ssl.truststore.password");
    let key_type = raw
        .remove("ssl.keystore.type")
        .unwrap_or_else(|| "JKS".into());
    let key_password = raw.remove("ssl.keystore.password");
    if let Some(loc) = raw.remove("ssl.keystore.location") {
        if key_type.eq_ignore_ascii_case("PKCS12") {
            out.push(("ssl.keystore.location".to_string(), loc));
            if let Some(p) = key_password {
                out.push(("ssl.keystore.password".to_string(), p));
            }
        } else {
            warnings.push(format!(
                "ssl.keystore.location: a {key_type} keystore cannot be read by librdkafka; use PKCS12 (ssl.keystore.type=PKCS12) or ssl.certificate.location/ssl.key.location"
            ));
        }
    }
    if let Some(p) = raw.remove("ssl.key.password") {
        out.push(("ssl.key.password".to_string(), p));
    }
    if let Some(alg) = raw.remove("ssl.endpoint.identification.algorithm") {
        // Java's empty value turns hostname verification off; librdkafka calls that "none".
        let alg = if alg.trim().is_empty() {
            "none".to_string()
        } else {
            alg
        };
        out.push(("ssl.endpoint.identification.algorithm".to_string(), alg));
    }
    out
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
    let mut raw: BTreeMap<String, String> = BTreeMap::new();
    for layer in layers {
        raw.extend(layer.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let mut warnings = Vec::new();
    let security = translate_security(&mut raw, &mut warnings);
    for (k, v) in raw {
        match translate(&k, &v, role) {
            Some((k, v)) => {
                merged.insert(k, v);
            }
            None if k == "max.poll.records" => {}
            None => warnings.push(format!(
                "client setting '{k}' has no librdkafka equivalent and is ignored"
            )),
        }
    }
    merged.extend(security);
    // The vendored OpenSSL looks for CA certificates under its build prefix, which does not
    // exist at run time; "probe" makes librdkafka use the system's certificate store.
    let tls = merged
        .get("security.protocol")
        .is_some_and(|p| p.to_ascii_uppercase().contains("SSL"));
    if tls && !merged.contains_key("ssl.ca.location") && !merged.contains_key("ssl.ca.pem") {
        merged.insert("ssl.ca.location".to_string(), "probe".to_string());
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
    fn java_tls_and_sasl_settings_are_translated() {
        let layer: BTreeMap<String, String> = [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3cret";"#,
            ),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", "/etc/ca.pem"),
            ("ssl.keystore.location", "/etc/ks.jks"),
            ("ssl.endpoint.identification.algorithm", ""),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let (cfg, warnings) = client_config(&[], &[&layer], ClientRole::Consumer);
        assert_eq!(cfg.get("sasl.username"), Some("alice"));
        assert_eq!(cfg.get("sasl.password"), Some("s3cret"));
        assert_eq!(cfg.get("sasl.mechanism"), Some("SCRAM-SHA-512"));
        assert_eq!(cfg.get("ssl.ca.location"), Some("/etc/ca.pem"));
        assert_eq!(
            cfg.get("ssl.endpoint.identification.algorithm"),
            Some("none")
        );
        assert_eq!(cfg.get("sasl.jaas.config"), None);
        assert_eq!(
            cfg.get("ssl.keystore.location"),
            None,
            "a JKS keystore is not passed on"
        );
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        // librdkafka accepts the result (TLS and SASL are compiled in); the CA file is not
        // real here and librdkafka reads it at creation, so use the system store instead.
        let consumer: Result<rdkafka::consumer::BaseConsumer, _> = cfg
            .clone()
            .set("ssl.ca.location", "probe")
            .set("group.id", "g")
            .create();
        assert!(consumer.is_ok(), "{:?}", consumer.err());
    }

    #[test]
    fn tls_without_a_ca_uses_the_system_store() {
        let layer: BTreeMap<String, String> = [("security.protocol", "SSL")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (cfg, _) = client_config(&[], &[&layer], ClientRole::Consumer);
        assert_eq!(cfg.get("ssl.ca.location"), Some("probe"));
        let consumer: Result<rdkafka::consumer::BaseConsumer, _> =
            cfg.clone().set("group.id", "g").create();
        assert!(consumer.is_ok(), "{:?}", consumer.err());
        let (cfg, _) = client_config(&[], &[], ClientRole::Consumer);
        assert_eq!(
            cfg.get("ssl.ca.location"),
            None,
            "plaintext clients get no TLS settings"
        );
    }

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
