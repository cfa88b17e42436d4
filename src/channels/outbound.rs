//! Sending a message through a platform's API: a late answer on WeChat and WeCom
//! (a turn that missed the callback's window), every answer on Feishu. Blocking
//! (`ureq`), called off the async runtime. Access tokens are cached until shortly
//! before they expire and fetched again once when the platform says a token is
//! no longer valid.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{FeishuConfig, Platform, WechatConfig, WecomConfig};

/// A message that could not be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{platform} API {step}: {reason}")]
pub struct OutboundError {
    /// `wechat`, `wecom` or `feishu`.
    pub platform: &'static str,
    /// `token` or `send`.
    pub step: &'static str,
    /// What went wrong (transport, HTTP status, the platform's error code).
    pub reason: String,
}

/// The platforms' API clients, with their access tokens.
#[derive(Debug)]
pub struct Outbound {
    agent: ureq::Agent,
    tokens: Mutex<HashMap<Platform, (String, Instant)>>,
}

impl Default for Outbound {
    fn default() -> Self {
        Self::new(Duration::from_secs(5))
    }
}

/// Error codes meaning "get a new access token" (WeChat/WeCom 40001, 40014,
/// 42001; Feishu 99991663, 99991661, 99991668).
const STALE_TOKEN: [i64; 6] = [40001, 40014, 42001, 99991663, 99991661, 99991668];

impl Outbound {
    /// Clients whose every request gives up after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let agent =
            ureq::Agent::config_builder().timeout_global(Some(timeout)).http_status_as_error(false).build().into();
        Self { agent, tokens: Mutex::new(HashMap::new()) }
    }

    /// Send `text` to the follower `open_id` as a customer-service message. The
    /// token comes from `stable_token`, which does not invalidate the one other
    /// replicas hold (a refresh is forced only after the platform refused it).
    pub fn send_wechat(&self, config: &WechatConfig, open_id: &str, text: &str) -> Result<(), OutboundError> {
        let base = config.api_base.trim_end_matches('/');
        let body = json!({ "touser": open_id, "msgtype": "text", "text": { "content": text } });
        self.with_token(
            Platform::Wechat,
            |agent, forced| {
                let url = format!("{base}/cgi-bin/stable_token");
                let request = json!({ "grant_type": "client_credential", "appid": config.app_id, "secret": config.app_secret, "force_refresh": forced });
                wechat_token(&post_json(agent.post(&url), &request)?)
            },
            |agent, token| {
                let url = format!("{base}/cgi-bin/message/custom/send");
                post_json(agent.post(&url).query("access_token", token), &body).map(|r| code(&r, "errcode"))
            },
        )
    }

    /// Send `text` to the WeCom member `user_id` as the app `agent_id`.
    pub fn send_wecom(&self, config: &WecomConfig, user_id: &str, text: &str) -> Result<(), OutboundError> {
        let base = config.api_base.trim_end_matches('/');
        let agent_id: u64 = config.agent_id.parse().unwrap_or(0);
        let body = json!({ "touser": user_id, "msgtype": "text", "agentid": agent_id, "text": { "content": text } });
        self.with_token(
            Platform::Wecom,
            |agent, _| {
                let url = format!("{base}/cgi-bin/gettoken");
                let reply =
                    get_json(agent.get(&url).query("corpid", &config.corp_id).query("corpsecret", &config.secret))?;
                wechat_token(&reply)
            },
            |agent, token| {
                let url = format!("{base}/cgi-bin/message/send");
                post_json(agent.post(&url).query("access_token", token), &body).map(|r| code(&r, "errcode"))
            },
        )
    }

    /// Reply `text` to the Feishu message `message_id`.
    pub fn reply_feishu(&self, config: &FeishuConfig, message_id: &str, text: &str) -> Result<(), OutboundError> {
        let base = config.api_base.trim_end_matches('/');
        let body = super::feishu::text_body(text);
        self.with_token(
            Platform::Feishu,
            |agent, _| feishu_token(agent, base, config),
            |agent, token| {
                let url = format!("{base}/open-apis/im/v1/messages/{message_id}/reply");
                post_json(agent.post(&url).header("authorization", &format!("Bearer {token}")), &body)
                    .map(|r| code(&r, "code"))
            },
        )
    }

    /// Send `text` to the Feishu user `open_id` (a message not answering one of
    /// theirs: an agent's, or the service's).
    pub fn send_feishu(&self, config: &FeishuConfig, open_id: &str, text: &str) -> Result<(), OutboundError> {
        let base = config.api_base.trim_end_matches('/');
        let mut body = super::feishu::text_body(text);
        body["receive_id"] = json!(open_id);
        self.with_token(
            Platform::Feishu,
            |agent, _| feishu_token(agent, base, config),
            |agent, token| {
                let url = format!("{base}/open-apis/im/v1/messages");
                let request = agent
                    .post(&url)
                    .query("receive_id_type", "open_id")
                    .header("authorization", &format!("Bearer {token}"));
                post_json(request, &body).map(|r| code(&r, "code"))
            },
        )
    }

    /// Run `send` with a cached or new token; a stale-token answer drops the
    /// token and tries once more with a new one.
    fn with_token(
        &self,
        platform: Platform,
        fetch: impl Fn(&ureq::Agent, bool) -> Result<(String, u64), String>,
        send: impl Fn(&ureq::Agent, &str) -> Result<i64, String>,
    ) -> Result<(), OutboundError> {
        let error = |step, reason| OutboundError { platform: platform.as_str(), step, reason };
        for attempt in 0..2 {
            let cached =
                self.tokens.lock().ok().and_then(|t| {
                    t.get(&platform).filter(|(_, until)| *until > Instant::now()).map(|(t, _)| t.clone())
                });
            let token = match cached {
                Some(token) => token,
                None => {
                    let (token, expires_in) = fetch(&self.agent, attempt > 0).map_err(|e| error("token", e))?;
                    // Refreshed five minutes before the platform says it expires.
                    let until = Instant::now() + Duration::from_secs(expires_in.clamp(360, 86_400) - 300);
                    if let Ok(mut tokens) = self.tokens.lock() {
                        tokens.insert(platform, (token.clone(), until));
                    }
                    token
                }
            };
            match send(&self.agent, &token).map_err(|e| error("send", e))? {
                0 => return Ok(()),
                code if STALE_TOKEN.contains(&code) && attempt == 0 => {
                    if let Ok(mut tokens) = self.tokens.lock() {
                        tokens.remove(&platform);
                    }
                }
                code => return Err(error("send", format!("error code {code}"))),
            }
        }
        Err(error("send", "the access token was refused twice".into()))
    }
}

