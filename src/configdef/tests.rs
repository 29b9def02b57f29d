//! Behaviour tests: texts and shapes clients depend on.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::schemas::{file_stream_sink, framework_sink};
use super::*;

const FILE_CLASS: &str = "io.sluice.connect.file.FileStreamSinkConnector";
const JSON_CONVERTER: &str = "org.apache.kafka.connect.json.JsonConverter";
const REPLACE_FIELD: &str = "org.apache.kafka.connect.transforms.ReplaceField$Value";
const TOPIC_NAME_MATCHES: &str = "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";

struct Catalog {
    transforms: Vec<ConfigDef>,
    predicates: Vec<ConfigDef>,
}

impl PluginCatalog for Catalog {
    fn is_converter(&self, class: &str) -> bool {
        class == JSON_CONVERTER || class == "org.apache.kafka.connect.storage.StringConverter"
    }
    fn is_header_converter(&self, class: &str) -> bool {
        class == "org.apache.kafka.connect.storage.SimpleHeaderConverter"
    }
    fn transform(&self, class: &str) -> Option<&ConfigDef> {
        self.transforms.iter().find(|d| d.is_named(class))
    }
    fn predicate(&self, class: &str) -> Option<&ConfigDef> {
        self.predicates.iter().find(|d| d.is_named(class))
    }
}

fn catalog() -> Catalog {
    let replace_field = json!({
        "type": "object",
        "x-connect-class": REPLACE_FIELD,
        "x-connect-plugin-type": "transformation",
        "properties": {
            "exclude": {
                "type": "array", "x-connect-type": "LIST", "items": {"type": "string"},
                "default": [], "description": "Fields to exclude.",
                "x-connect-importance": "MEDIUM", "x-connect-order": 1
            },
            "predicate": {
                "type": "integer", "x-connect-type": "INT", "default": 1,
                "description": "Masked by the implicit key of the same name.",
                "x-connect-importance": "LOW", "x-connect-order": 2
            }
        }
    });
    let topic_name_matches = json!({
        "type": "object",
        "x-connect-class": TOPIC_NAME_MATCHES,
        "x-connect-plugin-type": "predicate",
        "required": ["pattern"],
        "properties": {
            "pattern": {
                "type": "string", "x-connect-type": "STRING", "x-connect-validator": "regex",
                "description": "A Java regular expression for matching against the name of a record's topic.",
                "x-connect-importance": "MEDIUM", "x-connect-order": 1
            }
        }
    });
    Catalog {
        transforms: vec![load(&replace_field)],
        predicates: vec![load(&topic_name_matches)],
    }
}

fn load(schema: &Value) -> ConfigDef {
    ConfigDef::from_schema_str(&schema.to_string()).expect("test schema loads")
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A valid FileStream sink config plus `extra` pairs.
fn valid(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut p = props(&[
        ("name", "files"),
        ("connector.class", "FileStreamSink"),
        ("topics", "t1"),
    ]);
    p.extend(props(extra));
    p
}

fn validate(p: &BTreeMap<String, String>) -> ConfigInfos {
    let class = p.get("connector.class").cloned().unwrap_or_default();
    let infos = validate_sink(
        &class,
        file_stream_sink(),
        framework_sink(),
        p,
        &catalog(),
        |_, _| {},
    );
    assert_consistent(&infos);
    infos
}

/// Invariants every result must keep: full definitions, and error_count = messages.
fn assert_consistent(infos: &ConfigInfos) {
    let messages: usize = infos
        .configs
        .iter()
        .map(|c| c.value.as_ref().map_or(0, |v| v.errors.len()))
        .sum();
    assert_eq!(
        infos.error_count, messages,
        "error_count must equal the messages"
    );
    assert_eq!(infos.error_count(), messages);
    for config in &infos.configs {
        let def = config
            .definition
            .as_ref()
            .expect("definition is never null");
        let value = config.value.as_ref().expect("value is never null");
        assert_eq!(def.name, value.name);
        assert!(!def.group.is_empty(), "{} has no group", def.name);
        assert!(
            !def.display_name.is_empty(),
            "{} has no display name",
            def.name
        );
        assert!(
            !def.documentation.is_empty(),
            "{} has no documentation",
            def.name
        );
        assert!(
            infos.groups.contains(&def.group),
            "{} not in groups",
            def.group
        );
    }
}

fn config<'a>(infos: &'a ConfigInfos, key: &str) -> &'a ConfigInfo {
    infos
        .configs
        .iter()
        .find(|c| c.definition.as_ref().is_some_and(|d| d.name == key))
        .unwrap_or_else(|| panic!("{key} is not in the result"))
}

fn errors<'a>(infos: &'a ConfigInfos, key: &str) -> &'a [String] {
    &config(infos, key).value.as_ref().expect("value").errors
}

