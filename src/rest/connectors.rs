//! `/connectors/...` handlers.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::Value;

use super::body::{self, Nulls};
use super::error::ApiError;
use super::AppState;
use crate::store::TargetState;

type Result<T> = std::result::Result<T, ApiError>;

/// A task id from the path; anything but a non-negative integer is Jersey's 404.
fn task_id(raw: &str) -> Result<u32> {
    raw.parse()
        .map_err(|_| ApiError::not_found("HTTP 404 Not Found"))
}

fn location(name: &str) -> String {
    let encoded: String = form_urlencoded::byte_serialize(name.as_bytes()).collect();
    format!("/connectors/{}", encoded.replace('+', "%20"))
}

/// `GET /connectors[?expand=status&expand=info]`.
pub async fn list(State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let expand = body::query_all(q.as_deref(), "expand");
    let names = s.herder.connector_names();
    if expand.is_empty() {
        return Json(names).into_response();
    }
    let want_status = expand.iter().any(|e| e == "status");
    let want_info = expand.iter().any(|e| e == "info");
    let mut out = serde_json::Map::new();
    for name in names {
        let mut entry = serde_json::Map::new();
        if want_status {
            match s.herder.connector_status(&name) {
                Ok(st) => entry.insert(
                    "status".into(),
                    serde_json::to_value(st).unwrap_or(Value::Null),
                ),
                // Deleted while listing: leave it out, as Connect does.
                Err(_) => continue,
            };
        }
        if want_info {
            match s.herder.connector_info(&name) {
                Ok(i) => entry.insert(
                    "info".into(),
                    serde_json::to_value(i).unwrap_or(Value::Null),
                ),
                Err(_) => continue,
            };
        }
        out.insert(name, Value::Object(entry));
    }
    Json(Value::Object(out)).into_response()
}

/// `POST /connectors`.
pub async fn create(State(s): State<AppState>, body: Bytes) -> Result<Response> {
    let v: Value = body::json(&body)?;
    let Value::Object(req) = v else {
        return Err(ApiError::bad_request(
            "Request body must be a JSON object with 'name' and 'config'",
        ));
    };
    let name = match req.get("name") {
        Some(Value::String(n)) => n.trim().to_string(),
        None | Some(Value::Null) => String::new(),
        Some(other) => other.to_string(),
    };
    let config = match req.get("config") {
        Some(c @ Value::Object(_)) => body::strings(body::config_map(c, Nulls::Reject)?),
        _ => {
            return Err(ApiError::bad_request(
                "Connector config is missing: the body needs a 'config' object",
            ))
        }
    };
    let initial = match req.get("initial_state") {
        None | Some(Value::Null) => None,
        Some(Value::String(st)) => Some(match st.to_ascii_uppercase().as_str() {
            "RUNNING" => TargetState::Started,
            "PAUSED" => TargetState::Paused,
            "STOPPED" => TargetState::Stopped,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "Invalid initial_state '{st}': must be one of RUNNING, PAUSED, STOPPED"
                )))
            }
        }),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "Invalid initial_state {other}"
            )))
        }
    };
    let (_, info) = s
        .herder
        .put_connector(&name, config, false, initial)
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location(&name))],
        Json(info),
    )
        .into_response())
}

/// `GET /connectors/{c}`.
pub async fn info(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(s.herder.connector_info(&name)?).into_response())
}

