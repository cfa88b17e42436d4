//! Live agents over HTTP: the customer's event stream of a conversation, the
//! agents' API (`/v1/agent/*`, bearer `desk.agent_token` or the admin token) and
//! the `/agent` workspace page.
//!
//! Event streams are Server-Sent Events: `id:` is the event's id, `event:` its
//! type (`message`, `state`, `typing`), `data:` the event as JSON. A client that
//! reconnects with `Last-Event-ID` (or `?after=`) gets what it missed first. A
//! comment line every 15 s keeps proxies from closing a quiet stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;

use super::dto::{
    self, AgentMessageRequest, ClaimRequest, CloseRequest, ConversationResponse, ErrorBody, QueueResponse,
    SeatResponse, TransferRequest, TypingRequest, UserDto,
};
use super::metrics::{OpenStream, StreamKind};
use super::routes::{
    MAX_NAME, admitted, agent_authorized, check_name, check_session_id, check_text, counted, customer, session_error,
};
use super::{ApiError, AppState};
use crate::bot::AgentError;
use crate::dialogue::Speaker;
use crate::live::{Event, EventId, Stream as EventStream};

/// Where a reader resumes: `?after=` (for clients that cannot set headers).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub(super) struct Resume {
    /// Resume after this event id (as `Last-Event-ID`).
    after: Option<String>,
}

/// The id to resume after: the `Last-Event-ID` header, else `?after=`.
fn resume_after(headers: &HeaderMap, resume: &Resume) -> Result<Option<EventId>, ApiError> {
    let given = headers.get("last-event-id").and_then(|v| v.to_str().ok()).or(resume.after.as_deref());
    match given.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(id) => id.parse().map(Some).map_err(|message| ApiError::InvalidField { field: "Last-Event-ID", message }),
    }
}

/// Events as Server-Sent Events, counted in `bizbot_event_streams` while open.
fn sse(events: impl Stream<Item = Event> + Send + 'static, open: OpenStream) -> impl IntoResponse {
    let events = events.map(move |event| {
        let _counted = &open;
        let sse = SseEvent::default().id(event.id.to_string()).event(event.body.name());
        Ok::<_, Infallible>(sse.json_data(&event).unwrap_or_else(|_| SseEvent::default().comment("unserialisable")))
    });
    let headers = [(header::CACHE_CONTROL, "no-cache"), (header::HeaderName::from_static("x-accel-buffering"), "no")];
    (headers, Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The customer of an events request, from the `X-Bizbot-User-Id` and
/// `X-Bizbot-User-Token` headers (as `user.id` and `user.token` of a chat turn).
fn customer_headers(headers: &HeaderMap) -> Option<UserDto> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (id, token) = (get("x-bizbot-user-id"), get("x-bizbot-user-token"));
    (id.is_some() || token.is_some()).then(|| UserDto { id, token, ..UserDto::default() })
}

#[utoipa::path(get, path = "/v1/sessions/{id}/events", tag = "customer", params(("id" = String, Path, description = "the session"), ("Last-Event-ID" = Option<String>, Header, description = "resume after this event"), ("X-Bizbot-User-Token" = Option<String>, Header, description = "a logged-in customer's token (as user.token)"), Resume), responses((status = 200, description = "text/event-stream of the conversation's events: message (from an agent or the system), state (owner changes), typing", body = crate::live::Event, content_type = "text/event-stream"), (status = 403, description = "the conversation of another customer", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody), (status = 422, description = "bad session id or Last-Event-ID", body = ErrorBody)))]
pub(super) async fn customer_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    resume: Result<Query<Resume>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(resume) = counted(&state, resume.map_err(ApiError::from))?;
    counted(&state, super::routes::check_customer_session_id(&id))?;
    let after = counted(&state, resume_after(&headers, &resume))?;
    if !state.bot.session_exists(&id).await.map_err(|e| session_error(&state, e))? {
        return counted(&state, Err(ApiError::UnknownSession));
    }
    let (_, owner) = customer(&state, customer_headers(&headers));
    if !admitted(&state, &id, owner.as_deref()).await? {
        return counted(&state, Err(ApiError::SessionOfAnotherCustomer));
    }
    let open = state.metrics.stream_opened(StreamKind::Customer);
    Ok(sse(state.bot.events().follow(EventStream::Session(id), after), open))
}

