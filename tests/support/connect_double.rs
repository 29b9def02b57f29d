//! A faithful HTTP double of a Java Kafka Connect cluster's REST API, built from
//! `connect-rest-api.md` (§2 entities, §3 status codes and error texts, §4 offsets, §9 what AKHQ
//! reads): in-memory connectors of Debezium's source classes, every request recorded verbatim
//! (method, path and query, headers, body bytes), and failure modes: slow, failing (500) and
//! rebalancing (409).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path and query as received.
    pub uri: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

/// Failure modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answers as Connect does.
    Normal,
    /// Waits this long before every answer.
    Slow(Duration),
    /// Every request: 500 `Request timed out` (a herder that cannot complete).
    Failing,
    /// Writes and reads that check for a rebalance: 409 (`connect-rest-api.md` §1.3).
    Rebalancing,
}

#[derive(Debug, Clone)]
struct Conn {
    config: BTreeMap<String, String>,
    target: &'static str,
    tasks: u32,
}

#[derive(Debug)]
struct Inner {
    connectors: BTreeMap<String, Conn>,
    requests: Vec<Recorded>,
    mode: Mode,
    auth: Option<String>,
    worker_id: String,
}

/// The double; clones share state.
#[derive(Clone)]
pub struct ConnectDouble {
    inner: Arc<Mutex<Inner>>,
    /// `http://127.0.0.1:port`.
    pub url: String,
    shutdown: Arc<Mutex<Option<tokio::sync::oneshot::Sender<()>>>>,
}

/// The classes this cluster has installed (connector plugins, then others).
pub fn plugins() -> Vec<Value> {
    vec![
        json!({"class": "io.debezium.connector.mysql.MySqlConnector", "type": "source", "version": "3.0.8.Final"}),
        json!({"class": "io.debezium.connector.postgresql.PostgresConnector", "type": "source", "version": "3.0.8.Final"}),
        json!({"class": "org.apache.kafka.connect.file.FileStreamSinkConnector", "type": "sink", "version": "3.9.0"}),
        json!({"class": "org.apache.kafka.connect.mirror.MirrorSourceConnector", "type": "source", "version": "3.9.0"}),
    ]
}

fn others() -> Vec<Value> {
    vec![
        json!({"class": "org.apache.kafka.connect.json.JsonConverter", "type": "converter", "version": "3.9.0"}),
        json!({"class": "io.debezium.transforms.ExtractNewRecordState", "type": "transformation", "version": "3.0.8.Final"}),
    ]
}

fn error(status: u16, message: impl Into<String>) -> Response {
    let code = StatusCode::from_u16(status).unwrap();
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"error_code": status, "message": message.into()}).to_string(),
    )
        .into_response()
}