fn feishu_token(agent: &ureq::Agent, base: &str, config: &FeishuConfig) -> Result<(String, u64), String> {
    let url = format!("{base}/open-apis/auth/v3/tenant_access_token/internal");
    let reply = post_json(agent.post(&url), &json!({ "app_id": config.app_id, "app_secret": config.app_secret }))?;
    match (code(&reply, "code"), reply.get("tenant_access_token").and_then(Value::as_str)) {
        (0, Some(token)) => Ok((token.to_owned(), reply.get("expire").and_then(Value::as_u64).unwrap_or(7200))),
        (code, _) => Err(format!("code {code}: {}", message(&reply))),
    }
}

fn wechat_token(reply: &Value) -> Result<(String, u64), String> {
    match reply.get("access_token").and_then(Value::as_str) {
        Some(token) if !token.is_empty() => {
            Ok((token.to_owned(), reply.get("expires_in").and_then(Value::as_u64).unwrap_or(7200)))
        }
        _ => Err(format!("errcode {}: {}", code(reply, "errcode"), message(reply))),
    }
}

fn code(reply: &Value, key: &str) -> i64 {
    reply.get(key).and_then(Value::as_i64).unwrap_or(0)
}

fn message(reply: &Value) -> String {
    ["errmsg", "msg"].iter().find_map(|k| reply.get(*k).and_then(Value::as_str)).unwrap_or("").to_owned()
}

fn get_json(request: ureq::RequestBuilder<ureq::typestate::WithoutBody>) -> Result<Value, String> {
    read(request.call())
}

fn post_json(request: ureq::RequestBuilder<ureq::typestate::WithBody>, body: &Value) -> Result<Value, String> {
    read(request.send_json(body))
}

/// The JSON answer; an error status counts as an answer when its body carries
/// the platform's error code (Feishu answers an expired token with HTTP 400 and
/// code 99991663).
fn read(response: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Value, String> {
    let mut response = response.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_json::<Value>();
    match body {
        Ok(value) if (200..300).contains(&status) => Ok(value),
        Ok(value)
            if ["code", "errcode"].iter().any(|k| value.get(*k).and_then(Value::as_i64).is_some_and(|c| c != 0)) =>
        {
            Ok(value)
        }
        _ if !(200..300).contains(&status) => Err(format!("HTTP {status}")),
        Err(e) => Err(e.to_string()),
        Ok(value) => Ok(value),
    }
}
