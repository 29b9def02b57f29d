//! Worker settings of the upstream Connect clusters (`upstream.connect.*`).
//!
//! One upstream: `upstream.connect.url` plus settings directly under `upstream.connect.`.
//! Several: `upstream.connect.clusters=a,b` and `upstream.connect.<cluster>.<setting>`; a setting
//! missing for a cluster falls back to `upstream.connect.<setting>`, so shared timeouts or class
//! patterns are written once.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::worker::{WorkerConfig, WorkerConfigError};

/// Prefix of every proxy setting.
pub const PREFIX: &str = "upstream.connect.";

/// Class patterns proxied when none are configured.
pub const DEFAULT_CLASSES: &str = "io.debezium.*";

/// Cluster name of the single-URL form unless `upstream.connect.name` says otherwise.
pub const DEFAULT_CLUSTER_NAME: &str = "upstream";

/// Setting names that cannot be cluster names (they would make keys ambiguous).
const RESERVED: &[&str] = &[
    "url", "name", "clusters", "classes", "defaults", "basic", "ssl", "connect", "request",
    "resolve",
];

/// A secret string: never shown by `Debug` or `Display`, so it cannot reach a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    /// The value, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[hidden]")
    }
}

/// TLS options of one upstream (PEM files, as rustls reads them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `ssl.ca.location`: extra CA certificates (PEM bundle) trusted besides the system store.
    pub ca_location: Option<PathBuf>,
    /// `ssl.certificate.location`: client certificate (PEM) for mutual TLS.
    pub certificate_location: Option<PathBuf>,
    /// `ssl.key.location`: the client certificate's private key (PEM).
    pub key_location: Option<PathBuf>,
    /// `ssl.verify.hostname` (default true).
    pub verify_hostname: bool,
    /// `ssl.verify.certificate` (default true); false accepts any certificate (tests only).
    pub verify_certificate: bool,
}

/// One upstream Connect cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamConfig {
    /// Name used in logs and error bodies.
    pub name: String,
    /// Base URL without trailing slash and without user info.
    pub url: String,
    /// `basic.auth.username` (or the URL's user info).
    pub username: Option<String>,
    /// `basic.auth.password`.
    pub password: Option<Secret>,
    /// TLS options.
    pub tls: TlsOptions,
    /// `connect.timeout.ms` (default 2000): how long a TCP/TLS connect may take.
    pub connect_timeout: Duration,
    /// `request.timeout.ms` (default 5000): a whole request, answer included.
    pub request_timeout: Duration,
    /// `classes`: `connector.class` patterns this cluster hosts (`*` matches any run).
    pub classes: Vec<String>,
}

/// Proxy settings of the worker.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProxyConfig {
    /// Upstream clusters, in routing order (the first whose patterns match a class wins).
    pub upstreams: Vec<UpstreamConfig>,
    /// `upstream.connect.defaults.<SimpleClassName>.<key>=<value>`: keys added to a proxied
    /// config when absent, keyed by the class's simple name (class names contain dots).
    pub defaults: BTreeMap<String, BTreeMap<String, String>>,
    /// `upstream.connect.resolve.config.providers` (default false): resolve `${env:..}` /
    /// `${file:..}` before forwarding instead of leaving them to the upstream's providers.
    pub resolve_config_providers: bool,
}

fn invalid(key: &str, value: &str, reason: &str) -> WorkerConfigError {
    WorkerConfigError::InvalidValue {
        key: key.to_string(),
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// `*`-glob match of a class name against a pattern.
pub fn class_matches(pattern: &str, class: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == class;
    }
    let mut rest = class;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(part) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else {
            match rest.find(part) {
                Some(at) => rest = &rest[at + part.len()..],
                None => return false,
            }
        }
    }
    true
}

impl ProxyConfig {
    /// Reads the proxy settings; an empty `upstreams` means the proxy is off.
    pub fn from_worker(worker: &WorkerConfig) -> Result<ProxyConfig, WorkerConfigError> {
        Self::from_raw(&worker.raw)
    }

