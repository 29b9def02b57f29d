//! The plugin registry: which classes a user can put in `connector.class` (aliases included).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::clickhouse::ClickHouseSinkConnector;
use super::file::FileStreamSinkConnector;
use super::s3_parquet::S3ParquetSinkConnector;
use super::SinkConnector;
use crate::configdef::{ConfigDef, PluginCatalog};
use crate::data::converter::{CONVERTERS, HEADER_CONVERTERS};

/// `PluginInfo` of `GET /connector-plugins`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginInfo {
    /// Class name (or alias) as users write it.
    #[serde(rename = "class")]
    pub class: String,
    /// Lowercase plugin type: `sink`, `source`, `converter`, `header_converter`, ...
    #[serde(rename = "type")]
    pub plugin_type: String,
    /// Plugin version; omitted when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// All plugins this worker runs natively.
pub struct Plugins {
    connectors: Vec<Arc<dyn SinkConnector>>,
}

impl Default for Plugins {
    fn default() -> Self {
        Self::builtin()
    }
}

impl Plugins {
    /// The plugins compiled into Sluice.
    pub fn builtin() -> Self {
        Self {
            connectors: vec![
                Arc::new(FileStreamSinkConnector),
                Arc::new(S3ParquetSinkConnector),
                Arc::new(ClickHouseSinkConnector),
            ],
        }
    }

    /// No connector plugin at all: a pure management front for upstream clusters (tests).
    pub fn empty() -> Self {
        Self {
            connectors: Vec::new(),
        }
    }

    /// Adds a connector plugin (embedding Sluice as a library, tests).
    pub fn with_connector(mut self, connector: Arc<dyn SinkConnector>) -> Self {
        self.connectors.push(connector);
        self
    }

    /// The connector for a class name or alias.
    pub fn connector(&self, class: &str) -> Option<Arc<dyn SinkConnector>> {
        let class = class.trim();
        self.connectors
            .iter()
            .find(|c| {
                let def = c.config_def();
                def.class() == class || def.aliases().iter().any(|a| a == class)
            })
            .cloned()
    }

    /// Every connector class and alias, for error messages.
    pub fn connector_names(&self) -> Vec<String> {
        self.connectors
            .iter()
            .flat_map(|c| {
                let def = c.config_def();
                std::iter::once(def.class().to_string()).chain(def.aliases().iter().cloned())
            })
            .collect()
    }

    /// `GET /connector-plugins`: connectors first (every class and alias), then, unless
    /// `connectors_only`, converters, header converters, transformations and predicates.
    pub fn list(&self, connectors_only: bool) -> Vec<PluginInfo> {
        let version = Some(crate::VERSION.to_string());
        let mut out: Vec<PluginInfo> = self
            .connectors
            .iter()
            .flat_map(|c| {
                let def: &ConfigDef = c.config_def();
                let v = def.version().map(str::to_string).or(version.clone());
                std::iter::once(def.class().to_string())
                    .chain(def.aliases().iter().cloned())
                    .map(move |class| PluginInfo {
                        class,
                        plugin_type: def.plugin_type().as_str().to_string(),
                        version: v.clone(),
                    })
            })
            .collect();
        if !connectors_only {
            let mut push = |class: &str, t: &str| {
                out.push(PluginInfo {
                    class: class.to_string(),
                    plugin_type: t.to_string(),
                    version: version.clone(),
                })
            };
            for c in CONVERTERS {
                push(c, "converter");
            }
            for c in HEADER_CONVERTERS {
                push(c, "header_converter");
            }
            for c in crate::transforms::transformation_classes() {
                push(c, "transformation");
            }
            for c in crate::transforms::predicate_classes() {
                push(c, "predicate");
            }
        }
        out
    }

    /// The config definition of a transformation or predicate class
    /// (`GET /connector-plugins/{p}/config` for non-connector plugins).
    pub fn transform_or_predicate(&self, class: &str) -> Option<&'static ConfigDef> {
        let class = class.trim();
        crate::transforms::transform_def(class).or_else(|| crate::transforms::predicate_def(class))
    }
}

impl PluginCatalog for Plugins {
    fn is_converter(&self, class: &str) -> bool {
        CONVERTERS.contains(&class)
    }

    fn is_header_converter(&self, class: &str) -> bool {
        HEADER_CONVERTERS.contains(&class)
    }

    fn transform(&self, class: &str) -> Option<&ConfigDef> {
        crate::transforms::transform_def(class.trim())
    }

    fn predicate(&self, class: &str) -> Option<&ConfigDef> {
        crate::transforms::predicate_def(class.trim())
    }
}
