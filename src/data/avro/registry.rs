//! A Confluent Schema Registry REST client (the endpoints a deserializer needs, plus
//! registration for producers and tests). Several URLs fail over in order: a URL that cannot
//! be connected to is skipped, the first one that answers is used (and tried first next time).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::json;
use thiserror::Error;

/// Content type of Schema Registry requests.
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// What the Java client accepts, in its order of preference.
const ACCEPT: &str =
    "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; qs=0.9, application/json; qs=0.5";

/// How to authenticate to the registry. `Debug` hides the secrets.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Auth {
    /// Credentials in the URL (`http://user:pass@host:8081`), if any: Java's default
    /// `basic.auth.credentials.source=URL`.
    #[default]
    FromUrl,
    /// HTTP basic auth for every URL (`USER_INFO` with `basic.auth.user.info`).
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// A bearer token (`bearer.auth.credentials.source=STATIC_TOKEN`).
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::FromUrl => f.write_str("FromUrl"),
            Auth::Basic { user, .. } => {
                write!(f, "Basic {{ user: {user:?}, password: \"[hidden]\" }}")
            }
            Auth::Bearer(_) => f.write_str("Bearer([hidden])"),
        }
    }
}

/// Client settings.
#[derive(Debug, Clone)]
pub struct RegistryConfig {
    /// Base URLs, tried in order.
    pub urls: Vec<String>,
    /// Authentication.
    pub auth: Auth,
    /// Connect timeout per attempt.
    pub connect_timeout: Duration,
    /// Whole-request timeout per attempt.
    pub request_timeout: Duration,
    /// Extra trusted CA certificates (PEM) for `https://` registries.
    pub ca_pem: Vec<Vec<u8>>,
}

impl RegistryConfig {
    /// Settings for these URLs with the defaults: URL credentials, 10 s connect and 30 s
    /// request timeouts.
    pub fn new(urls: Vec<String>) -> RegistryConfig {
        RegistryConfig {
            urls,
            auth: Auth::FromUrl,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            ca_pem: Vec::new(),
        }
    }
}

/// Why a registry call failed. [`RegistryError::is_retriable`] tells a passing outage from an
/// answer that will not change.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum RegistryError {
    /// The settings are unusable (bad URL, bad certificate).
    #[error("invalid Schema Registry configuration: {0}")]
    Config(String),
    /// 404: no such schema id, subject or version.
    #[error("{what} not found in the Schema Registry at {url}: {message} (error code {code})")]
    NotFound {
        /// The URL that answered.
        url: String,
        /// What was asked for (`schema id 7`).
        what: String,
        /// Registry error code (40403 schema not found, 40401 subject not found, …).
        code: i64,
        /// Registry message.
        message: String,
    },
    /// 401/403: missing or wrong credentials.
    #[error("the Schema Registry at {url} refused the credentials for {what}: HTTP {status}: {message}; check basic.auth.credentials.source and basic.auth.user.info")]
    Unauthorized {
        /// The URL that answered.
        url: String,
        /// What was asked for.
        what: String,
        /// HTTP status.
        status: u16,
        /// Registry message.
        message: String,
    },
    /// 5xx, 408 or 429: the registry is there but failing or overloaded; retriable.
    #[error("the Schema Registry at {url} failed on {what}: HTTP {status}: {message}")]
    Server {
        /// The URL that answered.
        url: String,
        /// What was asked for.
        what: String,
        /// HTTP status.
        status: u16,
        /// Registry message.
        message: String,
    },
    /// Another 4xx answer (invalid schema, incompatible, …).
    #[error("the Schema Registry at {url} rejected {what}: HTTP {status}: {message} (error code {code})")]
    Rejected {
        /// The URL that answered.
        url: String,
        /// What was asked for.
        what: String,
        /// HTTP status.
        status: u16,
        /// Registry error code.
        code: i64,
        /// Registry message.
        message: String,
    },
    /// No URL could be reached (connection refused, DNS, timeout); retriable.
    #[error("the Schema Registry is unreachable for {what} (tried {urls}): {error}")]
    Unreachable {
        /// What was asked for.
        what: String,
        /// Every URL tried.
        urls: String,
        /// The last failure.
        error: String,
    },
    /// A 2xx answer that is not what the API documents.
    #[error("unexpected answer from the Schema Registry at {url} for {what}: {error}")]
    BadResponse {
        /// The URL that answered.
        url: String,
        /// What was asked for.
        what: String,
        /// What is wrong with it.
        error: String,
    },
}

