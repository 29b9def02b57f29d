//! The REST hook: one axum middleware in front of Connect's routes. It takes the requests that
//! concern proxied connectors (or merged views) and lets every other request through to the
//! native handlers untouched, so the native REST code needs no knowledge of the proxy.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{Map, Value};

use super::{merge, DebeziumProxy, UpstreamError, UpstreamReply};
use crate::rest::body::{self, Nulls};
use crate::rest::error::ApiError;
use crate::rest::AppState;

/// Largest request or response body the proxy buffers.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The middleware: routes proxied work to the upstreams, everything else to `next`.
pub async fn intercept(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(proxy) = s.proxy.clone() else {
        return next.run(req).await;
    };
    let segs = segments(req.uri().path());
    let refs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let method = req.method().clone();
    let ctx = Ctx {
        proxy,
        state: s,
        next,
    };
    match (method, refs.as_slice()) {
        (Method::GET, ["connectors"]) => ctx.list(req).await,
        (Method::POST, ["connectors"]) => ctx.create(req).await,
        (Method::PUT, ["connectors", name, "config"]) => ctx.put_config(name, req).await,
        (Method::PATCH, ["connectors", name, "config"]) => ctx.patch_config(name, req).await,
        (_, ["connectors", name, ..]) => ctx.per_connector(name, req).await,
        (Method::GET, ["connector-plugins"]) => ctx.plugins(req).await,
        (Method::GET, ["connector-plugins", plugin, "config"]) => {
            ctx.plugin_config(plugin, req).await
        }
        (Method::PUT, ["connector-plugins", _, "config", "validate"]) => ctx.validate(req).await,
        _ => ctx.next.run(req).await,
    }
}

/// Path segments, percent-decoded, ignoring one trailing slash (Jersey accepts it).
fn segments(path: &str) -> Vec<String> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let path = path.strip_suffix('/').unwrap_or(path);
    path.split('/').map(percent_decode).collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// Path and query exactly as received, to forward unchanged.
fn path_and_query(parts: &Parts) -> String {
    parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| parts.uri.path().to_string())
}

fn query_suffix(parts: &Parts) -> String {
    parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default()
}

/// Connect's 409 for a name taken anywhere on the plane.
fn conflict(name: &str) -> Response {
    ApiError {
        status: StatusCode::CONFLICT,
        message: format!("Connector {name} already exists"),
    }
    .into_response()
}

fn upstream_error(e: UpstreamError) -> Response {
    ApiError {
        status: StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_GATEWAY),
        message: e.to_string(),
    }
    .into_response()
}

/// The upstream's answer as the client's: status, content type and body unchanged; an
/// absolute `Location` (the upstream's own address) becomes a path on Sluice.
fn relay(reply: UpstreamReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut res = Response::new(Body::from(reply.body));
    *res.status_mut() = status;
    if let Some(ct) = reply.headers.get(header::CONTENT_TYPE) {
        res.headers_mut().insert(header::CONTENT_TYPE, ct.clone());
    }
    if let Some(loc) = reply
        .headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
    {
        let path = match loc.split_once("://") {
            Some((_, rest)) => rest.find('/').map(|i| &rest[i..]).unwrap_or("/"),
            None => loc,
        };
        if let Ok(v) = HeaderValue::from_str(path) {
            res.headers_mut().insert(header::LOCATION, v);
        }
    }
    res
}

async fn read(req: Request) -> Result<(Parts, Bytes), Response> {
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, BODY_LIMIT).await {
        Ok(b) => Ok((parts, b)),
        Err(e) => {
            Err(ApiError::bad_request(format!("Cannot read the request body: {e}")).into_response())
        }
    }
}

fn rebuild(parts: Parts, bytes: Bytes) -> Request {
    Request::from_parts(parts, Body::from(bytes))
}

