//! HTTP client of one upstream Connect cluster (reqwest, rustls), with typed failures that name
//! the cluster, its URL and what went wrong — never the credentials.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use thiserror::Error;

use super::config::UpstreamConfig;

/// Why a call to an upstream cluster did not produce an answer.
#[derive(Debug, Error)]
pub enum UpstreamError {
    /// No answer within `request.timeout.ms` (or no connection within `connect.timeout.ms`).
    #[error(
        "Upstream Connect cluster '{cluster}' ({url}) did not answer {what} within {timeout_ms} ms"
    )]
    Timeout {
        /// Cluster name.
        cluster: String,
        /// Cluster URL.
        url: String,
        /// The request, e.g. `GET /connectors`.
        what: String,
        /// The timeout that expired.
        timeout_ms: u128,
    },
    /// Connection refused, DNS or TLS failure, connection reset.
    #[error("Upstream Connect cluster '{cluster}' ({url}) is unreachable for {what}: {reason}")]
    Unreachable {
        /// Cluster name.
        cluster: String,
        /// Cluster URL.
        url: String,
        /// The request.
        what: String,
        /// The transport error chain.
        reason: String,
    },
    /// An answer Sluice needed to read (listing, probing) was not what Connect sends.
    #[error("Upstream Connect cluster '{cluster}' ({url}) answered {what} with {detail}")]
    BadAnswer {
        /// Cluster name.
        cluster: String,
        /// Cluster URL.
        url: String,
        /// The request.
        what: String,
        /// Status and body excerpt, or the parse error.
        detail: String,
    },
    /// The client could not be built (bad TLS files); reported at start-up.
    #[error("Upstream Connect cluster '{cluster}': {reason}")]
    Setup {
        /// Cluster name.
        cluster: String,
        /// What is wrong.
        reason: String,
    },
}

impl UpstreamError {
    /// The HTTP status a proxied call answers with: 504 for timeouts, else 502.
    pub fn http_status(&self) -> u16 {
        match self {
            UpstreamError::Timeout { .. } => 504,
            _ => 502,
        }
    }
}

/// An upstream's answer, passed back as is.
#[derive(Debug, Clone)]
pub struct UpstreamReply {
    /// HTTP status.
    pub status: u16,
    /// Response headers (content type, location).
    pub headers: HeaderMap,
    /// Raw body.
    pub body: Bytes,
}

impl UpstreamReply {
    /// True for 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A client bound to one upstream cluster.
#[derive(Debug, Clone)]
pub struct Upstream {
    /// Its settings.
    pub config: UpstreamConfig,
    http: reqwest::Client,
}

/// The error chain of a reqwest error without the request URL (already shown separately).
fn chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut src = e.source();
    while let Some(s) = src {
        let text = s.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        src = s.source();
    }
    if parts.is_empty() {
        parts.push(e.to_string());
    }
    parts.join(": ")
}

