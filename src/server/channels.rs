//! The messaging platforms' callbacks: `/channels/wechat`, `/channels/wecom`,
//! `/channels/feishu`. Each checks the platform's signature before anything
//! else, turns the message into one turn of the customer's session
//! (`wechat:<OpenID>` …), and answers it as the platform expects.
//!
//! WeChat and WeCom wait 5 s for the callback's response and send the message
//! again when they do not get one. A message is taken once (its id remembered for
//! `channels.dedup_secs`); its answer goes back in the response when the turn is
//! done within `channels.reply_within_ms`, otherwise the response is `success`
//! and the answer is sent through the platform's message API when the turn ends.
//! A retry arriving meanwhile waits for the same turn. Feishu gets an empty 200 at
//! once and every answer through its reply API.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::Notify;

use super::metrics::ChannelOutcome;
use super::routes::take_turn;
use super::{ApiError, AppState};
use crate::channels::crypto::{self, WechatKey};
use crate::channels::outbound::Outbound;
use crate::channels::{Platform, feishu, render, xml};

/// What the callbacks share: the platforms' API clients, the messages taken and
/// the plain-mode signatures seen.
#[derive(Debug)]
pub struct Channels {
    outbound: Arc<Outbound>,
    taken: moka::sync::Cache<String, Arc<Attempt>>,
    signatures: moka::sync::Cache<String, [u8; 32]>,
}

impl Channels {
    /// Remember message ids for `dedup_secs`, plain-mode signatures while their
    /// timestamp is accepted.
    pub fn new(dedup_secs: u64, max_skew_secs: u64) -> Self {
        let ttl = |secs: u64| Duration::from_secs(secs.max(1));
        Self {
            outbound: Arc::new(Outbound::default()),
            taken: moka::sync::Cache::builder().max_capacity(100_000).time_to_live(ttl(dedup_secs)).build(),
            signatures: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(ttl(2 * max_skew_secs.max(dedup_secs)))
                .build(),
        }
    }

    /// Refuse a plain-mode signature seen before with another body.
    fn bind_signature(&self, signature: &str, body: &[u8]) -> Result<(), ApiError> {
        use sha2::Digest as _;
        let digest: [u8; 32] = sha2::Sha256::digest(body).into();
        let entry = self.signatures.entry(signature.to_ascii_lowercase()).or_insert(digest);
        if entry.is_fresh() || *entry.value() == digest {
            Ok(())
        } else {
            Err(ApiError::ChannelSignature("this signature was already used for another message".into()))
        }
    }

    /// The attempt of message `key`, and whether this call created it.
    fn take(&self, key: String) -> (Arc<Attempt>, bool) {
        let entry = self.taken.entry(key).or_insert_with(|| Arc::new(Attempt::default()));
        let fresh = entry.is_fresh();
        (entry.into_value(), fresh)
    }
}

/// One message being answered: who waits for its answer, and the answer.
#[derive(Debug, Default)]
struct Attempt {
    state: Mutex<AttemptState>,
    done: Notify,
}

#[derive(Debug, Default)]
struct AttemptState {
    finished: bool,
    text: Option<String>,
    waiting: usize,
    sent_later: bool,
}

/// What a callback answers with.
#[derive(Debug, PartialEq, Eq)]
enum Waited {
    /// The turn ended in time: this text goes in the response (`None`: nothing to say).
    Now(Option<String>),
    /// The turn is still running, or its answer went through the API.
    Later,
}

impl Attempt {
    /// Wait for the answer until `deadline`. A waiter dropped on the way (its
    /// client gone, shutdown) stops counting, so the answer goes out later.
    async fn wait(&self, deadline: tokio::time::Instant) -> Waited {
        {
            let mut state = self.state.lock().expect("attempt lock");
            if state.finished {
                return if state.sent_later { Waited::Later } else { Waited::Now(state.text.clone()) };
            }
            state.waiting += 1;
        }
        let mut counted = Counted { attempt: self, armed: true };
        loop {
            let notified = self.done.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let mut state = self.state.lock().expect("attempt lock");
                if state.finished {
                    state.waiting -= 1;
                    counted.armed = false;
                    return Waited::Now(state.text.clone());
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                // Decided under the lock finish takes: either it already saw this
                // waiter (the answer is here) or it will see none and send it.
                let mut state = self.state.lock().expect("attempt lock");
                state.waiting -= 1;
                counted.armed = false;
                return if state.finished { Waited::Now(state.text.clone()) } else { Waited::Later };
            }
        }
    }

