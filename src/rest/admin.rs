//! `/`, `/health`, `/metrics` and `/admin/loggers` handlers.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::body;
use super::entities::{ServerInfo, WorkerStatus};
use super::error::ApiError;
use super::AppState;

/// The Connect REST API level Sluice implements (reported as `version`).
pub const CONNECT_API_VERSION: &str = "3.9.0";

/// `GET /`.
pub async fn root(State(s): State<AppState>) -> Json<ServerInfo> {
    Json(ServerInfo {
        version: CONNECT_API_VERSION.into(),
        commit: format!("sluice-{}", crate::VERSION),
        kafka_cluster_id: s.herder.kafka_cluster_id().await,
        sluice_version: crate::VERSION.into(),
    })
}

/// `GET /health` (Connect 3.9 shape).
pub async fn health(State(s): State<AppState>) -> Response {
    if s.herder.is_ready() {
        Json(WorkerStatus {
            status: "healthy".into(),
            message: "Worker has completed startup and is ready to handle requests.".into(),
        })
        .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(WorkerStatus {
                status: "starting".into(),
                message: "Worker is still starting up.".into(),
            }),
        )
            .into_response()
    }
}

/// `GET /metrics`: Prometheus / OpenMetrics text.
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        s.herder.render_metrics(),
    )
        .into_response()
}

/// `GET /admin/loggers`.
pub async fn loggers(State(s): State<AppState>) -> Response {
    Json(s.logs.all()).into_response()
}

/// `GET /admin/loggers/{name}`.
pub async fn logger(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    s.logs
        .get(&name)
        .map(|l| Json(l).into_response())
        .ok_or_else(|| ApiError::not_found(format!("Logger {name} not found.")))
}

/// `PUT /admin/loggers/{name}[?scope=worker|cluster]` with `{"level": "DEBUG"}`.
pub async fn set_logger(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = body::json(&body)?;
    let Some(level) = v.get("level").and_then(Value::as_str) else {
        return Err(ApiError::bad_request(
            "Desired 'level' parameter was not specified in request.",
        ));
    };
    let affected = s.logs.set(&name, level).map_err(ApiError::not_found)?;
    let cluster = body::query_all(q.as_deref(), "scope")
        .last()
        .is_some_and(|v| v.eq_ignore_ascii_case("cluster"));
    Ok(if cluster {
        StatusCode::NO_CONTENT.into_response()
    } else {
        Json(affected).into_response()
    })
}