#[utoipa::path(get, path = "/v1/agent/events", tag = "agent", security(("bearer" = [])), params(("Last-Event-ID" = Option<String>, Header, description = "resume after this event"), Resume), responses((status = 200, description = "text/event-stream of every handed-off conversation's events: state (queued, claimed, transferred, closed), message (customer and agent)", body = crate::live::Event, content_type = "text/event-stream"), (status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 422, description = "bad Last-Event-ID", body = ErrorBody)))]
pub(super) async fn agent_events(
    State(state): State<AppState>,
    headers: HeaderMap,
    resume: Result<Query<Resume>, QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    counted(&state, agent_authorized(&state, &headers))?;
    let Query(resume) = counted(&state, resume.map_err(ApiError::from))?;
    let after = counted(&state, resume_after(&headers, &resume))?;
    let open = state.metrics.stream_opened(StreamKind::Agent);
    Ok(sse(state.bot.events().follow(EventStream::Agents, after), open))
}

#[utoipa::path(get, path = "/v1/agent/queue", tag = "agent", security(("bearer" = [])), responses((status = 200, description = "conversations waiting for or held by a person", body = QueueResponse), (status = 401, description = "missing or wrong agent token", body = ErrorBody)))]
pub(super) async fn queue(State(state): State<AppState>, headers: HeaderMap) -> Result<Json<QueueResponse>, ApiError> {
    counted(&state, agent_authorized(&state, &headers))?;
    let conversations = state.bot.queue().await.map_err(|e| session_error(&state, e))?;
    Ok(Json(QueueResponse { conversations }))
}

#[utoipa::path(get, path = "/v1/agent/sessions/{id}", tag = "agent", security(("bearer" = [])), params(("id" = String, Path, description = "the session")), responses((status = 200, description = "owner, seat, transcript and suggested answers", body = ConversationResponse), (status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody)))]
pub(super) async fn conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<ConversationResponse>, ApiError> {
    counted(&state, agent_authorized(&state, &headers))?;
    counted(&state, check_session_id(&id))?;
    let Some(conversation) = state.bot.conversation(&id).await.map_err(|e| session_error(&state, e))? else {
        return counted(&state, Err(ApiError::UnknownSession));
    };
    let problem = state.bot.session_problem(&id).await.map_err(|e| session_error(&state, e))?;
    let latest = conversation.transcript.iter().rev().find(|l| l.speaker == Speaker::Customer);
    let suggestions = match latest.map(|l| l.text.clone()) {
        Some(text) => {
            let bot = state.bot.clone();
            tokio::task::spawn_blocking(move || bot.assist(&text, problem))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| ApiError::Internal(e.to_string()))?
        }
        None => crate::bot::Assist { suggested_answers: Vec::new(), scenarios: Vec::new() },
    };
    let crate::bot::Conversation { session_id, owner, seat, transcript } = conversation;
    Ok(Json(ConversationResponse { session_id, owner, seat, transcript, suggestions }))
}

/// An agent's refusal as an HTTP error.
fn agent_error(state: &AppState, e: AgentError) -> ApiError {
    let conflict = |code, message: String| ApiError::Conflict { code, message };
    let error = match e {
        AgentError::UnknownSession => ApiError::UnknownSession,
        AgentError::NotHandedOff => conflict("not_handed_off", e.to_string()),
        AgentError::HeldBy(_) => conflict("held_by_another_agent", e.to_string()),
        AgentError::NotClaimed => conflict("not_claimed", e.to_string()),
        AgentError::Session(e) => return session_error(state, e),
    };
    state.metrics.bad_request();
    error
}

/// The checks every agent request on a session makes: token, id, JSON body.
fn agent_request<T>(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    body: Result<Json<T>, JsonRejection>,
) -> Result<T, ApiError> {
    counted(state, agent_authorized(state, headers))?;
    counted(state, check_session_id(id))?;
    let Json(body) = counted(state, body.map_err(ApiError::from))?;
    Ok(body)
}

#[utoipa::path(post, path = "/v1/agent/sessions/{id}/claim", tag = "agent", security(("bearer" = [])), params(("id" = String, Path, description = "the session")), request_body = ClaimRequest, responses((status = 200, description = "the agent holds it", body = SeatResponse), (status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody), (status = 409, description = "not waiting for a person, or held by another agent", body = ErrorBody), (status = 422, description = "bad agent name", body = ErrorBody)))]
pub(super) async fn claim(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<ClaimRequest>, JsonRejection>,
) -> Result<Json<SeatResponse>, ApiError> {
    let req = agent_request(&state, &headers, &id, body)?;
    counted(&state, check_name("agent", req.agent.trim(), MAX_NAME))?;
    let seat = state.bot.claim(&id, req.agent.trim()).await.map_err(|e| agent_error(&state, e))?;
    Ok(Json(SeatResponse { ok: true, seat }))
}