impl Upstream {
    /// Builds the client (reads TLS files).
    pub fn new(config: UpstreamConfig) -> Result<Upstream, UpstreamError> {
        let setup = |reason: String| UpstreamError::Setup {
            cluster: config.name.clone(),
            reason,
        };
        let mut b = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Connect answers Location with absolute URLs of its own; redirects are not part
            // of the API, and following one could send credentials elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .tls_danger_accept_invalid_hostnames(!config.tls.verify_hostname)
            .tls_danger_accept_invalid_certs(!config.tls.verify_certificate);
        if let Some(ca) = &config.tls.ca_location {
            let pem = std::fs::read(ca)
                .map_err(|e| setup(format!("cannot read ssl.ca.location {}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| setup(format!("ssl.ca.location {}: {e}", ca.display())))?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        match (&config.tls.certificate_location, &config.tls.key_location) {
            (Some(cert), Some(key)) => {
                let mut pem = std::fs::read(cert).map_err(|e| {
                    setup(format!(
                        "cannot read ssl.certificate.location {}: {e}",
                        cert.display()
                    ))
                })?;
                let key_pem = std::fs::read(key).map_err(|e| {
                    setup(format!(
                        "cannot read ssl.key.location {}: {e}",
                        key.display()
                    ))
                })?;
                pem.push(b'\n');
                pem.extend_from_slice(&key_pem);
                let id = reqwest::Identity::from_pem(&pem)
                    .map_err(|e| setup(format!("client certificate/key: {e}")))?;
                b = b.identity(id);
            }
            (None, None) => {}
            _ => {
                return Err(setup(
                    "ssl.certificate.location and ssl.key.location go together".into(),
                ))
            }
        }
        let http = b.build().map_err(|e| setup(chain(&e)))?;
        Ok(Upstream { config, http })
    }

    /// Cluster name.
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// Sends one request. `path_and_query` starts with `/`.
    pub async fn send(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
    ) -> Result<UpstreamReply, UpstreamError> {
        self.send_with_timeout(method, path_and_query, body, None)
            .await
    }

    /// As [`Upstream::send`], with a tighter timeout than the configured one.
    pub async fn send_with_timeout(
        &self,
        method: Method,
        path_and_query: &str,
        body: Option<Bytes>,
        timeout: Option<Duration>,
    ) -> Result<UpstreamReply, UpstreamError> {
        let what = format!("{method} {}", path_only(path_and_query));
        let url = format!("{}{path_and_query}", self.config.url);
        let mut req = self
            .http
            .request(method, &url)
            .header("Accept", "application/json");
        if let Some(t) = timeout {
            req = req.timeout(t);
        }
        if let Some(user) = &self.config.username {
            req = req.basic_auth(user, self.config.password.as_ref().map(|p| p.expose()));
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        let timeout_ms = timeout.unwrap_or(self.config.request_timeout).as_millis();
        let fail = |e: reqwest::Error| {
            if e.is_timeout() {
                UpstreamError::Timeout {
                    cluster: self.config.name.clone(),
                    url: self.config.url.clone(),
                    what: what.clone(),
                    timeout_ms,
                }
            } else {
                UpstreamError::Unreachable {
                    cluster: self.config.name.clone(),
                    url: self.config.url.clone(),
                    what: what.clone(),
                    reason: chain(&e),
                }
            }
        };
        let res = req.send().await.map_err(fail)?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.bytes().await.map_err(fail)?;
        tracing::debug!(
            target: "sluice::proxy",
            cluster = %self.config.name,
            "{what} -> {status}"
        );
        Ok(UpstreamReply {
            status,
            headers,
            body,
        })
    }

    /// A GET whose 2xx JSON body Sluice reads itself (listings).
    pub async fn get_json(&self, path_and_query: &str) -> Result<serde_json::Value, UpstreamError> {
        let reply = self.send(Method::GET, path_and_query, None).await?;
        let what = format!("GET {}", path_only(path_and_query));
        if !reply.is_success() {
            return Err(self.bad_answer(
                &what,
                format!("HTTP {}: {}", reply.status, excerpt(&reply.body)),
            ));
        }
        serde_json::from_slice(&reply.body)
            .map_err(|e| self.bad_answer(&what, format!("a body that is not JSON ({e})")))
    }

    /// A [`UpstreamError::BadAnswer`] for this cluster.
    pub fn bad_answer(&self, what: &str, detail: String) -> UpstreamError {
        UpstreamError::BadAnswer {
            cluster: self.config.name.clone(),
            url: self.config.url.clone(),
            what: what.to_string(),
            detail,
        }
    }
}

/// The path without the query (queries may carry nothing secret, but keep logs short).
fn path_only(p: &str) -> &str {
    p.split('?').next().unwrap_or(p)
}

/// The first 200 characters of a body, for error messages.
pub fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut s: String = text.chars().take(200).collect();
    if text.chars().count() > 200 {
        s.push('…');
    }
    s
}