fn value<'a>(infos: &'a ConfigInfos, key: &str) -> Option<&'a str> {
    config(infos, key)
        .value
        .as_ref()
        .expect("value")
        .value
        .as_deref()
}

fn definition<'a>(infos: &'a ConfigInfos, key: &str) -> &'a ConfigKeyInfo {
    config(infos, key).definition.as_ref().expect("definition")
}

fn names(infos: &ConfigInfos) -> Vec<&str> {
    infos
        .configs
        .iter()
        .filter_map(|c| c.definition.as_ref().map(|d| d.name.as_str()))
        .collect()
}

// ---------------------------------------------------------------- loading

#[test]
fn embedded_schemas_load() {
    let framework =
        ConfigDef::from_schema_str(include_str!("../../schemas/connect-sink-common.json"))
            .expect("framework schema loads");
    assert_eq!(framework.keys().count(), 20);
    assert_eq!(
        framework.groups(),
        ["Common", "Transforms", "Predicates", "Error Handling"]
    );
    let file = ConfigDef::from_schema_str(include_str!("../../schemas/file-stream-sink.json"))
        .expect("file sink schema loads");
    assert_eq!(file.class(), FILE_CLASS);
    assert_eq!(file.plugin_type(), PluginType::Sink);
    assert_eq!(file.plugin_type().as_str(), "sink");
    assert_eq!(file.version(), Some("0.1.0"));
    assert!(file.is_named("org.apache.kafka.connect.file.FileStreamSinkConnector"));
    assert!(file.is_named("FileStreamSink"));
    assert!(file.is_named("FileStreamSinkConnector"));
    assert!(!file.is_named("FileStreamSource"));
    // The lazily loaded statics are the same definitions.
    assert_eq!(framework_sink().keys().count(), 20);
    assert_eq!(file_stream_sink().class(), FILE_CLASS);
}

#[test]
fn framework_definitions_match_java() {
    let keys: Vec<&ConfigKeyInfo> = framework_sink().keys().collect();
    let order: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(
        order,
        [
            "name",
            "connector.class",
            "tasks.max",
            "topics",
            "topics.regex",
            "tasks.max.enforce",
            "key.converter",
            "value.converter",
            "header.converter",
            "config.action.reload",
            "transforms",
            "predicates",
            "errors.retry.timeout",
            "errors.retry.delay.max.ms",
            "errors.tolerance",
            "errors.log.enable",
            "errors.log.include.messages",
            "errors.deadletterqueue.topic.name",
            "errors.deadletterqueue.topic.replication.factor",
            "errors.deadletterqueue.context.headers.enable",
        ]
    );
    let get = |n: &str| keys.iter().find(|k| k.name == n).expect("key");
    let name = get("name");
    assert!(name.required);
    assert_eq!(name.default_value, None);
    assert_eq!(name.display_name, "Connector name");
    assert_eq!(name.width, Width::Medium);
    let tasks = get("tasks.max");
    assert_eq!(tasks.config_type, ConfigType::Int);
    assert_eq!(tasks.default_value.as_deref(), Some("1"));
    assert!(!tasks.required);
    assert_eq!(get("topics").default_value.as_deref(), Some(""));
    assert_eq!(get("transforms").default_value.as_deref(), Some(""));
    assert_eq!(get("key.converter").default_value, None);
    assert!(!get("key.converter").required);
    assert_eq!(
        get("errors.deadletterqueue.topic.replication.factor")
            .default_value
            .as_deref(),
        Some("3")
    );
    assert_eq!(
        get("errors.deadletterqueue.topic.replication.factor").order,
        7
    );
    assert_eq!(get("errors.tolerance").importance, Importance::Medium);
    assert_eq!(
        get("topics").documentation,
        "List of topics to consume, separated by commas"
    );
}

fn minimal_schema(properties: Value, required: Value) -> Value {
    json!({
        "type": "object",
        "x-connect-class": "com.example.Sink",
        "x-connect-plugin-type": "sink",
        "x-connect-groups": ["G"],
        "required": required,
        "properties": properties
    })
}

fn key(ty: &str, json_type: &str, extra: Value) -> Value {
    let mut k = json!({
        "type": json_type, "x-connect-type": ty, "description": "d",
        "x-connect-importance": "LOW", "x-connect-group": "G", "x-connect-order": 1
    });
    if let (Some(k), Some(extra)) = (k.as_object_mut(), extra.as_object()) {
        k.extend(extra.clone());
    }
    k
}

fn load_error(schema: Value) -> String {
    ConfigDef::from_schema_str(&schema.to_string())
        .expect_err("schema must be rejected")
        .to_string()
}