    /// The turn ended with `text`: `true` when no callback is waiting for it,
    /// so the caller sends it through the API. Only the first call counts.
    fn finish(&self, text: Option<String>) -> bool {
        let later = {
            let mut state = self.state.lock().expect("attempt lock");
            if state.finished {
                return false;
            }
            state.finished = true;
            state.sent_later = state.waiting == 0 && text.is_some();
            state.text = text;
            state.sent_later
        };
        self.done.notify_waiters();
        later
    }
}

/// A waiter counted in its attempt until it decides or is dropped.
struct Counted<'a> {
    attempt: &'a Attempt,
    armed: bool,
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        if self.armed
            && let Ok(mut state) = self.attempt.state.lock()
        {
            state.waiting -= 1;
        }
    }
}

/// Finishes its attempt with nothing when dropped unfinished (a turn task that
/// panicked): waiters answer `success` instead of waiting for nothing.
struct Unfinished(Arc<Attempt>);

impl Drop for Unfinished {
    fn drop(&mut self) {
        self.0.finish(None);
    }
}

/// What a customer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Inbound {
    /// Words to answer.
    Text(String),
    /// A new follower: the welcome.
    Follow,
    /// An image, voice, location …: the polite text.
    NotText,
    /// Nothing to answer (an unsubscribe, a menu view, an empty message).
    Nothing,
}

/// The signed query of a WeChat / WeCom callback.
#[derive(Debug, Default, Deserialize)]
pub(super) struct SignedQuery {
    signature: Option<String>,
    msg_signature: Option<String>,
    timestamp: Option<String>,
    nonce: Option<String>,
    echostr: Option<String>,
    encrypt_type: Option<String>,
}

fn refused(state: &AppState, platform: Platform, error: ApiError) -> ApiError {
    state.metrics.channel(platform, ChannelOutcome::Refused);
    state.metrics.bad_request();
    error
}

/// The timestamp is within `channels.max_clock_skew_secs` of the clock.
fn fresh(timestamp: &str, max_skew: u64) -> Result<(), ApiError> {
    if max_skew == 0 {
        return Ok(());
    }
    let ts: i64 = timestamp.trim().parse().map_err(|_| ApiError::ChannelSignature("no valid timestamp".into()))?;
    // Feishu and WeChat send seconds.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    if ts.abs_diff(now) > max_skew {
        return Err(ApiError::ChannelSignature(format!(
            "timestamp {ts} is more than {max_skew} s from the server's clock (a replayed request?)"
        )));
    }
    Ok(())
}

/// The query string's fields (percent-decoded; `+` is a space only in forms, and
/// signatures and base64 `echostr` arrive percent-encoded).
fn parse_query(raw: &str) -> Result<SignedQuery, ApiError> {
    let mut q = SignedQuery::default();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v)
            .decode_utf8()
            .map_err(|_| ApiError::ChannelMessage(format!("query field {k} is not UTF-8")))?
            .into_owned();
        match k {
            "signature" => q.signature = Some(v),
            "msg_signature" => q.msg_signature = Some(v),
            "timestamp" => q.timestamp = Some(v),
            "nonce" => q.nonce = Some(v),
            "echostr" => q.echostr = Some(v),
            "encrypt_type" => q.encrypt_type = Some(v),
            _ => {}
        }
    }
    Ok(q)
}

/// The platform's settings shared by WeChat and WeCom.
struct WxSide<'a> {
    platform: Platform,
    token: &'a str,
    key: Option<WechatKey>,
    receive_id: &'a str,
}

fn wx_side<'a>(config: &'a crate::channels::ChannelsConfig, platform: Platform) -> Result<WxSide<'a>, ApiError> {
    let (token, aes, receive_id) = match platform {
        Platform::Wechat if config.wechat.enabled => {
            (&config.wechat.token, &config.wechat.encoding_aes_key, &config.wechat.app_id)
        }
        Platform::Wecom if config.wecom.enabled => {
            (&config.wecom.token, &config.wecom.encoding_aes_key, &config.wecom.corp_id)
        }
        other => return Err(ApiError::ChannelDisabled(other.as_str())),
    };
    let key = if aes.is_empty() {
        None
    } else {
        Some(WechatKey::new(aes).map_err(|e| ApiError::Internal(format!("channels.{}: {e}", platform.as_str())))?)
    };
    Ok(WxSide { platform, token, key, receive_id })
}