impl RegistryError {
    /// True when the same call may succeed later (registry down, overloaded, timing out).
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            RegistryError::Server { .. } | RegistryError::Unreachable { .. }
        )
    }
}

/// A reference from a schema to a named type registered under another subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaReference {
    /// The referenced type's name.
    pub name: String,
    /// Subject it is registered under.
    pub subject: String,
    /// Version under that subject.
    pub version: i32,
}

/// A schema as the registry returns it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegisteredSchema {
    /// The schema text (Avro JSON for Avro).
    pub schema: String,
    /// `AVRO` (also when absent), `PROTOBUF` or `JSON`.
    #[serde(rename = "schemaType", default)]
    pub schema_type: Option<String>,
    /// Named types it uses from other subjects.
    #[serde(default)]
    pub references: Vec<SchemaReference>,
    /// Subject (only by subject/version).
    #[serde(default)]
    pub subject: Option<String>,
    /// Version (only by subject/version).
    #[serde(default)]
    pub version: Option<i32>,
    /// Global id (only by subject/version).
    #[serde(default)]
    pub id: Option<i32>,
}

impl RegisteredSchema {
    /// The schema type, `AVRO` when the registry left it out.
    pub fn schema_type(&self) -> &str {
        self.schema_type.as_deref().unwrap_or("AVRO")
    }
}

#[derive(Clone)]
struct Endpoint {
    /// Base URL without credentials or trailing slash.
    base: String,
    /// Credentials taken from the URL.
    basic: Option<(String, String)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.base)
    }
}

/// The client. Cheap to share (`reqwest::Client` is a handle to a pool).
#[derive(Debug)]
pub struct RegistryClient {
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    auth: Auth,
    /// The endpoint that answered last, tried first.
    preferred: AtomicUsize,
}

