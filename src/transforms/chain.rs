//! The transformation chain of one connector: `transforms`, `transforms.<alias>.type`,
//! `.predicate`, `.negate`, `predicates`, `predicates.<alias>.type` and each class's own keys,
//! read as Connect's `ConnectorConfig.transformationStages` does.

use std::collections::BTreeMap;

use thiserror::Error;

use crate::configdef::ParsedConfig;
use crate::data::SinkRecord;

use super::catalog::{self, Builder};
use super::support::Side;
use super::{Predicate, TransformError, Transformation};

/// Why a connector's transforms or predicates cannot be set up (the task fails to start).
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransformConfigError {
    /// `transforms.<alias>.type` / `predicates.<alias>.type` is missing.
    #[error("Missing required configuration \"{key}\" which has no default value.")]
    MissingType {
        /// The `.type` key.
        key: String,
    },
    /// The class is not a transformation (or predicate) Sluice implements.
    #[error("Invalid value {class} for configuration {key}: Class {class} could not be found.")]
    UnknownClass {
        /// The `.type` key.
        key: String,
        /// The class named.
        class: String,
    },
    /// An alias list has an empty entry (`transforms=a,,b`).
    #[error("Invalid value {value} for configuration {key}: aliases must not be empty")]
    EmptyAlias {
        /// `transforms` or `predicates`.
        key: String,
        /// The submitted list.
        value: String,
    },
    /// `transforms.<alias>.predicate` names an alias not listed in `predicates`.
    #[error("Invalid value {alias} for configuration {key}: Predicate alias {alias} is not listed in predicates")]
    UnknownPredicate {
        /// The `.predicate` key.
        key: String,
        /// The alias named.
        alias: String,
    },
    /// `transforms.<alias>.negate` without `transforms.<alias>.predicate`.
    #[error("Config '{negate}' was provided but there is no config '{predicate}' defining a predicate to be negated.")]
    NegateWithoutPredicate {
        /// The `.negate` key.
        negate: String,
        /// The missing `.predicate` key.
        predicate: String,
    },
    /// `transforms.<alias>.negate` is not a boolean.
    #[error(
        "Invalid value {value} for configuration {key}: Expected value to be either true or false"
    )]
    BadNegate {
        /// The `.negate` key.
        key: String,
        /// The submitted value.
        value: String,
    },
    /// The class rejected its own keys (missing or invalid value, inconsistent settings).
    #[error("Invalid configuration of {kind} '{alias}' ({class}): {message}")]
    Configure {
        /// `transformation` or `predicate`.
        kind: &'static str,
        /// The alias.
        alias: String,
        /// The class.
        class: String,
        /// Connect's message naming the key.
        message: String,
    },
}

/// A record failure inside the chain: which stage failed and why.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("{error}")]
pub struct ChainError {
    /// The alias of the failing transformation.
    pub alias: String,
    /// Its class, reported as the failing stage's class.
    pub class: String,
    /// What went wrong.
    pub error: TransformError,
}

struct Stage {
    alias: String,
    class: String,
    transform: Box<dyn Transformation>,
    /// Index into `TransformChain::predicates`, and whether it is negated.
    predicate: Option<(usize, bool)>,
}

/// A connector's transformations in order, with their predicates.
#[derive(Default)]
pub struct TransformChain {
    stages: Vec<Stage>,
    predicates: Vec<Box<dyn Predicate>>,
}

impl std::fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.stages.iter().map(|s| (&s.alias, &s.class)))
            .finish()
    }
}

/// `String.trim()` as Java does it (every char up to U+0020).
fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

/// A LIST value's aliases in order without repeats (Connect keeps a `LinkedHashSet`).
fn aliases(
    config: &BTreeMap<String, String>,
    key: &str,
) -> Result<Vec<String>, TransformConfigError> {
    let Some(raw) = config.get(key) else {
        return Ok(Vec::new());
    };
    let trimmed = java_trim(raw);
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let mut out: Vec<String> = Vec::new();
    for item in trimmed.split(',') {
        let alias = java_trim(item);
        if alias.is_empty() {
            return Err(TransformConfigError::EmptyAlias {
                key: key.to_string(),
                value: raw.clone(),
            });
        }
        if !out.iter().any(|a| a == alias) {
            out.push(alias.to_string());
        }
    }
    Ok(out)
}

/// The keys under `prefix`, with the prefix stripped (what Connect hands `configure`).
fn sub(config: &BTreeMap<String, String>, prefix: &str) -> BTreeMap<String, String> {
    config
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone())))
        .collect()
}

