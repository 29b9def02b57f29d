//! The Debezium-config proxy: one management plane for Sluice's native sinks and the upstream
//! Java Kafka Connect cluster(s) that run Debezium.
//!
//! A config whose `connector.class` matches an upstream's class patterns (default
//! `io.debezium.*`) and has no native plugin is validated here with Debezium's static rules,
//! completed with the worker's per-class defaults and forwarded; the upstream's status and body
//! come back unchanged. Every other call on such a connector goes to the cluster that owns it;
//! listings and plugin lists merge both sides. See `routes` for the REST hook.
//!
//! Modules: `config` (worker settings), `client` (upstream HTTP client), `rules` (validation),
//! `providers` (`${env:..}` / `${file:..}`), `merge` (listings, plugins, validate results),
//! `routes` (the axum middleware).

pub mod client;
pub mod config;
pub mod merge;
pub mod providers;
pub mod routes;
pub mod rules;

use std::collections::{BTreeMap, HashMap};
use std::sync::RwLock;

use axum::http::Method;
use serde_json::Value;

use crate::rest::error::ApiError;
use crate::worker::WorkerConfig;
pub use client::{Upstream, UpstreamError, UpstreamReply};
pub use config::{ProxyConfig, UpstreamConfig};
pub use providers::{ConfigProviders, ProviderError};

/// What local preparation changed in a proxied config before it is forwarded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Per-class defaults added because the key was absent.
    pub added: BTreeMap<String, String>,
    /// Values whose config provider placeholders were resolved (resolve mode only).
    pub resolved: BTreeMap<String, String>,
}

impl Prepared {
    /// True when the config goes upstream exactly as received.
    pub fn is_unchanged(&self) -> bool {
        self.added.is_empty() && self.resolved.is_empty()
    }

    /// Writes the changes into a JSON config object.
    pub fn apply(&self, config: &mut serde_json::Map<String, Value>) {
        for (k, v) in self.added.iter().chain(self.resolved.iter()) {
            config.insert(k.clone(), Value::String(v.clone()));
        }
    }
}

/// The proxy: upstream clients, routing by class, and who owns which connector name.
#[derive(Debug)]
pub struct DebeziumProxy {
    upstreams: Vec<Upstream>,
    config: ProxyConfig,
    providers: ConfigProviders,
    native_classes: Vec<String>,
    /// Connector name → index of the upstream that had it when last seen. A hint only: a
    /// miss or a 404 from the hinted cluster triggers a fresh listing.
    owners: RwLock<HashMap<String, usize>>,
}

impl DebeziumProxy {
    /// The proxy of a worker, or `None` when no upstream is configured. `native_classes` are
    /// the classes (and aliases) Sluice runs itself: they are never proxied.
    pub fn from_worker(
        worker: &WorkerConfig,
        native_classes: Vec<String>,
    ) -> Result<Option<DebeziumProxy>, UpstreamError> {
        if worker.proxy.upstreams.is_empty() {
            return Ok(None);
        }
        let upstreams = worker
            .proxy
            .upstreams
            .iter()
            .cloned()
            .map(Upstream::new)
            .collect::<Result<Vec<_>, _>>()?;
        for u in &upstreams {
            for p in &u.config.classes {
                if native_classes.iter().any(|c| c == p) {
                    tracing::warn!(
                        "upstream '{}': class {p} is a native Sluice plugin and stays native",
                        u.name()
                    );
                }
            }
            tracing::info!(
                "proxying connector classes {} to upstream Connect cluster '{}' at {}",
                u.config.classes.join(","),
                u.name(),
                u.config.url
            );
        }
        Ok(Some(DebeziumProxy {
            upstreams,
            config: worker.proxy.clone(),
            providers: ConfigProviders::from_worker(worker),
            native_classes,
            owners: RwLock::new(HashMap::new()),
        }))
    }

    /// The upstream clients, in routing order.
    pub fn upstreams(&self) -> &[Upstream] {
        &self.upstreams
    }

    /// The upstream that hosts `class`, or `None` when Sluice runs it (or nobody does).
    pub fn route_class(&self, class: &str) -> Option<usize> {
        let class = class.trim();
        if self.native_classes.iter().any(|c| c == class) {
            return None;
        }
        self.upstreams.iter().position(|u| {
            u.config
                .classes
                .iter()
                .any(|p| config::class_matches(p, class))
        })
    }

