//! Connector config definitions and validation, compatible with Kafka Connect.
//!
//! Each plugin's config keys are defined once, in a JSON Schema file
//! (`schemas/<plugin>.json`). From it this module derives Connect's
//! `ConfigKeyInfo` definitions (`GET /connector-plugins/{p}/config`), the
//! `ConfigInfos` result of validating a submitted string map (the validate
//! endpoint and create/update), with Java Connect's exact texts, and typed
//! values for the runtime ([`ParsedConfig`]).
//!
//! # Schema file format
//!
//! Draft 2020-12 JSON Schema with `"type": "object"` and one entry in
//! `properties` per config key. Standard keywords do the per-key checks
//! (`type`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
//! `enum`, `pattern`, `minLength`, `maxLength`, `items`, `uniqueItems`, ...);
//! top-level keywords that relate several keys (`additionalProperties`,
//! `allOf`, `if`, `dependentRequired`, ...) are rejected: cross-field rules
//! are Rust code (the `extra` hook of [`validate_sink`]).
//!
//! Top level:
//! - `x-connect-class` (required): canonical class name.
//! - `x-connect-aliases`: other names accepted in `connector.class`.
//! - `x-connect-plugin-type` (required): `sink`, `source`, `converter`,
//!   `header_converter`, `transformation` or `predicate`.
//! - `x-connect-version`: plugin version.
//! - `x-connect-groups`: group names in display order.
//! - `required`: exactly the keys that have no `default`.
//!
//! Per property:
//! - `x-connect-type` (required): `BOOLEAN`, `STRING`, `INT`, `SHORT`,
//!   `LONG`, `DOUBLE`, `LIST`, `CLASS` or `PASSWORD`; `type` must be the
//!   matching JSON type (`boolean`; `string` for STRING/CLASS/PASSWORD;
//!   `integer` for INT/SHORT/LONG; `number`; `array` of strings for LIST).
//! - `description` (required): the documentation.
//! - `default`: present ⇒ not required; `null` ⇒ optional with a null
//!   default; absent ⇒ required (and then listed in `required`). A string
//!   default is parsed like a submitted value; the default must pass the
//!   key's own checks.
//! - `x-connect-importance` (required): `HIGH`, `MEDIUM`, `LOW`.
//! - `x-connect-group`: one of `x-connect-groups`; required for connectors
//!   (transform/predicate keys are shown under their alias group instead).
//! - `x-connect-order` (required): position in the group.
//! - `x-connect-width`: `NONE` (default), `SHORT`, `MEDIUM`, `LONG`.
//! - `x-connect-display-name`: label; defaults to the key name.
//! - `x-connect-dependents`: keys of this schema that depend on this one.
//! - `x-connect-recommended`: values a UI may offer; otherwise taken from
//!   `enum` (or `items.enum` for LIST).
//! - `x-connect-message`: reason used when a check other than `minimum`,
//!   `maximum`, `enum` or `minLength: 1` fails (those have Java's texts).
//! - `x-connect-validator`: a Java validator whose exact messages JSON Schema
//!   cannot express: `non-empty-string-without-control-chars` or `regex`. It
//!   replaces the schema keywords' messages for that key; keep mirroring
//!   keywords (`minLength`, `pattern`) for other readers of the schema.
//!
//! An unknown `x-connect-*` keyword fails loading, as does any inconsistency
//! above. Keys are served in Java's `sortedConfigs` order: group position,
//! `x-connect-order`, required first, importance, name.
//!
//! # Validation
//!
//! Each submitted value is parsed by its Connect type (`ConfigDef.parseType`:
//! trimmed, case-insensitive booleans, range-checked integers, comma lists),
//! and the typed object goes through the compiled JSON Schema. A value that
//! does not parse gets Java's parse error only, and `value` null (as Java);
//! a value that parses but fails a check keeps its value and gets
//! `Invalid value V for configuration K: reason`.

mod parse;
mod parsed;
mod schema;
pub mod schemas;
mod sink;
mod types;
mod validate;

#[cfg(test)]
mod tests;

pub use parsed::{ConfigValueError, ParsedConfig};
pub use schema::{ConfigDef, ConfigDefError, PluginType};
pub use sink::{plugin_config_keys, validate_sink, ConfigIssues, PluginCatalog};
pub use types::{
    ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigType, ConfigValueInfo, Importance, Width,
};

/// `(key, message)` validation errors as one line, `key: message; key: message` (task traces,
/// offsets API errors).
pub fn describe_errors(errors: &[(String, String)]) -> String {
    errors
        .iter()
        .map(|(k, m)| format!("{k}: {m}"))
        .collect::<Vec<_>>()
        .join("; ")
}