#[utoipa::path(post, path = "/v1/agent/sessions/{id}/messages", tag = "agent", security(("bearer" = [])), params(("id" = String, Path, description = "the session")), request_body = AgentMessageRequest, responses((status = 200, description = "sent to the customer", body = dto::Ok), (status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody), (status = 409, description = "not claimed, or held by another agent", body = ErrorBody), (status = 422, description = "empty or too long text", body = ErrorBody)))]
pub(super) async fn message(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<AgentMessageRequest>, JsonRejection>,
) -> Result<Json<dto::Ok>, ApiError> {
    let req = agent_request(&state, &headers, &id, body)?;
    let max = state.bot.snapshot().config.server.max_text_chars;
    counted(&state, check_text(&req.text, max))?;
    if let Some(agent) = &req.agent {
        counted(&state, check_name("agent", agent.trim(), MAX_NAME))?;
    }
    let agent = req.agent.as_deref().map(str::trim);
    state.bot.agent_says(&id, agent, req.text.trim()).await.map_err(|e| agent_error(&state, e))?;
    Ok(Json(dto::Ok { ok: true }))
}

#[utoipa::path(post, path = "/v1/agent/sessions/{id}/typing", tag = "agent", security(("bearer" = [])), params(("id" = String, Path, description = "the session")), request_body = TypingRequest, responses((status = 200, description = "the customer sees the agent typing", body = dto::Ok), (status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody), (status = 422, description = "bad agent name", body = ErrorBody)))]
pub(super) async fn typing(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<TypingRequest>, JsonRejection>,
) -> Result<Json<dto::Ok>, ApiError> {
    let req = agent_request(&state, &headers, &id, body)?;
    counted(&state, check_name("agent", req.agent.trim(), MAX_NAME))?;
    if !state.bot.session_exists(&id).await.map_err(|e| session_error(&state, e))? {
        return counted(&state, Err(ApiError::UnknownSession));
    }
    state.bot.agent_typing(&id, req.agent.trim()).await.map_err(|e| agent_error(&state, e))?;
    Ok(Json(dto::Ok { ok: true }))
}

#[utoipa::path(post, path = "/v1/agent/sessions/{id}/transfer", tag = "agent", security(("bearer" = [])), params(("id" = String, Path, description = "the session")), request_body = TransferRequest, responses((status = 200, description = "waiting in the other queue", body = SeatResponse), (status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody), (status = 409, description = "not handed to a person", body = ErrorBody), (status = 422, description = "bad queue name", body = ErrorBody)))]
pub(super) async fn transfer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<TransferRequest>, JsonRejection>,
) -> Result<Json<SeatResponse>, ApiError> {
    let req = agent_request(&state, &headers, &id, body)?;
    counted(&state, check_name("queue", req.queue.trim(), MAX_NAME))?;
    let seat = state.bot.transfer(&id, req.queue.trim()).await.map_err(|e| agent_error(&state, e))?;
    Ok(Json(SeatResponse { ok: true, seat }))
}

#[utoipa::path(post, path = "/v1/agent/sessions/{id}/close", tag = "agent", security(("bearer" = [])), params(("id" = String, Path, description = "the session")), request_body = CloseRequest, responses((status = 200, description = "back with the bot; the customer is asked for a rating", body = dto::Ok), (status = 401, description = "missing or wrong agent token", body = ErrorBody), (status = 404, description = "unknown session", body = ErrorBody), (status = 409, description = "not handed to a person", body = ErrorBody)))]
pub(super) async fn close(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Json<CloseRequest>, JsonRejection>,
) -> Result<Json<dto::Ok>, ApiError> {
    let req = agent_request(&state, &headers, &id, body)?;
    state.bot.close(&id, req.resolved).await.map_err(|e| agent_error(&state, e))?;
    Ok(Json(dto::Ok { ok: true }))
}

/// The agents' workspace: one page over the agent API.
pub(super) async fn agent_page() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        include_str!("agent/index.html"),
    )
}