    /// As [`ProxyConfig::from_worker`], from raw worker keys.
    pub fn from_raw(raw: &BTreeMap<String, String>) -> Result<ProxyConfig, WorkerConfigError> {
        let get = |k: &str| {
            raw.get(&format!("{PREFIX}{k}"))
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
        };
        let mut names: Vec<String> = Vec::new();
        let single = get("url").is_some();
        if let Some(list) = get("clusters") {
            if single {
                return Err(invalid(
                    "upstream.connect.url",
                    get("url").unwrap_or_default(),
                    "set either upstream.connect.url or upstream.connect.clusters, not both",
                ));
            }
            for n in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                if RESERVED.contains(&n) || n.contains('.') {
                    return Err(invalid(
                        "upstream.connect.clusters",
                        list,
                        &format!("'{n}' cannot be a cluster name (reserved or contains a dot)"),
                    ));
                }
                if names.iter().any(|x| x == n) {
                    return Err(invalid(
                        "upstream.connect.clusters",
                        list,
                        &format!("cluster '{n}' is listed twice"),
                    ));
                }
                names.push(n.to_string());
            }
        }
        let mut upstreams = Vec::new();
        if single {
            let name = get("name").unwrap_or(DEFAULT_CLUSTER_NAME).to_string();
            upstreams.push(upstream(raw, &name, None)?);
        }
        for n in &names {
            upstreams.push(upstream(raw, n, Some(n))?);
        }
        let mut defaults: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in raw {
            if let Some(rest) = k.strip_prefix("upstream.connect.defaults.") {
                match rest.split_once('.') {
                    Some((class, key)) if !class.is_empty() && !key.is_empty() => {
                        defaults
                            .entry(class.to_string())
                            .or_default()
                            .insert(key.to_string(), v.clone());
                    }
                    _ => {
                        return Err(invalid(
                            k,
                            v,
                            "expected upstream.connect.defaults.<SimpleClassName>.<config key>",
                        ))
                    }
                }
            }
        }
        let resolve_config_providers = match get("resolve.config.providers") {
            None => false,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                return Err(invalid(
                    "upstream.connect.resolve.config.providers",
                    v,
                    "Expected value to be either true or false",
                ))
            }
        };
        Ok(ProxyConfig {
            upstreams,
            defaults,
            resolve_config_providers,
        })
    }

    /// Defaults for a class (by its simple name, the part after the last dot). The name
    /// matches case-insensitively because `CONNECT_*` environment variables arrive lowercased.
    pub fn defaults_for(&self, class: &str) -> Option<&BTreeMap<String, String>> {
        let simple = class.trim().rsplit('.').next().unwrap_or(class);
        self.defaults.get(simple).or_else(|| {
            self.defaults
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(simple))
                .map(|(_, v)| v)
        })
    }
}