#[test]
fn loading_rejects_default_and_required_disagreeing() {
    let no_default_not_required =
        minimal_schema(json!({"a": key("STRING", "string", json!({}))}), json!([]));
    assert!(load_error(no_default_not_required).contains("must be listed in \"required\""));

    let default_and_required = minimal_schema(
        json!({"a": key("STRING", "string", json!({"default": null}))}),
        json!(["a"]),
    );
    assert!(load_error(default_and_required).contains("must not be listed in \"required\""));

    let required_unknown = minimal_schema(json!({}), json!(["ghost"]));
    assert!(load_error(required_unknown).contains("ghost"));
}

#[test]
fn loading_rejects_inconsistent_keys() {
    let wrong_type = minimal_schema(
        json!({"a": key("INT", "string", json!({"default": 1}))}),
        json!([]),
    );
    assert!(load_error(wrong_type).contains("needs \"type\": \"integer\""));

    let typo = minimal_schema(
        json!({"a": key("INT", "integer", json!({"default": 1, "x-connect-improtance": "LOW"}))}),
        json!([]),
    );
    assert!(load_error(typo).contains("x-connect-improtance"));

    let unlisted_group = minimal_schema(
        json!({"a": key("INT", "integer", json!({"default": 1, "x-connect-group": "Nope"}))}),
        json!([]),
    );
    assert!(load_error(unlisted_group).contains("Nope"));

    let bad_default = minimal_schema(
        json!({"a": key("INT", "integer", json!({"default": 0, "minimum": 1}))}),
        json!([]),
    );
    assert!(load_error(bad_default).contains("default value fails the schema"));

    let mut cross_field = minimal_schema(json!({}), json!([]));
    cross_field["additionalProperties"] = json!(false);
    assert!(load_error(cross_field).contains("additionalProperties"));

    assert!(matches!(
        ConfigDef::from_schema_str("{"),
        Err(ConfigDefError::Json(_))
    ));
}

// ---------------------------------------------------------------- messages

#[test]
fn missing_required_key_has_javas_text() {
    let infos = validate(&props(&[
        ("connector.class", "FileStreamSink"),
        ("topics", "t"),
    ]));
    assert_eq!(
        errors(&infos, "name"),
        ["Missing required configuration \"name\" which has no default value."]
    );
    assert_eq!(value(&infos, "name"), None);
    assert_eq!(infos.error_count, 1);
}

fn typed_schema() -> ConfigDef {
    let properties = json!({
        "b": key("BOOLEAN", "boolean", json!({"default": false})),
        "i": key("INT", "integer", json!({"default": 0})),
        "s": key("SHORT", "integer", json!({"default": 0})),
        "l": key("LONG", "integer", json!({"default": 0})),
        "d": key("DOUBLE", "number", json!({"default": 0.5})),
        "list": key("LIST", "array", json!({"default": "a,b", "items": {"type": "string", "enum": ["a", "b", "c"]}})),
        "secret": key("PASSWORD", "string", json!({"default": null, "minLength": 8})),
        "code": key("STRING", "string", json!({
            "default": "AB", "pattern": "^[A-Z]+$", "x-connect-message": "Must be upper-case letters"
        })),
        "label": key("STRING", "string", json!({"default": "x", "minLength": 1})),
        "ratio": key("DOUBLE", "number", json!({"default": 1, "maximum": 2.5})),
    });
    load(&minimal_schema(properties, json!([])))
}

fn validate_typed(p: &[(&str, &str)]) -> ConfigInfos {
    let mut all = valid(&[]);
    all.extend(props(p));
    let infos = validate_sink(
        "FileStreamSink",
        &typed_schema(),
        framework_sink(),
        &all,
        &catalog(),
        |_, _| {},
    );
    assert_consistent(&infos);
    infos
}

#[test]
fn type_parse_errors_have_javas_texts_and_null_values() {
    let infos = validate_typed(&[
        ("b", "yes"),
        ("i", "1.5"),
        ("s", "70000"),
        ("l", "x"),
        ("d", "abc"),
    ]);
    let cases = [
        (
            "b",
            "Invalid value yes for configuration b: Expected value to be either true or false",
        ),
        (
            "i",
            "Invalid value 1.5 for configuration i: Not a number of type INT",
        ),
        (
            "s",
            "Invalid value 70000 for configuration s: Not a number of type SHORT",
        ),
        (
            "l",
            "Invalid value x for configuration l: Not a number of type LONG",
        ),
        (
            "d",
            "Invalid value abc for configuration d: Not a number of type DOUBLE",
        ),
    ];
    for (key, message) in cases {
        assert_eq!(errors(&infos, key), [message], "{key}");
        assert_eq!(
            value(&infos, key),
            None,
            "{key}: Java shows null after a parse error"
        );
    }
    assert_eq!(infos.error_count, 5);
}