    /// Defaults, provider resolution (when configured) and the static rules, in that order.
    /// An invalid config is Connect's 400.
    pub fn prepare(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<Prepared, ApiError> {
        let (prepared, errors) = self.prepare_checked(class, config)?;
        if let Some(message) = rules::invalid_message(&errors) {
            return Err(ApiError::bad_request(message));
        }
        Ok(prepared)
    }

    /// As [`DebeziumProxy::prepare`], returning the rule errors instead of failing on them
    /// (the validate endpoint reports them in `ConfigInfos`). Fails only when a configured
    /// config provider cannot resolve a placeholder.
    pub fn prepare_checked(
        &self,
        class: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<(Prepared, rules::Errors), ApiError> {
        let mut effective = config.clone();
        let mut prepared = Prepared::default();
        if let Some(defaults) = self.config.defaults_for(class) {
            for (k, v) in defaults {
                if !effective.contains_key(k) {
                    effective.insert(k.clone(), v.clone());
                    prepared.added.insert(k.clone(), v.clone());
                }
            }
        }
        if self.config.resolve_config_providers {
            let resolved = self
                .providers
                .resolve(&effective)
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            for (k, v) in &resolved {
                if effective.get(k) != Some(v) {
                    prepared.resolved.insert(k.clone(), v.clone());
                }
            }
            effective = resolved;
        }
        let errors = rules::validate(class, &effective);
        Ok((prepared, errors))
    }

    /// Records that `upstream` owns `name`.
    pub fn remember(&self, name: &str, upstream: usize) {
        self.owners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), upstream);
    }

    /// Forgets the owner of `name` (deleted, or the hint was wrong).
    pub fn forget(&self, name: &str) {
        self.owners
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }

    fn hinted_owner(&self, name: &str) -> Option<usize> {
        self.owners
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .copied()
    }

    /// Replaces what is known about one upstream's names with a fresh listing.
    pub fn learn_listing(&self, upstream: usize, names: &[String]) {
        let mut owners = self.owners.write().unwrap_or_else(|p| p.into_inner());
        owners.retain(|_, u| *u != upstream);
        for n in names {
            owners.insert(n.clone(), upstream);
        }
    }

    /// The upstream owning connector `name`: the hint if there is one, else every upstream's
    /// `GET /connectors` (which, unlike `GET /connectors/{c}`, never answers 409 during a
    /// rebalance). An error only when nobody has the name and some upstream could not be asked.
    pub async fn owner(&self, name: &str) -> Result<Option<usize>, UpstreamError> {
        if let Some(i) = self.hinted_owner(name) {
            return Ok(Some(i));
        }
        self.probe(name, None).await
    }

    /// As [`DebeziumProxy::owner`] without the hint, skipping upstream `except`.
    pub async fn probe(
        &self,
        name: &str,
        except: Option<usize>,
    ) -> Result<Option<usize>, UpstreamError> {
        let calls = self
            .upstreams
            .iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != except)
            .map(|(i, u)| async move { (i, u.get_json("/connectors").await) });
        let mut first_error = None;
        let mut found = None;
        for (i, result) in futures::future::join_all(calls).await {
            match result.and_then(|v| names_of(&self.upstreams[i], &v)) {
                Ok(names) => {
                    if found.is_none() && names.iter().any(|n| n == name) {
                        found = Some(i);
                    }
                    self.learn_listing(i, &names);
                }
                Err(e) => {
                    if first_error.is_none() {
                        first_error = Some(e);
                    }
                }
            }
        }
        match (found, first_error) {
            (Some(i), _) => Ok(Some(i)),
            (None, Some(e)) => Err(e),
            (None, None) => Ok(None),
        }
    }

    /// Sends a request to upstream `i`.
    pub async fn send(
        &self,
        i: usize,
        method: Method,
        path_and_query: &str,
        body: Option<axum::body::Bytes>,
    ) -> Result<UpstreamReply, UpstreamError> {
        self.upstreams[i].send(method, path_and_query, body).await
    }
}

/// Connector names from a `GET /connectors` answer (an array of strings).
fn names_of(upstream: &Upstream, v: &Value) -> Result<Vec<String>, UpstreamError> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(str::to_string))
                .collect()
        })
        .ok_or_else(|| {
            upstream.bad_answer(
                "GET /connectors",
                "a body that is not a JSON array of names".into(),
            )
        })
}