/// One cluster's settings: `upstream.connect.<cluster>.<k>` first, then `upstream.connect.<k>`.
fn upstream(
    raw: &BTreeMap<String, String>,
    name: &str,
    scope: Option<&str>,
) -> Result<UpstreamConfig, WorkerConfigError> {
    let key_of = |k: &str| match scope {
        Some(s) => format!("{PREFIX}{s}.{k}"),
        None => format!("{PREFIX}{k}"),
    };
    let lookup = |k: &str| -> Option<(String, String)> {
        let scoped = key_of(k);
        let found = raw
            .get(&scoped)
            .map(|v| (scoped.clone(), v.trim().to_string()))
            .filter(|(_, v)| !v.is_empty());
        // Connection identity (URL, credentials, certificates) never falls back to shared keys:
        // one cluster's password must not be sent to another.
        let shared = !matches!(
            k,
            "url"
                | "basic.auth.username"
                | "basic.auth.password"
                | "ssl.certificate.location"
                | "ssl.key.location"
        );
        found.or_else(|| {
            if scope.is_some() && shared {
                let global = format!("{PREFIX}{k}");
                raw.get(&global)
                    .map(|v| (global.clone(), v.trim().to_string()))
                    .filter(|(_, v)| !v.is_empty())
            } else {
                None
            }
        })
    };
    let (url_key, url) = lookup("url").ok_or_else(|| {
        invalid(
            &key_of("url"),
            "",
            &format!("upstream Connect cluster '{name}' needs a URL"),
        )
    })?;
    let (url, url_user, url_password) = split_user_info(&url_key, &url)?;
    let millis = |k: &str, default: u64| -> Result<Duration, WorkerConfigError> {
        match lookup(k) {
            None => Ok(Duration::from_millis(default)),
            Some((key, v)) => v
                .parse::<u64>()
                .ok()
                .filter(|n| *n > 0)
                .map(Duration::from_millis)
                .ok_or_else(|| invalid(&key, &v, "Not a positive number of type LONG")),
        }
    };
    let boolean = |k: &str, default: bool| -> Result<bool, WorkerConfigError> {
        match lookup(k) {
            None => Ok(default),
            Some((_, v)) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some((_, v)) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some((key, v)) => Err(invalid(
                &key,
                &v,
                "Expected value to be either true or false",
            )),
        }
    };
    let classes = lookup("classes")
        .map(|(_, v)| v)
        .unwrap_or_else(|| DEFAULT_CLASSES.to_string())
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    Ok(UpstreamConfig {
        name: name.to_string(),
        url,
        username: lookup("basic.auth.username").map(|(_, v)| v).or(url_user),
        password: lookup("basic.auth.password")
            .map(|(_, v)| Secret::new(v))
            .or(url_password),
        tls: TlsOptions {
            ca_location: lookup("ssl.ca.location").map(|(_, v)| PathBuf::from(v)),
            certificate_location: lookup("ssl.certificate.location").map(|(_, v)| PathBuf::from(v)),
            key_location: lookup("ssl.key.location").map(|(_, v)| PathBuf::from(v)),
            verify_hostname: boolean("ssl.verify.hostname", true)?,
            verify_certificate: boolean("ssl.verify.certificate", true)?,
        },
        connect_timeout: millis("connect.timeout.ms", 2_000)?,
        request_timeout: millis("request.timeout.ms", 5_000)?,
        classes,
    })
}

/// Moves `user:password@` out of a URL, so the URL can be logged and shown in error bodies.
fn split_user_info(
    key: &str,
    url: &str,
) -> Result<(String, Option<String>, Option<Secret>), WorkerConfigError> {
    let (scheme, rest) = url
        .split_once("://")
        .filter(|(s, _)| *s == "http" || *s == "https")
        .ok_or_else(|| invalid(key, &redact_url(url), "expected an http:// or https:// URL"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (user, password, host) = match authority.rsplit_once('@') {
        Some((info, host)) => {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u.to_string(), Some(Secret::new(p))),
                None => (info.to_string(), None),
            };
            (Some(u), p, host)
        }
        None => (None, None, authority),
    };
    if host.is_empty() {
        return Err(invalid(key, &redact_url(url), "the URL has no host"));
    }
    let clean = format!("{scheme}://{host}{}", path.trim_end_matches('/'));
    Ok((clean, user, password))
}