#[test]
fn parsed_values_are_shown_in_connects_string_form() {
    let infos = validate_typed(&[
        ("b", " TRUE "),
        ("i", " 7"),
        ("d", "2"),
        ("list", " a , c "),
        ("secret", "correct horse"),
    ]);
    assert_eq!(infos.error_count, 0, "{:?}", infos);
    assert_eq!(value(&infos, "b"), Some("true"));
    assert_eq!(value(&infos, "i"), Some("7"));
    assert_eq!(value(&infos, "d"), Some("2.0"));
    assert_eq!(value(&infos, "list"), Some("a,c"));
    assert_eq!(value(&infos, "secret"), Some("[hidden]"));
    assert_eq!(
        definition(&infos, "list").default_value.as_deref(),
        Some("a,b")
    );
    assert_eq!(
        config(&infos, "list")
            .value
            .as_ref()
            .map(|v| v.recommended_values.clone()),
        Some(vec!["a".to_string(), "b".to_string(), "c".to_string()])
    );
    // Unsubmitted keys show their default; a null default shows null.
    assert_eq!(value(&infos, "l"), Some("0"));
    assert_eq!(value(&infos, "tasks.max"), Some("1"));
    assert_eq!(value(&infos, "key.converter"), None);
}

#[test]
fn schema_checks_map_to_connect_texts() {
    let infos = validate_typed(&[
        ("list", "a,z"),
        ("secret", "short"),
        ("code", "abc"),
        ("label", "   "),
        ("ratio", "3"),
    ]);
    assert_eq!(
        errors(&infos, "list"),
        ["Invalid value z for configuration list: String must be one of: a, b, c"]
    );
    assert_eq!(
        errors(&infos, "secret"),
        ["Invalid value [hidden] for configuration secret: String must be at least 8 characters long"]
    );
    assert_eq!(
        errors(&infos, "code"),
        ["Invalid value abc for configuration code: Must be upper-case letters"]
    );
    assert_eq!(
        errors(&infos, "label"),
        ["Invalid value  for configuration label: String must be non-empty"]
    );
    assert_eq!(
        errors(&infos, "ratio"),
        ["Invalid value 3.0 for configuration ratio: Value must be no more than 2.5"]
    );
    // Checks that fail keep the value visible.
    assert_eq!(value(&infos, "code"), Some("abc"));
    assert_eq!(value(&infos, "secret"), Some("[hidden]"));
}

#[test]
fn minimum_and_enum_texts() {
    let infos = validate(&valid(&[("tasks.max", "0"), ("errors.tolerance", "x")]));
    assert_eq!(
        errors(&infos, "tasks.max"),
        ["Invalid value 0 for configuration tasks.max: Value must be at least 1"]
    );
    assert_eq!(
        errors(&infos, "errors.tolerance"),
        ["Invalid value x for configuration errors.tolerance: String must be one of: none, all"]
    );
    let tolerance = config(&infos, "errors.tolerance")
        .value
        .as_ref()
        .expect("value");
    assert_eq!(tolerance.recommended_values, ["none", "all"]);
    assert_eq!(infos.error_count, 2);
}

#[test]
fn name_must_be_non_empty_without_control_chars() {
    let infos = validate(&valid(&[("name", "  ")]));
    assert_eq!(
        errors(&infos, "name"),
        ["Invalid value  for configuration name: String may not be empty"]
    );
    let infos = validate(&valid(&[("name", "a\u{7}b\u{85}")]));
    assert_eq!(
        errors(&infos, "name"),
        ["Invalid value a\u{7}b\u{85} for configuration name: String may not contain control sequences but had the following ASCII chars: 7, 133"]
    );
}

// ---------------------------------------------------------------- sink rules

#[test]
fn topics_and_topics_regex_both_set() {
    let infos = validate(&valid(&[("topics.regex", "t.*")]));
    let message = "topics and topics.regex are mutually exclusive options, but both are set.";
    assert_eq!(errors(&infos, "topics"), [message]);
    assert_eq!(errors(&infos, "topics.regex"), [message]);
    assert_eq!(infos.error_count, 2);
}

#[test]
fn topics_and_topics_regex_neither_set() {
    let mut p = valid(&[("topics.regex", " ")]);
    p.remove("topics");
    let infos = validate(&p);
    let message = "Must configure one of topics or topics.regex";
    assert_eq!(errors(&infos, "topics"), [message]);
    assert_eq!(errors(&infos, "topics.regex"), [message]);
    assert_eq!(value(&infos, "topics"), Some(""));
}

#[test]
fn dlq_topic_may_not_be_consumed() {
    let infos = validate(&valid(&[
        ("topics", "t1, dlq,t1"),
        ("errors.deadletterqueue.topic.name", " dlq "),
    ]));
    assert_eq!(
        errors(&infos, "topics"),
        ["The DLQ topic 'dlq' may not be included in the list of topics ('topics=[t1, dlq]') consumed by the connector"]
    );
    assert_eq!(value(&infos, "topics"), Some("t1,dlq,t1"));

    let mut p = valid(&[
        ("topics.regex", "d.*"),
        ("errors.deadletterqueue.topic.name", "dlq"),
    ]);
    p.remove("topics");
    let infos = validate(&p);
    assert_eq!(
        errors(&infos, "topics.regex"),
        ["The DLQ topic 'dlq' may not be matched by the regex for the topics ('topics.regex=d.*') consumed by the connector"]
    );
    // Java's Matcher.matches() is a whole-string match.
    let mut p = valid(&[
        ("topics.regex", "dl"),
        ("errors.deadletterqueue.topic.name", "dlq"),
    ]);
    p.remove("topics");
    assert_eq!(validate(&p).error_count, 0);
}

