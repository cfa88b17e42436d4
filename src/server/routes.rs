//! Request handlers.

use std::time::Instant;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::dto::{
    self, AssistRequest, ChatRequest, ChatResponse, ErrorBody, FeedbackRequest, Health, RatingRequest, ReleaseResponse,
    ReloadResponse, SearchHit, SearchQuery, SearchResponse, UserDto, WelcomeRequest, WelcomeResponse,
};
use super::{ApiError, AppState, Metrics};
use crate::bot::{ReloadError, SessionError};
use crate::index::Mode;

/// Longest session id and customer id, in characters.
const MAX_ID: usize = 128;
/// Longest channel name and tag, in characters.
pub(super) const MAX_NAME: usize = 32;
/// Most tags per customer.
const MAX_TAGS: usize = 20;
/// Largest profile, in bytes of JSON.
const MAX_PROFILE_BYTES: usize = 4096;
/// Longest identity token, in characters (a JWT of a few claims is a few hundred).
const MAX_TOKEN: usize = 4096;

/// A name-like field: 1 to `max` characters, none of them control characters.
pub(super) fn check_name(field: &'static str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(ApiError::InvalidField {
            field,
            message: format!("{field} must have 1 to {max} printable characters"),
        });
    }
    Ok(())
}

pub(super) fn check_session_id(id: &str) -> Result<(), ApiError> {
    check_name("session_id", id, MAX_ID)
}

/// A session id a customer may use on the JSON API: not one of a messaging
/// channel's (`wechat:…`, `wecom:…`, `feishu:…`), whose conversations only the
/// platform's signed callbacks write into.
pub(super) fn check_customer_session_id(id: &str) -> Result<(), ApiError> {
    check_session_id(id)?;
    match crate::channels::Platform::of_session(id) {
        Some(platform) => Err(ApiError::InvalidField {
            field: "session_id",
            message: format!("session ids starting with \"{}:\" belong to that channel", platform.as_str()),
        }),
        None => Ok(()),
    }
}

/// Every string field of a chat request is bounded, so no request can grow the
/// turn log or a session beyond a known size.
fn check_chat(req: &ChatRequest, max_text: usize) -> Result<(), ApiError> {
    check_customer_session_id(&req.session_id)?;
    check_text(&req.text, max_text)?;
    check_customer(req.channel.as_deref(), req.user.as_ref())
}

/// The channel and the customer of a request.
fn check_customer(channel: Option<&str>, user: Option<&UserDto>) -> Result<(), ApiError> {
    if let Some(channel) = channel {
        check_name("channel", channel, MAX_NAME)?;
    }
    let Some(user) = user else { return Ok(()) };
    if let Some(id) = user.id.as_deref().filter(|id| !id.trim().is_empty()) {
        check_name("user.id", id, MAX_ID)?;
    }
    if let Some(token) = user.token.as_deref().filter(|t| !t.trim().is_empty()) {
        check_name("user.token", token, MAX_TOKEN)?;
    }
    if user.tags.len() > MAX_TAGS {
        return Err(ApiError::InvalidField { field: "user.tags", message: format!("at most {MAX_TAGS} tags") });
    }
    for tag in &user.tags {
        check_name("user.tags", tag, MAX_NAME)?;
    }
    let profile_bytes = serde_json::to_string(&user.profile).map_or(usize::MAX, |s| s.len());
    if profile_bytes > MAX_PROFILE_BYTES {
        return Err(ApiError::InvalidField {
            field: "user.profile",
            message: format!("user.profile has {profile_bytes} bytes of JSON; at most {MAX_PROFILE_BYTES}"),
        });
    }
    Ok(())
}

