//! Loading a plugin's JSON Schema file into a [`ConfigDef`].
//!
//! Loading is strict on purpose: a schema that would later produce an
//! incomplete or inconsistent definition (missing group, `default` vs
//! `required` disagreement, a default its own checks reject, a typo in an
//! `x-connect-*` keyword) fails here rather than at validate time.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use thiserror::Error;

use super::parse::{self, json_scalar_string, TypedValue};
use super::types::{ConfigKeyInfo, ConfigType, Importance, Width};

/// The only draft accepted in `$schema` (it is also the default when absent).
const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

/// Top-level keywords that would make the validator report errors not tied to
/// one key (cross-field rules belong in the connector's Rust hook instead).
const UNSUPPORTED_ROOT_KEYWORDS: &[&str] = &[
    "additionalProperties",
    "unevaluatedProperties",
    "patternProperties",
    "propertyNames",
    "minProperties",
    "maxProperties",
    "dependentRequired",
    "dependentSchemas",
    "if",
    "then",
    "else",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "$ref",
];

const ROOT_EXTENSIONS: &[&str] = &[
    "x-connect-class",
    "x-connect-aliases",
    "x-connect-plugin-type",
    "x-connect-version",
    "x-connect-groups",
];

const KEY_EXTENSIONS: &[&str] = &[
    "x-connect-type",
    "x-connect-importance",
    "x-connect-group",
    "x-connect-order",
    "x-connect-width",
    "x-connect-display-name",
    "x-connect-dependents",
    "x-connect-recommended",
    "x-connect-message",
    "x-connect-validator",
];

/// Why a schema file could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigDefError {
    /// The text is not JSON.
    #[error("schema is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A top-level problem (shape, `x-connect-*` plugin metadata, `required`).
    #[error("invalid schema: {0}")]
    Schema(String),
    /// A problem with one key's definition.
    #[error("invalid definition of config key \"{key}\": {message}")]
    Key {
        /// The config key.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The JSON Schema itself does not compile.
    #[error("JSON Schema does not compile: {0}")]
    Compile(String),
}

/// Connect's plugin type, lowercase on the wire (`PluginType.toString()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PluginType {
    /// Sink connector.
    Sink,
    /// Source connector.
    Source,
    /// Key/value converter.
    Converter,
    /// Header converter.
    HeaderConverter,
    /// Single message transform.
    Transformation,
    /// Transform predicate.
    Predicate,
}

impl PluginType {
    /// Wire name, e.g. `"sink"` or `"header_converter"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginType::Sink => "sink",
            PluginType::Source => "source",
            PluginType::Converter => "converter",
            PluginType::HeaderConverter => "header_converter",
            PluginType::Transformation => "transformation",
            PluginType::Predicate => "predicate",
        }
    }

    /// Connectors' keys are shown top-level, so they need a group of their own;
    /// other plugins' keys are embedded under an alias group.
    fn needs_groups(self) -> bool {
        matches!(self, PluginType::Sink | PluginType::Source)
    }
}

/// A key's default.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DefaultValue {
    /// No default: the key is required.
    Required,
    /// Default is null: optional, no value.
    Null,
    /// A typed default.
    Value(TypedValue),
}

/// Java validators whose messages cannot be expressed by JSON Schema keywords.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum NamedCheck {
    /// `ConfigDef.NonEmptyStringWithoutControlChars`.
    NonEmptyStringWithoutControlChars,
    /// Connect's `RegexValidator`.
    Regex,
}

/// Everything known about one key.
#[derive(Clone, Debug)]
pub(crate) struct KeySpec {
    /// Definition as served; `group` is "" when the schema gives none.
    pub info: ConfigKeyInfo,
    /// The schema's own group, kept apart for embedding under an alias group.
    pub group: Option<String>,
    pub default: DefaultValue,
    pub recommended: Vec<String>,
    pub message: Option<String>,
    pub check: Option<NamedCheck>,
}

/// The config definition of one plugin, loaded from its JSON Schema file.
#[derive(Clone, Debug)]
pub struct ConfigDef {
    class: String,
    aliases: Vec<String>,
    plugin_type: PluginType,
    version: Option<String>,
    groups: Vec<String>,
    keys: Vec<KeySpec>,
    validator: jsonschema::Validator,
}