#[test]
fn invalid_topics_regex_is_reported_once() {
    let mut p = valid(&[
        ("topics.regex", "("),
        ("errors.deadletterqueue.topic.name", "dlq"),
    ]);
    p.remove("topics");
    let infos = validate(&p);
    let errs = errors(&infos, "topics.regex");
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert!(
        errs[0].starts_with("Invalid value ( for configuration topics.regex: Invalid regex: "),
        "{}",
        errs[0]
    );
    assert!(!errs[0].contains('\n'));
}

#[test]
fn unknown_converter_class() {
    let infos = validate(&valid(&[
        ("key.converter", "com.nope.Converter"),
        ("value.converter", JSON_CONVERTER),
        ("header.converter", JSON_CONVERTER),
    ]));
    assert_eq!(
        errors(&infos, "key.converter"),
        ["Invalid value com.nope.Converter for configuration key.converter: Class com.nope.Converter could not be found."]
    );
    assert_eq!(value(&infos, "key.converter"), None);
    assert!(errors(&infos, "value.converter").is_empty());
    assert_eq!(value(&infos, "value.converter"), Some(JSON_CONVERTER));
    // A key/value converter is not a header converter.
    assert_eq!(errors(&infos, "header.converter").len(), 1);
    assert_eq!(infos.error_count, 2);
}

#[test]
fn unknown_transform_class() {
    let infos = validate(&valid(&[
        ("transforms", "a"),
        ("transforms.a.type", "com.nope.Transform"),
    ]));
    assert_eq!(
        errors(&infos, "transforms.a.type"),
        ["Invalid value com.nope.Transform for configuration transforms.a.type: Class com.nope.Transform could not be found."]
    );
    let def = definition(&infos, "transforms.a.type");
    assert_eq!(def.config_type, ConfigType::Class);
    assert!(def.required);
    assert_eq!(def.group, "Transforms: a");
    assert_eq!(def.display_name, "Transformation type for a");
    assert_eq!(def.documentation, "Class for the 'a' transformation.");
    assert_eq!(
        definition(&infos, "transforms.a.negate")
            .default_value
            .as_deref(),
        Some("false")
    );
    assert_eq!(
        definition(&infos, "transforms.a.predicate").default_value,
        None
    );
    assert!(!definition(&infos, "transforms.a.predicate").required);
    assert_eq!(infos.error_count, 1);
}

#[test]
fn transform_and_predicate_aliases_get_their_keys() {
    let infos = validate(&valid(&[
        ("transforms", "drop, a"),
        ("transforms.drop.type", REPLACE_FIELD),
        ("transforms.drop.exclude", "x, y"),
        ("transforms.drop.predicate", "isT"),
        ("transforms.a.type", REPLACE_FIELD),
        ("predicates", "isT"),
        ("predicates.isT.type", TOPIC_NAME_MATCHES),
        ("predicates.isT.pattern", "t.*"),
        ("value.converter.schemas.enable", "false"),
    ]));
    assert_eq!(infos.error_count, 0, "{infos:?}");
    assert_eq!(
        infos.groups,
        [
            "Common",
            "Transforms",
            "Predicates",
            "Error Handling",
            "Transforms: drop",
            "Transforms: a",
            "Predicates: isT",
            "File",
            "Others"
        ]
    );
    let exclude = definition(&infos, "transforms.drop.exclude");
    assert_eq!(exclude.group, "Transforms: drop");
    assert_eq!(exclude.order, 3);
    assert_eq!(value(&infos, "transforms.drop.exclude"), Some("x,y"));
    // The transform's own `predicate` key is masked by the implicit one.
    assert_eq!(
        definition(&infos, "transforms.drop.predicate").config_type,
        ConfigType::String
    );
    assert_eq!(
        definition(&infos, "predicates.isT.type").display_name,
        "Predicate type for isT"
    );
    assert_eq!(
        definition(&infos, "predicates.isT.pattern").group,
        "Predicates: isT"
    );
    let n = names(&infos);
    let pos = |k: &str| n.iter().position(|x| *x == k).expect(k);
    assert!(pos("errors.deadletterqueue.context.headers.enable") < pos("transforms.drop.type"));
    assert!(pos("transforms.drop.exclude") < pos("transforms.a.type"));
    assert!(pos("transforms.a.type") < pos("predicates.isT.type"));
    assert!(pos("predicates.isT.pattern") < pos("file"));
    assert_eq!(n.last(), Some(&"value.converter.schemas.enable"));
}