fn ok_json(status: u16, v: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

fn java_map(config: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = config.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(x) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
            {
                out.push(x);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap()
}

// A Response is what the handler returns anyway; boxing it would only add noise here.
#[allow(clippy::result_large_err)]
fn strings(v: &Value) -> Result<BTreeMap<String, String>, Response> {
    let Some(m) = v.as_object() else {
        return Err(error(500, "Cannot deserialize value"));
    };
    let mut out = BTreeMap::new();
    for (k, v) in m {
        match v {
            Value::String(s) => {
                out.insert(k.clone(), s.clone());
            }
            Value::Null => {
                return Err(error(
                    400,
                    "Connector configuration is invalid and contains the following 1 error(s):\nNull value can not be supplied as the configuration value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`",
                ))
            }
            other => {
                out.insert(k.clone(), other.to_string());
            }
        }
    }
    Ok(out)
}

impl ConnectDouble {
    /// Starts the double on a free port.
    pub async fn start() -> ConnectDouble {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let inner = Arc::new(Mutex::new(Inner {
            connectors: BTreeMap::new(),
            requests: Vec::new(),
            mode: Mode::Normal,
            auth: None,
            worker_id: format!("10.0.0.5:{}", addr.port()),
        }));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let d = ConnectDouble {
            inner: inner.clone(),
            url: format!("http://{addr}"),
            shutdown: Arc::new(Mutex::new(Some(tx))),
        };
        let app = Router::new().fallback(handle).with_state(d.clone());
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        d
    }

    /// Sets the failure mode.
    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = mode;
    }

    /// Requires `Authorization: Basic <base64(user:password)>`; 401 otherwise.
    pub fn require_basic_auth(&self, user: &str, password: &str) {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.inner.lock().unwrap().auth = Some(format!("Basic {token}"));
    }

    /// Stops listening: later calls get connection refused.
    pub fn stop(&self) {
        if let Some(tx) = self.shutdown.lock().unwrap().take() {
            let _ = tx.send(());
        }
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// Requests other than reads of `GET /connectors` (the proxy's ownership lookups).
    pub fn calls(&self) -> Vec<Recorded> {
        self.requests()
            .into_iter()
            .filter(|r| !(r.method == "GET" && r.uri == "/connectors"))
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.inner.lock().unwrap().requests.clear();
    }

    /// A connector's stored config.
    pub fn config_of(&self, name: &str) -> Option<BTreeMap<String, String>> {
        self.inner
            .lock()
            .unwrap()
            .connectors
            .get(name)
            .map(|c| c.config.clone())
    }

    /// A connector's target state (`RUNNING`, `PAUSED`, `STOPPED`).
    pub fn state_of(&self, name: &str) -> Option<&'static str> {
        self.inner
            .lock()
            .unwrap()
            .connectors
            .get(name)
            .map(|c| c.target)
    }

    /// Adds a connector directly (as if created on the Java cluster itself).
    pub fn seed(&self, name: &str, config: &[(&str, &str)]) {
        let mut c: BTreeMap<String, String> = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        c.insert("name".into(), name.into());
        self.inner.lock().unwrap().connectors.insert(
            name.to_string(),
            Conn {
                config: c,
                target: "RUNNING",
                tasks: 1,
            },
        );
    }
}

fn info(name: &str, c: &Conn) -> Value {
    let tasks: Vec<Value> = (0..c.tasks)
        .map(|t| json!({"connector": name, "task": t}))
        .collect();
    json!({"name": name, "config": c.config, "tasks": tasks, "type": kind(&c.config)})
}

fn kind(config: &BTreeMap<String, String>) -> &'static str {
    let class = config
        .get("connector.class")
        .map(String::as_str)
        .unwrap_or("");
    match plugins().iter().find(|p| p["class"] == class) {
        Some(p) if p["type"] == "sink" => "sink",
        Some(_) => "source",
        None => "unknown",
    }
}

fn status(name: &str, c: &Conn, worker: &str) -> Value {
    let state = c.target;
    let tasks: Vec<Value> = (0..c.tasks)
        .map(|t| json!({"id": t, "state": state, "worker_id": worker}))
        .collect();
    json!({"name": name, "connector": {"state": state, "worker_id": worker}, "tasks": tasks, "type": kind(&c.config)})
}

/// Validate: ConfigInfos with a definition for every submitted key plus the required ones,
/// and a connection check that fails for the host `unreachable-db` (§10.3).
fn validate(class: &str, config: &BTreeMap<String, String>) -> Value {
    let mut keys: Vec<String> = vec![
        "name".into(),
        "connector.class".into(),
        "tasks.max".into(),
        "database.hostname".into(),
        "topic.prefix".into(),
    ];
    for k in config.keys() {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    let mut error_count = 0;
    let configs: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            let mut errors: Vec<String> = Vec::new();
            if k == "name" && !config.contains_key("name") {
                errors.push("Missing required configuration \"name\" which has no default value.".into());
            }
            if k == "database.hostname" && config.get(k).map(String::as_str) == Some("unreachable-db") {
                errors.push("Error while validating connector config: The connection attempt failed.".into());
            }
            error_count += errors.len();
            json!({
                "definition": {
                    "name": k, "type": if k.contains("password") {"PASSWORD"} else {"STRING"},
                    "required": k == "name" || k == "connector.class",
                    "default_value": null, "importance": "HIGH", "documentation": format!("{k} docs"),
                    "group": "Common", "width": "MEDIUM", "display_name": k, "dependents": [], "order": i,
                },
                "value": {
                    "name": k, "value": config.get(k), "recommended_values": [], "errors": errors, "visible": true,
                },
            })
        })
        .collect();
    json!({"name": class, "error_count": error_count, "groups": ["Common"], "configs": configs})
}

