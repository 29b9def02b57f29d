//! Every ready-to-POST config under `connectors/` passes validation, so the examples stay true.

use std::collections::BTreeMap;

use sluice::connectors::Plugins;
use sluice::herder::validate::validate;
use sluice::rest::body::{config_map, strings, Nulls};
use sluice::worker::WorkerConfig;

#[test]
fn every_connector_example_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("connectors");
    let worker = WorkerConfig::from_raw(BTreeMap::new()).unwrap();
    let plugins = Plugins::builtin();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = v["name"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no name", path.display()));
        let mut config = strings(config_map(&v["config"], Nulls::Reject).unwrap());
        config.insert("name".into(), name.into());
        let class = config["connector.class"].clone();
        if sluice::connectors::debezium_proxy::rules::is_debezium(&class) {
            // Proxied to the Java cluster: checked with the rules applied before forwarding.
            let errors = sluice::connectors::debezium_proxy::rules::validate(&class, &config);
            assert_eq!(errors, vec![], "{}", path.display());
            checked += 1;
            continue;
        }
        let infos = validate(&plugins, &worker, None, &config).unwrap();
        assert_eq!(infos.invalid_config_message(), None, "{}", path.display());
        checked += 1;
    }
    assert!(
        checked >= 1,
        "no connector examples found in {}",
        dir.display()
    );
}
