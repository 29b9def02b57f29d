//! The Kafka Connect REST API (axum): router, handlers, entities and the error body.

mod admin;
pub mod body;
mod connectors;
pub mod entities;
pub mod error;
mod plugins;

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::Router;

use crate::herder::Herder;
use crate::logging::LogControl;

/// State shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    /// The connector manager.
    pub herder: Herder,
    /// Runtime log levels.
    pub logs: Arc<LogControl>,
    /// The Debezium-config proxy, when upstream Connect clusters are configured.
    pub proxy: Option<Arc<crate::connectors::debezium_proxy::DebeziumProxy>>,
}

/// The full router: Connect's endpoints plus Sluice's additive ones.
pub fn router(state: AppState) -> Router {
    use connectors as c;
    let cors = !state.herder.worker().cors_origin.is_empty();
    let router = Router::new()
        .route_jersey("/", get(admin::root))
        .route_jersey("/health", get(admin::health))
        .route_jersey("/metrics", get(admin::metrics))
        .route_jersey("/connectors", get(c::list).post(c::create))
        .route_jersey("/connectors/{name}", get(c::info).delete(c::delete))
        .route_jersey(
            "/connectors/{name}/config",
            get(c::get_config).put(c::put_config).patch(c::patch_config),
        )
        .route_jersey("/connectors/{name}/status", get(c::status))
        .route_jersey("/connectors/{name}/restart", post(c::restart))
        .route_jersey("/connectors/{name}/pause", put(c::pause))
        .route_jersey("/connectors/{name}/resume", put(c::resume))
        .route_jersey("/connectors/{name}/stop", put(c::stop))
        .route_jersey("/connectors/{name}/tasks", get(c::tasks))
        .route_jersey("/connectors/{name}/tasks-config", get(c::tasks_config))
        .route_jersey(
            "/connectors/{name}/tasks/{task}/status",
            get(c::task_status),
        )
        .route_jersey(
            "/connectors/{name}/tasks/{task}/restart",
            post(c::task_restart),
        )
        .route_jersey(
            "/connectors/{name}/tasks/{task}/offsets",
            get(c::task_offsets),
        )
        .route_jersey("/connectors/{name}/topics", get(c::topics))
        .route_jersey("/connectors/{name}/topics/reset", put(c::topics_reset))
        .route_jersey(
            "/connectors/{name}/offsets",
            get(c::offsets)
                .patch(c::alter_offsets)
                .delete(c::reset_offsets),
        )
        .route_jersey("/connector-plugins", get(plugins::list))
        .route_jersey("/connector-plugins/{plugin}/config", get(plugins::config))
        .route_jersey(
            "/connector-plugins/{plugin}/config/validate",
            put(plugins::validate),
        )
        .route_jersey("/admin/loggers", get(admin::loggers))
        .route_jersey(
            "/admin/loggers/{name}",
            get(admin::logger).put(admin::set_logger),
        )
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::connectors::debezium_proxy::routes::intercept,
        ))
        .layer(middleware::from_fn(log_request));
    let router = if cors {
        router.layer(middleware::from_fn_with_state(state.clone(), cors_headers))
    } else {
        router
    };
    router.with_state(state)
}

/// Jersey matches every resource path with an optional trailing slash (`GET /connectors/`,
/// `DELETE /connectors/x/`), so each route is also served with one.
trait RouteJersey<S> {
    fn route_jersey(self, path: &str, method_router: MethodRouter<S>) -> Self;
}

impl<S: Clone + Send + Sync + 'static> RouteJersey<S> for Router<S> {
    fn route_jersey(self, path: &str, method_router: MethodRouter<S>) -> Self {
        if path == "/" {
            return self.route(path, method_router);
        }
        self.route(&format!("{path}/"), method_router.clone())
            .route(path, method_router)
    }
}

async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let res = next.run(req).await;
    tracing::debug!(target: "sluice::rest", "{method} {uri} -> {}", res.status().as_u16());
    res
}

/// `access.control.allow.origin` / `access.control.allow.methods`, as Connect's CORS filter.
async fn cors_headers(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let worker = s.herder.worker();
    let origin = HeaderValue::from_str(&worker.cors_origin).ok();
    let methods = if worker.cors_methods.is_empty() {
        "GET,POST,HEAD".to_string()
    } else {
        worker.cors_methods.clone()
    };
    let preflight = req.method() == Method::OPTIONS;
    let mut res = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    if let Some(o) = origin {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        if let Ok(m) = HeaderValue::from_str(&methods) {
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, m);
        }
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("X-Requested-With,Content-Type,Accept,Origin"),
        );
    }
    res
}
