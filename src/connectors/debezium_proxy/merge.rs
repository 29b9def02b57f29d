//! Merging native and upstream answers without changing Connect's shapes: connector listings
//! (plain and `expand`), plugin lists, and validate results with local rule errors added.

use serde_json::{json, Map, Value};

use super::config::class_matches;
use super::rules::Errors;

/// Adds one upstream's `GET /connectors[?expand=..]` answer to the merged one. Native entries
/// win on a duplicate name (the duplicate is returned so the caller can log it). Returns the
/// upstream's names, or `None` when its answer has the wrong shape.
pub fn add_listing(merged: &mut Value, upstream: &Value) -> Option<(Vec<String>, Vec<String>)> {
    let mut names = Vec::new();
    let mut duplicates = Vec::new();
    match (merged, upstream) {
        (Value::Array(all), Value::Array(theirs)) => {
            for n in theirs {
                let Some(s) = n.as_str() else { continue };
                names.push(s.to_string());
                if all.iter().any(|x| x.as_str() == Some(s)) {
                    duplicates.push(s.to_string());
                } else {
                    all.push(n.clone());
                }
            }
        }
        (Value::Object(all), Value::Object(theirs)) => {
            for (k, entry) in theirs {
                names.push(k.clone());
                if all.contains_key(k) {
                    duplicates.push(k.clone());
                } else {
                    all.insert(k.clone(), entry.clone());
                }
            }
        }
        _ => return None,
    }
    Some((names, duplicates))
}

/// Adds an upstream's connector plugins to the merged `GET /connector-plugins` list: only
/// connector plugins (`source`/`sink`) whose class this upstream is routed for, and only
/// classes not listed yet (native plugins win). Converters and transforms stay Sluice's own.
pub fn add_plugins(
    merged: &mut Vec<Value>,
    upstream: &[Value],
    patterns: &[String],
    is_native: impl Fn(&str) -> bool,
) {
    for p in upstream {
        let Some(class) = p.get("class").and_then(Value::as_str) else {
            continue;
        };
        let connector = matches!(
            p.get("type").and_then(Value::as_str),
            Some("source") | Some("sink")
        );
        if !connector || is_native(class) || !patterns.iter().any(|pat| class_matches(pat, class)) {
            continue;
        }
        if merged
            .iter()
            .any(|m| m.get("class").and_then(Value::as_str) == Some(class))
        {
            continue;
        }
        merged.push(p.clone());
    }
}

/// A definition for a key the upstream's answer lacks, so every entry keeps a non-null
/// `definition` (AKHQ fails on null).
fn local_definition(key: &str) -> Value {
    json!({
        "name": key,
        "type": "STRING",
        "required": false,
        "default_value": null,
        "importance": "MEDIUM",
        "documentation": "",
        "group": "Common",
        "width": "NONE",
        "display_name": key,
        "dependents": [],
        "order": -1,
    })
}

