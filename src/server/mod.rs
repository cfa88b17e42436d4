//! The HTTP service (axum): chat, feedback, search, admin reload, health, metrics.
//!
//! Only this module knows axum. Handlers validate input, call the [`Bot`] off the
//! async runtime, and convert domain values to wire types.

mod agent;
mod channels;
mod demo_backend;
pub mod dto;
mod error;
mod limits;
mod metrics;
pub mod openapi;
mod routes;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::middleware::Next;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::sync::Semaphore;
use tower::ServiceExt;

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
    /// The messaging channels' clients and the messages they took.
    pub channels: Arc<channels::Channels>,
}

impl AppState {
    fn new(bot: Arc<Bot>) -> Self {
        let channels = &bot.snapshot().config.channels;
        let channels = Arc::new(channels::Channels::new(channels.dedup_secs, channels.max_clock_skew_secs));
        Self { bot, metrics: Arc::new(Metrics::default()), channels }
    }
}

/// The router with every route (`/metrics` included).
pub fn router(bot: Arc<Bot>) -> Router {
    app(AppState::new(bot), true, None)
}

/// Only `/metrics`, for `server.metrics_bind`.
fn metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(routes::metrics)).fallback(routes::not_found).with_state(state)
}

/// Every route; `/metrics` only `with_metrics`; requests whose body has arrived
/// counted in `in_flight` while they are handled.
fn app(state: AppState, with_metrics: bool, in_flight: Option<Arc<AtomicUsize>>) -> Router {
    // Restart-only: a reload that changes them is refused.
    let server = state.bot.snapshot().config.server.clone();
    let metrics = Arc::clone(&state.metrics);
    // Customer traffic is shed with a JSON 503 beyond `max_in_flight` requests at
    // once; health, metrics and admin stay reachable.
    let shed = tower::ServiceBuilder::new()
        .layer(HandleErrorLayer::new(move |error: tower::BoxError| {
            let response = routes::overloaded(&metrics, &error);
            std::future::ready(response)
        }))
        .load_shed()
        // One count for all customer routes (a per-route limit would allow
        // max_in_flight on each).
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(server.max_in_flight));
    let customer = Router::new()
        .route("/v1/chat", post(routes::chat))
        .route("/v1/welcome", post(routes::welcome))
        .route("/v1/feedback", post(routes::feedback))
        .route("/v1/rating", post(routes::rating))
        .route("/v1/search", get(routes::search))
        .route("/v1/assist", post(routes::assist))
        .layer(shed);
    let mut router = Router::new().merge(customer);
    if with_metrics {
        router = router.route("/metrics", get(routes::metrics));
    }
    router
        .route("/", get(routes::demo_page))
        .route("/widget.js", get(routes::widget_js))
        .route("/admin/reload", post(routes::reload))
        .route("/v1/sessions/{id}/release", post(routes::release))
        .route("/v1/sessions/{id}/events", get(agent::customer_events))
        .route("/v1/agent/events", get(agent::agent_events))
        .route("/v1/agent/queue", get(agent::queue))
        .route("/v1/agent/sessions/{id}", get(agent::conversation))
        .route("/v1/agent/sessions/{id}/claim", post(agent::claim))
        .route("/v1/agent/sessions/{id}/messages", post(agent::message))
        .route("/v1/agent/sessions/{id}/typing", post(agent::typing))
        .route("/v1/agent/sessions/{id}/transfer", post(agent::transfer))
        .route("/v1/agent/sessions/{id}/close", post(agent::close))
        .route("/agent", get(agent::agent_page))
        // The platforms' callbacks: signed, answered within their window, not
        // shed with the JSON API (a refused callback is a lost message).
        .route("/channels/wechat", get(channels::wechat_verify).post(channels::wechat_message))
        .route("/channels/wecom", get(channels::wecom_verify).post(channels::wecom_message))
        .route("/channels/feishu", post(channels::feishu_event))
        .route("/healthz", get(routes::health))
        .route("/openapi.json", get(routes::openapi))
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(axum::middleware::from_fn(move |request, next: Next| {
            let counted = in_flight.as_ref().map(limits::InFlight::start);
            async move {
                let response = next.run(request).await;
                drop(counted);
                response
            }
        }))
        .layer(DefaultBodyLimit::max(server.max_body_bytes))
        // The whole body is read here, before a route or an in-flight slot is
        // taken: a slow body costs its own connection only.
        .layer(axum::middleware::from_fn({
            let (deadline, limit) = (Duration::from_secs(server.body_timeout_secs), server.max_body_bytes);
            move |request, next| limits::whole_body(deadline, limit, request, next)
        }))
        .layer(cors(&server.cors_origins))
        // A bug must cost one request a JSON 500, never the connection or the process.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(routes::panicked))
        .with_state(state)
}

