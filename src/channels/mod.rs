//! Messaging platforms as channels: WeChat Official Accounts, WeCom (企业微信) and
//! Feishu (飞书). This module holds what does not need HTTP: settings, the
//! platforms' crypto and XML, reading Feishu events, rendering replies as text,
//! and the outbound clients that send a late answer through the platform's API.
//! The callback routes are in `server`.

pub mod crypto;
pub mod feishu;
pub mod outbound;
pub mod render;
pub mod xml;

use serde::{Deserialize, Serialize};

/// The three platforms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Platform {
    /// A WeChat Official Account (公众号).
    Wechat,
    /// A WeCom (企业微信) self-built app.
    Wecom,
    /// A Feishu (飞书) bot.
    Feishu,
}

impl Platform {
    /// The channel name the turn log, audiences and reports see.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wechat => "wechat",
            Self::Wecom => "wecom",
            Self::Feishu => "feishu",
        }
    }

    /// The platform a session id of [`session_id`] belongs to.
    pub fn of_session(session_id: &str) -> Option<Self> {
        let (prefix, _) = session_id.split_once(':')?;
        [Self::Wechat, Self::Wecom, Self::Feishu].into_iter().find(|p| p.as_str() == prefix)
    }
}

/// The session of a platform's user: `wechat:<OpenID>`, `wecom:<UserID>`,
/// `feishu:<open_id>`. These ids are refused on the JSON API, so nobody can
/// write into a channel's conversation from the widget.
pub fn session_id(platform: Platform, user: &str) -> String {
    format!("{}:{user}", platform.as_str())
}

/// Whether `user` is a plausible platform user id (OpenID, UserID, open_id):
/// 1 to 128 characters of letters, digits and `-_.@`.
pub fn valid_user_id(user: &str) -> bool {
    (1..=128).contains(&user.len()) && user.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@".contains(c))
}

/// `[channels]`: the messaging platforms bizbot answers on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelsConfig {
    /// Milliseconds a WeChat / WeCom callback waits for the turn before it answers
    /// `success` and the reply goes out later through the platform's API
    /// (the platforms wait 5 s, then retry).
    pub reply_within_ms: u64,
    /// A callback whose timestamp is further than this from the clock is refused
    /// (a replayed request); 0 = not checked.
    pub max_clock_skew_secs: u64,
    /// Seconds a message id is remembered, so a platform's retry is answered once.
    pub dedup_secs: u64,
    /// Heading of the related questions in a text reply.
    pub related_title: String,
    /// Heading of the suggestions in the welcome a new follower gets.
    pub suggestions_title: String,
    /// What an image, voice, video, location or file message gets.
    pub non_text_reply: String,
    /// What a message gets when its turn could not be run (the session store
    /// down, the session's queue full).
    pub busy_reply: String,
    /// `[channels.wechat]`
    pub wechat: WechatConfig,
    /// `[channels.wecom]`
    pub wecom: WecomConfig,
    /// `[channels.feishu]`
    pub feishu: FeishuConfig,
}

/// `[channels.wechat]`: a WeChat Official Account's server configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WechatConfig {
    /// Serve `/channels/wechat`.
    pub enabled: bool,
    /// The Token of the account's server configuration (`BIZBOT__CHANNELS__WECHAT__TOKEN`).
    pub token: String,
    /// The EncodingAESKey (43 characters) for safe mode; "" = plain mode only.
    pub encoding_aes_key: String,
    /// The account's AppID (safe mode checks messages are for it; the late-reply
    /// API needs it).
    pub app_id: String,
    /// The AppSecret, for the customer-service message API (`BIZBOT__CHANNELS__WECHAT__APP_SECRET`).
    pub app_secret: String,
    /// Base URL of the platform's API.
    pub api_base: String,
    /// Longest text sent, in UTF-8 bytes.
    pub max_reply_bytes: usize,
}

/// `[channels.wecom]`: a WeCom self-built app's callback configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WecomConfig {
    /// Serve `/channels/wecom`.
    pub enabled: bool,
    /// The callback Token (`BIZBOT__CHANNELS__WECOM__TOKEN`).
    pub token: String,
    /// The callback EncodingAESKey (43 characters).
    pub encoding_aes_key: String,
    /// The company's CorpID.
    pub corp_id: String,
    /// The app's AgentId (late replies are sent as it).
    pub agent_id: String,
    /// The app's Secret, for the message API (`BIZBOT__CHANNELS__WECOM__SECRET`).
    pub secret: String,
    /// Base URL of the platform's API.
    pub api_base: String,
    /// Longest text sent, in UTF-8 bytes.
    pub max_reply_bytes: usize,
}

