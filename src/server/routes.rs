//! Request handlers.

use std::time::Instant;

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::dto::{ChatRequest, ChatResponse, FeedbackRequest, SearchHit, SearchQuery};
use super::{ApiError, AppState};
use crate::bot::ReloadError;
use crate::index::Mode;

const MAX_SESSION_ID: usize = 128;

fn check_session_id(id: &str) -> Result<(), ApiError> {
    if id.is_empty() || id.chars().count() > MAX_SESSION_ID || id.chars().any(char::is_control) {
        return Err(ApiError::InvalidField {
            field: "session_id",
            message: format!("session_id must have 1 to {MAX_SESSION_ID} printable characters"),
        });
    }
    Ok(())
}

/// Whether `c` shows nothing: whitespace, control characters (NUL …) and
/// zero-width format characters.
fn invisible(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

fn check_text(text: &str, max: usize) -> Result<(), ApiError> {
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

fn counted<T>(state: &AppState, r: Result<T, ApiError>) -> Result<T, ApiError> {
    if r.is_err() {
        state.metrics.bad_request();
    }
    r
}

pub(super) async fn chat(
    State(state): State<AppState>,
    body: Result<Json<ChatRequest>, JsonRejection>,
) -> Result<Json<ChatResponse>, ApiError> {
    let Json(req) = counted(&state, body.map_err(ApiError::from))?;
    let max = state.bot.snapshot().config.server.max_text_chars;
    counted(&state, check_session_id(&req.session_id).and_then(|()| check_text(&req.text, max)))?;
    let started = Instant::now();
    let user = req.user.unwrap_or_default();
    tracing::debug!(session = %req.session_id, channel = ?req.channel, user = ?user.id, tags = ?user.tags, "turn");
    let user = crate::dialogue::UserInfo {
        id: user.id.filter(|id| !id.trim().is_empty()),
        tags: user.tags,
        profile: serde_json::Value::Object(user.profile),
    };
    let bot = state.bot.clone();
    let (session_id, text, channel) = (req.session_id.clone(), req.text, req.channel);
    let reply = tokio::task::spawn_blocking(move || bot.reply(&session_id, &text, &user, channel.as_deref()))
        .await
        .map_err(|e| ApiError::Internal(format!("turn task failed: {e}")))?
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let reason = reply.handoff.as_ref().map(|h| h.reason);
    state.metrics.turn(reply.action, reason, started.elapsed().as_micros() as u64);
    Ok(Json(ChatResponse::new(req.session_id, reply)))
}

pub(super) async fn feedback(
    State(state): State<AppState>,
    body: Result<Json<FeedbackRequest>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(req) = counted(&state, body.map_err(ApiError::from))?;
    counted(&state, check_session_id(&req.session_id))?;
    if !state.bot.feedback(&req.session_id, req.turn, req.helpful) {
        return counted(&state, Err(ApiError::UnknownSession));
    }
    Ok(Json(json!({"ok": true})))
}

pub(super) async fn search(
    State(state): State<AppState>,
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    Ok(Json(json!({"matches": hits})))
}

pub(super) async fn reload(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let token = state.bot.snapshot().config.server.admin_token.clone();
    if token.is_empty() {
        return counted(&state, Err(ApiError::AdminDisabled));
    }
    let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(bearer);
    if !given.is_some_and(|g| same_secret(g, &token)) {
        return counted(&state, Err(ApiError::Unauthorized));
    }
    let bot = state.bot.clone();
    let result =
        tokio::task::spawn_blocking(move || bot.reload()).await.map_err(|e| ApiError::Internal(e.to_string()))?;
    match result {
        Ok(report) => {
            tracing::info!(entries = report.entries, files = report.files, "reloaded");
            Ok(Json(json!({"ok": true, "entries": report.entries, "files": report.files, "embedded": report.embedded})))
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

pub(super) async fn health(State(state): State<AppState>) -> Json<serde_json::Value> {
    let snapshot = state.bot.snapshot();
    Json(
        json!({"status": "ok", "entries": snapshot.engine.knowledge().faqs.len(), "model": snapshot.engine.has_dense()}),
    )
}

pub(super) async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let entries = state.bot.snapshot().engine.knowledge().faqs.len();
    let body = state.metrics.render(state.bot.sessions().len(), entries);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body)
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