/// Whether `c` shows nothing: whitespace, control characters (NUL …) and
/// zero-width format characters.
fn invisible(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

pub(super) fn check_text(text: &str, max: usize) -> Result<(), ApiError> {
    if text.chars().all(invisible) {
        return Err(ApiError::InvalidField { field: "text", message: "text is empty".into() });
    }
    let n = text.chars().count();
    if n > max {
        return Err(ApiError::InvalidField {
            field: "text",
            message: format!("text has {n} characters; at most {max} are accepted"),
        });
    }
    Ok(())
}

pub(super) fn counted<T>(state: &AppState, r: Result<T, ApiError>) -> Result<T, ApiError> {
    if r.is_err() {
        state.metrics.bad_request();
    }
    r
}

#[utoipa::path(post, path = "/v1/chat", tag = "customer", request_body = ChatRequest, responses((status = 200, description = "the reply", body = ChatResponse), (status = 400, description = "not JSON or wrong shape", body = ErrorBody), (status = 422, description = "a field out of bounds", body = ErrorBody), (status = 429, description = "an earlier turn of the session is still running", body = ErrorBody), (status = 503, description = "overloaded", body = ErrorBody)))]
pub(super) async fn chat(
    State(state): State<AppState>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Json<ChatResponse>, ApiError> {
    let Json(req) = counted(&state, body.map_err(ApiError::from))?;
    let max = state.bot.snapshot().config.server.max_text_chars;
    counted(&state, check_chat(&req, max))?;
    let started = Instant::now();
    let (user, owner) = customer(&state, req.user);
    let (mut reply, since) = take_turn(&state, &req.session_id, req.text, user, owner.as_deref(), req.channel).await?;
    // What of the conversation the reply may show: a verified customer the turns
    // since they own it; a believed claim (identity.required = false) all; nobody
    // else anything. The desk always gets the whole transcript.
    let shown_from = match (&owner, since.believed) {
        (Some(_), _) => since.from,
        (None, true) => 0,
        (None, false) => u64::MAX,
    };
    if let Some(handoff) = &mut reply.handoff {
        handoff.transcript.retain(|line| line.turn >= shown_from);
    }
    let reason = reply.handoff.as_ref().map(|h| h.reason);
    state.metrics.turn(reply.action, reason, started.elapsed().as_micros() as u64);
    Ok(Json(ChatResponse::new(req.session_id, reply)))
}

/// The first transcript turn a customer may see, and whether their id was believed.
#[derive(Debug, Clone, Copy)]
pub(super) struct Since {
    from: u64,
    believed: bool,
}

/// One turn of session `session_id` for `user` (bound to `owner` when verified):
/// the session locked without holding a thread, the turn (model, back-end
/// look-up) on the blocking pool, the session saved and its events sent.
pub(super) async fn take_turn(
    state: &AppState,
    session_id: &str,
    text: String,
    user: crate::dialogue::UserInfo,
    owner: Option<&str>,
    channel: Option<String>,
) -> Result<(crate::dialogue::Reply, Since), ApiError> {
    let mut locked = state.bot.lock_session(session_id).await.map_err(|e| session_error(state, e))?;
    let Some(from) = locked.admit(owner, true) else {
        state.bot.finish(locked).await.map_err(|e| session_error(state, e))?;
        return counted(state, Err(ApiError::SessionOfAnotherCustomer));
    };
    let since = Since { from, believed: user.id.is_some() };
    let bot = state.bot.clone();
    let (locked, turn) = tokio::task::spawn_blocking(move || {
        let turn = bot.turn_locked(&mut locked, &text, &user, channel.as_deref()).map(|t| (t.reply, t.shortcut));
        (locked, turn)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("turn task failed: {e}")))?;
    let (reply, shortcut) = turn.map_err(|e| ApiError::Internal(e.to_string()))?;
    if let Some(shortcut) = shortcut {
        state.metrics.without_model(shortcut);
    }
    state.bot.finish(locked).await.map_err(|e| session_error(state, e))?;
    Ok((reply, since))
}

/// A session that could not be had: busy (429) or its store down (503).
pub(super) fn session_error(state: &AppState, e: SessionError) -> ApiError {
    match e {
        SessionError::Busy(_) => {
            state.metrics.busy();
            ApiError::SessionBusy
        }
        SessionError::Store(e) => {
            state.metrics.store_error();
            ApiError::SessionStoreUnavailable(e.to_string())
        }
    }
}

/// The customer a request speaks for (`[identity]`): the user the turn sees (an
/// id only when believed) and the owner tag of a verified customer.
pub(super) fn customer(state: &AppState, user: Option<UserDto>) -> (crate::dialogue::UserInfo, Option<String>) {
    let user = user.unwrap_or_default();
    let snapshot = state.bot.snapshot();
    let config = &snapshot.config.identity;
    let identity = config.identify(user.id.as_deref(), user.token.as_deref());
    state.metrics.identity(identity.kind());
    let owner = identity.verified_id().map(|id| config.owner_tag(id));
    let info = crate::dialogue::UserInfo {
        id: identity.customer_id().map(str::to_owned),
        tags: user.tags,
        profile: serde_json::Value::Object(user.profile),
    };
    (info, owner)
}

/// Lock session `id` for a request by `owner` (binding nothing) and hand it back:
/// `Ok(false)` when it belongs to another customer.
pub(super) async fn admitted(state: &AppState, id: &str, owner: Option<&str>) -> Result<bool, ApiError> {
    let mut locked = state.bot.lock_session(id).await.map_err(|e| session_error(state, e))?;
    let admitted = locked.admit(owner, false).is_some();
    state.bot.finish(locked).await.map_err(|e| session_error(state, e))?;
    Ok(admitted)
}

#[utoipa::path(post, path = "/v1/welcome", tag = "customer", request_body = WelcomeRequest, responses((status = 200, description = "greeting and suggestions", body = WelcomeResponse), (status = 400, description = "not JSON or wrong shape", body = ErrorBody), (status = 422, description = "a field out of bounds", body = ErrorBody)))]
pub(super) async fn welcome(
    State(state): State<AppState>,
    body: Result<Json<WelcomeRequest>, JsonRejection>,
) -> Result<Json<WelcomeResponse>, ApiError> {
    let Json(req) = counted(&state, body.map_err(ApiError::from))?;
    counted(
        &state,
        check_customer_session_id(&req.session_id)
            .and_then(|()| check_customer(req.channel.as_deref(), req.user.as_ref())),
    )?;
    let (user, _) = customer(&state, req.user);
    state.bot.open_session(&req.session_id).await.map_err(|e| session_error(&state, e))?;
    let welcome = state.bot.welcome(&req.session_id, &user, req.channel.as_deref());
    Ok(Json(WelcomeResponse { session_id: req.session_id, text: welcome.text, suggestions: welcome.suggestions }))
}

#[utoipa::path(post, path = "/v1/assist", tag = "agent", security(("bearer" = [])), request_body = AssistRequest, responses((status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 200, description = "suggestions for the agent", body = crate::bot::Assist), (status = 400, description = "not JSON or wrong shape", body = ErrorBody), (status = 422, description = "a field out of bounds", body = ErrorBody)))]
pub(super) async fn assist(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<AssistRequest>, JsonRejection>,
) -> Result<Json<crate::bot::Assist>, ApiError> {
    counted(&state, agent_authorized(&state, &headers))?;
    let Json(req) = counted(&state, body.map_err(ApiError::from))?;
    let max = state.bot.snapshot().config.server.max_text_chars;
    counted(&state, check_text(&req.text, max))?;
    if let Some(id) = &req.session_id {
        counted(&state, check_session_id(id))?;
    }
    let problem = match &req.session_id {
        Some(id) => state.bot.session_problem(id).await.map_err(|e| session_error(&state, e))?,
        None => None,
    };
    let bot = state.bot.clone();
    let assist = tokio::task::spawn_blocking(move || bot.assist(&req.text, problem))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(assist))
}

/// Longest rating comment, in characters.
const MAX_COMMENT: usize = 500;

#[utoipa::path(post, path = "/v1/rating", tag = "customer", request_body = RatingRequest, responses((status = 200, description = "logged", body = dto::Ok), (status = 400, description = "not JSON or wrong shape", body = ErrorBody), (status = 422, description = "a field out of bounds", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody)))]
pub(super) async fn rating(
    State(state): State<AppState>,
    body: Result<Json<RatingRequest>, JsonRejection>,
) -> Result<Json<dto::Ok>, ApiError> {
    let Json(req) = counted(&state, body.map_err(ApiError::from))?;
    counted(&state, check_customer_session_id(&req.session_id).and_then(|()| check_customer(None, req.user.as_ref())))?;
    if !(1..=5).contains(&req.score) {
        return counted(&state, Err(ApiError::InvalidField { field: "score", message: "score must be 1 to 5".into() }));
    }
    let comment = req.comment.unwrap_or_default();
    if comment.chars().count() > MAX_COMMENT {
        return counted(
            &state,
            Err(ApiError::InvalidField { field: "comment", message: format!("at most {MAX_COMMENT} characters") }),
        );
    }
    if !state.bot.session_exists(&req.session_id).await.map_err(|e| session_error(&state, e))? {
        return counted(&state, Err(ApiError::UnknownSession));
    }
    let (_, owner) = customer(&state, req.user);
    if !admitted(&state, &req.session_id, owner.as_deref()).await? {
        return counted(&state, Err(ApiError::SessionOfAnotherCustomer));
    }
    if !state.bot.rate(&req.session_id, req.score, comment.trim()).await.map_err(|e| session_error(&state, e))? {
        return counted(&state, Err(ApiError::UnknownSession));
    }
    state.metrics.rating(req.score);
    Ok(Json(dto::Ok { ok: true }))
}

#[utoipa::path(post, path = "/v1/feedback", tag = "customer", request_body = FeedbackRequest, responses((status = 200, description = "recorded", body = dto::Ok), (status = 400, description = "not JSON or wrong shape", body = ErrorBody), (status = 422, description = "a field out of bounds", body = ErrorBody), (status = 404, description = "unknown session or turn", body = ErrorBody)))]
pub(super) async fn feedback(
    State(state): State<AppState>,
    body: Result<Json<FeedbackRequest>, JsonRejection>,
) -> Result<Json<dto::Ok>, ApiError> {
    let Json(req) = counted(&state, body.map_err(ApiError::from))?;
    counted(&state, check_customer_session_id(&req.session_id).and_then(|()| check_customer(None, req.user.as_ref())))?;
    if !state.bot.session_exists(&req.session_id).await.map_err(|e| session_error(&state, e))? {
        return counted(&state, Err(ApiError::UnknownSession));
    }
    let (_, owner) = customer(&state, req.user);
    let mut locked = state.bot.lock_session(&req.session_id).await.map_err(|e| session_error(&state, e))?;
    if locked.admit(owner.as_deref(), false).is_none() {
        state.bot.finish(locked).await.map_err(|e| session_error(&state, e))?;
        return counted(&state, Err(ApiError::SessionOfAnotherCustomer));
    }
    let known = state.bot.feedback_locked(&mut locked, req.turn, req.helpful);
    state.bot.finish(locked).await.map_err(|e| session_error(&state, e))?;
    if !known {
        return counted(&state, Err(ApiError::UnknownSession));
    }
    Ok(Json(dto::Ok { ok: true }))
}

#[utoipa::path(get, path = "/v1/search", tag = "customer", params(("q" = String, Query, description = "the text"), ("k" = Option<usize>, Query, description = "matches, 1 to 50")), responses((status = 200, description = "best matches", body = SearchResponse), (status = 422, description = "bad q or k", body = ErrorBody)))]
pub(super) async fn search(
    State(state): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<SearchResponse>, ApiError> {
    let Query(q) = counted(&state, query.map_err(ApiError::from))?;
    let snapshot = state.bot.snapshot();
    counted(&state, check_text(&q.q, snapshot.config.server.max_text_chars))?;
    let k = q.k.unwrap_or(snapshot.config.retrieval.top_k);
    if k == 0 || k > 50 {
        return counted(
            &state,
            Err(ApiError::InvalidField { field: "k", message: "k must be between 1 and 50".into() }),
        );
    }
    let hits = tokio::task::spawn_blocking(move || {
        snapshot.engine.search(&q.q, k, Mode::Hybrid).map(|matches| {
            matches
                .into_iter()
                .map(|m| SearchHit {
                    id: m.entry.id.to_string(),
                    question: m.entry.question.clone(),
                    matched: m.matched.to_owned(),
                    category: m.entry.category.clone(),
                    score: m.confidence,
                    lexical: m.hit.lexical,
                    cosine: m.hit.cosine,
                })
                .collect::<Vec<_>>()
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(SearchResponse { matches: hits }))
}

#[utoipa::path(post, path = "/admin/reload", tag = "admin", security(("bearer" = [])), responses((status = 200, description = "swapped in", body = ReloadResponse), (status = 401, description = "wrong token", body = ErrorBody), (status = 403, description = "admin disabled", body = ErrorBody), (status = 422, description = "refused; every problem listed", body = ErrorBody)))]
pub(super) async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ReloadResponse>, ApiError> {
    counted(&state, authorized(&state, &headers))?;
    let bot = state.bot.clone();
    let result =
        tokio::task::spawn_blocking(move || bot.reload()).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    match result {
        Ok(report) => {
            tracing::info!(entries = report.entries, files = report.files, "reloaded");
            Ok(Json(ReloadResponse {
                ok: true,
                entries: report.entries,
                files: report.files,
                embedded: report.embedded,
            }))
        }
        Err(e) => {
            tracing::warn!("reload refused: {e}");
            let problems = match &e {
                ReloadError::Knowledge(k) => k.problems().iter().map(ToString::to_string).collect(),
                ReloadError::Config(crate::config::ConfigError::Invalid { problems }) => problems.clone(),
                other => vec![other.to_string()],
            };
            Err(ApiError::ReloadFailed(problems))
        }
    }
}

/// The admin token (`server.admin_token`) as a bearer token.
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = state.bot.snapshot().config.server.admin_token.clone();
    if token.is_empty() {
        return Err(ApiError::AdminDisabled);
    }
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    if !given.is_some_and(|g| same_secret(g, &token)) {
        return Err(ApiError::Unauthorized);
    }
    Ok(())
}

/// An agent's request: the bearer token is `desk.agent_token` or the admin token.
pub(super) fn agent_authorized(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let snapshot = state.bot.snapshot();
    let tokens = [&snapshot.config.desk.agent_token, &snapshot.config.server.admin_token];
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    match given {
        Some(g) if tokens.iter().any(|t| !t.is_empty() && same_secret(g, t)) => Ok(()),
        _ => Err(ApiError::AgentUnauthorized),
    }
}

/// `POST /v1/sessions/{id}/release`: the agent desk gives the conversation back to
/// the bot (agent or admin token).
#[utoipa::path(post, path = "/v1/sessions/{id}/release", tag = "agent", security(("bearer" = [])), params(("id" = String, Path, description = "the session")), responses((status = 200, description = "the bot answers again", body = ReleaseResponse), (status = 401, description = "wrong token", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody)))]
pub(super) async fn release(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(session_id): Path<String>,
) -> Result<Json<ReleaseResponse>, ApiError> {
    counted(&state, agent_authorized(&state, &headers))?;
    counted(&state, check_session_id(&session_id))?;
    match state.bot.release(&session_id).await.map_err(|e| session_error(&state, e))? {
        None => counted(&state, Err(ApiError::UnknownSession)),
        Some(was_with_agent) => Ok(Json(ReleaseResponse { ok: true, was_with_agent })),
    }
}

#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, description = "serving", body = Health)))]
pub(super) async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let snapshot = state.bot.snapshot();
    let entries = snapshot.engine.knowledge().faqs.len();
    let (status, code, session_store) = match state.bot.store_health().await {
        None => ("ok", StatusCode::OK, "memory"),
        Some(Ok(())) => ("ok", StatusCode::OK, "redis"),
        Some(Err(e)) => {
            tracing::warn!("health: {e}");
            ("degraded", StatusCode::SERVICE_UNAVAILABLE, "unavailable")
        }
    };
    let health = Health {
        status: status.into(),
        entries,
        model: snapshot.engine.has_dense(),
        session_store: session_store.into(),
    };
    (code, Json(health))
}

pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let entries = state.bot.snapshot().engine.knowledge().faqs.len();
    let mut body = state.metrics.render(state.bot.sessions().len(), entries);
    let vectors = state.bot.snapshot().engine.vector_stats().texts;
    body.push_str("# HELP bizbot_knowledge_vectors Question vectors in the dense index.\n");
    body.push_str("# TYPE bizbot_knowledge_vectors gauge\n");
    body.push_str(&format!("bizbot_knowledge_vectors {vectors}\n"));
    if let Some(rss) = resident_bytes() {
        body.push_str("# HELP bizbot_process_resident_bytes Resident memory of the process.\n");
        body.push_str("# TYPE bizbot_process_resident_bytes gauge\n");
        body.push_str(&format!("bizbot_process_resident_bytes {rss}\n"));
    }
    if let Some((hits, misses)) = state.bot.query_cache_stats() {
        body.push_str("# HELP bizbot_query_cache_total Query-vector cache look-ups (a hit skips the model).\n");
        body.push_str("# TYPE bizbot_query_cache_total counter\n");
        body.push_str(&format!("bizbot_query_cache_total{{result=\"hit\"}} {hits}\n"));
        body.push_str(&format!("bizbot_query_cache_total{{result=\"miss\"}} {misses}\n"));
    }
    if let Some((delivered, failed)) = state.bot.desk_stats() {
        body.push_str("# HELP bizbot_desk_events_total Agent-desk webhook deliveries by outcome.\n");
        body.push_str("# TYPE bizbot_desk_events_total counter\n");
        body.push_str(&format!("bizbot_desk_events_total{{outcome=\"delivered\"}} {delivered}\n"));
        body.push_str(&format!("bizbot_desk_events_total{{outcome=\"failed\"}} {failed}\n"));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
}

/// Resident memory of this process (Linux `/proc/self/statm`; `None` elsewhere).
fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// The chat widget, added to any page with one `<script src=".../widget.js">`.
pub(super) async fn widget_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        include_str!("widget/widget.js"),
    )
}

/// A demo page with the widget open.
pub(super) async fn demo_page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:",
            ),
        ],
        include_str!("widget/index.html"),
    )
}

