//! The transformation and predicate classes Sluice implements: their config definitions
//! (embedded `schemas/transforms/*.json`) and how each is built from its keys.

use std::sync::OnceLock;

use crate::configdef::{ConfigDef, ParsedConfig, PluginType};

use super::support::Side;
use super::{
    cast, extract_field, extract_new_record_state, flatten, hoist_field, insert_field, mask_field,
    predicates, regex_router, replace_field, timestamp_converter, timestamp_router, value_to_key,
    Predicate, Transformation,
};

/// `org.apache.kafka.connect.transforms.RegexRouter`.
pub const REGEX_ROUTER: &str = "org.apache.kafka.connect.transforms.RegexRouter";
/// `org.apache.kafka.connect.transforms.Filter`.
pub const FILTER: &str = "org.apache.kafka.connect.transforms.Filter";
/// `io.debezium.transforms.ExtractNewRecordState`.
pub const EXTRACT_NEW_RECORD_STATE: &str = "io.debezium.transforms.ExtractNewRecordState";
/// `org.apache.kafka.connect.transforms.predicates.TopicNameMatches`.
pub const TOPIC_NAME_MATCHES: &str =
    "org.apache.kafka.connect.transforms.predicates.TopicNameMatches";
/// `org.apache.kafka.connect.transforms.predicates.HasHeaderKey`.
pub const HAS_HEADER_KEY: &str = "org.apache.kafka.connect.transforms.predicates.HasHeaderKey";
/// `org.apache.kafka.connect.transforms.predicates.RecordIsTombstone`.
pub const RECORD_IS_TOMBSTONE: &str =
    "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone";

/// Builds a transformation from its parsed keys; `Side` comes from the `$Key`/`$Value` suffix.
pub(crate) type TransformBuilder =
    fn(&ParsedConfig, Side) -> Result<Box<dyn Transformation>, String>;
/// Builds a predicate from its parsed keys.
pub(crate) type PredicateBuilder = fn(&ParsedConfig) -> Result<Box<dyn Predicate>, String>;

#[derive(Clone, Copy)]
pub(crate) enum Builder {
    Transform(TransformBuilder),
    Predicate(PredicateBuilder),
}

/// One implemented class (with its `$Key`/`$Value` variants as aliases).
pub(crate) struct Plugin {
    pub(crate) def: ConfigDef,
    pub(crate) build: Builder,
}

const EMBEDDED: &[(&str, &str, Builder)] = &[
    (
        "insert-field.json",
        include_str!("../../schemas/transforms/insert-field.json"),
        Builder::Transform(insert_field::build),
    ),
    (
        "replace-field.json",
        include_str!("../../schemas/transforms/replace-field.json"),
        Builder::Transform(replace_field::build),
    ),
    (
        "mask-field.json",
        include_str!("../../schemas/transforms/mask-field.json"),
        Builder::Transform(mask_field::build),
    ),
    (
        "cast.json",
        include_str!("../../schemas/transforms/cast.json"),
        Builder::Transform(cast::build),
    ),
    (
        "timestamp-converter.json",
        include_str!("../../schemas/transforms/timestamp-converter.json"),
        Builder::Transform(timestamp_converter::build),
    ),
    (
        "extract-field.json",
        include_str!("../../schemas/transforms/extract-field.json"),
        Builder::Transform(extract_field::build),
    ),
    (
        "value-to-key.json",
        include_str!("../../schemas/transforms/value-to-key.json"),
        Builder::Transform(value_to_key::build),
    ),
    (
        "hoist-field.json",
        include_str!("../../schemas/transforms/hoist-field.json"),
        Builder::Transform(hoist_field::build),
    ),
    (
        "flatten.json",
        include_str!("../../schemas/transforms/flatten.json"),
        Builder::Transform(flatten::build),
    ),
    (
        "regex-router.json",
        include_str!("../../schemas/transforms/regex-router.json"),
        Builder::Transform(regex_router::build),
    ),
    (
        "timestamp-router.json",
        include_str!("../../schemas/transforms/timestamp-router.json"),
        Builder::Transform(timestamp_router::build),
    ),
    (
        "filter.json",
        include_str!("../../schemas/transforms/filter.json"),
        Builder::Transform(predicates::build_filter),
    ),
    (
        "extract-new-record-state.json",
        include_str!("../../schemas/transforms/extract-new-record-state.json"),
        Builder::Transform(extract_new_record_state::build),
    ),
    (
        "topic-name-matches.json",
        include_str!("../../schemas/transforms/topic-name-matches.json"),
        Builder::Predicate(predicates::build_topic_name_matches),
    ),
    (
        "has-header-key.json",
        include_str!("../../schemas/transforms/has-header-key.json"),
        Builder::Predicate(predicates::build_has_header_key),
    ),
    (
        "record-is-tombstone.json",
        include_str!("../../schemas/transforms/record-is-tombstone.json"),
        Builder::Predicate(predicates::build_record_is_tombstone),
    ),
];

/// Every implemented class, loaded once.
pub(crate) fn plugins() -> &'static [Plugin] {
    static ALL: OnceLock<Vec<Plugin>> = OnceLock::new();
    ALL.get_or_init(|| {
        EMBEDDED
            .iter()
            .map(|(file, text, build)| Plugin {
                // Embedded files are fixed at build time and the `embedded_schemas_load`
                // test loads each one, so this cannot fail in a tested build.
                def: ConfigDef::from_schema_str(text).unwrap_or_else(|e| {
                    panic!("embedded schema transforms/{file} is invalid: {e}")
                }),
                build: *build,
            })
            .collect()
    })
}

fn find(class: &str, ty: PluginType) -> Option<&'static Plugin> {
    plugins()
        .iter()
        .find(|p| p.def.plugin_type() == ty && p.def.is_named(class))
}

pub(crate) fn find_transform(class: &str) -> Option<&'static Plugin> {
    find(class, PluginType::Transformation)
}

pub(crate) fn find_predicate(class: &str) -> Option<&'static Plugin> {
    find(class, PluginType::Predicate)
}

/// The config definition of a transformation class (`...$Key`/`...$Value` included).
pub fn transform_def(class: &str) -> Option<&'static ConfigDef> {
    find_transform(class).map(|p| &p.def)
}

/// The config definition of a predicate class.
pub fn predicate_def(class: &str) -> Option<&'static ConfigDef> {
    find_predicate(class).map(|p| &p.def)
}

fn classes(ty: PluginType) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = plugins()
        .iter()
        .filter(|p| p.def.plugin_type() == ty)
        .flat_map(|p| {
            std::iter::once(p.def.class()).chain(p.def.aliases().iter().map(String::as_str))
        })
        .collect();
    // Connect lists plugins of one type sorted by class name.
    out.sort_unstable();
    out
}

/// Every transformation class name (both `$Key` and `$Value` variants), sorted.
pub fn transformation_classes() -> Vec<&'static str> {
    classes(PluginType::Transformation)
}

/// Every predicate class name, sorted.
pub fn predicate_classes() -> Vec<&'static str> {
    classes(PluginType::Predicate)
}