/// The trimmed class of `<list>.<alias>.type`.
fn class_of<'c>(
    config: &'c BTreeMap<String, String>,
    key: &str,
) -> Result<&'c str, TransformConfigError> {
    config
        .get(key)
        .map(|c| java_trim(c))
        .filter(|c| !c.is_empty())
        .ok_or_else(|| TransformConfigError::MissingType {
            key: key.to_string(),
        })
}

impl TransformChain {
    /// Builds the chain from a connector config (the `transforms*` and `predicates*` keys).
    pub fn from_config(
        config: &BTreeMap<String, String>,
    ) -> Result<TransformChain, TransformConfigError> {
        let mut chain = TransformChain::default();
        let predicate_aliases = aliases(config, "predicates")?;
        for alias in &predicate_aliases {
            let key = format!("predicates.{alias}.type");
            let class = class_of(config, &key)?;
            let unknown = || TransformConfigError::UnknownClass {
                key: key.clone(),
                class: class.to_string(),
            };
            let plugin = catalog::find_predicate(class).ok_or_else(unknown)?;
            let Builder::Predicate(build) = plugin.build else {
                return Err(unknown());
            };
            let props = sub(config, &format!("predicates.{alias}."));
            let parsed = ParsedConfig::new(&[&plugin.def], &props);
            let predicate = build(&parsed).map_err(|message| TransformConfigError::Configure {
                kind: "predicate",
                alias: alias.clone(),
                class: class.to_string(),
                message,
            })?;
            chain.predicates.push(predicate);
        }

        for alias in aliases(config, "transforms")? {
            let prefix = format!("transforms.{alias}.");
            let key = format!("{prefix}type");
            let class = class_of(config, &key)?;
            let unknown = || TransformConfigError::UnknownClass {
                key: key.clone(),
                class: class.to_string(),
            };
            let plugin = catalog::find_transform(class).ok_or_else(unknown)?;
            let Builder::Transform(build) = plugin.build else {
                return Err(unknown());
            };
            let predicate = Self::predicate_of(config, &prefix, &predicate_aliases)?;
            // The implicit `predicate`/`negate` keys are not the class's own keys.
            let mut props = sub(config, &prefix);
            props.remove("type");
            props.remove("predicate");
            props.remove("negate");
            let parsed = ParsedConfig::new(&[&plugin.def], &props);
            let transform = build(&parsed, Side::of_class(class)).map_err(|message| {
                TransformConfigError::Configure {
                    kind: "transformation",
                    alias: alias.clone(),
                    class: class.to_string(),
                    message,
                }
            })?;
            chain.stages.push(Stage {
                alias,
                class: class.to_string(),
                transform,
                predicate,
            });
        }
        Ok(chain)
    }

    /// `transforms.<alias>.predicate` / `.negate`, resolved to a predicate index.
    fn predicate_of(
        config: &BTreeMap<String, String>,
        prefix: &str,
        predicate_aliases: &[String],
    ) -> Result<Option<(usize, bool)>, TransformConfigError> {
        let predicate_key = format!("{prefix}predicate");
        let negate_key = format!("{prefix}negate");
        let name = config
            .get(&predicate_key)
            .map(|p| java_trim(p))
            .filter(|p| !p.is_empty());
        let negate = match config.get(&negate_key) {
            None => None,
            Some(raw) => match java_trim(raw).to_ascii_lowercase().as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => {
                    return Err(TransformConfigError::BadNegate {
                        key: negate_key,
                        value: raw.clone(),
                    })
                }
            },
        };
        let Some(name) = name else {
            if negate.is_some() {
                return Err(TransformConfigError::NegateWithoutPredicate {
                    negate: negate_key,
                    predicate: predicate_key,
                });
            }
            return Ok(None);
        };
        let index = predicate_aliases
            .iter()
            .position(|p| p == name)
            .ok_or_else(|| TransformConfigError::UnknownPredicate {
                key: predicate_key.clone(),
                alias: name.to_string(),
            })?;
        Ok(Some((index, negate.unwrap_or(false))))
    }

    /// Whether there is nothing to apply.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// The aliases in order.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.stages.iter().map(|s| s.alias.as_str())
    }

    /// Runs the record through every stage whose predicate (xor `negate`) holds; `Ok(None)`
    /// when a stage dropped it.
    pub fn apply(&mut self, record: SinkRecord) -> Result<Option<SinkRecord>, ChainError> {
        let mut record = record;
        for stage in &mut self.stages {
            if let Some((p, negate)) = stage.predicate {
                if self.predicates[p].test(&record) == negate {
                    continue;
                }
            }
            match stage.transform.apply(record) {
                Ok(Some(r)) => record = r,
                Ok(None) => return Ok(None),
                Err(error) => {
                    return Err(ChainError {
                        alias: stage.alias.clone(),
                        class: stage.class.clone(),
                        error,
                    })
                }
            }
        }
        Ok(Some(record))
    }
}