impl ConfigDef {
    /// Loads and checks a schema file's text.
    pub fn from_schema_str(text: &str) -> Result<ConfigDef, ConfigDefError> {
        let schema: Value = serde_json::from_str(text)?;
        ConfigDef::from_schema_value(&schema)
    }

    /// Canonical class name (`x-connect-class`).
    pub fn class(&self) -> &str {
        &self.class
    }

    /// Other names the plugin answers to (`x-connect-aliases`).
    pub fn aliases(&self) -> &[String] {
        &self.aliases
    }

    /// Whether `name` is the class name or one of the aliases.
    pub fn is_named(&self, name: &str) -> bool {
        self.class == name || self.aliases.iter().any(|a| a == name)
    }

    /// Plugin type (`x-connect-plugin-type`).
    pub fn plugin_type(&self) -> PluginType {
        self.plugin_type
    }

    /// Plugin version (`x-connect-version`), if given.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// Group names in display order (`x-connect-groups`).
    pub fn groups(&self) -> &[String] {
        &self.groups
    }

    /// Key definitions in display order (group, then order, then Java's tie-breaks).
    pub fn keys(&self) -> impl Iterator<Item = &ConfigKeyInfo> {
        self.keys.iter().map(|k| &k.info)
    }

    pub(crate) fn specs(&self) -> &[KeySpec] {
        &self.keys
    }

    pub(crate) fn validator(&self) -> &jsonschema::Validator {
        &self.validator
    }

    /// Builds a definition from an already-parsed schema (also used for the
    /// per-alias transform/predicate keys, which are generated at validate time).
    pub(crate) fn from_schema_value(schema: &Value) -> Result<ConfigDef, ConfigDefError> {
        let root = schema
            .as_object()
            .ok_or_else(|| schema_err("the schema must be a JSON object"))?;
        check_root_keywords(root)?;
        let raw: RawSchema =
            serde_json::from_value(schema.clone()).map_err(|e| schema_err(e.to_string()))?;
        if raw.json_type != "object" {
            return Err(schema_err("\"type\" must be \"object\""));
        }
        if let Some(draft) = &raw.dialect {
            if draft != DRAFT_2020_12 {
                return Err(schema_err(format!("\"$schema\" must be {DRAFT_2020_12}")));
            }
        }
        let groups = raw.groups.clone();
        if let Some(dup) = first_duplicate(&groups) {
            return Err(schema_err(format!("group \"{dup}\" is listed twice")));
        }
        let required: BTreeSet<&str> = raw.required.iter().map(String::as_str).collect();
        if let Some(unknown) = required.iter().find(|r| !raw.properties.contains_key(**r)) {
            return Err(schema_err(format!(
                "\"required\" names \"{unknown}\", which is not in \"properties\""
            )));
        }

        let mut keys = Vec::with_capacity(raw.properties.len());
        for (name, property) in &raw.properties {
            let spec = load_key(name, property, &raw, required.contains(name.as_str())).map_err(
                |message| ConfigDefError::Key {
                    key: name.clone(),
                    message,
                },
            )?;
            keys.push(spec);
        }
        sort_like_java(&mut keys, &groups);

        let validator = jsonschema::draft202012::new(schema)
            .map_err(|e| ConfigDefError::Compile(e.to_string()))?;
        let def = ConfigDef {
            class: raw.class,
            aliases: raw.aliases,
            plugin_type: raw.plugin_type,
            version: raw.version,
            groups,
            keys,
            validator,
        };
        def.check_defaults()?;
        Ok(def)
    }

    /// Java runs a key's validator on its default when the key is defined; so do we.
    fn check_defaults(&self) -> Result<(), ConfigDefError> {
        let mut instance = Map::new();
        for spec in &self.keys {
            if let DefaultValue::Value(v) = &spec.default {
                if let Some(check) = spec.check {
                    if let Some(reason) = super::validate::named_check(check, v) {
                        return Err(ConfigDefError::Key {
                            key: spec.info.name.clone(),
                            message: format!("default value fails its own check: {reason}"),
                        });
                    }
                }
                instance.insert(spec.info.name.clone(), v.to_json());
            }
        }
        let instance = Value::Object(instance);
        for error in self.validator.iter_errors(&instance) {
            if matches!(
                error.kind(),
                jsonschema::error::ValidationErrorKind::Required { .. }
            ) {
                continue;
            }
            let key = error
                .instance_path()
                .iter()
                .next()
                .map(|s| s.to_string())
                .unwrap_or_default();
            return Err(ConfigDefError::Key {
                key,
                message: format!("default value fails the schema: {error}"),
            });
        }
        Ok(())
    }
}