/// `DELETE /connectors/{c}`.
pub async fn delete(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode> {
    s.herder.delete_connector(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /connectors/{c}/config`.
pub async fn get_config(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<BTreeMap<String, String>>> {
    Ok(Json(s.herder.connector_config(&name)?))
}

/// `PUT /connectors/{c}/config`: 201 when created, 200 when updated.
pub async fn put_config(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let v: Value = body::json(&body)?;
    let config = body::strings(body::config_map(&v, Nulls::Reject)?);
    let (created, info) = s.herder.put_connector(&name, config, true, None).await?;
    Ok(if created {
        (
            StatusCode::CREATED,
            [(header::LOCATION, location(&name))],
            Json(info),
        )
            .into_response()
    } else {
        Json(info).into_response()
    })
}

/// `PATCH /connectors/{c}/config`.
pub async fn patch_config(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let v: Value = body::json(&body)?;
    let patch = body::config_map(&v, Nulls::Delete)?;
    Ok(Json(s.herder.patch_connector(&name, patch).await?).into_response())
}

/// `GET /connectors/{c}/status`.
pub async fn status(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(s.herder.connector_status(&name)?).into_response())
}

/// `POST /connectors/{c}/restart`: 204, or 202 with the plan when tasks are involved.
pub async fn restart(
    State(s): State<AppState>,
    Path(name): Path<String>,
    RawQuery(q): RawQuery,
) -> Result<Response> {
    let include_tasks = body::query_bool(q.as_deref(), "includeTasks", false)?;
    let only_failed = body::query_bool(q.as_deref(), "onlyFailed", false)?;
    Ok(
        match s
            .herder
            .restart_connector(&name, include_tasks, only_failed)
            .await?
        {
            None => StatusCode::NO_CONTENT.into_response(),
            Some(plan) => (StatusCode::ACCEPTED, Json(plan)).into_response(),
        },
    )
}

/// `PUT /connectors/{c}/pause`.
pub async fn pause(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode> {
    s.herder.pause(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `PUT /connectors/{c}/resume`.
pub async fn resume(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode> {
    s.herder.resume(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `PUT /connectors/{c}/stop`.
pub async fn stop(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode> {
    s.herder.stop(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /connectors/{c}/tasks`.
pub async fn tasks(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(s.herder.task_configs(&name)?).into_response())
}

/// `GET /connectors/{c}/tasks-config` (deprecated in Connect 3.7, kept for old clients).
pub async fn tasks_config(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    tracing::warn!("The GET /connectors/{{connector}}/tasks-config endpoint is deprecated; use GET /connectors/{{connector}}/tasks");
    let map: BTreeMap<String, BTreeMap<String, String>> = s
        .herder
        .task_configs(&name)?
        .into_iter()
        .map(|t| (format!("{}-{}", t.id.connector, t.id.task), t.config))
        .collect();
    Ok(Json(map).into_response())
}

/// `GET /connectors/{c}/tasks/{t}/status`.
pub async fn task_status(
    State(s): State<AppState>,
    Path((name, task)): Path<(String, String)>,
) -> Result<Response> {
    let task = task_id(&task)?;
    Ok(Json(s.herder.task_status(&name, task)?).into_response())
}

/// `POST /connectors/{c}/tasks/{t}/restart`.
pub async fn task_restart(
    State(s): State<AppState>,
    Path((name, task)): Path<(String, String)>,
) -> Result<StatusCode> {
    let task = task_id(&task)?;
    s.herder.restart_task(&name, task).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One partition in `GET /connectors/{c}/tasks/{t}/offsets` (Sluice extension).
#[derive(Serialize)]
struct PartitionView {
    topic: String,
    partition: i32,
    consumed: Option<i64>,
    buffered_from: Option<i64>,
    durable: Option<i64>,
    committed: Option<i64>,
    end: Option<i64>,
    lag: Option<i64>,
}

/// `GET /connectors/{c}/tasks/{t}/offsets`: per-partition consumed / durable / committed / end / lag.
pub async fn task_offsets(
    State(s): State<AppState>,
    Path((name, task)): Path<(String, String)>,
) -> Result<Response> {
    let task = task_id(&task)?;
    let parts: Vec<PartitionView> = s
        .herder
        .task_offsets(&name, task)?
        .into_iter()
        .map(|(tp, o)| PartitionView {
            topic: tp.topic.to_string(),
            partition: tp.partition,
            consumed: o.consumed,
            buffered_from: o.buffered_from,
            durable: o.durable,
            committed: o.committed,
            end: o.end,
            lag: o.lag(),
        })
        .collect();
    Ok(Json(serde_json::json!({ "partitions": parts })).into_response())
}

/// `GET /connectors/{c}/topics`.
pub async fn topics(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(s.herder.active_topics(&name)?).into_response())
}

/// `PUT /connectors/{c}/topics/reset`.
pub async fn topics_reset(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    s.herder.reset_active_topics(&name).await?;
    Ok(StatusCode::ACCEPTED)
}

/// `GET /connectors/{c}/offsets`.
pub async fn offsets(State(s): State<AppState>, Path(name): Path<String>) -> Result<Response> {
    Ok(Json(s.herder.offsets(&name).await?).into_response())
}

/// `PATCH /connectors/{c}/offsets`.
pub async fn alter_offsets(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Response> {
    let v: Value = body::json(&body)?;
    Ok(Json(s.herder.alter_offsets(&name, &v).await?).into_response())
}

/// `DELETE /connectors/{c}/offsets`.
pub async fn reset_offsets(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response> {
    Ok(Json(s.herder.reset_offsets(&name).await?).into_response())
}
