//! Validating submitted strings against one [`ConfigDef`], the way
//! `ConfigDef.validateAll` does: parse each value by type, then check it.
//!
//! Per-key checks run through the compiled JSON Schema on a typed object;
//! each schema error is mapped back to its key and to Connect's message text.

use std::collections::BTreeMap;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::LocationSegment;
use serde_json::{Map, Value};

use super::parse::{self, invalid_value, json_scalar_string, TypedValue};
use super::schema::{ConfigDef, DefaultValue, KeySpec, NamedCheck};
use super::types::{ConfigInfo, ConfigKeyInfo, ConfigValueInfo};

/// Where an embedded definition's keys go (transform/predicate keys under an alias).
pub(crate) struct Embedding<'a> {
    /// Prepended to every key name, e.g. `transforms.flatten.`.
    pub prefix: &'a str,
    /// Group of the embedded keys, e.g. `Transforms: flatten`.
    pub group: &'a str,
    /// Order of the first embedded key; the rest count on.
    pub first_order: i32,
}

/// What a key's value turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Slot {
    Value(TypedValue),
    /// Optional key with a null default and no submitted value.
    Null,
    /// Required key not submitted.
    Missing,
    /// The value has at least one error; holds the first message.
    Invalid(String),
}

/// One key's definition plus its validated value.
#[derive(Clone, Debug)]
pub(crate) struct KeyResult {
    pub info: ConfigKeyInfo,
    /// `value.value` as served.
    pub value: Option<String>,
    pub recommended: Vec<String>,
    pub errors: Vec<String>,
    pub slot: Slot,
}

impl KeyResult {
    /// Adds an error; the value is still shown (as Java does for validator failures).
    pub(crate) fn add_error(&mut self, message: String) {
        if !self.errors.contains(&message) {
            self.errors.push(message);
        }
        if !matches!(self.slot, Slot::Invalid(_) | Slot::Missing) {
            self.slot = Slot::Invalid(self.errors[0].clone());
        }
    }

    /// Adds an error for a value that could not be parsed at all; Java then shows `null`.
    pub(crate) fn fail(&mut self, message: String) {
        self.value = None;
        self.add_error(message);
    }

    pub(crate) fn into_config_info(self) -> ConfigInfo {
        ConfigInfo {
            value: Some(ConfigValueInfo {
                name: self.info.name.clone(),
                value: self.value,
                recommended_values: self.recommended,
                errors: self.errors,
                visible: true,
            }),
            definition: Some(self.info),
        }
    }
}

/// Validates `props` (full key names) against `def`, in the definition's key order.
pub(crate) fn validate_def(
    def: &ConfigDef,
    props: &BTreeMap<String, String>,
    embed: Option<&Embedding<'_>>,
) -> Vec<KeyResult> {
    let prefix = embed.map_or("", |e| e.prefix);
    let mut instance = Map::new();
    let mut results: Vec<KeyResult> = def
        .specs()
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let result = check_one(spec, prefix, props, &mut instance);
            match embed {
                Some(e) => embedded(result, spec, e, i),
                None => result,
            }
        })
        .collect();

    let instance = Value::Object(instance);
    for error in def.validator().iter_errors(&instance) {
        if let ValidationErrorKind::Required { property } = error.kind() {
            let Some(name) = property.as_str() else {
                continue;
            };
            let full = format!("{prefix}{name}");
            // A submitted value that failed to parse is absent from the
            // instance but not missing; it already has its parse error.
            if props.contains_key(&full) {
                continue;
            }
            if let Some(r) = results.iter_mut().find(|r| r.info.name == full) {
                r.errors.push(format!(
                    "Missing required configuration \"{full}\" which has no default value."
                ));
                r.slot = Slot::Missing;
            }
            continue;
        }
        let mut path = error.instance_path().iter();
        let Some(key) = path.next().map(|s| s.to_string()) else {
            // Root-level errors other than `required` cannot occur: the loader
            // rejects root keywords that would produce them.
            continue;
        };
        let item = match path.next() {
            Some(LocationSegment::Index(i)) => Some(i),
            _ => None,
        };
        let Some(pos) = def.specs().iter().position(|s| s.info.name == key) else {
            continue;
        };
        let spec = &def.specs()[pos];
        let result = &mut results[pos];
        let shown = match (&result.slot, item) {
            (Slot::Value(TypedValue::List(items)), Some(i)) => {
                items.get(i).cloned().unwrap_or_default()
            }
            (Slot::Value(v), _) => v.to_java_display(),
            _ => String::new(),
        };
        let reason = describe(error.kind(), spec, &error.to_string());
        let message = invalid_value(&result.info.name, &shown, &reason);
        result.add_error(message);
    }
    results
}

