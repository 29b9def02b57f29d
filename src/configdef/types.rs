//! Kafka Connect's REST entities for config definitions and validation results.
//!
//! Field names and their order follow Connect's `ConfigInfos`, `ConfigInfo`,
//! `ConfigKeyInfo` and `ConfigValueInfo` exactly: AKHQ and Java clients read
//! them by name.

use serde::{Deserialize, Deserializer, Serialize};

/// `ConfigDef.Type`: how a config value is parsed from its string form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum ConfigType {
    /// `true` / `false`, case-insensitive.
    Boolean,
    /// Free text (trimmed).
    String,
    /// 32-bit signed integer.
    Int,
    /// 16-bit signed integer.
    Short,
    /// 64-bit signed integer.
    Long,
    /// 64-bit float.
    Double,
    /// Comma-separated list of strings.
    List,
    /// Class name (a plugin the host must know).
    Class,
    /// Secret text; never echoed back.
    Password,
}

impl ConfigType {
    /// The name Connect uses on the wire, e.g. `"INT"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

impl std::fmt::Display for ConfigType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `ConfigDef.Importance`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Importance {
    /// Most users need to set or review it.
    High,
    /// Sometimes relevant.
    Medium,
    /// Rarely changed.
    Low,
}

/// `ConfigDef.Width`: a UI hint for the input box.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Width {
    /// No hint.
    None,
    /// Short input.
    Short,
    /// Medium input.
    Medium,
    /// Long input.
    Long,
}

/// `ConfigKeyInfo`: one config key's definition as Connect serializes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigKeyInfo {
    /// Full key name, e.g. `tasks.max`.
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub config_type: ConfigType,
    /// True when the key has no default.
    pub required: bool,
    /// Default as Connect's string form; `null` when required or when the default is null.
    pub default_value: Option<String>,
    /// Importance.
    pub importance: Importance,
    /// Documentation text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub documentation: String,
    /// Group the key is shown in.
    #[serde(default, deserialize_with = "null_as_default")]
    pub group: String,
    /// UI width hint.
    pub width: Width,
    /// Human-readable label.
    #[serde(default, deserialize_with = "null_as_default")]
    pub display_name: String,
    /// Keys whose validity depends on this one.
    #[serde(default, deserialize_with = "null_as_default")]
    pub dependents: Vec<String>,
    /// Position inside the group (Connect's `order_in_group`, serialized as `order`).
    pub order: i32,
}

/// `ConfigValueInfo`: the validated value of one key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigValueInfo {
    /// Full key name.
    pub name: String,
    /// Value as a string (LIST joined with `,`, PASSWORD as `[hidden]`), or `null`.
    pub value: Option<String>,
    /// Values a UI may offer.
    #[serde(default, deserialize_with = "null_as_default")]
    pub recommended_values: Vec<String>,
    /// Error messages for this key.
    #[serde(default, deserialize_with = "null_as_default")]
    pub errors: Vec<String>,
    /// Whether a UI should show the key.
    pub visible: bool,
}

/// `ConfigInfo`: a definition paired with its value.
///
/// Both are optional in Connect's entity (so Java responses deserialize), but
/// everything this module produces fills both: AKHQ fails on a null definition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfo {
    /// The key's definition.
    pub definition: Option<ConfigKeyInfo>,
    /// The key's validated value.
    pub value: Option<ConfigValueInfo>,
}

/// `ConfigInfos`: the body of `PUT /connector-plugins/{p}/config/validate`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConfigInfos {
    /// `connector.class` exactly as submitted.
    pub name: String,
    /// Total number of error messages over all values.
    pub error_count: usize,
    /// Group names in display order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub groups: Vec<String>,
    /// One entry per key.
    #[serde(default, deserialize_with = "null_as_default")]
    pub configs: Vec<ConfigInfo>,
}

impl ConfigInfos {
    /// Total number of error messages.
    pub fn error_count(&self) -> usize {
        self.error_count
    }

    /// Java's 400 message for an invalid connector config, or `None` when there are no errors.
    pub fn invalid_config_message(&self) -> Option<String> {
        if self.error_count == 0 {
            return None;
        }
        // Same text and layout as AbstractHerder.maybeAddConfigErrors; the
        // `{connectorType}` placeholder is literal there too.
        let mut message = format!(
            "Connector configuration is invalid and contains the following {} error(s):",
            self.error_count
        );
        for value in self.configs.iter().filter_map(|c| c.value.as_ref()) {
            for error in &value.errors {
                message.push('\n');
                message.push_str(error);
            }
        }
        message.push_str(
            "\nYou can also find the above list of errors at the endpoint \
             `/connector-plugins/{connectorType}/config/validate`",
        );
        Some(message)
    }
}

/// Reads JSON `null` as the type's default, so Java responses with null arrays or texts still parse.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