/// A URL with any user info replaced, for error messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://[hidden]@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
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
    fn proxy_off_without_upstreams() {
        let c = ProxyConfig::from_raw(&raw(&[])).unwrap();
        assert!(c.upstreams.is_empty());
    }

    #[test]
    fn proxy_single_url_with_user_info_and_defaults() {
        let c = ProxyConfig::from_raw(&raw(&[
            ("upstream.connect.url", "https://u:s3cret@connect:8083/"),
            ("upstream.connect.request.timeout.ms", "700"),
            (
                "upstream.connect.defaults.PostgresConnector.plugin.name",
                "pgoutput",
            ),
        ]))
        .unwrap();
        let u = &c.upstreams[0];
        assert_eq!(u.name, "upstream");
        assert_eq!(u.url, "https://connect:8083");
        assert_eq!(u.username.as_deref(), Some("u"));
        assert_eq!(u.password.as_ref().map(Secret::expose), Some("s3cret"));
        assert_eq!(u.request_timeout, Duration::from_millis(700));
        assert_eq!(u.classes, vec!["io.debezium.*"]);
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(
            c.defaults_for("io.debezium.connector.postgresql.PostgresConnector")
                .unwrap()["plugin.name"],
            "pgoutput"
        );
        let env = crate::worker::config::env_to_properties([(
            "CONNECT_UPSTREAM_CONNECT_DEFAULTS_POSTGRESCONNECTOR_PLUGIN_NAME".to_string(),
            "pgoutput".to_string(),
        )]);
        let mut r = raw(&[("upstream.connect.url", "http://x")]);
        r.extend(env);
        let c = ProxyConfig::from_raw(&r).unwrap();
        assert!(c
            .defaults_for("io.debezium.connector.postgresql.PostgresConnector")
            .is_some());
        assert!(c
            .defaults_for("io.debezium.connector.mysql.MySqlConnector")
            .is_none());
    }

    #[test]
    fn proxy_named_clusters_fall_back_to_shared_settings_but_not_credentials() {
        let c = ProxyConfig::from_raw(&raw(&[
            ("upstream.connect.clusters", "dbz, legacy"),
            ("upstream.connect.dbz.url", "http://a:1"),
            ("upstream.connect.dbz.basic.auth.username", "x"),
            ("upstream.connect.dbz.basic.auth.password", "y"),
            ("upstream.connect.legacy.url", "http://b:2"),
            ("upstream.connect.legacy.classes", "com.acme.*,com.x.Y"),
            ("upstream.connect.connect.timeout.ms", "300"),
        ]))
        .unwrap();
        assert_eq!(c.upstreams.len(), 2);
        assert_eq!(c.upstreams[1].classes, vec!["com.acme.*", "com.x.Y"]);
        assert_eq!(c.upstreams[1].connect_timeout, Duration::from_millis(300));
        assert_eq!(c.upstreams[1].username, None);
        assert_eq!(c.upstreams[0].username.as_deref(), Some("x"));
    }

    #[test]
    fn proxy_config_errors_name_the_key() {
        for pairs in [
            vec![("upstream.connect.url", "ftp://x")],
            vec![
                ("upstream.connect.url", "http://x"),
                ("upstream.connect.clusters", "a"),
            ],
            vec![("upstream.connect.clusters", "url")],
            vec![("upstream.connect.clusters", "a")],
            vec![
                ("upstream.connect.url", "http://x"),
                ("upstream.connect.request.timeout.ms", "soon"),
            ],
            vec![
                ("upstream.connect.url", "http://x"),
                ("upstream.connect.defaults.NoKey", "v"),
            ],
        ] {
            let e = ProxyConfig::from_raw(&raw(&pairs)).unwrap_err();
            assert!(e.to_string().contains("upstream.connect."), "{e}");
        }
    }

    #[test]
    fn proxy_class_globs() {
        assert!(class_matches(
            "io.debezium.*",
            "io.debezium.connector.postgresql.PostgresConnector"
        ));
        assert!(!class_matches("io.debezium.*", "io.sluice.X"));
        assert!(class_matches("com.x.Y", "com.x.Y"));
        assert!(!class_matches("com.x.Y", "com.x.YZ"));
        assert!(class_matches("*Postgres*", "io.debezium.PostgresConnector"));
        assert!(class_matches("io.*.Foo", "io.a.b.Foo"));
        assert!(!class_matches("io.*.Foo", "io.a.b.Bar"));
    }
}
