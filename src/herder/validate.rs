//! Config validation glue: Connect's request checks around `configdef::validate_sink`.

use std::collections::BTreeMap;

use super::HerderError;
use crate::configdef::{plugin_config_keys, schemas, validate_sink, ConfigInfos, ConfigKeyInfo};
use crate::connectors::Plugins;
use crate::data::converter::{CONVERTERS, HEADER_CONVERTERS};
use crate::worker::WorkerConfig;

/// Connect's `normalizedPluginName`: a trailing `Connector` does not count.
fn normalized(name: &str) -> &str {
    name.strip_suffix("Connector").unwrap_or(name)
}

/// Java's `Map.toString()` shape, used in the "contains no connector type" message.
fn java_map(config: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn unknown_class(plugins: &Plugins, class: &str) -> HerderError {
    HerderError::Internal(format!(
        "Failed to find any class that implements Connector and which name matches {class}, available connectors are: {}",
        plugins.connector_names().join(", ")
    ))
}

/// Validates a connector config as `PUT /connector-plugins/{p}/config/validate` does.
pub fn validate(
    plugins: &Plugins,
    worker: &WorkerConfig,
    path_plugin: Option<&str>,
    config: &BTreeMap<String, String>,
) -> Result<ConfigInfos, HerderError> {
    // Connect resolves config providers before validating (`${file:..}`, `${env:..}`).
    let resolved = crate::connectors::debezium_proxy::ConfigProviders::from_worker(worker)
        .resolve(config)
        .map_err(|e| HerderError::BadRequest(e.to_string()))?;
    let config = &resolved;
    let Some(class) = config.get("connector.class") else {
        return Err(HerderError::BadRequest(format!(
            "Connector config {} contains no connector type",
            java_map(config)
        )));
    };
    if let Some(p) = path_plugin {
        if !normalized(class).ends_with(normalized(p)) {
            return Err(HerderError::BadRequest(format!(
                "Included connector type {class} does not match request type {p}"
            )));
        }
    }
    let connector = plugins
        .connector(class)
        .ok_or_else(|| unknown_class(plugins, class))?;
    let name = config.get("name").cloned().unwrap_or_default();
    Ok(validate_sink(
        class,
        connector.config_def(),
        schemas::framework_sink(),
        config,
        plugins,
        |_parsed, issues| {
            for (key, message) in connector.validate(config) {
                issues.add(key, message);
            }
            let group = crate::runtime::group_id(&name, config);
            if worker.group_id.as_deref() == Some(group.as_str()) {
                let key = if config.contains_key("consumer.override.group.id") {
                    "consumer.override.group.id"
                } else {
                    "name"
                };
                issues.add(
                    key,
                    format!(
                        "Consumer group for sink connector named {name} conflicts with Connect worker group {group}"
                    ),
                );
            }
            if worker.override_policy == "None" {
                for key in config.keys() {
                    if let Some(client_key) = key
                        .strip_prefix("consumer.override.")
                        .or_else(|| key.strip_prefix("producer.override."))
                        .or_else(|| key.strip_prefix("admin.override."))
                    {
                        issues.add(
                            key.clone(),
                            format!(
                                "The 'None' policy does not allow '{client_key}' to be overridden in the connector configuration."
                            ),
                        );
                    }
                }
            }
        },
    ))
}

/// `GET /connector-plugins/{p}/config`.
pub fn plugin_config(plugins: &Plugins, plugin: &str) -> Result<Vec<ConfigKeyInfo>, HerderError> {
    if let Some(c) = plugins.connector(plugin) {
        return Ok(plugin_config_keys(
            c.config_def(),
            schemas::framework_sink(),
        ));
    }
    // A transformation's or predicate's own keys, as Connect 3.2+ serves them.
    if let Some(def) = plugins.transform_or_predicate(plugin) {
        return Ok(def.keys().cloned().collect());
    }
    if CONVERTERS.contains(&plugin) || HEADER_CONVERTERS.contains(&plugin) {
        return Ok(Vec::new());
    }
    Err(HerderError::NotFound(format!("Unknown plugin {plugin}.")))
}