#[test]
fn alias_problems_are_reported_on_the_right_keys() {
    let infos = validate(&valid(&[
        ("transforms", "a,a"),
        ("transforms.a.type", REPLACE_FIELD),
        ("transforms.a.predicate", "ghost"),
        ("predicates", "p"),
        ("predicates.p.type", TOPIC_NAME_MATCHES),
    ]));
    assert_eq!(
        errors(&infos, "transforms"),
        ["Invalid value [a, a] for configuration transforms: Duplicate alias provided."]
    );
    assert_eq!(
        errors(&infos, "transforms.a.predicate"),
        ["Invalid value ghost for configuration transforms.a.predicate: Predicate alias ghost is not listed in predicates"]
    );
    assert_eq!(
        errors(&infos, "predicates.p.pattern"),
        ["Missing required configuration \"predicates.p.pattern\" which has no default value."]
    );
    assert_eq!(infos.error_count, 3);

    let infos = validate(&valid(&[
        ("transforms", "a"),
        ("transforms.a.type", REPLACE_FIELD),
        ("transforms.a.negate", "true"),
    ]));
    assert_eq!(
        errors(&infos, "transforms.a.type"),
        ["Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated."]
    );
}

#[test]
fn unknown_keys_get_a_full_synthesized_definition() {
    let infos = validate(&valid(&[
        ("consumer.override.max.poll.records", "10"),
        ("value.converter.schemas.enable", "false"),
    ]));
    assert_eq!(infos.error_count, 0);
    assert_eq!(infos.groups.last().map(String::as_str), Some("Others"));
    let first = definition(&infos, "consumer.override.max.poll.records");
    let second = definition(&infos, "value.converter.schemas.enable");
    for def in [first, second] {
        assert_eq!(def.config_type, ConfigType::String);
        assert!(!def.required);
        assert_eq!(def.default_value, None);
        assert_eq!(def.importance, Importance::Low);
        assert_eq!(def.group, "Others");
        assert_eq!(def.width, Width::None);
        assert_eq!(def.display_name, def.name);
        assert!(def.documentation.contains("passed through"));
        assert!(def.dependents.is_empty());
    }
    assert_eq!((first.order, second.order), (1, 2));
    assert_eq!(
        value(&infos, "consumer.override.max.poll.records"),
        Some("10")
    );
}

#[test]
fn akhq_plugin_probe_is_complete() {
    let infos = validate(&props(&[
        ("connector.class", FILE_CLASS),
        ("topics", "getPlugins"),
    ]));
    assert_eq!(infos.name, FILE_CLASS);
    assert_eq!(
        errors(&infos, "name"),
        ["Missing required configuration \"name\" which has no default value."]
    );
    assert_eq!(infos.error_count, 1);
    assert_eq!(value(&infos, "topics"), Some("getPlugins"));
    assert_eq!(value(&infos, "file.fsync"), Some("true"));
    let json = serde_json::to_value(&infos).expect("serializes");
    for config in json["configs"].as_array().expect("configs") {
        assert!(config["definition"].is_object(), "{config}");
        let v = &config["value"]["value"];
        assert!(v.is_string() || v.is_null(), "{config}");
        assert!(config["definition"]["dependents"].is_array());
        assert!(config["value"]["recommended_values"].is_array());
        assert!(config["value"]["errors"].is_array());
        assert!(config["definition"]["group"].is_string());
    }
}

#[test]
fn name_echoes_the_submitted_class() {
    let infos = validate(&valid(&[("connector.class", "FileStreamSinkConnector")]));
    assert_eq!(infos.name, "FileStreamSinkConnector");
    assert_eq!(infos.error_count, 0);
    assert_eq!(infos.invalid_config_message(), None);
}

#[test]
fn invalid_config_message_text() {
    let infos = validate(&props(&[
        ("connector.class", "FileStreamSink"),
        ("tasks.max", "0"),
    ]));
    assert_eq!(
        infos.invalid_config_message().as_deref(),
        Some(
            "Connector configuration is invalid and contains the following 4 error(s):\n\
             Missing required configuration \"name\" which has no default value.\n\
             Invalid value 0 for configuration tasks.max: Value must be at least 1\n\
             Must configure one of topics or topics.regex\n\
             Must configure one of topics or topics.regex\n\
             You can also find the above list of errors at the endpoint \
             `/connector-plugins/{connectorType}/config/validate`"
        )
    );
}

