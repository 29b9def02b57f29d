//! Request bodies and query strings, parsed leniently where Connect clients send odd things
//! (`null` and `""` on action endpoints, scalars as config values, a repeated `expand`).

use std::collections::BTreeMap;

use axum::body::Bytes;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::ApiError;

/// Parses a JSON body; malformed JSON is a 400 saying what is wrong.
pub fn json<T: DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request(
            "Request body is empty; a JSON body is required",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))
}

/// How `null` config values are treated.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nulls {
    /// POST/PUT: a null value is an error (Connect's text).
    Reject,
    /// PATCH: a null value deletes the key.
    Delete,
    /// Validate: null values are left out.
    Drop,
}

/// The Connect text for a null config value, in the invalid-config message shape.
fn null_value_error() -> ApiError {
    ApiError::bad_request(
        "Connector configuration is invalid and contains the following 1 error(s):\n\
         Null value can not be supplied as the configuration value.\n\
         You can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
    )
}

/// A config map: JSON strings kept, numbers and booleans coerced to strings, nulls per `nulls`.
pub fn config_map(
    value: &Value,
    nulls: Nulls,
) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request(format!(
            "Connector config must be a JSON object of string values, got {}",
            kind(value)
        )));
    };
    let mut out = BTreeMap::new();
    for (k, v) in map {
        let s = match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Null => match nulls {
                Nulls::Reject => return Err(null_value_error()),
                Nulls::Delete => None,
                Nulls::Drop => continue,
            },
            other => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for configuration {k}: expected a string, got {}",
                    kind(other)
                )))
            }
        };
        out.insert(k.clone(), s);
    }
    Ok(out)
}

/// A config map with no nulls left (after `Nulls::Reject` or `Nulls::Drop`).
pub fn strings(map: BTreeMap<String, Option<String>>) -> BTreeMap<String, String> {
    map.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// All values of a (possibly repeated) query parameter.
pub fn query_all(query: Option<&str>, name: &str) -> Vec<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

/// A boolean query parameter (`true`/`false`, case-insensitive); absent means `default`.
pub fn query_bool(query: Option<&str>, name: &str, default: bool) -> Result<bool, ApiError> {
    match query_all(query, name)
        .last()
        .map(|v| v.to_ascii_lowercase())
    {
        None => Ok(default),
        Some(v) if v == "true" => Ok(true),
        Some(v) if v == "false" => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!(
            "Invalid value {v} for query parameter {name}: expected true or false"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn coerces_scalars_and_handles_nulls() {
        let v = json!({"a": "x", "b": 1, "c": true, "d": null});
        assert!(config_map(&v, Nulls::Reject).is_err());
        let m = config_map(&v, Nulls::Delete).unwrap();
        assert_eq!(m["b"], Some("1".into()));
        assert_eq!(m["c"], Some("true".into()));
        assert_eq!(m["d"], None);
        assert!(!config_map(&v, Nulls::Drop).unwrap().contains_key("d"));
        assert!(config_map(&json!({"a": {"x": 1}}), Nulls::Drop).is_err());
        assert!(config_map(&json!([1]), Nulls::Drop).is_err());
    }

    #[test]
    fn repeated_query_values() {
        assert_eq!(
            query_all(Some("expand=info&expand=status&forward=true"), "expand"),
            vec!["info", "status"]
        );
        assert!(query_bool(Some("includeTasks=TRUE"), "includeTasks", false).unwrap());
        assert!(query_bool(Some("x=1"), "includeTasks", false).is_ok());
        assert!(query_bool(Some("includeTasks=maybe"), "includeTasks", false).is_err());
    }
}