/// `GET /channels/wechat`: the URL check (`signature` of token, timestamp,
/// nonce) answered with `echostr`.
pub(super) async fn wechat_verify(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    wx_verify(&state, Platform::Wechat, raw.as_deref().unwrap_or(""))
}

/// `GET /channels/wecom`: the URL check (`msg_signature` over the encrypted
/// `echostr`) answered with the decrypted `echostr`.
pub(super) async fn wecom_verify(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    wx_verify(&state, Platform::Wecom, raw.as_deref().unwrap_or(""))
}

fn wx_verify(state: &AppState, platform: Platform, raw: &str) -> Result<Response, ApiError> {
    let snapshot = state.bot.snapshot();
    let config = &snapshot.config.channels;
    let side = wx_side(config, platform)?;
    let check = || -> Result<String, ApiError> {
        let q = parse_query(raw)?;
        let (ts, nonce) = (q.timestamp.unwrap_or_default(), q.nonce.unwrap_or_default());
        let echo = q.echostr.ok_or_else(|| ApiError::ChannelMessage("echostr is missing".into()))?;
        fresh(&ts, config.max_clock_skew_secs)?;
        match platform {
            Platform::Wecom => {
                let given = q.msg_signature.unwrap_or_default();
                if !crypto::wechat_signature_ok(&[side.token, &ts, &nonce, &echo], &given) {
                    return Err(ApiError::ChannelSignature("msg_signature does not match".into()));
                }
                let key = side.key.as_ref().ok_or_else(|| ApiError::Internal("wecom key missing".into()))?;
                key.decrypt(&echo, side.receive_id).map_err(|e| ApiError::ChannelMessage(e.to_string()))
            }
            _ => {
                let given = q.signature.unwrap_or_default();
                if !crypto::wechat_signature_ok(&[side.token, &ts, &nonce], &given) {
                    return Err(ApiError::ChannelSignature("signature does not match".into()));
                }
                Ok(echo)
            }
        }
    };
    let echo = check().map_err(|e| refused(state, platform, e))?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], echo).into_response())
}

/// `POST /channels/wechat`: a message or event, plain or in safe mode.
pub(super) async fn wechat_message(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    wx_message(state, Platform::Wechat, raw, &body).await
}

/// `POST /channels/wecom`: a message or event, always encrypted.
pub(super) async fn wecom_message(
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    wx_message(state, Platform::Wecom, raw, &body).await
}

/// A checked, decrypted message: its fields and how to seal the answer.
struct Opened {
    fields: xml::Fields,
    encrypted: bool,
    nonce: String,
}

fn open(channels: &Channels, side: &WxSide<'_>, max_skew: u64, raw: &str, body: &[u8]) -> Result<Opened, ApiError> {
    let q = parse_query(raw)?;
    let (ts, nonce) = (q.timestamp.unwrap_or_default(), q.nonce.unwrap_or_default());
    fresh(&ts, max_skew)?;
    // WeCom always encrypts; WeChat says so with encrypt_type=aes (safe mode, or
    // the compatible mode's encrypted copy).
    let encrypted = side.platform == Platform::Wecom || q.encrypt_type.as_deref() == Some("aes");
    if !encrypted {
        // The plain signature does not cover the body: with a key configured
        // (safe mode) plain messages are refused, so nobody holding a seen
        // signature can post their own words as a customer ...
        if side.key.is_some() {
            return Err(ApiError::ChannelSignature(
                "safe mode is configured (encoding_aes_key): messages must be encrypted".into(),
            ));
        }
        let given = q.signature.as_deref().unwrap_or("");
        if !crypto::wechat_signature_ok(&[side.token, &ts, &nonce], given) {
            return Err(ApiError::ChannelSignature("signature does not match".into()));
        }
        // ... and in plain mode a signature carries one body only (the
        // platform's retries send the same body).
        channels.bind_signature(given, body)?;
        return Ok(Opened { fields: parse_body(body)?, encrypted, nonce });
    }
    // The signature covers the Encrypt text, which is inside the XML.
    let outer = parse_body(body)?;
    let sealed = outer.text("Encrypt");
    if !crypto::wechat_signature_ok(&[side.token, &ts, &nonce, sealed], q.msg_signature.as_deref().unwrap_or("")) {
        return Err(ApiError::ChannelSignature("msg_signature does not match".into()));
    }
    let Some(key) = &side.key else {
        return Err(ApiError::ChannelMessage(
            "an encrypted message, but channels.wechat.encoding_aes_key is not set".into(),
        ));
    };
    let inner = key.decrypt(sealed, side.receive_id).map_err(|e| ApiError::ChannelMessage(e.to_string()))?;
    let fields = xml::parse(&inner).map_err(|e| ApiError::ChannelMessage(format!("decrypted message: {e}")))?;
    Ok(Opened { fields, encrypted, nonce })
}