/// Parses one key's value (or applies its default) and stages it for the schema check.
fn check_one(
    spec: &KeySpec,
    prefix: &str,
    props: &BTreeMap<String, String>,
    instance: &mut Map<String, Value>,
) -> KeyResult {
    let full = format!("{prefix}{}", spec.info.name);
    let mut result = KeyResult {
        info: ConfigKeyInfo {
            name: full.clone(),
            ..spec.info.clone()
        },
        value: None,
        recommended: spec.recommended.clone(),
        errors: Vec::new(),
        slot: Slot::Null,
    };
    match props.get(&full) {
        Some(raw) => match parse::parse(&full, raw, spec.info.config_type) {
            Ok(typed) => {
                result.value = Some(typed.to_connect_string());
                let named = spec.check.map(|c| (c, named_check(c, &typed)));
                result.slot = Slot::Value(typed.clone());
                match named {
                    // The named check replaces the schema's keywords for this
                    // key, so its exact Java message is the only one given.
                    Some((_, Some(reason))) => {
                        result.add_error(invalid_value(&full, &typed.to_java_display(), &reason))
                    }
                    Some((_, None)) => {}
                    None => {
                        instance.insert(spec.info.name.clone(), typed.to_json());
                    }
                }
            }
            Err(message) => result.fail(message),
        },
        None => match &spec.default {
            // The schema's `required` keyword reports it (see validate_def).
            DefaultValue::Required => result.slot = Slot::Missing,
            DefaultValue::Null => result.slot = Slot::Null,
            DefaultValue::Value(v) => {
                result.value = Some(v.to_connect_string());
                result.slot = Slot::Value(v.clone());
            }
        },
    }
    result
}

/// Re-homes an embedded key under its alias group, as `ConfigDef.embed` does.
fn embedded(mut result: KeyResult, spec: &KeySpec, e: &Embedding<'_>, index: usize) -> KeyResult {
    result.info.group = match &spec.group {
        Some(g) => format!("{}: {g}", e.group),
        None => e.group.to_string(),
    };
    result.info.order = e
        .first_order
        .saturating_add(i32::try_from(index).unwrap_or(i32::MAX));
    result
}

/// Connect's reason text for one schema error.
fn describe(kind: &ValidationErrorKind, spec: &KeySpec, fallback: &str) -> String {
    match kind {
        ValidationErrorKind::Minimum { limit } => {
            return format!("Value must be at least {}", json_scalar_string(limit))
        }
        ValidationErrorKind::Maximum { limit } => {
            return format!("Value must be no more than {}", json_scalar_string(limit))
        }
        ValidationErrorKind::Enum { options } => {
            let options = options
                .as_array()
                .map(|o| {
                    o.iter()
                        .map(json_scalar_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            return format!("String must be one of: {options}");
        }
        ValidationErrorKind::MinLength { limit: 1 } => {
            return "String must be non-empty".to_string()
        }
        _ => {}
    }
    if let Some(message) = &spec.message {
        return message.clone();
    }
    match kind {
        ValidationErrorKind::ExclusiveMinimum { limit } => {
            format!("Value must be greater than {}", json_scalar_string(limit))
        }
        ValidationErrorKind::ExclusiveMaximum { limit } => {
            format!("Value must be less than {}", json_scalar_string(limit))
        }
        ValidationErrorKind::MinLength { limit } => {
            format!("String must be at least {limit} characters long")
        }
        ValidationErrorKind::MaxLength { limit } => {
            format!("String must be at most {limit} characters long")
        }
        ValidationErrorKind::Pattern { pattern } => {
            format!("String must match the pattern {pattern}")
        }
        ValidationErrorKind::MinItems { limit } => {
            format!("List must contain at least {limit} item(s)")
        }
        ValidationErrorKind::MaxItems { limit } => {
            format!("List must contain at most {limit} item(s)")
        }
        ValidationErrorKind::UniqueItems => "List items must be unique".to_string(),
        ValidationErrorKind::Constant { expected_value } => {
            format!("Value must be {}", json_scalar_string(expected_value))
        }
        ValidationErrorKind::Format { format } => format!("Value must be a valid {format}"),
        _ => fallback.to_string(),
    }
}

/// Runs a named Java validator; `Some(reason)` when the value is invalid.
pub(crate) fn named_check(check: NamedCheck, value: &TypedValue) -> Option<String> {
    let (TypedValue::Str(s) | TypedValue::Password(s)) = value else {
        return None;
    };
    match check {
        NamedCheck::NonEmptyStringWithoutControlChars => {
            if s.is_empty() {
                return Some("String may not be empty".to_string());
            }
            // Character.isISOControl: U+0000–U+001F and U+007F–U+009F, i.e. Rust's is_control.
            let found: Vec<String> = s
                .chars()
                .filter(|c| c.is_control())
                .map(|c| u32::from(c).to_string())
                .collect();
            (!found.is_empty()).then(|| {
                format!(
                    "String may not contain control sequences but had the following ASCII chars: {}",
                    found.join(", ")
                )
            })
        }
        NamedCheck::Regex => regex::Regex::new(s).err().map(|e| {
            // The regex crate's message spans lines; one line keeps the 400 text one error per line.
            let one_line = e
                .to_string()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            format!("Invalid regex: {one_line}")
        }),
    }
}