#[test]
fn connector_hook_adds_errors_to_named_keys() {
    let p = valid(&[("file", "/tmp/out"), ("file.fsync", "false")]);
    let mut seen = None;
    let infos = validate_sink(
        "FileStreamSink",
        file_stream_sink(),
        framework_sink(),
        &p,
        &catalog(),
        |parsed, issues| {
            seen = Some((
                parsed.get_opt_str("file").map(|f| f.map(String::from)),
                parsed.get_bool("file.fsync"),
            ));
            if parsed.get_bool("file.fsync") == Ok(false) {
                issues.add_invalid("file.fsync", "false", "fsync is required for /tmp");
            }
            issues.add("custom.key", "custom problem");
        },
    );
    assert_consistent(&infos);
    assert_eq!(seen, Some((Ok(Some("/tmp/out".to_string())), Ok(false))));
    assert_eq!(
        errors(&infos, "file.fsync"),
        ["Invalid value false for configuration file.fsync: fsync is required for /tmp"]
    );
    assert_eq!(errors(&infos, "custom.key"), ["custom problem"]);
    assert_eq!(definition(&infos, "custom.key").group, "Others");
    assert_eq!(infos.error_count, 2);
}

// ---------------------------------------------------------------- serde & keys

#[test]
fn serialized_field_names_are_connects() {
    let infos = validate(&props(&[
        ("connector.class", "FileStreamSink"),
        ("topics", "t"),
    ]));
    let json = serde_json::to_value(&infos).expect("serializes");
    let keys = |v: &Value| -> Vec<String> {
        v.as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    let mut top = keys(&json);
    top.sort();
    assert_eq!(top, ["configs", "error_count", "groups", "name"]);
    let entry = &json["configs"][0];
    let mut info = keys(entry);
    info.sort();
    assert_eq!(info, ["definition", "value"]);
    let mut def = keys(&entry["definition"]);
    def.sort();
    assert_eq!(
        def,
        [
            "default_value",
            "dependents",
            "display_name",
            "documentation",
            "group",
            "importance",
            "name",
            "order",
            "required",
            "type",
            "width"
        ]
    );
    let mut val = keys(&entry["value"]);
    val.sort();
    assert_eq!(
        val,
        ["errors", "name", "recommended_values", "value", "visible"]
    );
    assert_eq!(entry["definition"]["type"], "STRING");
    assert_eq!(entry["definition"]["importance"], "HIGH");
    assert_eq!(entry["definition"]["width"], "MEDIUM");
    assert_eq!(entry["definition"]["order"], 1);
    // Java's field order, for byte-level diffing against a Java worker.
    let text = serde_json::to_string(&infos).expect("serializes");
    assert!(text.starts_with("{\"name\":\"FileStreamSink\",\"error_count\":1,\"groups\":"));
    assert!(text.contains(
        "{\"definition\":{\"name\":\"name\",\"type\":\"STRING\",\"required\":true,\"default_value\":null,\"importance\":\"HIGH\""
    ));
}

#[test]
fn java_responses_deserialize_including_null_members() {
    let java = r#"{
      "name": "org.apache.kafka.connect.file.FileStreamSinkConnector",
      "error_count": 1,
      "groups": ["Common"],
      "configs": [
        {"definition": {"name": "topics", "type": "LIST", "required": false, "default_value": "",
          "importance": "HIGH", "documentation": "List of topics to consume, separated by commas",
          "group": "Common", "width": "LONG", "display_name": "Topics", "dependents": [], "order": 4},
         "value": {"name": "topics", "value": "", "recommended_values": [],
          "errors": ["Must configure one of topics or topics.regex"], "visible": true}},
        {"definition": null,
         "value": {"name": "consumer.override.x", "value": "1", "recommended_values": [], "errors": [], "visible": true}}
      ]
    }"#;
    let infos: ConfigInfos = serde_json::from_str(java).expect("parses");
    assert_eq!(infos.error_count(), 1);
    assert!(infos.configs[1].definition.is_none());
    let def = infos.configs[0].definition.as_ref().expect("definition");
    assert_eq!(def.config_type, ConfigType::List);
    assert_eq!(def.order, 4);
}

/// A sink plugin that redefines the framework's `tasks.max`.
fn overriding_plugin() -> ConfigDef {
    load(&json!({
        "type": "object",
        "x-connect-class": "com.example.Sink",
        "x-connect-plugin-type": "sink",
        "x-connect-groups": ["Mine"],
        "properties": {
            "tasks.max": {
                "type": "integer", "x-connect-type": "INT", "default": 4, "maximum": 4,
                "description": "At most four.", "x-connect-importance": "LOW",
                "x-connect-group": "Mine", "x-connect-order": 1
            }
        }
    }))
}

#[test]
fn plugin_config_keys_puts_plugin_first_and_plugin_wins() {
    let keys = plugin_config_keys(file_stream_sink(), framework_sink());
    let names: Vec<&str> = keys.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(&names[..3], ["file", "file.fsync", "name"]);
    assert_eq!(names.len(), 22);

    let keys = plugin_config_keys(&overriding_plugin(), framework_sink());
    let tasks: Vec<&ConfigKeyInfo> = keys.iter().filter(|k| k.name == "tasks.max").collect();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].default_value.as_deref(), Some("4"));
    assert_eq!(keys[0].name, "tasks.max");
    assert_eq!(keys.len(), 20);
}