/// The fields of a callback's XML body.
fn parse_body(body: &[u8]) -> Result<xml::Fields, ApiError> {
    let body = std::str::from_utf8(body).map_err(|_| ApiError::ChannelMessage("the body is not UTF-8".into()))?;
    xml::parse(body).map_err(|e| ApiError::ChannelMessage(e.to_string()))
}

/// What a WeChat / WeCom message asks for.
fn inbound_of(fields: &xml::Fields) -> Inbound {
    match fields.text("MsgType") {
        "text" => match fields.get("Content").map(str::trim) {
            Some(text) if !text.is_empty() => Inbound::Text(text.to_owned()),
            _ => Inbound::Nothing,
        },
        // Voice with WeChat's speech recognition switched on carries the words.
        "voice" if !fields.text("Recognition").is_empty() => Inbound::Text(fields.text("Recognition").to_owned()),
        "event" => match fields.text("Event") {
            "subscribe" => Inbound::Follow,
            _ => Inbound::Nothing,
        },
        _ => Inbound::NotText,
    }
}

async fn wx_message(
    state: AppState,
    platform: Platform,
    raw: Option<String>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let snapshot = state.bot.snapshot();
    let config = &snapshot.config.channels;
    let started = tokio::time::Instant::now();
    let deadline = started + Duration::from_millis(config.reply_within_ms);
    let side = wx_side(config, platform)?;
    let opened = open(&state.channels, &side, config.max_clock_skew_secs, raw.as_deref().unwrap_or(""), body)
        .map_err(|e| refused(&state, platform, e))?;
    let fields = &opened.fields;
    let customer = fields.text("FromUserName").to_owned();
    if !crate::channels::valid_user_id(&customer) {
        return Err(refused(&state, platform, ApiError::ChannelMessage("FromUserName is not a user id".into())));
    }
    let inbound = inbound_of(fields);
    if inbound == Inbound::Nothing {
        state.metrics.channel(platform, ChannelOutcome::Acknowledged);
        return Ok(success_for(platform));
    }
    // WeChat's advice: messages by MsgId, events by sender and time.
    let key = match fields.get("MsgId") {
        Some(id) if !id.trim().is_empty() => format!("{}:m:{}", platform.as_str(), id.trim()),
        _ => format!("{}:e:{customer}:{}:{}", platform.as_str(), fields.text("CreateTime"), fields.text("Event")),
    };
    let (attempt, fresh) = state.channels.take(key.clone());
    if fresh {
        // The claim across replicas and the turn run in a task of their own: a
        // callback dropped meanwhile loses neither.
        let (state, attempt, customer) = (state.clone(), Arc::clone(&attempt), customer.clone());
        let dedup_secs = config.dedup_secs;
        tokio::spawn(async move {
            let _unfinished = Unfinished(Arc::clone(&attempt));
            if !claimed_first(&state, &key, dedup_secs).await {
                // Another replica took it: that one answers.
                state.metrics.channel(platform, ChannelOutcome::Duplicate);
                attempt.finish(None);
                return;
            }
            let text = respond(&state, platform, &customer, inbound).await;
            if attempt.finish(text.clone()) {
                let text = text.expect("finish says later only with a text");
                send_later(&state, platform, customer, None, text).await;
            }
        });
    } else {
        state.metrics.channel(platform, ChannelOutcome::Duplicate);
    }
    match attempt.wait(deadline).await {
        Waited::Now(Some(text)) => {
            if fresh {
                state.metrics.channel(platform, ChannelOutcome::Replied);
            }
            let reply = xml::text_reply(&customer, fields.text("ToUserName"), now_secs(), &text);
            Ok(xml_response(seal(&side, &opened, reply)))
        }
        Waited::Now(None) | Waited::Later => Ok(success_for(platform)),
    }
}

