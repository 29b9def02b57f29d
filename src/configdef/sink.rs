//! Validation of a whole sink connector config, as `AbstractHerder.validateConnectorConfig`
//! does for sinks: framework keys, transform/predicate aliases, sink rules,
//! converters, the plugin's keys, the connector's own checks, then any extra keys.

use std::collections::{BTreeMap, HashMap};

use serde_json::json;

use super::parse::{invalid_value, java_trim, split_list, TypedValue};
use super::parsed::ParsedConfig;
use super::schema::ConfigDef;
use super::types::{ConfigInfos, ConfigKeyInfo, ConfigType, Importance, Width};
use super::validate::{validate_def, Embedding, KeyResult, Slot};

const TOPICS: &str = "topics";
const TOPICS_REGEX: &str = "topics.regex";
const DLQ_TOPIC: &str = "errors.deadletterqueue.topic.name";
const OTHERS_GROUP: &str = "Others";
const PASSED_THROUGH_DOC: &str = "Not defined by this connector or by the Connect framework; \
     the value is passed through unchanged and is not validated.";

/// What the host knows about installed plugins; the herder implements it.
pub trait PluginCatalog {
    /// Whether `class` names a known key/value converter.
    fn is_converter(&self, class: &str) -> bool;
    /// Whether `class` names a known header converter.
    fn is_header_converter(&self, class: &str) -> bool;
    /// The definition of the transformation named `class`, if known.
    fn transform(&self, class: &str) -> Option<&ConfigDef>;
    /// The definition of the predicate named `class`, if known.
    fn predicate(&self, class: &str) -> Option<&ConfigDef>;
}

/// Errors a connector's own cross-field checks attach to named keys.
#[derive(Clone, Debug, Default)]
pub struct ConfigIssues {
    items: Vec<(String, String)>,
}

impl ConfigIssues {
    /// Attaches `message` verbatim to `key`.
    pub fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.items.push((key.into(), message.into()));
    }

    /// Attaches Connect's `Invalid value V for configuration K: reason` to `key`.
    pub fn add_invalid(&mut self, key: &str, value: &str, reason: &str) {
        self.add(key, invalid_value(key, value, reason));
    }

    /// Whether no issue was added.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Validates a sink connector's config into one `ConfigInfos`, as Java Connect would.
///
/// `submitted_class` is echoed as `name`; `extra` runs the connector's own
/// cross-field checks on the parsed values. Every submitted key appears in
/// the result with a full definition, defined or not.
pub fn validate_sink(
    submitted_class: &str,
    plugin: &ConfigDef,
    framework: &ConfigDef,
    props: &BTreeMap<String, String>,
    catalog: &dyn PluginCatalog,
    extra: impl FnOnce(&ParsedConfig, &mut ConfigIssues),
) -> ConfigInfos {
    let mut out = Collector::default();

    for group in framework.groups() {
        out.add_group(group);
    }
    // A plugin key that redefines a framework key takes the framework key's
    // place (as Java's LinkedHashMap put does) before the sink rules add to it.
    let mut own: Vec<Option<KeyResult>> = validate_def(plugin, props, None)
        .into_iter()
        .map(Some)
        .collect();
    for result in validate_def(framework, props, None) {
        let redefined = own
            .iter_mut()
            .find(|o| o.as_ref().is_some_and(|o| o.info.name == result.info.name))
            .and_then(Option::take);
        out.push(redefined.unwrap_or(result));
    }

    let transforms = unique_aliases(props, "transforms");
    let predicates = unique_aliases(props, "predicates");
    for alias in &transforms {
        add_alias(&mut out, AliasKind::Transformation, alias, props, catalog);
    }
    for alias in &predicates {
        add_alias(&mut out, AliasKind::Predicate, alias, props, catalog);
    }
    check_predicate_references(&mut out, &transforms, &predicates, props);

    check_topics(&mut out, props);
    check_converters(&mut out, props, catalog);

    for group in plugin.groups() {
        out.add_group(group);
    }
    for result in own.into_iter().flatten() {
        out.push(result);
    }

    let parsed = ParsedConfig::from_results(&out.entries, props);
    let mut issues = ConfigIssues::default();
    extra(&parsed, &mut issues);
    for (key, message) in issues.items {
        out.entry(&key, props).add_error(message);
    }

    for key in props.keys() {
        out.entry(key, props);
    }
    out.finish(submitted_class)
}