impl RegistryClient {
    /// A client for these settings.
    pub fn new(config: &RegistryConfig) -> Result<RegistryClient, RegistryError> {
        if config.urls.is_empty() {
            return Err(RegistryError::Config("no Schema Registry URL".into()));
        }
        let endpoints = config
            .urls
            .iter()
            .map(|u| parse_endpoint(u))
            .collect::<Result<Vec<_>, _>>()?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")));
        for pem in &config.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| RegistryError::Config(format!("invalid CA certificate: {e}")))?;
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder
            .build()
            .map_err(|e| RegistryError::Config(format!("HTTP client: {}", chain(&e))))?;
        Ok(RegistryClient {
            http,
            endpoints,
            auth: config.auth.clone(),
            preferred: AtomicUsize::new(0),
        })
    }

    /// The base URLs, comma-separated (for messages).
    pub fn urls(&self) -> String {
        self.endpoints
            .iter()
            .map(|e| e.base.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `GET /schemas/ids/{id}`: the schema with this global id.
    pub async fn schema_by_id(&self, id: i32) -> Result<RegisteredSchema, RegistryError> {
        let what = format!("schema id {id}");
        let (url, body) = self
            .call(Method::GET, &format!("/schemas/ids/{id}"), None, &what)
            .await?;
        parse(&url, &what, &body)
    }

    /// `GET /subjects/{subject}/versions/{version}` (`version` a number or `latest`).
    pub async fn subject_version(
        &self,
        subject: &str,
        version: &str,
    ) -> Result<RegisteredSchema, RegistryError> {
        let what = format!("subject {subject:?} version {version}");
        let path = format!(
            "/subjects/{}/versions/{}",
            segment(subject),
            segment(version)
        );
        let (url, body) = self.call(Method::GET, &path, None, &what).await?;
        parse(&url, &what, &body)
    }

    /// `POST /subjects/{subject}?deleted=true`: the version of `schema` under `subject`, `None`
    /// when the subject does not have it.
    pub async fn lookup_version(
        &self,
        subject: &str,
        schema: &RegisteredSchema,
    ) -> Result<Option<i32>, RegistryError> {
        let what = format!("the version of a schema under subject {subject:?}");
        let body = request_body(
            &schema.schema,
            schema.schema_type.as_deref(),
            &schema.references,
        );
        let path = format!("/subjects/{}?deleted=true", segment(subject));
        match self.call(Method::POST, &path, Some(body), &what).await {
            Ok((url, body)) => {
                let v: serde_json::Value = parse(&url, &what, &body)?;
                match v.get("version").and_then(serde_json::Value::as_i64) {
                    Some(n) => Ok(i32::try_from(n).ok()),
                    None => Err(RegistryError::BadResponse {
                        url,
                        what,
                        error: "no \"version\" in the answer".into(),
                    }),
                }
            }
            Err(RegistryError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /subjects/{subject}/versions`: registers a schema (or finds it registered) and
    /// returns its global id. `schema_type` `None` means Avro.
    pub async fn register(
        &self,
        subject: &str,
        schema: &str,
        schema_type: Option<&str>,
        references: &[SchemaReference],
    ) -> Result<i32, RegistryError> {
        let what = format!("registering a schema under subject {subject:?}");
        let body = request_body(schema, schema_type, references);
        let path = format!("/subjects/{}/versions", segment(subject));
        let (url, body) = self.call(Method::POST, &path, Some(body), &what).await?;
        let v: serde_json::Value = parse(&url, &what, &body)?;
        v.get("id")
            .and_then(serde_json::Value::as_i64)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| RegistryError::BadResponse {
                url,
                what,
                error: "no \"id\" in the answer".into(),
            })
    }

    /// Sends a request to the first endpoint that can be reached; returns that endpoint's URL
    /// and the body of a 2xx answer.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
        what: &str,
    ) -> Result<(String, Vec<u8>), RegistryError> {
        let n = self.endpoints.len();
        let start = self.preferred.load(Ordering::Relaxed) % n;
        let mut last_error = String::new();
        for k in 0..n {
            let i = (start + k) % n;
            let ep = &self.endpoints[i];
            let url = format!("{}{path}", ep.base);
            let mut req = self
                .http
                .request(method.clone(), &url)
                .header(reqwest::header::ACCEPT, ACCEPT);
            req = match &self.auth {
                Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
                Auth::Bearer(token) => req.bearer_auth(token),
                Auth::FromUrl => match &ep.basic {
                    Some((u, p)) => req.basic_auth(u, Some(p)),
                    None => req,
                },
            };
            if let Some(b) = &body {
                req = req
                    .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                    .body(b.to_string());
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) if e.is_connect() || e.is_timeout() || e.is_request() => {
                    last_error = format!("{}: {}", ep.base, chain(&e));
                    continue;
                }
                Err(e) => {
                    return Err(RegistryError::BadResponse {
                        url: ep.base.clone(),
                        what: what.to_string(),
                        error: chain(&e),
                    })
                }
            };
            self.preferred.store(i, Ordering::Relaxed);
            let status = resp.status();
            let bytes = match resp.bytes().await {
                Ok(b) => b,
                Err(e) if e.is_timeout() => {
                    last_error = format!("{}: {}", ep.base, chain(&e));
                    continue;
                }
                Err(e) => {
                    return Err(RegistryError::BadResponse {
                        url: ep.base.clone(),
                        what: what.to_string(),
                        error: chain(&e),
                    })
                }
            };
            if status.is_success() {
                return Ok((ep.base.clone(), bytes.to_vec()));
            }
            return Err(status_error(&ep.base, what, status, &bytes));
        }
        Err(RegistryError::Unreachable {
            what: what.to_string(),
            urls: self.urls(),
            error: last_error,
        })
    }
}

fn parse<T: serde::de::DeserializeOwned>(
    url: &str,
    what: &str,
    body: &[u8],
) -> Result<T, RegistryError> {
    serde_json::from_slice(body).map_err(|e| RegistryError::BadResponse {
        url: url.to_string(),
        what: what.to_string(),
        error: format!("{e}: {}", snippet(body)),
    })
}

fn request_body(
    schema: &str,
    schema_type: Option<&str>,
    references: &[SchemaReference],
) -> serde_json::Value {
    let mut b = json!({ "schema": schema });
    if let Some(t) = schema_type.filter(|t| !t.eq_ignore_ascii_case("AVRO")) {
        b["schemaType"] = json!(t);
    }
    if !references.is_empty() {
        b["references"] = json!(references);
    }
    b
}

/// The registry's error body `{"error_code": 40403, "message": "Schema 7 not found"}`, or the
/// raw text when it is not one.
fn status_error(url: &str, what: &str, status: StatusCode, body: &[u8]) -> RegistryError {
    #[derive(Deserialize)]
    struct ErrorBody {
        error_code: Option<i64>,
        message: Option<String>,
    }
    let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|b| b.error_code)
        .unwrap_or(i64::from(status.as_u16()));
    let message = parsed
        .and_then(|b| b.message)
        .unwrap_or_else(|| snippet(body));
    let (url, what) = (url.to_string(), what.to_string());
    let s = status.as_u16();
    match status {
        StatusCode::NOT_FOUND => RegistryError::NotFound {
            url,
            what,
            code,
            message,
        },
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => RegistryError::Unauthorized {
            url,
            what,
            status: s,
            message,
        },
        StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS => RegistryError::Server {
            url,
            what,
            status: s,
            message,
        },
        _ if status.is_server_error() => RegistryError::Server {
            url,
            what,
            status: s,
            message,
        },
        _ => RegistryError::Rejected {
            url,
            what,
            status: s,
            code,
            message,
        },
    }
}

/// At most 200 characters of a body, for messages.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let t = text.trim();
    match t.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &t[..i]),
        None => t.to_string(),
    }
}

/// An error with its causes (`error sending request: connection refused`).
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let t = s.to_string();
        if !out.contains(&t) {
            out.push_str(": ");
            out.push_str(&t);
        }
        src = s.source();
    }
    out
}

/// Percent-encodes one path segment (subjects may hold any character).
fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A base URL, with credentials moved out of it.
fn parse_endpoint(raw: &str) -> Result<Endpoint, RegistryError> {
    let raw = raw.trim();
    let url = reqwest::Url::parse(raw)
        .map_err(|e| RegistryError::Config(format!("invalid URL {raw:?}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(RegistryError::Config(format!(
            "invalid URL {raw:?}: only http and https are supported"
        )));
    }
    let basic = (!url.username().is_empty()).then(|| {
        (
            percent_decode(url.username()),
            percent_decode(url.password().unwrap_or_default()),
        )
    });
    let mut clean = url.clone();
    // Removing credentials from an http(s) URL cannot fail.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    let base = clean.as_str().trim_end_matches('/').to_string();
    Ok(Endpoint { base, basic })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_segments() {
        let e = parse_endpoint(" http://us%40er:p%3Ass@reg:8081/base/ ").unwrap();
        assert_eq!(e.base, "http://reg:8081/base");
        assert_eq!(e.basic, Some(("us@er".into(), "p:ss".into())));
        assert!(parse_endpoint("reg:8081").is_err());
        assert!(parse_endpoint("ftp://reg").is_err());
        assert_eq!(segment("a b/c-value"), "a%20b%2Fc-value");
        let auth = Auth::Basic {
            user: "u".into(),
            password: "secret".into(),
        };
        assert!(!format!("{auth:?}").contains("secret"));
    }

    #[test]
    fn status_errors() {
        let e = status_error(
            "http://r",
            "schema id 7",
            StatusCode::NOT_FOUND,
            br#"{"error_code":40403,"message":"Schema 7 not found"}"#,
        );
        assert_eq!(
            e.to_string(),
            "schema id 7 not found in the Schema Registry at http://r: Schema 7 not found (error code 40403)"
        );
        assert!(!e.is_retriable());
        let e = status_error("http://r", "x", StatusCode::SERVICE_UNAVAILABLE, b"down");
        assert!(e.is_retriable());
        assert!(e.to_string().contains("down"));
        let e = status_error("http://r", "x", StatusCode::UNAUTHORIZED, b"{}");
        assert!(matches!(e, RegistryError::Unauthorized { status: 401, .. }));
        let e = status_error(
            "http://r",
            "x",
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error_code":42201,"message":"Invalid schema"}"#,
        );
        assert!(matches!(e, RegistryError::Rejected { code: 42201, .. }));
    }
}
