//! Wire types of the HTTP API, kept apart from the domain types so internal changes
//! do not leak into the contract.

use serde::{Deserialize, Serialize};

use crate::dialogue::{Handoff, MatchInfo, Reply, Suggestion};
use crate::knowledge::Action;

/// `POST /v1/chat` request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ChatRequest {
    /// The conversation; chosen by the widget.
    pub session_id: String,
    /// The customer's text.
    pub text: String,
    /// Channel name (web, app, wechat, …), for logs.
    #[serde(default)]
    pub channel: Option<String>,
    /// The customer, when known.
    #[serde(default)]
    pub user: Option<UserDto>,
}

/// `POST /v1/welcome` request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct WelcomeRequest {
    /// The conversation to open; chosen by the widget.
    pub session_id: String,
    /// Channel name (web, app, sms, wechat, …).
    #[serde(default)]
    pub channel: Option<String>,
    /// The customer, when known.
    #[serde(default)]
    pub user: Option<UserDto>,
}

/// `POST /v1/welcome` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WelcomeResponse {
    /// Echoed.
    pub session_id: String,
    /// The greeting.
    pub text: String,
    /// "您可能想问": `{id, question, reason}` with reason `unresolved`, `rule` or `popular`.
    pub suggestions: Vec<crate::dialogue::WelcomeSuggestion>,
}

/// The customer in a chat request.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UserDto {
    /// Customer id in the company's systems; believed only with `token` (see
    /// `[identity]`), unless `identity.required = false`.
    #[serde(default)]
    pub id: Option<String>,
    /// A JWT the company's server signed for this customer (HS256, `sub` = the
    /// customer id, `exp`); proves `id`.
    #[serde(default)]
    pub token: Option<String>,
    /// Tags (vip, new, …).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Profile fields for answer placeholders (`{{name}}`) and audiences.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub profile: serde_json::Map<String, serde_json::Value>,
}

/// `POST /v1/chat` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChatResponse {
    /// Echoed.
    pub session_id: String,
    /// Turn number, for feedback.
    pub turn: u64,
    /// answer | clarify | ask_slot | handoff | fallback | with_agent | callback
    #[schema(value_type = String, example = "answer")]
    pub action: &'static str,
    /// What to show.
    pub text: String,
    /// The entry or scenario matched.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub matched: Option<MatchInfo>,
    /// Candidates ("您是不是想问"): a clarification's, or the entries offered beside a
    /// request to log in (action `fallback`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Suggestion>,
    /// Related questions.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Suggestion>,
    /// Buttons / links.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// Hand-off details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Handoff>,
    /// Who holds the conversation now: `bot`, `queued` (handed off, waiting for
    /// a person: follow `/v1/sessions/{id}/events`), `agent`.
    pub owner: crate::dialogue::Holder,
}

impl ChatResponse {
    /// From the domain reply.
    pub fn new(session_id: String, reply: Reply) -> Self {
        let Reply { turn, action, text, matched, candidates, related, actions, handoff, owner } = reply;
        Self { session_id, turn, action: action.as_str(), text, matched, candidates, related, actions, handoff, owner }
    }
}

/// `POST /v1/feedback` request.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct FeedbackRequest {
    /// The conversation.
    pub session_id: String,
    /// The turn rated.
    pub turn: u64,
    /// Whether the answer helped.
    pub helpful: bool,
    /// The customer (its `token`), for a conversation that belongs to one.
    #[serde(default)]
    pub user: Option<UserDto>,
}

/// `POST /v1/rating` request: the customer's score of the conversation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct RatingRequest {
    /// The conversation.
    pub session_id: String,
    /// 1 (bad) to 5 (excellent).
    pub score: u8,
    /// What the customer wrote, if anything.
    #[serde(default)]
    pub comment: Option<String>,
    /// The customer (its `token`), for a conversation that belongs to one.
    #[serde(default)]
    pub user: Option<UserDto>,
}

/// `POST /v1/assist` request: what the customer or the agent wrote.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct AssistRequest {
    /// The conversation the agent is serving, if any.
    #[serde(default)]
    pub session_id: Option<String>,
    /// The text to find help for.
    pub text: String,
}

