//! `/connector-plugins/...` handlers.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;

use super::body::{self, Nulls};
use super::error::ApiError;
use super::AppState;

/// `GET /connector-plugins[?connectorsOnly=false]`.
pub async fn list(State(s): State<AppState>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let connectors_only = body::query_bool(q.as_deref(), "connectorsOnly", true)?;
    Ok(Json(s.herder.plugins(connectors_only)).into_response())
}

/// `GET /connector-plugins/{p}/config`.
pub async fn config(
    State(s): State<AppState>,
    Path(plugin): Path<String>,
) -> Result<Response, ApiError> {
    Ok(Json(s.herder.plugin_config(&plugin)?).into_response())
}

/// `PUT /connector-plugins/{p}/config/validate`: 200 even when the config has errors.
pub async fn validate(
    State(s): State<AppState>,
    Path(plugin): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let v: Value = body::json(&body)?;
    let config = body::strings(body::config_map(&v, Nulls::Drop)?);
    Ok(Json(s.herder.validate(Some(&plugin), &config)?).into_response())
}
