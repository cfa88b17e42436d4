//! The HTTP service (axum): chat, feedback, search, admin reload, health, metrics.
//!
//! Only this module knows axum. Handlers validate input, call the [`Bot`] off the
//! async runtime, and convert domain values to wire types.

mod demo_backend;
pub mod dto;
mod error;
mod metrics;
mod routes;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub use demo_backend::demo_backend_router;
pub use error::ApiError;
pub use metrics::Metrics;

use crate::bot::Bot;
use crate::turnlog::TurnLog;

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The bot.
    pub bot: Arc<Bot>,
    /// Counters.
    pub metrics: Arc<Metrics>,
    /// The turn log.
    pub log: Arc<TurnLog>,
}

/// The router with every route.
pub fn router(bot: Arc<Bot>, log: TurnLog) -> Router {
    let max_body = bot.snapshot().config.server.max_body_bytes;
    let state = AppState { bot, metrics: Arc::new(Metrics::default()), log: Arc::new(log) };
    Router::new()
        .route("/v1/chat", post(routes::chat))
        .route("/v1/feedback", post(routes::feedback))
        .route("/v1/search", get(routes::search))
        .route("/admin/reload", post(routes::reload))
        .route("/healthz", get(routes::health))
        .route("/metrics", get(routes::metrics))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        // A bug must cost one request a JSON 500, never the connection or the process.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(routes::panicked))
        .with_state(state)
}

/// Open the configured turn log and serve on `listener` until ctrl-c / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, bot: Arc<Bot>) -> std::io::Result<()> {
    let log = TurnLog::open(&bot.snapshot().config.log).map_err(|e| {
        std::io::Error::new(e.kind(), format!("turn log {}: {e}", bot.snapshot().config.log.path.display()))
    })?;
    axum::serve(listener, router(bot, log)).with_graceful_shutdown(shutdown()).await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