/// Adds local rule errors to an upstream `ConfigInfos` (same key → same entry, a message once)
/// and recomputes `error_count` as the sum of all messages.
pub fn add_validate_errors(infos: &mut Value, errors: &Errors, config: &Map<String, Value>) {
    let Some(obj) = infos.as_object_mut() else {
        return;
    };
    let configs = obj
        .entry("configs")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !configs.is_array() {
        *configs = Value::Array(Vec::new());
    }
    if let Value::Array(list) = configs {
        for (key, message) in errors {
            let pos = list.iter().position(|c| {
                c.get("value")
                    .and_then(|v| v.get("name"))
                    .and_then(Value::as_str)
                    == Some(key.as_str())
            });
            let entry = match pos {
                Some(i) => &mut list[i],
                None => {
                    list.push(json!({
                        "definition": local_definition(key),
                        "value": {
                            "name": key,
                            "value": config.get(key).cloned().unwrap_or(Value::Null),
                            "recommended_values": [],
                            "errors": [],
                            "visible": true,
                        },
                    }));
                    let last = list.len() - 1;
                    &mut list[last]
                }
            };
            if let Some(value) = entry.get_mut("value").and_then(Value::as_object_mut) {
                let errs = value
                    .entry("errors")
                    .or_insert_with(|| Value::Array(Vec::new()));
                if !errs.is_array() {
                    *errs = Value::Array(Vec::new());
                }
                if let Value::Array(e) = errs {
                    if !e.iter().any(|x| x.as_str() == Some(message.as_str())) {
                        e.push(Value::String(message.clone()));
                    }
                }
            }
        }
        let count: usize = list
            .iter()
            .filter_map(|c| c.get("value")?.get("errors")?.as_array().map(Vec::len))
            .sum();
        obj.insert("error_count".into(), json!(count));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_merge_listings_plain_and_expanded() {
        let mut plain = json!(["a", "b"]);
        let (names, dups) = add_listing(&mut plain, &json!(["b", "c"])).unwrap();
        assert_eq!(plain, json!(["a", "b", "c"]));
        assert_eq!(names, vec!["b", "c"]);
        assert_eq!(dups, vec!["b"]);
        let mut exp = json!({"a": {"info": {"name": "a"}}});
        add_listing(&mut exp, &json!({"c": {"info": {"name": "c"}}})).unwrap();
        assert_eq!(exp["c"]["info"]["name"], "c");
        assert!(add_listing(&mut exp, &json!(["x"])).is_none());
    }

    #[test]
    fn proxy_merge_plugins_keeps_routable_connectors_only() {
        let mut merged = vec![json!({"class": "FileStreamSink", "type": "sink"})];
        let upstream = vec![
            json!({"class": "io.debezium.connector.postgresql.PostgresConnector", "type": "source", "version": "3.0.0.Final"}),
            json!({"class": "org.apache.kafka.connect.mirror.MirrorSourceConnector", "type": "source"}),
            json!({"class": "io.debezium.transforms.ExtractNewRecordState", "type": "transformation"}),
            json!({"class": "FileStreamSink", "type": "sink"}),
        ];
        add_plugins(
            &mut merged,
            &upstream,
            &["io.debezium.*".into(), "FileStreamSink".into()],
            |c| c == "FileStreamSink",
        );
        let classes: Vec<&str> = merged
            .iter()
            .map(|p| p["class"].as_str().unwrap())
            .collect();
        assert_eq!(
            classes,
            vec![
                "FileStreamSink",
                "io.debezium.connector.postgresql.PostgresConnector"
            ]
        );
        assert_eq!(merged[1]["version"], "3.0.0.Final");
    }

    #[test]
    fn proxy_merge_validate_adds_errors_and_recounts() {
        let mut infos = json!({
            "name": "io.debezium.connector.postgresql.PostgresConnector",
            "error_count": 1,
            "groups": ["Common"],
            "configs": [
                {"definition": {"name": "database.hostname"}, "value": {"name": "database.hostname", "value": "x y", "recommended_values": [], "errors": ["Error while validating connector config: down"], "visible": true}},
                {"definition": {"name": "slot.name"}, "value": {"name": "slot.name", "value": "S", "recommended_values": [], "errors": [], "visible": true}}
            ]
        });
        let errors = vec![
            ("slot.name".to_string(), "bad slot".to_string()),
            ("slot.name".to_string(), "bad slot".to_string()),
            ("database.server.name".to_string(), "renamed".to_string()),
        ];
        let config: Map<String, Value> =
            serde_json::from_value(json!({"database.server.name": "shop"})).unwrap();
        add_validate_errors(&mut infos, &errors, &config);
        assert_eq!(infos["error_count"], 3);
        assert_eq!(infos["configs"][1]["value"]["errors"], json!(["bad slot"]));
        assert_eq!(
            infos["configs"][2]["definition"]["name"],
            "database.server.name"
        );
        assert_eq!(infos["configs"][2]["value"]["value"], "shop");
        assert_eq!(infos["configs"][2]["value"]["errors"], json!(["renamed"]));
    }
}