/// Whether no other replica took message `key` (with Redis sessions); a store
/// that does not answer lets the message through (its turn then says so).
async fn claimed_first(state: &AppState, key: &str, ttl_secs: u64) -> bool {
    state.bot.first_claim(key, ttl_secs).await.unwrap_or_else(|e| {
        tracing::warn!("message {key} not checked across replicas: {e}");
        true
    })
}

/// `reply` encrypted when the message was.
fn seal(side: &WxSide<'_>, opened: &Opened, reply: String) -> String {
    match (&side.key, opened.encrypted) {
        (Some(key), true) => {
            let sealed = key.encrypt(&reply, side.receive_id, crypto::random16());
            let ts = now_secs().to_string();
            let signature = crypto::wechat_signature(&[side.token, &ts, &opened.nonce, &sealed]);
            xml::encrypted_envelope(&sealed, &signature, &ts, &opened.nonce)
        }
        _ => reply,
    }
}

/// What the platforms take as "received, nothing to say now": `success` for
/// WeChat, an empty body for WeCom.
fn success_for(platform: Platform) -> Response {
    let body = if platform == Platform::Wecom { "" } else { "success" };
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

fn xml_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml; charset=utf-8")], body).into_response()
}

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The text answering `inbound` from `user` of `platform` (`None`: nothing to send).
async fn respond(state: &AppState, platform: Platform, user: &str, inbound: Inbound) -> Option<String> {
    let snapshot = state.bot.snapshot();
    let config = &snapshot.config;
    let style = config.channels.style(platform);
    let session_id = crate::channels::session_id(platform, user);
    let user_info =
        crate::dialogue::UserInfo { id: Some(user.to_owned()), tags: Vec::new(), profile: serde_json::Value::Null };
    match inbound {
        Inbound::Nothing => None,
        Inbound::NotText => Some(render::fit(&config.channels.non_text_reply, style.max_bytes)),
        Inbound::Follow => {
            if let Err(e) = state.bot.open_session(&session_id).await {
                tracing::warn!("{}: welcome without a shared session: {e}", platform.as_str());
            }
            let welcome = state.bot.welcome(&session_id, &user_info, Some(platform.as_str()));
            Some(render::welcome_text(&welcome.text, &welcome.suggestions, style))
        }
        Inbound::Text(text) => {
            // Longer than the JSON API takes: the start is answered (a platform's
            // message cannot be refused back to its sender).
            let text: String =
                text.chars().filter(|c| !c.is_control() || *c == '\n').take(config.server.max_text_chars).collect();
            // The session is this platform user's by its id alone: the JSON API
            // refuses channel session ids, so no owner binding is needed (and a
            // rotated identity secret cannot lock a customer out).
            let started = Instant::now();
            match take_turn(state, &session_id, text, user_info, None, Some(platform.as_str().to_owned())).await {
                Ok((reply, _)) => {
                    let reason = reply.handoff.as_ref().map(|h| h.reason);
                    state.metrics.turn(reply.action, reason, started.elapsed().as_micros() as u64);
                    let text = render::reply_text(&reply, style);
                    (!text.trim().is_empty()).then_some(text)
                }
                Err(e) => {
                    tracing::warn!("{} turn failed: {e:?}", platform.as_str());
                    Some(render::fit(&config.channels.busy_reply, style.max_bytes))
                }
            }
        }
    }
}

/// Send `text` through the platform's API, off the async runtime.
async fn send_later(state: &AppState, platform: Platform, user: String, message_id: Option<String>, text: String) {
    let snapshot = state.bot.snapshot();
    let outbound = Arc::clone(&state.channels.outbound);
    let sent = tokio::task::spawn_blocking(move || {
        let channels = &snapshot.config.channels;
        match platform {
            Platform::Wechat => outbound.send_wechat(&channels.wechat, &user, &text),
            Platform::Wecom => outbound.send_wecom(&channels.wecom, &user, &text),
            Platform::Feishu => match message_id {
                Some(id) => outbound.reply_feishu(&channels.feishu, &id, &text),
                None => outbound.send_feishu(&channels.feishu, &user, &text),
            },
        }
    })
    .await;
    match sent {
        Ok(Ok(())) => state.metrics.channel(platform, ChannelOutcome::SentLater),
        Ok(Err(e)) => {
            tracing::warn!("{e}");
            state.metrics.channel(platform, ChannelOutcome::SendFailed);
        }
        Err(e) => {
            tracing::error!("{} send task failed: {e}", platform.as_str());
            state.metrics.channel(platform, ChannelOutcome::SendFailed);
        }
    }
}