/// The OpenAPI description of this API.
pub(super) async fn openapi() -> impl IntoResponse {
    use utoipa::OpenApi;
    Json(super::openapi::ApiDoc::openapi())
}

pub(super) async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, Json(json!({"code": "not_found", "message": "no such endpoint"})))
}

pub(super) async fn method_not_allowed() -> impl IntoResponse {
    (
        StatusCode::METHOD_NOT_ALLOWED,
        Json(json!({"code": "method_not_allowed", "message": "this endpoint does not take that method"})),
    )
}

/// The answer when customer traffic is shed (`server.max_in_flight`).
pub(super) fn overloaded(metrics: &Metrics, error: &tower::BoxError) -> ApiError {
    if error.is::<tower::load_shed::error::Overloaded>() {
        metrics.shed();
        ApiError::Overloaded
    } else {
        ApiError::Internal(error.to_string())
    }
}

pub(super) fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    ApiError::Internal("a handler panicked".into()).into_response()
}

/// The credentials of an `Authorization: Bearer …` value (the scheme is
/// case-insensitive, RFC 7235).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| credentials.trim())
}

/// Compare a given secret with the configured one in time independent of where
/// they differ (the length may show).
fn same_secret(given: &str, expected: &str) -> bool {
    given.len() == expected.len() && given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_of_only_invisible_characters_is_empty() {
        for text in ["", "   ", "\u{200B}\u{200B}", "\0\0", "\u{FEFF}\n\t"] {
            assert!(check_text(text, 100).is_err(), "{text:?}");
        }
        assert!(check_text("\u{200B}退货", 100).is_ok());
        assert!(check_text("退货退货", 3).is_err());
    }

    fn request(value: serde_json::Value) -> ChatRequest {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn every_string_field_of_a_chat_request_is_bounded() {
        let ok = json!({"session_id": "s", "text": "退货", "channel": "web",
            "user": {"id": "u1", "tags": ["vip"], "profile": {"name": "张三"}}});
        assert!(check_chat(&request(ok), 100).is_ok());
        let long = "x".repeat(200);
        let cases = [
            ("channel", json!({"session_id": "s", "text": "退货", "channel": long})),
            ("channel", json!({"session_id": "s", "text": "退货", "channel": "we\nb"})),
            ("user.id", json!({"session_id": "s", "text": "退货", "user": {"id": long}})),
            ("user.token", json!({"session_id": "s", "text": "退货", "user": {"token": "t".repeat(5000)}})),
            ("user.tags", json!({"session_id": "s", "text": "退货", "user": {"tags": [long]}})),
            ("user.tags", json!({"session_id": "s", "text": "退货", "user": {"tags": vec!["a"; 21]}})),
            (
                "user.profile",
                json!({"session_id": "s", "text": "退货", "user": {"profile": {"bio": "长".repeat(2000)}}}),
            ),
            ("session_id", json!({"session_id": long, "text": "退货"})),
        ];
        for (field, value) in cases {
            match check_chat(&request(value.clone()), 100) {
                Err(ApiError::InvalidField { field: f, .. }) => assert_eq!(f, field, "{value}"),
                other => panic!("{value}: {other:?}"),
            }
        }
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_secrets_compare_whole() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer abc"), Some("abc"));
        assert_eq!(bearer("BEARER  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("abc"), None);
        assert!(same_secret("s3cret", "s3cret"));
        assert!(!same_secret("s3creT", "s3cret"));
        assert!(!same_secret("s3cre", "s3cret"));
    }
}