fn schema_err(message: impl Into<String>) -> ConfigDefError {
    ConfigDefError::Schema(message.into())
}

fn check_root_keywords(root: &Map<String, Value>) -> Result<(), ConfigDefError> {
    for keyword in root.keys() {
        if UNSUPPORTED_ROOT_KEYWORDS.contains(&keyword.as_str()) {
            return Err(schema_err(format!(
                "top-level \"{keyword}\" is not supported: checks must concern a single key"
            )));
        }
        if keyword.starts_with("x-connect-") && !ROOT_EXTENSIONS.contains(&keyword.as_str()) {
            return Err(schema_err(format!(
                "unknown top-level keyword \"{keyword}\""
            )));
        }
    }
    Ok(())
}

#[derive(Deserialize)]
struct RawSchema {
    #[serde(rename = "$schema")]
    dialect: Option<String>,
    #[serde(rename = "type")]
    json_type: String,
    #[serde(default)]
    properties: BTreeMap<String, Value>,
    #[serde(default)]
    required: Vec<String>,
    #[serde(rename = "x-connect-class")]
    class: String,
    #[serde(rename = "x-connect-aliases", default)]
    aliases: Vec<String>,
    #[serde(rename = "x-connect-plugin-type")]
    plugin_type: PluginType,
    #[serde(rename = "x-connect-version")]
    version: Option<String>,
    #[serde(rename = "x-connect-groups", default)]
    groups: Vec<String>,
}

#[derive(Deserialize)]
struct RawKey {
    #[serde(rename = "type")]
    json_type: Option<Value>,
    #[serde(rename = "x-connect-type")]
    config_type: ConfigType,
    description: String,
    /// `Some(Value::Null)` for `"default": null`, `None` when absent.
    #[serde(default, deserialize_with = "present")]
    default: Option<Value>,
    #[serde(rename = "x-connect-importance")]
    importance: Importance,
    #[serde(rename = "x-connect-group")]
    group: Option<String>,
    #[serde(rename = "x-connect-order")]
    order: i32,
    #[serde(rename = "x-connect-width")]
    width: Option<Width>,
    #[serde(rename = "x-connect-display-name")]
    display_name: Option<String>,
    #[serde(rename = "x-connect-dependents", default)]
    dependents: Vec<String>,
    #[serde(rename = "x-connect-recommended")]
    recommended: Option<Vec<Value>>,
    #[serde(rename = "x-connect-message")]
    message: Option<String>,
    #[serde(rename = "x-connect-validator")]
    check: Option<NamedCheck>,
    #[serde(rename = "enum")]
    enum_values: Option<Vec<Value>>,
    items: Option<Value>,
}

/// Keeps an explicit JSON `null` distinguishable from an absent field.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