/// While it runs, agents' and the service's messages to a channel's customers
/// (`desk.live_agents`: the agent writes in the /agent workspace) go out through
/// the platform's API, in order. Every replica follows the agents' events; the
/// one holding the relay lease sends (with Redis sessions; alone, the only one),
/// and each event is claimed once, so a lease changing hands repeats nothing.
pub(super) async fn relay(state: AppState) {
    use crate::live::{Author, EventBody, Stream};
    use futures_util::StreamExt as _;
    let hub = Arc::clone(state.bot.events());
    // From the newest event on: what was sent before this replica started is not
    // sent again. Retried until the store answers.
    let start = loop {
        match hub.last_id(&Stream::Agents).await {
            Ok(id) => break id,
            Err(e) => {
                tracing::warn!("channel relay waits for the event store: {e}");
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    };
    let holder = format!("{:032x}", u128::from_le_bytes(crypto::random16()));
    let mut events = std::pin::pin!(hub.follow(Stream::Agents, start));
    while let Some(event) = events.next().await {
        let Some(platform) = Platform::of_session(&event.session_id) else { continue };
        let text = match &event.body {
            EventBody::Message { from: Author::Agent, text, agent } => match agent {
                Some(name) => format!("【{name}】{text}"),
                None => text.clone(),
            },
            EventBody::Message { from: Author::System, text, .. } => text.clone(),
            EventBody::State { owner: crate::dialogue::Holder::Agent, agent: Some(name), closed: false, .. } => {
                format!("人工客服{name}正在为您服务。")
            }
            _ => continue,
        };
        let snapshot = state.bot.snapshot();
        let channels = &snapshot.config.channels;
        let enabled = match platform {
            Platform::Wechat => channels.wechat.enabled,
            Platform::Wecom => channels.wecom.enabled,
            Platform::Feishu => channels.feishu.enabled,
        };
        if !enabled || !state.bot.lease("channel-relay", &holder, RELAY_LEASE_MS).await.unwrap_or(false) {
            continue;
        }
        let key = format!("relay:{}:{}", event.session_id, event.id);
        if !claimed_first(&state, &key, channels.dedup_secs.max(86_400)).await {
            continue;
        }
        let user = event.session_id.split_once(':').map_or("", |(_, user)| user).to_owned();
        let text = render::fit(&text, channels.style(platform).max_bytes);
        // In order: a customer reads the agent's messages as they were written.
        send_later(&state, platform, user, None, text).await;
    }
}

/// How long the relay lease lasts without being renewed (a replica that stops
/// hands over after this; every relayed event renews it).
const RELAY_LEASE_MS: u64 = 30_000;

/// `POST /channels/feishu`: the URL challenge, or an event (signature checked
/// when an encrypt key is set); a message's answer goes through the reply API.
pub(super) async fn feishu_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let snapshot = state.bot.snapshot();
    let config = &snapshot.config.channels;
    let f = &config.feishu;
    if !f.enabled {
        return Err(ApiError::ChannelDisabled("feishu"));
    }
    let platform = Platform::Feishu;
    // With an encrypt key, a signed request is checked before its body is
    // decrypted or read; only the URL challenge comes unsigned.
    let signature = headers.get("x-lark-signature").and_then(|v| v.to_str().ok()).unwrap_or("");
    let signed = !f.encrypt_key.is_empty() && !signature.is_empty();
    if signed {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let (ts, nonce) = (header("x-lark-request-timestamp"), header("x-lark-request-nonce"));
        let checked = fresh(&ts, config.max_clock_skew_secs).and_then(|()| {
            if crypto::feishu_signature_ok(&ts, &nonce, &f.encrypt_key, &body, signature) {
                Ok(())
            } else {
                Err(ApiError::ChannelSignature("X-Lark-Signature does not match".into()))
            }
        });
        checked.map_err(|e| refused(&state, platform, e))?;
    }
    let callback = feishu::read(&body, &f.encrypt_key, &f.verification_token).map_err(|e| match e {
        feishu::FeishuError::WrongToken => refused(&state, platform, ApiError::ChannelSignature(e.to_string())),
        // Unsigned, one answer for every failure: whether a ciphertext decrypts
        // is not told to whoever sent it.
        _ if !signed => refused(&state, platform, ApiError::ChannelMessage("not a Feishu event this URL takes".into())),
        other => refused(&state, platform, ApiError::ChannelMessage(other.to_string())),
    })?;
    if let feishu::Callback::Challenge(challenge) = callback {
        return Ok(axum::Json(serde_json::json!({ "challenge": challenge })).into_response());
    }
    if !f.encrypt_key.is_empty() && !signed {
        return Err(refused(&state, platform, ApiError::ChannelSignature("the event is not signed".into())));
    }
    let feishu::Callback::Message(message) = callback else {
        state.metrics.channel(platform, ChannelOutcome::Acknowledged);
        return Ok(empty_ok());
    };
    if !crate::channels::valid_user_id(&message.open_id) {
        return Err(refused(&state, platform, ApiError::ChannelMessage("sender open_id is not a user id".into())));
    }
    let key = format!("feishu:{}", message.event_id);
    let (_, fresh_event) = state.channels.take(key.clone());
    if !fresh_event || !claimed_first(&state, &key, config.dedup_secs).await {
        state.metrics.channel(platform, ChannelOutcome::Duplicate);
        return Ok(empty_ok());
    }
    let inbound = match message.text {
        Some(text) if !text.trim().is_empty() => Inbound::Text(text),
        Some(_) => Inbound::Nothing,
        None => Inbound::NotText,
    };
    tokio::spawn(async move {
        if let Some(text) = respond(&state, platform, &message.open_id, inbound).await {
            send_later(&state, platform, message.open_id, Some(message.message_id), text).await;
        }
    });
    Ok(empty_ok())
}

fn empty_ok() -> Response {
    (StatusCode::OK, axum::Json(serde_json::json!({}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_answer_in_time_goes_in_the_response_and_a_late_one_through_the_api() {
        let attempt = Arc::new(Attempt::default());
        let waiter = {
            let attempt = Arc::clone(&attempt);
            tokio::spawn(async move { attempt.wait(tokio::time::Instant::now() + Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!attempt.finish(Some("答".into())), "a waiter takes it");
        assert_eq!(waiter.await.unwrap(), Waited::Now(Some("答".into())));
        // A retry after that gets the same answer.
        assert_eq!(attempt.wait(tokio::time::Instant::now()).await, Waited::Now(Some("答".into())));

        let slow = Attempt::default();
        assert_eq!(slow.wait(tokio::time::Instant::now() + Duration::from_millis(10)).await, Waited::Later);
        assert!(slow.finish(Some("迟到的答案".into())), "nobody waits: sent later");
        assert_eq!(slow.wait(tokio::time::Instant::now()).await, Waited::Later, "a retry does not repeat it");
        let silent = Attempt::default();
        assert!(!silent.finish(None), "nothing to send");
    }

    #[test]
    fn query_fields_are_percent_decoded_and_plus_kept() {
        let q = parse_query("signature=ab&timestamp=1&nonce=2&echostr=a%2Bb%3D%3D&x=y&encrypt_type=aes").unwrap();
        assert_eq!(q.echostr.as_deref(), Some("a+b=="));
        assert_eq!(q.encrypt_type.as_deref(), Some("aes"));
        let raw = parse_query("echostr=a+b").unwrap();
        assert_eq!(raw.echostr.as_deref(), Some("a+b"));
    }

    #[test]
    fn messages_map_to_what_they_ask() {
        let fields = |xml: &str| xml::parse(xml).unwrap();
        assert_eq!(
            inbound_of(&fields("<xml><MsgType>text</MsgType><Content> 宽带 </Content></xml>")),
            Inbound::Text("宽带".into())
        );
        assert_eq!(inbound_of(&fields("<xml><MsgType>text</MsgType><Content> </Content></xml>")), Inbound::Nothing);
        assert_eq!(inbound_of(&fields("<xml><MsgType>image</MsgType></xml>")), Inbound::NotText);
        assert_eq!(
            inbound_of(&fields("<xml><MsgType>voice</MsgType><Recognition>查话费</Recognition></xml>")),
            Inbound::Text("查话费".into())
        );
        assert_eq!(inbound_of(&fields("<xml><MsgType>event</MsgType><Event>subscribe</Event></xml>")), Inbound::Follow);
        assert_eq!(
            inbound_of(&fields("<xml><MsgType>event</MsgType><Event>unsubscribe</Event></xml>")),
            Inbound::Nothing
        );
    }
}