/// `GET /connector-plugins/{p}/config`: the plugin's keys, then the framework's
/// keys it does not redefine (`AbstractHerder.connectorPluginConfig`).
pub fn plugin_config_keys(plugin: &ConfigDef, framework: &ConfigDef) -> Vec<ConfigKeyInfo> {
    let mut keys: Vec<ConfigKeyInfo> = plugin.keys().cloned().collect();
    let own: Vec<String> = keys.iter().map(|k| k.name.clone()).collect();
    keys.extend(framework.keys().filter(|k| !own.contains(&k.name)).cloned());
    keys
}

#[derive(Clone, Copy)]
enum AliasKind {
    Transformation,
    Predicate,
}

impl AliasKind {
    fn list_key(self) -> &'static str {
        match self {
            AliasKind::Transformation => "transforms",
            AliasKind::Predicate => "predicates",
        }
    }

    fn group(self) -> &'static str {
        match self {
            AliasKind::Transformation => "Transforms",
            AliasKind::Predicate => "Predicates",
        }
    }

    fn lookup<'a>(self, catalog: &'a dyn PluginCatalog, class: &str) -> Option<&'a ConfigDef> {
        match self {
            AliasKind::Transformation => catalog.transform(class),
            AliasKind::Predicate => catalog.predicate(class),
        }
    }

    /// The keys Connect defines for every alias (`ConnectorConfig.EnrichablePlugin`).
    fn alias_schema(self, alias: &str) -> serde_json::Value {
        let (kind, class_name) = match self {
            AliasKind::Transformation => ("transformation", "Transformation"),
            AliasKind::Predicate => ("predicate", "Predicate"),
        };
        let mut properties = json!({
            "type": {
                "type": "string",
                "x-connect-type": "CLASS",
                "description": format!("Class for the '{alias}' {kind}."),
                "x-connect-importance": "HIGH",
                "x-connect-order": 0,
                "x-connect-width": "LONG",
                "x-connect-display-name": format!("{class_name} type for {alias}")
            }
        });
        if let (AliasKind::Transformation, Some(map)) = (self, properties.as_object_mut()) {
            map.insert(
                "predicate".into(),
                json!({
                    "type": "string",
                    "x-connect-type": "STRING",
                    "default": null,
                    "description": "The alias of a predicate used to determine whether to apply this transformation.",
                    "x-connect-importance": "MEDIUM",
                    "x-connect-order": 1
                }),
            );
            map.insert(
                "negate".into(),
                json!({
                    "type": "boolean",
                    "x-connect-type": "BOOLEAN",
                    "default": false,
                    "description": "Whether the configured predicate should be negated.",
                    "x-connect-importance": "MEDIUM",
                    "x-connect-order": 2
                }),
            );
        }
        json!({
            "type": "object",
            "x-connect-class": format!("{}.{alias}", self.list_key()),
            "x-connect-plugin-type": kind,
            "required": ["type"],
            "properties": properties
        })
    }
}