fn load_key(
    name: &str,
    property: &Value,
    schema: &RawSchema,
    in_required: bool,
) -> Result<KeySpec, String> {
    let object = property
        .as_object()
        .ok_or("the property schema must be an object")?;
    if let Some(unknown) = object
        .keys()
        .find(|k| k.starts_with("x-connect-") && !KEY_EXTENSIONS.contains(&k.as_str()))
    {
        return Err(format!("unknown keyword \"{unknown}\""));
    }
    let raw: RawKey = serde_json::from_value(property.clone()).map_err(|e| e.to_string())?;

    let expected = json_type_for(raw.config_type);
    if raw.json_type.as_ref().and_then(Value::as_str) != Some(expected) {
        return Err(format!(
            "x-connect-type {} needs \"type\": \"{expected}\"",
            raw.config_type
        ));
    }
    if raw.config_type == ConfigType::List {
        let item_type = raw.items.as_ref().and_then(|i| i.get("type"));
        if item_type.is_some_and(|t| t != "string") {
            return Err("LIST items are strings: \"items.type\" must be \"string\"".into());
        }
    }

    let default = match &raw.default {
        None => DefaultValue::Required,
        Some(Value::Null) => DefaultValue::Null,
        Some(v) => DefaultValue::Value(default_from_json(name, v, raw.config_type)?),
    };
    match (&default, in_required) {
        (DefaultValue::Required, false) => {
            return Err("no \"default\", so it must be listed in \"required\"".into())
        }
        (DefaultValue::Null | DefaultValue::Value(_), true) => {
            return Err("has a \"default\", so it must not be listed in \"required\"".into())
        }
        _ => {}
    }

    match &raw.group {
        Some(group) if !schema.groups.contains(group) => {
            return Err(format!(
                "group \"{group}\" is not listed in x-connect-groups"
            ))
        }
        None if schema.plugin_type.needs_groups() => {
            return Err("x-connect-group is required for connector plugins".into())
        }
        _ => {}
    }
    if let Some(missing) = raw
        .dependents
        .iter()
        .find(|d| !schema.properties.contains_key(*d))
    {
        return Err(format!("dependent \"{missing}\" is not defined"));
    }

    let recommended = raw
        .recommended
        .as_ref()
        .or(raw.enum_values.as_ref())
        .or_else(|| {
            raw.items
                .as_ref()
                .and_then(|i| i.get("enum"))
                .and_then(Value::as_array)
        })
        .map(|values| values.iter().map(json_scalar_string).collect())
        .unwrap_or_default();

    let default_value = match &default {
        DefaultValue::Value(v) => Some(v.to_connect_string()),
        DefaultValue::Required | DefaultValue::Null => None,
    };
    Ok(KeySpec {
        info: ConfigKeyInfo {
            name: name.to_string(),
            config_type: raw.config_type,
            required: matches!(default, DefaultValue::Required),
            default_value,
            importance: raw.importance,
            documentation: raw.description,
            group: raw.group.clone().unwrap_or_default(),
            width: raw.width.unwrap_or(Width::None),
            display_name: raw.display_name.unwrap_or_else(|| name.to_string()),
            dependents: raw.dependents,
            order: raw.order,
        },
        group: raw.group,
        default,
        recommended,
        message: raw.message,
        check: raw.check,
    })
}

/// The JSON Schema `type` each Connect type is validated as.
fn json_type_for(ty: ConfigType) -> &'static str {
    match ty {
        ConfigType::Boolean => "boolean",
        ConfigType::Int | ConfigType::Short | ConfigType::Long => "integer",
        ConfigType::Double => "number",
        ConfigType::List => "array",
        ConfigType::String | ConfigType::Class | ConfigType::Password => "string",
    }
}

/// Typed JSON defaults are taken as-is; string defaults are parsed as Java parses them.
fn default_from_json(name: &str, v: &Value, ty: ConfigType) -> Result<TypedValue, String> {
    let wrong = || format!("default {v} is not a valid {ty}");
    if let Value::String(s) = v {
        return parse::parse(name, s, ty).map_err(|e| format!("default: {e}"));
    }
    match ty {
        ConfigType::Boolean => v.as_bool().map(TypedValue::Bool).ok_or_else(wrong),
        ConfigType::Int | ConfigType::Short | ConfigType::Long => {
            let i = v.as_i64().ok_or_else(wrong)?;
            let fits = match ty {
                ConfigType::Int => i32::try_from(i).is_ok(),
                ConfigType::Short => i16::try_from(i).is_ok(),
                _ => true,
            };
            fits.then_some(TypedValue::Int(i)).ok_or_else(wrong)
        }
        ConfigType::Double => v.as_f64().map(TypedValue::Double).ok_or_else(wrong),
        ConfigType::List => v
            .as_array()
            .and_then(|items| {
                items
                    .iter()
                    .map(|i| i.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
            })
            .map(TypedValue::List)
            .ok_or_else(wrong),
        ConfigType::String | ConfigType::Class | ConfigType::Password => Err(wrong()),
    }
}

/// `ConfigDef.sortedConfigs`: group position, order, required first, importance, name.
fn sort_like_java(keys: &mut [KeySpec], groups: &[String]) {
    let rank = |k: &KeySpec| {
        k.group
            .as_ref()
            .map(|g| groups.iter().position(|x| x == g).unwrap_or(usize::MAX))
    };
    keys.sort_by(|a, b| {
        // `None` (no group) sorts first, as in Java.
        rank(a)
            .cmp(&rank(b))
            .then(a.info.order.cmp(&b.info.order))
            .then(b.info.required.cmp(&a.info.required))
            .then(a.info.importance.cmp(&b.info.importance))
            .then(a.info.name.cmp(&b.info.name))
    });
}

fn first_duplicate(items: &[String]) -> Option<&String> {
    let mut seen = BTreeSet::new();
    items.iter().find(|i| !seen.insert(i.as_str()))
}