/// Browsers on these origins may call the API (the widget on a company's site);
/// `*` allows any origin; none: same origin only.
fn cors(origins: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowOrigin, Any, CorsLayer};
    let layer = CorsLayer::new().allow_methods([axum::http::Method::GET, axum::http::Method::POST]).allow_headers([
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderName::from_static("last-event-id"),
        axum::http::HeaderName::from_static("x-bizbot-user-id"),
        axum::http::HeaderName::from_static("x-bizbot-user-token"),
    ]);
    if origins.iter().any(|o| o == "*") {
        return layer.allow_origin(Any);
    }
    let list: Vec<axum::http::HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    layer.allow_origin(AllowOrigin::list(list))
}

/// Serve on `listener` until ctrl-c / SIGTERM, then stop accepting and give
/// in-flight requests `server.shutdown_grace_secs` to finish.
///
/// HTTP/1.1 with hyper: at most `server.max_connections` open connections (further
/// ones wait in the kernel's backlog), at most `server.max_connections_per_address`
/// of them from one client address (further ones are closed at once), and a
/// connection that takes longer than `server.header_timeout_secs` to send a
/// request's headers (counted from its first byte's wait), or idles that long
/// between requests, is closed.
pub async fn serve(listener: tokio::net::TcpListener, bot: Arc<Bot>) -> std::io::Result<()> {
    serve_until(listener, bot, shutdown()).await
}

/// As [`serve`], stopping when `stop` completes.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    bot: Arc<Bot>,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let server = bot.snapshot().config.server.clone();
    let state = AppState::new(Arc::clone(&bot));
    let separate_metrics = !server.metrics_bind.is_empty();
    if separate_metrics {
        // Scrapers reach the counters on an address customers do not.
        let listener = tokio::net::TcpListener::bind(&server.metrics_bind).await?;
        tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
        let metrics = metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                tracing::error!("metrics listener: {e}");
            }
        });
    }
    // Conversations that waited too long for a person go back to the bot, and
    // the queue forgets conversations whose session expired.
    let sweeper = bot.snapshot().config.desk.live_agents.then(|| {
        let bot = Arc::clone(&bot);
        let every = Duration::from_secs((server_wait_secs(&bot) / 10).clamp(1, 30));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                match bot.end_long_waits().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("{n} conversation(s) waited longer than desk.max_wait_secs"),
                    Err(e) => tracing::warn!("long waits not checked: {e}"),
                }
            }
        })
    });
    // Agents' messages reach customers on messaging channels (a channel enabled
    // by a reload too: the relay checks per message).
    let relay = bot.snapshot().config.desk.live_agents.then(|| tokio::spawn(channels::relay(state.clone())));
    // Requests being handled, so shutdown can wait for them and not for idle or
    // half-sent connections.
    let in_flight = Arc::new(AtomicUsize::new(0));
    // Counted once the body has arrived: a slow body is its client's wait, and
    // shutdown does not wait for it.
    let app = app(state, !separate_metrics, Some(Arc::clone(&in_flight)));
    let connections = Arc::new(Semaphore::new(server.max_connections));
    let per_address = limits::AddressSlots::new(server.max_connections_per_address);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(Duration::from_secs(server.header_timeout_secs));
    let graceful = GracefulShutdown::new();
    let mut stop = std::pin::pin!(stop);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, address_slot) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => match per_address.try_take(peer.ip()) {
                    Some(slot) => (stream, slot),
                    None => {
                        // Closed at once: one address cannot take the connection
                        // slots every other customer needs.
                        tracing::debug!("refused a connection: {} has too many open", peer.ip());
                        continue;
                    }
                },
                Err(e) => {
                    // Out of file descriptors and the like: wait, never give up serving.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone().map_request(|r: Request<Incoming>| r.map(Body::new)));
        let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!("connection: {e}");
            }
            drop(permit);
            drop(address_slot);
        });
    }
    drop(listener);
    // Connections close after their current response; done when all are closed,
    // or when no request is in flight any more (idle and half-sent connections
    // are not waited for), or after the grace period.
    let grace = Duration::from_secs(server.shutdown_grace_secs);
    let drained = graceful.shutdown();
    let requests_done = async {
        while in_flight.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let finished = tokio::time::timeout(grace, async {
        tokio::pin!(drained);
        tokio::select! {
            () = &mut drained => {}
            () = requests_done => {
                // Let the last responses reach their sockets.
                let _ = tokio::time::timeout(Duration::from_millis(200), drained).await;
            }
        }
    })
    .await;
    if finished.is_err() {
        tracing::warn!("shutdown: requests still open after {} s were cut off", grace.as_secs());
    }
    for task in [sweeper, relay].into_iter().flatten() {
        task.abort();
    }
    bot.flush();
    Ok(())
}

/// `desk.max_wait_secs` (restart-only); 0 (no limit) sweeps every 30 s.
fn server_wait_secs(bot: &Bot) -> u64 {
    match bot.snapshot().config.desk.max_wait_secs {
        0 => 300,
        secs => secs,
    }
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