/// Adds `<list>.<alias>.type` (plus `predicate`/`negate` for transforms) and,
/// when the class is known, its own keys under the alias prefix.
fn add_alias(
    out: &mut Collector,
    kind: AliasKind,
    alias: &str,
    props: &BTreeMap<String, String>,
    catalog: &dyn PluginCatalog,
) {
    let prefix = format!("{}.{alias}.", kind.list_key());
    let group = format!("{}: {alias}", kind.group());
    let type_key = format!("{prefix}type");
    out.add_group(&group);

    let Ok(alias_def) = ConfigDef::from_schema_value(&kind.alias_schema(alias)) else {
        // Cannot happen: the generated schema is fixed apart from the alias text,
        // which only appears in descriptions. Keep the key visible regardless.
        out.entry(&type_key, props);
        return;
    };
    let implicit = validate_def(
        &alias_def,
        props,
        Some(&Embedding {
            prefix: &prefix,
            group: &group,
            first_order: 0,
        }),
    );
    let next_order = i32::try_from(implicit.len()).unwrap_or(i32::MAX);
    for result in implicit {
        out.push(result);
    }

    if matches!(kind, AliasKind::Transformation) {
        let negate = format!("{prefix}negate");
        let predicate = format!("{prefix}predicate");
        if props.contains_key(&negate) && !props.contains_key(&predicate) {
            out.entry(&type_key, props).add_error(format!(
                "Config '{negate}' was provided but there is no config '{predicate}' defining a predicate to be negated."
            ));
        }
    }

    let class = match out.slot(&type_key) {
        Some(Slot::Value(TypedValue::Str(class))) => class.clone(),
        _ => return,
    };
    let Some(class_def) = kind.lookup(catalog, &class) else {
        let raw = props.get(&type_key).map_or(class.as_str(), String::as_str);
        out.entry(&type_key, props).fail(invalid_value(
            &type_key,
            raw,
            &format!("Class {raw} could not be found."),
        ));
        return;
    };
    let own = validate_def(
        class_def,
        props,
        Some(&Embedding {
            prefix: &prefix,
            group: &group,
            first_order: next_order,
        }),
    );
    for result in own {
        // The implicit keys mask a transform's keys of the same name, as in Java.
        let masked = [format!("{prefix}predicate"), format!("{prefix}negate")];
        if matches!(kind, AliasKind::Transformation) && masked.contains(&result.info.name) {
            continue;
        }
        out.push(result);
    }
}

/// A transform's `predicate` must name an alias listed in `predicates`.
fn check_predicate_references(
    out: &mut Collector,
    transforms: &[String],
    predicates: &[String],
    props: &BTreeMap<String, String>,
) {
    for alias in transforms {
        let key = format!("transforms.{alias}.predicate");
        let Some(raw) = props.get(&key) else {
            continue;
        };
        let name = java_trim(raw);
        if !name.is_empty() && !predicates.iter().any(|p| p == name) {
            out.entry(&key, props).add_error(invalid_value(
                &key,
                name,
                &format!("Predicate alias {name} is not listed in predicates"),
            ));
        }
    }
}

/// `SinkConnectorConfig.validate`: exactly one of topics / topics.regex, and the DLQ not consumed.
fn check_topics(out: &mut Collector, props: &BTreeMap<String, String>) {
    let topics = props.get(TOPICS).map(String::as_str);
    let regex = props.get(TOPICS_REGEX).map(String::as_str);
    let has_topics = topics.is_some_and(|t| !java_trim(t).is_empty());
    let has_regex = regex.is_some_and(|r| !java_trim(r).is_empty());

    if has_topics && has_regex {
        let message = "topics and topics.regex are mutually exclusive options, but both are set.";
        out.entry(TOPICS, props).add_error(message.to_string());
        out.entry(TOPICS_REGEX, props)
            .add_error(message.to_string());
    }
    if !has_topics && !has_regex {
        let message = "Must configure one of topics or topics.regex";
        out.entry(TOPICS, props).add_error(message.to_string());
        out.entry(TOPICS_REGEX, props)
            .add_error(message.to_string());
    }

    let dlq = props.get(DLQ_TOPIC).map_or("", |d| java_trim(d));
    if dlq.is_empty() {
        return;
    }
    if let Some(topics) = topics.filter(|_| has_topics) {
        let mut listed: Vec<String> = Vec::new();
        for topic in split_list(java_trim(topics)) {
            if !topic.is_empty() && !listed.contains(&topic) {
                listed.push(topic);
            }
        }
        if listed.iter().any(|t| t == dlq) {
            out.entry(TOPICS, props).add_error(format!(
                "The DLQ topic '{dlq}' may not be included in the list of topics ('{TOPICS}=[{}]') consumed by the connector",
                listed.join(", ")
            ));
        }
    }
    if let Some(pattern) = regex.filter(|_| has_regex) {
        // Java's Matcher.matches() needs the whole name to match. An invalid
        // regex already carries its own error from the key's check.
        let whole = regex::Regex::new(&format!("^(?:{pattern})$"));
        if whole.is_ok_and(|re| re.is_match(dlq)) {
            out.entry(TOPICS_REGEX, props).add_error(format!(
                "The DLQ topic '{dlq}' may not be matched by the regex for the topics ('{TOPICS_REGEX}={pattern}') consumed by the connector"
            ));
        }
    }
}