async fn handle(State(d): State<ConnectDouble>, req: Request) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let headers = req.headers().clone();
    let body = axum::body::to_bytes(req.into_body(), 1 << 24)
        .await
        .unwrap_or_default();
    let (mode, auth) = {
        let mut g = d.inner.lock().unwrap();
        g.requests.push(Recorded {
            method: method.to_string(),
            uri: uri
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            headers: headers.clone(),
            body: body.clone(),
        });
        (g.mode, g.auth.clone())
    };
    if let Some(expected) = auth {
        let got = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        if got != Some(expected.as_str()) {
            return error(401, "Unauthorized");
        }
    }
    match mode {
        Mode::Slow(t) => tokio::time::sleep(t).await,
        Mode::Failing => return error(500, "Request timed out"),
        Mode::Rebalancing if method != Method::GET || uri.path() != "/connectors" => {
            return error(409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)");
        }
        _ => {}
    }
    let path = uri.path().trim_end_matches('/').to_string();
    let segs: Vec<String> = path
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    let segs: Vec<&str> = segs.iter().map(String::as_str).collect();
    let query = uri.query().unwrap_or("");
    let q = |name: &str| -> Vec<String> {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
            .collect()
    };
    let json_body = || serde_json::from_slice::<Value>(&body);
    let mut g = d.inner.lock().unwrap();
    let worker = g.worker_id.clone();
    match (method.clone(), segs.as_slice()) {
        (Method::GET, ["connectors"]) => {
            let expand = q("expand");
            if expand.is_empty() {
                return ok_json(200, json!(g.connectors.keys().collect::<Vec<_>>()));
            }
            let mut out = serde_json::Map::new();
            for (n, c) in &g.connectors {
                let mut e = serde_json::Map::new();
                if expand.iter().any(|x| x == "status") {
                    e.insert("status".into(), status(n, c, &worker));
                }
                if expand.iter().any(|x| x == "info") {
                    e.insert("info".into(), info(n, c));
                }
                out.insert(n.clone(), Value::Object(e));
            }
            ok_json(200, Value::Object(out))
        }
        (Method::POST, ["connectors"]) => {
            let Ok(v) = json_body() else { return error(500, "Cannot deserialize value") };
            let name = v["name"].as_str().unwrap_or("").trim().to_string();
            let mut config = match strings(&v["config"]) {
                Ok(c) => c,
                Err(r) => return r,
            };
            if let Some(n) = config.get("name") {
                if *n != name {
                    return error(400, format!("Connector name configuration ({n}) doesn't match connector name in the URL ({name})"));
                }
            }
            config.insert("name".into(), name.clone());
            if !config.contains_key("connector.class") {
                return error(400, format!("Connector config {} contains no connector type", java_map(&config)));
            }
            if g.connectors.contains_key(&name) {
                return error(409, format!("Connector {name} already exists"));
            }
            let target = match v["initial_state"].as_str() {
                Some("PAUSED") => "PAUSED",
                Some("STOPPED") => "STOPPED",
                _ => "RUNNING",
            };
            let c = Conn { config, target, tasks: if target == "STOPPED" { 0 } else { 1 } };
            let body = info(&name, &c);
            g.connectors.insert(name.clone(), c);
            (
                StatusCode::CREATED,
                [
                    (header::CONTENT_TYPE, "application/json".to_string()),
                    (header::LOCATION, format!("http://10.0.0.5:8083/connectors/{name}")),
                ],
                body.to_string(),
            )
                .into_response()
        }
        (Method::GET, ["connectors", n]) => match g.connectors.get(*n) {
            Some(c) => ok_json(200, info(n, c)),
            None => error(404, format!("Connector {n} not found")),
        },
        (Method::DELETE, ["connectors", n]) => match g.connectors.remove(*n) {
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => error(404, format!("Connector {n} not found")),
        },
        (Method::GET, ["connectors", n, "config"]) => match g.connectors.get(*n) {
            Some(c) => ok_json(200, json!(c.config)),
            None => error(404, format!("Connector {n} not found")),
        },
        (Method::PUT, ["connectors", n, "config"]) => {
            let Ok(v) = json_body() else { return error(500, "Cannot deserialize value") };
            let mut config = match strings(&v) {
                Ok(c) => c,
                Err(r) => return r,
            };
            if let Some(x) = config.get("name") {
                if x != n {
                    return error(400, format!("Connector name configuration ({x}) doesn't match connector name in the URL ({n})"));
                }
            }
            config.insert("name".into(), n.to_string());
            let created = !g.connectors.contains_key(*n);
            let c = g.connectors.entry(n.to_string()).or_insert(Conn { config: BTreeMap::new(), target: "RUNNING", tasks: 1 });
            c.config = config;
            let body = info(n, c);
            if created {
                (
                    StatusCode::CREATED,
                    [
                        (header::CONTENT_TYPE, "application/json".to_string()),
                        (header::LOCATION, format!("http://10.0.0.5:8083/connectors/{n}")),
                    ],
                    body.to_string(),
                )
                    .into_response()
            } else {
                ok_json(200, body)
            }
        }
        (Method::PATCH, ["connectors", n, "config"]) => {
            let Ok(Value::Object(patch)) = json_body() else { return error(500, "Cannot deserialize value") };
            let Some(c) = g.connectors.get_mut(*n) else {
                return error(404, format!("Connector {n} not found"));
            };
            for (k, v) in patch {
                match v {
                    Value::Null => {
                        c.config.remove(&k);
                    }
                    Value::String(s) => {
                        c.config.insert(k, s);
                    }
                    other => {
                        c.config.insert(k, other.to_string());
                    }
                }
            }
            ok_json(200, info(n, c))
        }
        (Method::GET, ["connectors", n, "status"]) => match g.connectors.get(*n) {
            Some(c) => ok_json(200, status(n, c, &worker)),
            None => error(404, format!("No status found for connector {n}")),
        },
        (Method::GET, ["connectors", n, "tasks"]) => match g.connectors.get(*n) {
            Some(c) => {
                let mut tc = c.config.clone();
                tc.insert("task.class".into(), "io.debezium.connector.postgresql.PostgresConnectorTask".into());
                let t: Vec<Value> = (0..c.tasks).map(|t| json!({"id": {"connector": n, "task": t}, "config": tc})).collect();
                ok_json(200, json!(t))
            }
            None => error(404, format!("Connector {n} not found")),
        },
        (Method::GET, ["connectors", n, "tasks", t, "status"]) => {
            match g.connectors.get(*n).filter(|c| t.parse::<u32>().is_ok_and(|t| t < c.tasks)) {
                Some(c) => ok_json(200, json!({"id": t.parse::<u32>().unwrap(), "state": c.target, "worker_id": worker})),
                None => error(404, format!("No status found for task {n}-{t}")),
            }
        }
        (Method::POST, ["connectors", n, "tasks", t, "restart"]) => match g.connectors.get(*n) {
            None => error(404, format!("Unknown connector: {n}")),
            Some(c) if !t.parse::<u32>().is_ok_and(|t| t < c.tasks) => error(404, format!("Unknown task: {n}-{t}")),
            Some(_) => StatusCode::NO_CONTENT.into_response(),
        },
        (Method::POST, ["connectors", n, "restart"]) => match g.connectors.get(*n) {
            None => error(404, format!("Unknown connector: {n}")),
            Some(c) => {
                if q("includeTasks").iter().any(|v| v == "true") || q("onlyFailed").iter().any(|v| v == "true") {
                    let mut s = status(n, c, &worker);
                    s["connector"]["state"] = json!("RESTARTING");
                    ok_json(202, s)
                } else {
                    StatusCode::NO_CONTENT.into_response()
                }
            }
        },
        (Method::PUT, ["connectors", n, action @ ("pause" | "resume" | "stop")]) => {
            let Some(c) = g.connectors.get_mut(*n) else {
                return error(404, format!("Unknown connector {n}"));
            };
            match *action {
                "pause" => {
                    c.target = "PAUSED";
                    StatusCode::ACCEPTED.into_response()
                }
                "resume" => {
                    c.target = "RUNNING";
                    c.tasks = 1;
                    StatusCode::ACCEPTED.into_response()
                }
                _ => {
                    c.target = "STOPPED";
                    c.tasks = 0;
                    StatusCode::NO_CONTENT.into_response()
                }
            }
        }
        (Method::GET, ["connectors", n, "topics"]) => {
            let topics: Vec<String> = g
                .connectors
                .get(*n)
                .and_then(|c| c.config.get("topic.prefix"))
                .map(|p| vec![format!("{p}.public.orders")])
                .unwrap_or_default();
            ok_json(200, json!({ n.to_string(): {"topics": topics} }))
        }
        (Method::PUT, ["connectors", _, "topics", "reset"]) => StatusCode::ACCEPTED.into_response(),
        (Method::GET, ["connectors", n, "offsets"]) => match g.connectors.get(*n) {
            Some(c) => ok_json(200, json!({"offsets": [{"partition": {"server": c.config.get("topic.prefix")}, "offset": {"lsn": 24023128, "txId": 555}}]})),
            None => error(404, format!("Connector {n} not found")),
        },
        (m @ (Method::PATCH | Method::DELETE), ["connectors", n, "offsets"]) => match g.connectors.get(*n) {
            None => error(404, format!("Connector {n} not found")),
            Some(c) if c.target != "STOPPED" => error(400, format!("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{n}/stop' endpoint")),
            Some(_) => {
                let verb = if m == Method::PATCH { "altered" } else { "reset" };
                ok_json(200, json!({"message": format!("The offsets for this connector have been {verb} successfully")}))
            }
        },
        (Method::GET, ["connector-plugins"]) => {
            let mut list = plugins();
            if q("connectorsOnly").iter().any(|v| v == "false") {
                list.extend(others());
            }
            ok_json(200, json!(list))
        }
        (Method::GET, ["connector-plugins", p, "config"]) => {
            if plugins().iter().any(|x| x["class"] == *p) {
                ok_json(200, json!([{"name": "topic.prefix", "type": "STRING", "required": true, "default_value": null, "importance": "HIGH", "documentation": "Topic prefix", "group": "Connector", "width": "MEDIUM", "display_name": "Topic prefix", "dependents": [], "order": 0}]))
            } else {
                error(404, format!("Unknown plugin {p}."))
            }
        }
        (Method::PUT, ["connector-plugins", p, "config", "validate"]) => {
            let Ok(v) = json_body() else { return error(500, "Cannot deserialize value") };
            let config = match strings(&v) {
                Ok(c) => c,
                Err(r) => return r,
            };
            let Some(class) = config.get("connector.class").cloned() else {
                return error(400, format!("Connector config {} contains no connector type", java_map(&config)));
            };
            let norm = |s: &str| s.strip_suffix("Connector").unwrap_or(s).to_string();
            if !norm(&class).ends_with(&norm(p)) {
                return error(400, format!("Included connector type {class} does not match request type {p}"));
            }
            if !plugins().iter().any(|x| x["class"] == class.as_str()) {
                return error(500, format!("Failed to find any class that implements Connector and which name matches {class}, available connectors are: ..."));
            }
            ok_json(200, validate(&class, &config))
        }
        _ => error(404, "HTTP 404 Not Found"),
    }
}

/// A TLS endpoint relaying decrypted bytes to `plain_url`'s port: the double behind HTTPS.
/// Returns the `https://127.0.0.1:port` URL.
pub async fn tls_front(plain_url: &str, cert_pem: &[u8], key_pem: &[u8]) -> String {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(key_pem).unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let target = plain_url.trim_start_matches("http://").to_string();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let target = target.clone();
            tokio::spawn(async move {
                // A failed handshake (untrusted certificate on the client side) just ends here.
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let Ok(mut plain) = tokio::net::TcpStream::connect(&target).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    url
}