fn to_body(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

struct Ctx {
    proxy: Arc<DebeziumProxy>,
    state: AppState,
    next: Next,
}

impl Ctx {
    fn is_native(&self, name: &str) -> bool {
        self.state.herder.connector_config(name).is_ok()
    }

    /// A 409 when `name` exists on an upstream other than `except`. An upstream that cannot
    /// be asked does not block the call (native work keeps going while it is down).
    async fn taken_upstream(&self, name: &str, except: Option<usize>) -> Option<Response> {
        if name.is_empty() {
            return None;
        }
        match self.proxy.probe(name, except).await {
            Ok(Some(_)) => Some(conflict(name)),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(
                    "cannot check that connector name {name} is free upstream: {e}; going ahead"
                );
                None
            }
        }
    }

    /// `GET /connectors[?expand=..]`: native answer plus every reachable upstream's.
    async fn list(self, req: Request) -> Response {
        let upstream_path = format!(
            "/connectors{}",
            req.uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        );
        let res = self.next.run(req).await;
        if !res.status().is_success() {
            return res;
        }
        let (parts, body) = res.into_parts();
        let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        let Ok(mut merged) = serde_json::from_slice::<Value>(&bytes) else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let path = upstream_path.as_str();
        let calls = self
            .proxy
            .upstreams()
            .iter()
            .enumerate()
            .map(|(i, u)| async move { (i, u.get_json(path).await) });
        for (i, result) in futures::future::join_all(calls).await {
            let cluster = self.proxy.upstreams()[i].name();
            match result {
                Ok(v) => match merge::add_listing(&mut merged, &v) {
                    Some((names, duplicates)) => {
                        self.proxy.learn_listing(i, &names);
                        for d in duplicates {
                            tracing::warn!("connector {d} exists natively and on upstream '{cluster}'; the listing shows the native one");
                        }
                    }
                    None => tracing::warn!(
                        "listing connectors: upstream '{cluster}' answered {path} with an unexpected shape; its connectors are left out"
                    ),
                },
                Err(e) => tracing::warn!(
                    "listing connectors: {e}; its connectors are left out of this answer"
                ),
            }
        }
        Json(merged).into_response()
    }

    /// `POST /connectors`.
    async fn create(self, req: Request) -> Response {
        let (parts, bytes) = match read(req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let Some(obj) = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.as_object().cloned())
        else {
            // Not a JSON object: the native handler answers with Connect's error.
            return self.next.run(rebuild(parts, bytes)).await;
        };
        let name = match obj.get("name") {
            Some(Value::String(n)) => n.trim().to_string(),
            None | Some(Value::Null) => String::new(),
            Some(other) => other.to_string(),
        };
        let class = obj
            .get("config")
            .and_then(|c| c.get("connector.class"))
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some((class, target)) = class
            .as_deref()
            .and_then(|c| self.proxy.route_class(c).map(|t| (c.to_string(), t)))
        else {
            if let Some(r) = self.taken_upstream(&name, None).await {
                return r;
            }
            return self.next.run(rebuild(parts, bytes)).await;
        };
        let config = match obj
            .get("config")
            .map(|c| body::config_map(c, Nulls::Reject))
        {
            Some(Ok(m)) => body::strings(m),
            Some(Err(e)) => return e.into_response(),
            None => return self.next.run(rebuild(parts, bytes)).await,
        };
        if let Some(n) = config.get("name") {
            if *n != name {
                return ApiError::bad_request(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                ))
                .into_response();
            }
        }
        // Validation first, as Connect does: an invalid config never reaches any upstream.
        let prepared = match self.proxy.prepare(&class, &config) {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        };
        if self.is_native(&name) {
            return conflict(&name);
        }
        if let Some(r) = self.taken_upstream(&name, Some(target)).await {
            return r;
        }
        let forward = if prepared.is_unchanged() {
            bytes
        } else {
            let mut obj = obj;
            if let Some(Value::Object(c)) = obj.get_mut("config") {
                prepared.apply(c);
            }
            to_body(&Value::Object(obj))
        };
        let path = format!("/connectors{}", query_suffix(&parts));
        tracing::info!(
            "forwarding create of connector {name} ({class}) to upstream '{}'",
            self.proxy.upstreams()[target].name()
        );
        match self
            .proxy
            .send(target, Method::POST, &path, Some(forward))
            .await
        {
            Ok(reply) => {
                if reply.is_success() {
                    self.proxy.remember(&name, target);
                }
                relay(reply)
            }
            Err(e) => upstream_error(e),
        }
    }

    /// `PUT /connectors/{c}/config`: create or replace.
    async fn put_config(self, name: &str, req: Request) -> Response {
        let (parts, bytes) = match read(req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let Some(obj) = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.as_object().cloned())
        else {
            return self.per_connector_parts(name, parts, bytes).await;
        };
        let class = obj
            .get("connector.class")
            .and_then(Value::as_str)
            .map(str::to_string);
        let Some(class) = class else {
            // No class: whoever owns the name reports Connect's error.
            return self.per_connector_parts(name, parts, bytes).await;
        };
        let native = self.is_native(name);
        let target = self.proxy.route_class(&class);
        let target = match (native, target) {
            (true, Some(_)) => return conflict(name),
            (true, None) => return self.next.run(rebuild(parts, bytes)).await,
            (false, None) => {
                if let Some(r) = self.taken_upstream(name, None).await {
                    return r;
                }
                return self.next.run(rebuild(parts, bytes)).await;
            }
            (false, Some(t)) => t,
        };
        let config = match body::config_map(&Value::Object(obj.clone()), Nulls::Reject) {
            Ok(m) => body::strings(m),
            Err(e) => return e.into_response(),
        };
        if let Some(n) = config.get("name") {
            if n != name {
                return ApiError::bad_request(format!(
                    "Connector name configuration ({n}) doesn't match connector name in the URL ({name})"
                ))
                .into_response();
            }
        }
        let prepared = match self.proxy.prepare(&class, &config) {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        };
        if let Some(r) = self.taken_upstream(name, Some(target)).await {
            return r;
        }
        let forward = if prepared.is_unchanged() {
            bytes
        } else {
            let mut obj = obj;
            prepared.apply(&mut obj);
            to_body(&Value::Object(obj))
        };
        match self
            .proxy
            .send(target, Method::PUT, &path_and_query(&parts), Some(forward))
            .await
        {
            Ok(reply) => {
                if reply.is_success() {
                    self.proxy.remember(name, target);
                }
                relay(reply)
            }
            Err(e) => upstream_error(e),
        }
    }

    /// `PATCH /connectors/{c}/config` of a proxied connector: the merged result is validated
    /// locally (the upstream's current config plus the patch), then the patch is forwarded.
    async fn patch_config(self, name: &str, req: Request) -> Response {
        if self.is_native(name) {
            return self.next.run(req).await;
        }
        let owner = match self.proxy.owner(name).await {
            Ok(Some(i)) => i,
            Ok(None) => return self.next.run(req).await,
            Err(e) => return upstream_error(e),
        };
        let (parts, bytes) = match read(req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let path = path_and_query(&parts);
        let Some(mut obj) = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.as_object().cloned())
        else {
            return self.forward(owner, parts, bytes).await;
        };
        let patch = match body::config_map(&Value::Object(obj.clone()), Nulls::Delete) {
            Ok(p) => p,
            Err(e) => return e.into_response(),
        };
        let current = match self
            .proxy
            .send(owner, Method::GET, parts.uri.path(), None)
            .await
        {
            Ok(r) if r.is_success() => r,
            Ok(r) => {
                if r.status == 404 {
                    self.proxy.forget(name);
                }
                return relay(r);
            }
            Err(e) => return upstream_error(e),
        };
        let mut merged: std::collections::BTreeMap<String, String> =
            match serde_json::from_slice(&current.body) {
                Ok(m) => m,
                Err(e) => {
                    return upstream_error(self.proxy.upstreams()[owner].bad_answer(
                        &format!("GET {}", parts.uri.path()),
                        format!("a config that is not a map of strings ({e})"),
                    ))
                }
            };
        for (k, v) in patch {
            match v {
                Some(v) => {
                    merged.insert(k, v);
                }
                None => {
                    merged.remove(&k);
                }
            }
        }
        let forward = match merged.get("connector.class").cloned() {
            Some(class) => match self.proxy.prepare(&class, &merged) {
                Ok(p) if p.is_unchanged() => bytes,
                Ok(p) => {
                    p.apply(&mut obj);
                    to_body(&Value::Object(obj))
                }
                Err(e) => return e.into_response(),
            },
            None => bytes,
        };
        match self
            .proxy
            .send(owner, Method::PATCH, &path, Some(forward))
            .await
        {
            Ok(reply) => relay(reply),
            Err(e) => upstream_error(e),
        }
    }

    /// Any other `/connectors/{c}/...` call: native if Sluice has the connector, else the
    /// owning upstream's, else native (Connect's 404).
    async fn per_connector(self, name: &str, req: Request) -> Response {
        if self.is_native(name) {
            return self.next.run(req).await;
        }
        let (parts, bytes) = match read(req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        self.per_connector_parts(name, parts, bytes).await
    }

    async fn per_connector_parts(self, name: &str, parts: Parts, bytes: Bytes) -> Response {
        if self.is_native(name) {
            return self.next.run(rebuild(parts, bytes)).await;
        }
        match self.proxy.owner(name).await {
            Ok(Some(i)) => {
                let delete =
                    parts.method == Method::DELETE && segments(parts.uri.path()).len() == 2;
                let res = self.forward(i, parts, bytes).await;
                if res.status() == StatusCode::NOT_FOUND || (delete && res.status().is_success()) {
                    // Deleted (or the hint was stale): the next call looks again.
                    self.proxy.forget(name);
                }
                res
            }
            Ok(None) => self.next.run(rebuild(parts, bytes)).await,
            Err(e) => upstream_error(e),
        }
    }

    /// Forwards a request unchanged (method, path, query, body) to upstream `i`.
    async fn forward(&self, i: usize, parts: Parts, bytes: Bytes) -> Response {
        let body = (!bytes.is_empty()).then_some(bytes);
        match self
            .proxy
            .send(i, parts.method.clone(), &path_and_query(&parts), body)
            .await
        {
            Ok(reply) => relay(reply),
            Err(e) => upstream_error(e),
        }
    }

    /// `GET /connector-plugins`: native plugins plus each upstream's routable connectors.
    async fn plugins(self, req: Request) -> Response {
        let path = format!(
            "/connector-plugins{}",
            req.uri()
                .query()
                .map(|q| format!("?{q}"))
                .unwrap_or_default()
        );
        let res = self.next.run(req).await;
        if !res.status().is_success() {
            return res;
        }
        let (parts, body) = res.into_parts();
        let bytes = match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(b) => b,
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        };
        let Ok(mut merged) = serde_json::from_slice::<Vec<Value>>(&bytes) else {
            return Response::from_parts(parts, Body::from(bytes));
        };
        let path = path.as_str();
        let calls = self
            .proxy
            .upstreams()
            .iter()
            .enumerate()
            .map(|(i, u)| async move { (i, u.get_json(path).await) });
        for (i, result) in futures::future::join_all(calls).await {
            let u = &self.proxy.upstreams()[i];
            match result {
                Ok(Value::Array(list)) => {
                    merge::add_plugins(&mut merged, &list, &u.config.classes, |c| {
                        self.proxy.route_class(c) != Some(i)
                    })
                }
                Ok(_) => tracing::warn!(
                    "listing plugins: upstream '{}' answered {path} with something other than an array",
                    u.name()
                ),
                Err(e) => tracing::warn!("listing plugins: {e}; its plugins are left out"),
            }
        }
        Json(merged).into_response()
    }

    /// `GET /connector-plugins/{p}/config` of a proxied class: the upstream's definitions.
    async fn plugin_config(self, plugin: &str, req: Request) -> Response {
        let Some(i) = self.proxy.route_class(plugin) else {
            return self.next.run(req).await;
        };
        let (parts, bytes) = match read(req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        self.forward(i, parts, bytes).await
    }

    /// `PUT /connector-plugins/{p}/config/validate` of a proxied class: the upstream's result
    /// with the local rules' errors added.
    async fn validate(self, req: Request) -> Response {
        let (parts, bytes) = match read(req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let Some(mut obj) = serde_json::from_slice::<Value>(&bytes)
            .ok()
            .and_then(|v| v.as_object().cloned())
        else {
            return self.next.run(rebuild(parts, bytes)).await;
        };
        let Some((class, target)) = obj
            .get("connector.class")
            .and_then(Value::as_str)
            .and_then(|c| self.proxy.route_class(c).map(|t| (c.to_string(), t)))
        else {
            return self.next.run(rebuild(parts, bytes)).await;
        };
        let config = match body::config_map(&Value::Object(obj.clone()), Nulls::Drop) {
            Ok(m) => body::strings(m),
            Err(e) => return e.into_response(),
        };
        let (prepared, errors) = match self.proxy.prepare_checked(&class, &config) {
            Ok(x) => x,
            Err(e) => return e.into_response(),
        };
        let forward = if prepared.is_unchanged() {
            bytes
        } else {
            prepared.apply(&mut obj);
            to_body(&Value::Object(obj.clone()))
        };
        let reply = match self
            .proxy
            .send(target, Method::PUT, &path_and_query(&parts), Some(forward))
            .await
        {
            Ok(r) => r,
            Err(e) => return upstream_error(e),
        };
        if !reply.is_success() || errors.is_empty() {
            return relay(reply);
        }
        let Ok(mut infos) = serde_json::from_slice::<Value>(&reply.body) else {
            return relay(reply);
        };
        let values: Map<String, Value> = obj;
        merge::add_validate_errors(&mut infos, &errors, &values);
        (StatusCode::OK, Json(infos)).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_segments_decode_and_ignore_trailing_slash() {
        assert_eq!(
            segments("/connectors/a%20b/status/"),
            vec!["connectors", "a b", "status"]
        );
        assert_eq!(segments("/connectors"), vec!["connectors"]);
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("x%2Fy"), "x/y");
    }
}