/// Converter classes must be installed; Java reports them like any unloadable CLASS value.
fn check_converters(
    out: &mut Collector,
    props: &BTreeMap<String, String>,
    catalog: &dyn PluginCatalog,
) {
    // (key, is it the header converter)
    let checks = [
        ("key.converter", false),
        ("value.converter", false),
        ("header.converter", true),
    ];
    for (key, header) in checks {
        let Some(raw) = props.get(key) else {
            continue;
        };
        let class = java_trim(raw);
        let known = if header {
            catalog.is_header_converter(class)
        } else {
            catalog.is_converter(class)
        };
        if !known {
            out.entry(key, props).fail(invalid_value(
                key,
                raw,
                &format!("Class {raw} could not be found."),
            ));
        }
    }
}

/// `transforms` / `predicates` aliases in order, without repeats (Java's LinkedHashSet).
fn unique_aliases(props: &BTreeMap<String, String>, key: &str) -> Vec<String> {
    let mut aliases: Vec<String> = Vec::new();
    for alias in props
        .get(key)
        .map(|raw| split_list(java_trim(raw)))
        .unwrap_or_default()
    {
        if !aliases.contains(&alias) {
            aliases.push(alias);
        }
    }
    aliases
}

/// Accumulates results in output order; keys no definition has go to "Others" at the end.
#[derive(Default)]
struct Collector {
    entries: Vec<KeyResult>,
    index: HashMap<String, usize>,
    groups: Vec<String>,
    others: BTreeMap<String, KeyResult>,
}

impl Collector {
    fn add_group(&mut self, group: &str) {
        if !self.groups.iter().any(|g| g == group) {
            self.groups.push(group.to_string());
        }
    }

    /// Adds a result; a later definition of the same key replaces the earlier one in place.
    fn push(&mut self, mut result: KeyResult) {
        self.add_group(&result.info.group);
        // Keep errors a rule already attached to this key before it was defined.
        if let Some(early) = self.others.remove(&result.info.name) {
            for error in early.errors {
                result.add_error(error);
            }
        }
        match self.index.get(&result.info.name) {
            Some(&i) => self.entries[i] = result,
            None => {
                self.index
                    .insert(result.info.name.clone(), self.entries.len());
                self.entries.push(result);
            }
        }
    }

    fn slot(&self, key: &str) -> Option<&Slot> {
        self.index.get(key).map(|&i| &self.entries[i].slot)
    }

    /// The result for `key`, synthesizing a pass-through definition if none exists.
    fn entry(&mut self, key: &str, props: &BTreeMap<String, String>) -> &mut KeyResult {
        if let Some(&i) = self.index.get(key) {
            return &mut self.entries[i];
        }
        self.others
            .entry(key.to_string())
            .or_insert_with(|| passed_through(key, props.get(key)))
    }

    fn finish(mut self, submitted_class: &str) -> ConfigInfos {
        if !self.others.is_empty() {
            self.add_group(OTHERS_GROUP);
        }
        let others = std::mem::take(&mut self.others);
        let all = self
            .entries
            .into_iter()
            .chain(others.into_values().zip(1..).map(|(mut r, order)| {
                r.info.order = order;
                r
            }));
        let mut error_count = 0;
        let configs = all
            .map(|r| {
                error_count += r.errors.len();
                r.into_config_info()
            })
            .collect();
        ConfigInfos {
            name: submitted_class.to_string(),
            error_count,
            groups: self.groups,
            configs,
        }
    }
}

/// A full definition for a key nothing defines, so UIs never see `definition: null`.
fn passed_through(key: &str, raw: Option<&String>) -> KeyResult {
    KeyResult {
        info: ConfigKeyInfo {
            name: key.to_string(),
            config_type: ConfigType::String,
            required: false,
            default_value: None,
            importance: Importance::Low,
            documentation: PASSED_THROUGH_DOC.to_string(),
            group: OTHERS_GROUP.to_string(),
            width: Width::None,
            display_name: key.to_string(),
            dependents: Vec::new(),
            order: 0,
        },
        value: raw.cloned(),
        recommended: Vec::new(),
        errors: Vec::new(),
        slot: raw.map_or(Slot::Null, |r| Slot::Value(TypedValue::Str(r.clone()))),
    }
}
