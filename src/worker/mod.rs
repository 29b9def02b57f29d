//! The worker: configuration, start-up (store, herder, REST listener) and graceful shutdown.

pub mod config;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;

use crate::connectors::Plugins;
use crate::herder::Herder;
use crate::logging::LogControl;
use crate::metrics::Metrics;
use crate::rest::{self, AppState};
use crate::store::{ConnectorStore, StoreError};

pub use config::{Listener, WorkerConfig, WorkerConfigError};

/// Failures starting or running the worker.
#[derive(Debug, Error)]
pub enum WorkerError {
    /// The state directory is unusable.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The REST listener could not bind.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address tried.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("REST server failed: {0}")]
    Serve(std::io::Error),
    /// An upstream Connect cluster's client could not be set up (TLS files).
    #[error(transparent)]
    Proxy(#[from] crate::connectors::debezium_proxy::UpstreamError),
}

/// A worker with its listener bound, ready to run.
pub struct Worker {
    herder: Herder,
    listener: TcpListener,
    state: AppState,
}

impl Worker {
    /// Opens the state directory, binds the REST listener and builds the herder.
    pub async fn bind(config: WorkerConfig, logs: Arc<LogControl>) -> Result<Worker, WorkerError> {
        Self::bind_with_plugins(config, logs, Plugins::builtin()).await
    }

    /// As [`Worker::bind`], with a chosen plugin set.
    pub async fn bind_with_plugins(
        config: WorkerConfig,
        logs: Arc<LogControl>,
        plugins: Plugins,
    ) -> Result<Worker, WorkerError> {
        let store = ConnectorStore::open(&config.state_dir)?;
        let proxy = crate::connectors::debezium_proxy::DebeziumProxy::from_worker(
            &config,
            plugins.connector_names(),
        )?
        .map(Arc::new);
        crate::connectors::s3_parquet::budget::MemoryBudget::global()
            .set_limit(usize::try_from(config.buffer_memory_bytes).unwrap_or(usize::MAX));
        let host = if config.listener.host.is_empty() {
            "0.0.0.0"
        } else {
            config.listener.host.as_str()
        };
        let addr = format!("{host}:{}", config.listener.port);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| WorkerError::Bind { addr, source })?;
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or(config.listener.port);
        let herder = Herder::new(
            Arc::new(config),
            Arc::new(plugins),
            store,
            Arc::new(Metrics::new()),
            port,
        );
        let state = AppState {
            herder: herder.clone(),
            logs,
            proxy,
        };
        Ok(Worker {
            herder,
            listener,
            state,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The herder (for embedding and tests).
    pub fn herder(&self) -> &Herder {
        &self.herder
    }

    /// Serves until `shutdown` resolves, then stops accepting requests, stops every task
    /// (flush + commit) within a bounded time, and returns.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), WorkerError> {
        let herder = self.herder.clone();
        let starter = tokio::spawn({
            let herder = herder.clone();
            async move {
                if let Err(e) = herder.start().await {
                    tracing::error!("cannot load connectors: {e}");
                }
            }
        });
        let app = rest::router(self.state);
        tracing::info!(
            "Sluice REST API listening on http://{} (worker_id {})",
            self.listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default(),
            herder.worker_id()
        );
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        tracing::info!("shutting down: stopping tasks, flushing and committing offsets");
        let _ = starter.await;
        let bound = herder.worker().task_shutdown_timeout + Duration::from_secs(5);
        if tokio::time::timeout(bound, herder.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some tasks did not stop within {bound:?}; exiting anyway");
        }
        served.map_err(WorkerError::Serve)
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
