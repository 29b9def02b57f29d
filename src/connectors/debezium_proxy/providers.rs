//! Config providers: `${env:VAR}` and `${file:/path:key}` placeholders, as Kafka's
//! `EnvVarConfigProvider` and `FileConfigProvider` resolve them.
//!
//! As in Connect they are opt-in: only providers named in the worker's `config.providers`
//! resolve (a posted config must not be able to read any file of the host by default).
//! Unknown providers and missing keys leave the placeholder as is, which is what Connect's
//! `ConfigTransformer` does.

use std::collections::BTreeMap;
use std::path::Path;

use thiserror::Error;

use crate::worker::WorkerConfig;

const ENV_CLASS: &str = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
const FILE_CLASS: &str = "org.apache.kafka.common.config.provider.FileConfigProvider";

/// A placeholder that names a configured provider but cannot be resolved.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ProviderError {
    /// `${file:path:key}` whose file cannot be read.
    #[error("config provider 'file' cannot read {path} (referenced by {config_key}): {reason}")]
    File {
        /// The file.
        path: String,
        /// The connector config key holding the placeholder.
        config_key: String,
        /// I/O or parse error.
        reason: String,
    },
}

/// The enabled providers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigProviders {
    env: Vec<String>,
    file: Vec<String>,
}

impl ConfigProviders {
    /// From `config.providers=a,b` and `config.providers.<a>.class`; a provider named `env` or
    /// `file` without a class gets the matching built-in.
    pub fn from_worker(worker: &WorkerConfig) -> ConfigProviders {
        Self::from_raw(&worker.raw)
    }

    /// As [`ConfigProviders::from_worker`], from raw worker keys.
    pub fn from_raw(raw: &BTreeMap<String, String>) -> ConfigProviders {
        let mut out = ConfigProviders::default();
        let list = raw
            .get("config.providers")
            .map(String::as_str)
            .unwrap_or("");
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let class = raw
                .get(&format!("config.providers.{name}.class"))
                .map(|c| c.trim().to_string());
            match (name, class.as_deref()) {
                (_, Some(ENV_CLASS)) | ("env", None) => out.env.push(name.to_string()),
                (_, Some(FILE_CLASS)) | ("file", None) => out.file.push(name.to_string()),
                (_, other) => tracing::debug!(
                    "config provider '{name}' ({}) is not supported by Sluice; its placeholders stay unresolved",
                    other.unwrap_or("no class")
                ),
            }
        }
        out
    }

    /// True when no provider is enabled.
    pub fn is_empty(&self) -> bool {
        self.env.is_empty() && self.file.is_empty()
    }

    /// Resolves every value of a config. Values without placeholders are returned unchanged.
    pub fn resolve(
        &self,
        config: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        if self.is_empty() {
            return Ok(config.clone());
        }
        let mut files: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        config
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.resolve_value(k, v, &mut files)?)))
            .collect()
    }

    fn resolve_value(
        &self,
        config_key: &str,
        value: &str,
        files: &mut BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<String, ProviderError> {
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                return Ok(out);
            };
            let body = &after[..end];
            let original = &rest[start..start + 2 + end + 1];
            out.push_str(
                &self
                    .lookup(config_key, body, files)?
                    .unwrap_or_else(|| original.to_string()),
            );
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `provider:[path:]key`, split as Connect's pattern `([^}]*?):(([^}]*?):)?([^}]*?)` does.
    fn lookup(
        &self,
        config_key: &str,
        body: &str,
        files: &mut BTreeMap<String, BTreeMap<String, String>>,
    ) -> Result<Option<String>, ProviderError> {
        let Some((provider, rest)) = body.split_once(':') else {
            return Ok(None);
        };
        let (path, key) = match rest.split_once(':') {
            Some((p, k)) => (Some(p), k),
            None => (None, rest),
        };
        if self.env.iter().any(|n| n == provider) {
            if path.is_some_and(|p| !p.is_empty()) {
                return Ok(None);
            }
            return Ok(std::env::var(key).ok());
        }
        if self.file.iter().any(|n| n == provider) {
            let Some(path) = path else {
                return Ok(None);
            };
            if !files.contains_key(path) {
                let props =
                    read_properties(Path::new(path)).map_err(|reason| ProviderError::File {
                        path: path.to_string(),
                        config_key: config_key.to_string(),
                        reason,
                    })?;
                files.insert(path.to_string(), props);
            }
            return Ok(files.get(path).and_then(|p| p.get(key)).cloned());
        }
        Ok(None)
    }
}

/// True when a value holds a `${...}` placeholder.
pub fn has_placeholder(value: &str) -> bool {
    value.find("${").is_some_and(|i| value[i..].contains('}'))
}

fn read_properties(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    java_properties::read(std::io::BufReader::new(f))
        .map(|m| m.into_iter().collect())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn proxy_providers_resolve_env_and_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pg.properties");
        std::fs::write(&file, "password=s3cret\nuser = app\n").unwrap();
        std::env::set_var("SLUICE_PROVIDER_TEST_HOST", "db.internal");
        let p = ConfigProviders::from_raw(&raw(&[("config.providers", "env,file")]));
        let c = raw(&[
            ("database.hostname", "${env:SLUICE_PROVIDER_TEST_HOST}"),
            (
                "database.password",
                &format!("${{file:{}:password}}", file.display()),
            ),
            ("mixed", &format!("u=${{file:{}:user}};x", file.display())),
            ("unknown", "${vault:secret/x:y}"),
            ("missing.key", &format!("${{file:{}:nope}}", file.display())),
            ("plain", "x"),
        ]);
        let r = p.resolve(&c).unwrap();
        assert_eq!(r["database.hostname"], "db.internal");
        assert_eq!(r["database.password"], "s3cret");
        assert_eq!(r["mixed"], "u=app;x");
        assert_eq!(r["unknown"], "${vault:secret/x:y}");
        assert_eq!(r["missing.key"], c["missing.key"]);
        assert_eq!(r["plain"], "x");
    }

    #[test]
    fn proxy_providers_are_opt_in_and_file_errors_name_the_key() {
        let c = raw(&[("a", "${env:HOME}")]);
        assert_eq!(ConfigProviders::from_raw(&raw(&[])).resolve(&c).unwrap(), c);
        let p = ConfigProviders::from_raw(&raw(&[
            ("config.providers", "secrets"),
            ("config.providers.secrets.class", FILE_CLASS),
        ]));
        let e = p
            .resolve(&raw(&[(
                "database.password",
                "${secrets:/nonexistent/x:password}",
            )]))
            .unwrap_err();
        assert!(e.to_string().contains("database.password"), "{e}");
        assert!(has_placeholder("${env:X}"));
        assert!(!has_placeholder("$x {y}"));
    }
}
