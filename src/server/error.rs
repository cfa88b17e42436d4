//! Every HTTP error as `{ "code", "message" }` with a stable snake_case code.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Seconds a client is asked to wait before sending again (429 and 503).
const RETRY_AFTER_SECS: u32 = 1;

/// An API error.
#[derive(Debug)]
pub enum ApiError {
    /// The body is not valid JSON or not of the expected shape.
    InvalidJson(String),
    /// The body is not `application/json`.
    UnsupportedMediaType,
    /// The body is larger than `server.max_body_bytes`.
    PayloadTooLarge,
    /// The body did not arrive whole within `server.body_timeout_secs` (the
    /// seconds).
    BodyTimeout(u64),
    /// A field is missing, empty, too long or out of range.
    InvalidField {
        /// The field.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// No such session or turn.
    UnknownSession,
    /// The session belongs to a verified customer and the request does not carry
    /// that customer's token.
    SessionOfAnotherCustomer,
    /// Missing or wrong admin token.
    Unauthorized,
    /// Missing or wrong agent token (`desk.agent_token`).
    AgentUnauthorized,
    /// Admin endpoints are disabled (no token configured).
    AdminDisabled,
    /// A reload was refused; the old state keeps serving.
    ReloadFailed(Vec<String>),
    /// An earlier turn of the session is still being answered and the session's
    /// queue is full or the wait ran out; retry shortly.
    SessionBusy,
    /// The server is handling as many requests as it may; retry shortly.
    Overloaded,
    /// The shared session store (Redis) cannot be reached; retry shortly.
    SessionStoreUnavailable(String),
    /// The conversation is not in a state that allows the request (an agent
    /// claiming one nobody handed off, or one another agent holds).
    Conflict {
        /// Stable code: `not_handed_off`, `held_by_another_agent`, `not_claimed`.
        code: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A messaging channel that is not enabled (`channels.NAME.enabled`).
    ChannelDisabled(&'static str),
    /// A channel callback whose signature, token or timestamp does not check
    /// out: nothing of it was processed.
    ChannelSignature(String),
    /// A channel callback that is not what the platform sends (XML, JSON,
    /// encryption), with the problem.
    ChannelMessage(String),
    /// Anything else; details are logged, not sent.
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidJson(_) => (StatusCode::BAD_REQUEST, "invalid_json"),
            Self::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Self::BodyTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "body_timeout"),
            Self::InvalidField { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_field"),
            Self::UnknownSession => (StatusCode::NOT_FOUND, "unknown_session"),
            Self::SessionOfAnotherCustomer => (StatusCode::FORBIDDEN, "session_of_another_customer"),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::AgentUnauthorized => (StatusCode::UNAUTHORIZED, "agent_unauthorized"),
            Self::AdminDisabled => (StatusCode::FORBIDDEN, "admin_disabled"),
            Self::ReloadFailed(_) => (StatusCode::UNPROCESSABLE_ENTITY, "reload_failed"),
            Self::SessionBusy => (StatusCode::TOO_MANY_REQUESTS, "session_busy"),
            Self::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, "overloaded"),
            Self::SessionStoreUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "session_store_unavailable"),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::ChannelDisabled(_) => (StatusCode::NOT_FOUND, "channel_disabled"),
            Self::ChannelSignature(_) => (StatusCode::UNAUTHORIZED, "bad_signature"),
            Self::ChannelMessage(_) => (StatusCode::BAD_REQUEST, "bad_channel_message"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let body = match &self {
            Self::InvalidJson(m) => json!({"code": code, "message": m}),
            Self::UnsupportedMediaType => {
                json!({"code": code, "message": "send the body as application/json"})
            }
            Self::PayloadTooLarge => {
                json!({"code": code, "message": "the request body is too large"})
            }
            Self::BodyTimeout(secs) => {
                json!({"code": code, "message": format!("the request body did not arrive within {secs} s")})
            }
            Self::InvalidField { field, message } => {
                json!({"code": code, "message": message, "field": field})
            }
            Self::UnknownSession => json!({"code": code, "message": "no such session or turn"}),
            Self::SessionOfAnotherCustomer => json!({
                "code": code,
                "message": "this conversation belongs to a logged-in customer: send that customer's user.token, or start a new session",
            }),
            Self::Unauthorized => json!({"code": code, "message": "missing or wrong admin token"}),
            Self::AgentUnauthorized => {
                json!({"code": code, "message": "missing or wrong agent token (desk.agent_token, or the admin token)"})
            }
            Self::AdminDisabled => {
                json!({"code": code, "message": "admin endpoints are disabled: set server.admin_token"})
            }
            Self::ReloadFailed(problems) => {
                json!({"code": code, "message": "reload refused; the previous knowledge and config keep serving", "problems": problems})
            }
            Self::SessionBusy => json!({
                "code": code,
                "message": "an earlier message of this session is still being answered; send again shortly",
                "retry_after": RETRY_AFTER_SECS,
            }),
            Self::Overloaded => json!({
                "code": code,
                "message": "the service is busy; send again shortly",
                "retry_after": RETRY_AFTER_SECS,
            }),
            Self::SessionStoreUnavailable(detail) => {
                tracing::error!("{detail}");
                json!({
                    "code": code,
                    "message": "conversations cannot be read or saved right now; send again shortly",
                    "retry_after": RETRY_AFTER_SECS,
                })
            }
            Self::Conflict { message, .. } => json!({"code": code, "message": message}),
            Self::ChannelDisabled(name) => {
                json!({"code": code, "message": format!("the {name} channel is not enabled (channels.{name}.enabled)")})
            }
            Self::ChannelSignature(why) | Self::ChannelMessage(why) => json!({"code": code, "message": why}),
            Self::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                json!({"code": code, "message": "internal error"})
            }
        };
        let mut response = (status, Json(body)).into_response();
        if matches!(self, Self::SessionBusy | Self::Overloaded | Self::SessionStoreUnavailable(_)) {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
        }
        response
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::UnsupportedMediaType,
            _ => Self::InvalidJson(rejection.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        Self::InvalidField { field: "query", message: rejection.body_text() }
    }
}