/// `[channels.feishu]`: a Feishu app's event subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeishuConfig {
    /// Serve `/channels/feishu`.
    pub enabled: bool,
    /// The app's App ID.
    pub app_id: String,
    /// The App Secret (`BIZBOT__CHANNELS__FEISHU__APP_SECRET`).
    pub app_secret: String,
    /// The event subscription's Verification Token.
    pub verification_token: String,
    /// The Encrypt Key (`BIZBOT__CHANNELS__FEISHU__ENCRYPT_KEY`): events arrive
    /// encrypted and signed, and the signature is checked.
    pub encrypt_key: String,
    /// Base URL of the platform's API.
    pub api_base: String,
    /// Longest text sent, in UTF-8 bytes.
    pub max_reply_bytes: usize,
}

impl ChannelsConfig {
    /// Every problem with these settings (`channels.…` named).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let mut required = |enabled: bool, key: &str, value: &str| {
            if enabled && value.trim().is_empty() {
                problems.push(format!("channels.{key} must be set when the channel is enabled"));
            }
        };
        let (w, c, f) = (&self.wechat, &self.wecom, &self.feishu);
        required(w.enabled, "wechat.token", &w.token);
        required(w.enabled && !w.encoding_aes_key.is_empty(), "wechat.app_id", &w.app_id);
        required(c.enabled, "wecom.token", &c.token);
        required(c.enabled, "wecom.encoding_aes_key", &c.encoding_aes_key);
        required(c.enabled, "wecom.corp_id", &c.corp_id);
        required(c.enabled, "wecom.agent_id", &c.agent_id);
        required(c.enabled, "wecom.secret", &c.secret);
        required(f.enabled, "feishu.app_id", &f.app_id);
        required(f.enabled, "feishu.app_secret", &f.app_secret);
        if f.enabled && f.verification_token.trim().is_empty() && f.encrypt_key.trim().is_empty() {
            problems.push(
                "channels.feishu: set encrypt_key (or at least verification_token) so events can be checked".into(),
            );
        }
        for (enabled, key, value) in [
            (w.enabled && !w.encoding_aes_key.is_empty(), "wechat.encoding_aes_key", &w.encoding_aes_key),
            (c.enabled && !c.encoding_aes_key.is_empty(), "wecom.encoding_aes_key", &c.encoding_aes_key),
        ] {
            if enabled && crypto::WechatKey::new(value).is_err() {
                problems.push(format!("channels.{key} must be the 43 characters the platform shows"));
            }
        }
        if c.enabled && !c.agent_id.is_empty() && c.agent_id.parse::<u64>().is_err() {
            problems.push(format!("channels.wecom.agent_id = {:?} must be a number", c.agent_id));
        }
        for (key, base) in [("wechat", &w.api_base), ("wecom", &c.api_base), ("feishu", &f.api_base)] {
            if !(base.starts_with("http://") || base.starts_with("https://")) {
                problems.push(format!("channels.{key}.api_base = {base:?} must start with http:// or https://"));
            }
        }
        for (key, max) in [("wechat", w.max_reply_bytes), ("wecom", c.max_reply_bytes), ("feishu", f.max_reply_bytes)] {
            if max < 64 {
                problems.push(format!("channels.{key}.max_reply_bytes = {max} must be at least 64"));
            }
        }
        if self.max_clock_skew_secs > 0 && self.dedup_secs < 2 * self.max_clock_skew_secs {
            problems.push(format!(
                "channels.dedup_secs = {} must be at least twice channels.max_clock_skew_secs = {}: a message sent again within the accepted clock skew must still be known",
                self.dedup_secs, self.max_clock_skew_secs
            ));
        }
        if self.reply_within_ms == 0 || self.reply_within_ms > 4800 {
            problems.push(format!(
                "channels.reply_within_ms = {} must be between 1 and 4800 (the platforms wait 5 s)",
                self.reply_within_ms
            ));
        }
        problems
    }

    /// The text style of `platform`.
    pub fn style(&self, platform: Platform) -> render::Style<'_> {
        let max_bytes = match platform {
            Platform::Wechat => self.wechat.max_reply_bytes,
            Platform::Wecom => self.wecom.max_reply_bytes,
            Platform::Feishu => self.feishu.max_reply_bytes,
        };
        render::Style { related_title: &self.related_title, suggestions_title: &self.suggestions_title, max_bytes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_sessions_are_named_by_platform_and_user() {
        assert_eq!(session_id(Platform::Wechat, "oAbc-1"), "wechat:oAbc-1");
        assert_eq!(Platform::of_session("wecom:zhangsan"), Some(Platform::Wecom));
        assert_eq!(Platform::of_session("feishu:ou_1"), Some(Platform::Feishu));
        assert_eq!(Platform::of_session("web-123"), None);
        assert_eq!(Platform::of_session("weixin:1"), None);
        assert!(valid_user_id("oLVPpjqs9BhvzwPj5A-vTYAX3GLc"));
        assert!(!valid_user_id(""));
        assert!(!valid_user_id("a b"));
        assert!(!valid_user_id("用户"));
        assert!(!valid_user_id(&"a".repeat(129)));
    }
}