// ---------------------------------------------------------------- runtime access

#[test]
fn parsed_config_typed_getters() {
    let p = valid(&[
        ("tasks.max", "3"),
        ("errors.retry.timeout", "-1"),
        ("topics", "a, b"),
        ("consumer.override.max.poll.records", "10"),
    ]);
    let parsed = ParsedConfig::new(&[framework_sink(), file_stream_sink()], &p);
    assert_eq!(parsed.get_i32("tasks.max"), Ok(3));
    assert_eq!(parsed.get_i64("tasks.max"), Ok(3));
    assert_eq!(parsed.get_i64("errors.retry.timeout"), Ok(-1));
    assert_eq!(parsed.get_i64("errors.retry.delay.max.ms"), Ok(60000));
    assert_eq!(
        parsed.get_i32("errors.deadletterqueue.topic.replication.factor"),
        Ok(3)
    );
    assert_eq!(parsed.get_bool("file.fsync"), Ok(true));
    assert_eq!(parsed.get_str("errors.tolerance"), Ok("none"));
    assert_eq!(
        parsed.get_list("topics"),
        Ok(&["a".to_string(), "b".to_string()][..])
    );
    assert_eq!(parsed.get_opt_str("file"), Ok(None));
    assert_eq!(
        parsed.get_str("file"),
        Err(ConfigValueError::Null { key: "file".into() })
    );
    assert!(matches!(
        parsed.get_bool("tasks.max"),
        Err(ConfigValueError::WrongType {
            actual: ConfigType::Int,
            ..
        })
    ));
    assert_eq!(
        parsed.get_f64("nope"),
        Err(ConfigValueError::Unknown { key: "nope".into() })
    );
    assert_eq!(
        parsed.originals_with_prefix("consumer.override."),
        props(&[("max.poll.records", "10")])
    );
    assert_eq!(parsed.original("topics"), Some("a, b"));

    let bad = ParsedConfig::new(&[framework_sink()], &props(&[("tasks.max", "0")]));
    assert_eq!(
        bad.get_i32("tasks.max"),
        Err(ConfigValueError::Invalid {
            key: "tasks.max".into(),
            message: "Invalid value 0 for configuration tasks.max: Value must be at least 1".into()
        })
    );
    assert_eq!(
        bad.get_str("name"),
        Err(ConfigValueError::Missing { key: "name".into() })
    );
    assert_eq!(
        bad.get_str("name").map_err(|e| e.to_string()),
        Err("Missing required configuration \"name\" which has no default value.".to_string())
    );
}

#[test]
fn parsed_config_reads_passwords_and_doubles() {
    let p = props(&[("secret", " hunter22 "), ("d", "1e3")]);
    let parsed = ParsedConfig::new(&[&typed_schema()], &p);
    assert_eq!(parsed.get_password("secret"), Ok("hunter22"));
    assert_eq!(parsed.get_f64("d"), Ok(1000.0));
    assert_eq!(parsed.get_f64("ratio"), Ok(1.0));
}

#[test]
fn keys_sort_like_javas_sorted_configs() {
    let schema = minimal_schema(
        json!({
            "z.optional": key("STRING", "string", json!({"default": null, "x-connect-importance": "HIGH"})),
            "y.required": key("STRING", "string", json!({})),
            "a.later": key("STRING", "string", json!({"default": null, "x-connect-order": 2})),
            "b.low": key("STRING", "string", json!({"default": null})),
        }),
        json!(["y.required"]),
    );
    let def = load(&schema);
    let order: Vec<&str> = def.keys().map(|k| k.name.as_str()).collect();
    // Same order: required first, then importance, then name; higher order last.
    assert_eq!(order, ["y.required", "z.optional", "b.low", "a.later"]);
}

#[test]
fn validation_uses_the_plugins_redefinition_in_the_framework_position() {
    let p = props(&[
        ("name", "n"),
        ("connector.class", "com.example.Sink"),
        ("tasks.max", "5"),
    ]);
    let infos = validate_sink(
        "com.example.Sink",
        &overriding_plugin(),
        framework_sink(),
        &p,
        &catalog(),
        |_, _| {},
    );
    assert_consistent(&infos);
    assert_eq!(
        errors(&infos, "tasks.max"),
        ["Invalid value 5 for configuration tasks.max: Value must be no more than 4"]
    );
    let n = names(&infos);
    assert_eq!(n.iter().filter(|k| **k == "tasks.max").count(), 1);
    assert_eq!(n[2], "tasks.max");
    assert_eq!(definition(&infos, "tasks.max").group, "Mine");
    // Sink rules still apply on top of the plugin's definitions.
    assert_eq!(infos.error_count, 3);
}
