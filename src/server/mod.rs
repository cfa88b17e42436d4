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

/// Shared state of the handlers.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The bot.
    pub bot: Arc<Bot>,
    /// Counters.
    pub metrics: Arc<Metrics>,
}

/// The router with every route.
pub fn router(bot: Arc<Bot>) -> Router {
    // Restart-only: a reload that changes it is refused.
    let max_body = bot.snapshot().config.server.max_body_bytes;
    let state = AppState { bot, metrics: Arc::new(Metrics::default()) };
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

/// Serve on `listener` until ctrl-c / SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, bot: Arc<Bot>) -> std::io::Result<()> {
    axum::serve(listener, router(bot)).with_graceful_shutdown(shutdown()).await
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
