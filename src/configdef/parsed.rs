//! Typed access to a validated config, for the code that runs connectors.

use std::collections::BTreeMap;

use thiserror::Error;

use super::parse::TypedValue;
use super::schema::ConfigDef;
use super::types::ConfigType;
use super::validate::{validate_def, KeyResult, Slot};

/// Why a typed getter could not return a value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigValueError {
    /// No definition has this key (Java's `AbstractConfig` text).
    #[error("Unknown configuration '{key}'")]
    Unknown {
        /// The key asked for.
        key: String,
    },
    /// Required and not submitted.
    #[error("Missing required configuration \"{key}\" which has no default value.")]
    Missing {
        /// The key asked for.
        key: String,
    },
    /// Optional, not submitted, and its default is null.
    #[error("Configuration \"{key}\" has no value and its default is null")]
    Null {
        /// The key asked for.
        key: String,
    },
    /// The value failed validation; `message` is its first error.
    #[error("{message}")]
    Invalid {
        /// The key asked for.
        key: String,
        /// Connect's error text.
        message: String,
    },
    /// The getter does not match the key's declared type.
    #[error("Configuration \"{key}\" is of type {actual}, not {expected}")]
    WrongType {
        /// The key asked for.
        key: String,
        /// What the getter reads.
        expected: &'static str,
        /// The key's declared type.
        actual: ConfigType,
    },
}

/// A config map parsed against its definitions, with defaults applied.
///
/// Only values that passed every check are handed out; anything else is a
/// [`ConfigValueError`].
#[derive(Clone, Debug, Default)]
pub struct ParsedConfig {
    values: BTreeMap<String, (ConfigType, Slot)>,
    originals: BTreeMap<String, String>,
}

impl ParsedConfig {
    /// Parses and checks `props` against each definition (later ones win on duplicate keys).
    pub fn new(defs: &[&ConfigDef], props: &BTreeMap<String, String>) -> ParsedConfig {
        let results: Vec<KeyResult> = defs
            .iter()
            .flat_map(|def| validate_def(def, props, None))
            .collect();
        ParsedConfig::from_results(&results, props)
    }

    pub(crate) fn from_results(
        results: &[KeyResult],
        props: &BTreeMap<String, String>,
    ) -> ParsedConfig {
        ParsedConfig {
            values: results
                .iter()
                .map(|r| (r.info.name.clone(), (r.info.config_type, r.slot.clone())))
                .collect(),
            originals: props.clone(),
        }
    }

    /// A STRING or CLASS value.
    pub fn get_str(&self, key: &str) -> Result<&str, ConfigValueError> {
        self.get_opt_str(key)?
            .ok_or_else(|| ConfigValueError::Null { key: key.into() })
    }

    /// A STRING or CLASS value whose default may be null.
    pub fn get_opt_str(&self, key: &str) -> Result<Option<&str>, ConfigValueError> {
        match self.lookup(
            key,
            "STRING or CLASS",
            &[ConfigType::String, ConfigType::Class],
        )? {
            Some(TypedValue::Str(s)) => Ok(Some(s)),
            _ => Ok(None),
        }
    }

    /// A BOOLEAN value.
    pub fn get_bool(&self, key: &str) -> Result<bool, ConfigValueError> {
        match self.require(key, "BOOLEAN", &[ConfigType::Boolean])? {
            TypedValue::Bool(b) => Ok(*b),
            _ => Err(self.wrong_type(key, "BOOLEAN")),
        }
    }

    /// An INT or SHORT value.
    pub fn get_i32(&self, key: &str) -> Result<i32, ConfigValueError> {
        match self.require(key, "INT or SHORT", &[ConfigType::Int, ConfigType::Short])? {
            TypedValue::Int(i) => {
                i32::try_from(*i).map_err(|_| self.wrong_type(key, "INT or SHORT"))
            }
            _ => Err(self.wrong_type(key, "INT or SHORT")),
        }
    }

    /// An INT, SHORT or LONG value.
    pub fn get_i64(&self, key: &str) -> Result<i64, ConfigValueError> {
        let types = [ConfigType::Int, ConfigType::Short, ConfigType::Long];
        match self.require(key, "INT, SHORT or LONG", &types)? {
            TypedValue::Int(i) => Ok(*i),
            _ => Err(self.wrong_type(key, "INT, SHORT or LONG")),
        }
    }

    /// A DOUBLE value.
    pub fn get_f64(&self, key: &str) -> Result<f64, ConfigValueError> {
        match self.require(key, "DOUBLE", &[ConfigType::Double])? {
            TypedValue::Double(d) => Ok(*d),
            _ => Err(self.wrong_type(key, "DOUBLE")),
        }
    }

    /// A LIST value.
    pub fn get_list(&self, key: &str) -> Result<&[String], ConfigValueError> {
        match self.require(key, "LIST", &[ConfigType::List])? {
            TypedValue::List(items) => Ok(items),
            _ => Err(self.wrong_type(key, "LIST")),
        }
    }

    /// A PASSWORD value in clear text: keep it out of logs.
    pub fn get_password(&self, key: &str) -> Result<&str, ConfigValueError> {
        match self.require(key, "PASSWORD", &[ConfigType::Password])? {
            TypedValue::Password(p) => Ok(p),
            _ => Err(self.wrong_type(key, "PASSWORD")),
        }
    }

    /// The submitted string for `key`, untouched (also for keys no definition has).
    pub fn original(&self, key: &str) -> Option<&str> {
        self.originals.get(key).map(String::as_str)
    }

    /// Submitted keys starting with `prefix`, with the prefix stripped
    /// (`consumer.override.`, `value.converter.`, `transforms.<alias>.`).
    pub fn originals_with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        self.originals
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_string(), v.clone())))
            .collect()
    }

    fn require(
        &self,
        key: &str,
        expected: &'static str,
        types: &[ConfigType],
    ) -> Result<&TypedValue, ConfigValueError> {
        self.lookup(key, expected, types)?
            .ok_or_else(|| ConfigValueError::Null { key: key.into() })
    }

    fn lookup(
        &self,
        key: &str,
        expected: &'static str,
        types: &[ConfigType],
    ) -> Result<Option<&TypedValue>, ConfigValueError> {
        let (ty, slot) = self
            .values
            .get(key)
            .ok_or_else(|| ConfigValueError::Unknown { key: key.into() })?;
        if !types.contains(ty) {
            return Err(ConfigValueError::WrongType {
                key: key.into(),
                expected,
                actual: *ty,
            });
        }
        match slot {
            Slot::Value(v) => Ok(Some(v)),
            Slot::Null => Ok(None),
            Slot::Missing => Err(ConfigValueError::Missing { key: key.into() }),
            Slot::Invalid(message) => Err(ConfigValueError::Invalid {
                key: key.into(),
                message: message.clone(),
            }),
        }
    }

    fn wrong_type(&self, key: &str, expected: &'static str) -> ConfigValueError {
        let actual = self
            .values
            .get(key)
            .map_or(ConfigType::String, |(ty, _)| *ty);
        ConfigValueError::WrongType {
            key: key.into(),
            expected,
            actual,
        }
    }
}