/// `GET /v1/search` query.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct SearchQuery {
    /// The text.
    pub q: String,
    /// Matches wanted (default `retrieval.top_k`, at most 50).
    #[serde(default)]
    pub k: Option<usize>,
}

/// One search match.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchHit {
    /// Entry id.
    pub id: String,
    /// Standard question.
    pub question: String,
    /// The text that matched.
    pub matched: String,
    /// Category.
    pub category: String,
    /// Fused confidence.
    pub score: f32,
    /// Lexical part.
    pub lexical: f32,
    /// Cosine, when the model runs.
    pub cosine: Option<f32>,
}

/// `GET /v1/search` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SearchResponse {
    /// Best first.
    pub matches: Vec<SearchHit>,
}

/// `{ok: true}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Ok {
    /// Always true.
    pub ok: bool,
}

/// `POST /v1/sessions/{id}/release` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReleaseResponse {
    /// Always true.
    pub ok: bool,
    /// Whether an agent held the conversation.
    pub was_with_agent: bool,
}

/// `POST /v1/agent/sessions/{id}/claim` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimRequest {
    /// The agent's display name, shown to the customer (1 to 32 characters).
    pub agent: String,
}

/// `POST /v1/agent/sessions/{id}/messages` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentMessageRequest {
    /// What the customer reads.
    pub text: String,
    /// The agent writing; when given, it must be the agent holding the conversation.
    #[serde(default)]
    pub agent: Option<String>,
}

/// `POST /v1/agent/sessions/{id}/typing` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TypingRequest {
    /// The agent typing.
    pub agent: String,
}

/// `POST /v1/agent/sessions/{id}/close` body.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// Whether the problem was solved (reported as resolved by a person).
    #[serde(default)]
    pub resolved: Option<bool>,
}

/// `POST /v1/agent/sessions/{id}/transfer` body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    /// The queue it goes to (1 to 32 characters).
    pub queue: String,
}

/// `GET /v1/agent/queue` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueueResponse {
    /// Conversations waiting for or held by a person, longest waiting first.
    pub conversations: Vec<crate::bot::QueueItem>,
}

/// `GET /v1/agent/sessions/{id}` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConversationResponse {
    /// The session.
    pub session_id: String,
    /// Who holds it: `bot`, `queued`, `agent`.
    pub owner: crate::dialogue::Holder,
    /// Where it waits and who holds it; none while the bot holds it.
    pub seat: Option<crate::dialogue::Seat>,
    /// The conversation so far.
    pub transcript: Vec<crate::dialogue::TranscriptLine>,
    /// Answers and scenarios for the customer's latest message.
    pub suggestions: crate::bot::Assist,
}

/// Response of a claim or transfer: where the conversation is now.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SeatResponse {
    /// Always true.
    pub ok: bool,
    /// Queue, agent, waiting since.
    pub seat: crate::dialogue::Seat,
}

/// `POST /admin/reload` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReloadResponse {
    /// Always true.
    pub ok: bool,
    /// FAQ entries now served.
    pub entries: usize,
    /// Knowledge files read.
    pub files: usize,
    /// Texts embedded anew.
    pub embedded: usize,
}

/// `GET /healthz` response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` (HTTP 503) when the shared session store is down.
    pub status: String,
    /// FAQ entries served.
    pub entries: usize,
    /// Whether the embedding model runs.
    pub model: bool,
    /// Where sessions live: `memory`, `redis`, or `unavailable` (Redis does not answer).
    pub session_store: String,
}

/// Every error: a stable `code`, a message, and per code a field, the problems of
/// a refused reload, or seconds to wait.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// invalid_json, unsupported_media_type, payload_too_large, body_timeout,
    /// invalid_field, unknown_session, session_of_another_customer, unauthorized,
    /// agent_unauthorized, admin_disabled, reload_failed, session_busy,
    /// overloaded, session_store_unavailable, not_handed_off,
    /// held_by_another_agent, not_claimed, not_found, method_not_allowed,
    /// internal.
    pub code: String,
    /// For people.
    pub message: String,
    /// The field at fault (`invalid_field`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every problem (`reload_failed`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problems: Option<Vec<String>>,
    /// Seconds to wait (`session_busy`, `overloaded`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u32>,
}
