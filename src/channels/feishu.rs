//! Reading a Feishu event callback (schema 2.0, plain or encrypted): the URL
//! challenge, a message to the bot, or an event bizbot does not handle. Pure.

use serde_json::Value;

use super::crypto;

/// What a callback asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// The URL check when the callback is configured: answer `{"challenge": …}`.
    Challenge(String),
    /// A customer wrote to the bot (`im.message.receive_v1`).
    Message(Message),
    /// Another event (read, reactions, …): acknowledged, nothing done.
    Other {
        /// Its `event_type`.
        event_type: String,
    },
}

/// A message event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The event id (Feishu delivers an event again until it is acknowledged).
    pub event_id: String,
    /// The sender's open_id.
    pub open_id: String,
    /// The message id (replies are threaded to it).
    pub message_id: String,
    /// The text, mentions (`@_user_1`) removed; `None` for images, files, audio …
    pub text: Option<String>,
}

/// Why a callback is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeishuError {
    /// Not JSON, or not the shape Feishu sends.
    #[error("not a Feishu event: {0}")]
    Malformed(String),
    /// Encrypted, but no encrypt key is configured or it does not open it.
    #[error("cannot decrypt the event: {0}")]
    Decrypt(String),
    /// The verification token differs from the configured one.
    #[error("the verification token does not match")]
    WrongToken,
}

/// The callback in `body`, decrypted with `encrypt_key` when it is encrypted,
/// its token checked against `verification_token` (when that is set).
pub fn read(body: &[u8], encrypt_key: &str, verification_token: &str) -> Result<Callback, FeishuError> {
    let outer: Value = serde_json::from_slice(body).map_err(|e| FeishuError::Malformed(e.to_string()))?;
    let event = match outer.get("encrypt").and_then(Value::as_str) {
        Some(sealed) => {
            if encrypt_key.is_empty() {
                return Err(FeishuError::Decrypt("channels.feishu.encrypt_key is not set".into()));
            }
            let json = crypto::feishu_decrypt(encrypt_key, sealed).map_err(|e| FeishuError::Decrypt(e.to_string()))?;
            serde_json::from_str(&json).map_err(|e| FeishuError::Malformed(e.to_string()))?
        }
        None => outer,
    };
    let str_at = |pointer: &str| event.pointer(pointer).and_then(Value::as_str).unwrap_or("").to_owned();
    let token = if event.get("type").and_then(Value::as_str) == Some("url_verification") {
        str_at("/token")
    } else {
        str_at("/header/token")
    };
    if !verification_token.is_empty() && !crypto::same_secret(&token, verification_token) {
        return Err(FeishuError::WrongToken);
    }
    if event.get("type").and_then(Value::as_str) == Some("url_verification") {
        let challenge = str_at("/challenge");
        if challenge.is_empty() {
            return Err(FeishuError::Malformed("url_verification without a challenge".into()));
        }
        return Ok(Callback::Challenge(challenge));
    }
    if event.get("schema").and_then(Value::as_str) != Some("2.0") {
        return Err(FeishuError::Malformed("only event schema 2.0 is read".into()));
    }
    let event_type = str_at("/header/event_type");
    if event_type != "im.message.receive_v1" {
        return Ok(Callback::Other { event_type });
    }
    let message = Message {
        event_id: str_at("/header/event_id"),
        open_id: str_at("/event/sender/sender_id/open_id"),
        message_id: str_at("/event/message/message_id"),
        text: (str_at("/event/message/message_type") == "text")
            .then(|| text_of(&str_at("/event/message/content")))
            .flatten(),
    };
    if message.event_id.is_empty() || message.open_id.is_empty() || message.message_id.is_empty() {
        return Err(FeishuError::Malformed("a message event needs event_id, sender open_id and message_id".into()));
    }
    Ok(Callback::Message(message))
}

/// The text of a text message's `content` (`{"text": "@_user_1 你好"}`), with
/// mention placeholders removed.
fn text_of(content: &str) -> Option<String> {
    let value: Value = serde_json::from_str(content).ok()?;
    let text = value.get("text")?.as_str()?;
    let words: Vec<&str> = text.split(' ').filter(|w| !is_mention(w)).collect();
    Some(words.join(" ").trim().to_owned())
}

fn is_mention(word: &str) -> bool {
    word.strip_prefix("@_user_").is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
        || word == "@_all"
}

/// The body of a text reply: `{"msg_type": "text", "content": "{\"text\": …}"}`.
pub fn text_body(text: &str) -> Value {
    serde_json::json!({ "msg_type": "text", "content": serde_json::json!({ "text": text }).to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message_event(token: &str, text: &str) -> String {
        serde_json::json!({
            "schema": "2.0",
            "header": {"event_id": "ev1", "event_type": "im.message.receive_v1", "token": token, "app_id": "cli_1"},
            "event": {
                "sender": {"sender_id": {"open_id": "ou_abc"}, "sender_type": "user"},
                "message": {"message_id": "om_1", "chat_type": "group", "message_type": "text",
                            "content": serde_json::json!({"text": text}).to_string()}
            }
        })
        .to_string()
    }

    #[test]
    fn a_message_event_gives_the_sender_and_text_without_mentions() {
        let read = read(message_event("vt", "@_user_1 宽带 多少钱").as_bytes(), "", "vt").unwrap();
        assert_eq!(
            read,
            Callback::Message(Message {
                event_id: "ev1".into(),
                open_id: "ou_abc".into(),
                message_id: "om_1".into(),
                text: Some("宽带 多少钱".into()),
            })
        );
    }

    #[test]
    fn the_challenge_is_read_plain_and_encrypted() {
        let plain = r#"{"challenge":"ajls384kdjx98XX","token":"vt","type":"url_verification"}"#;
        assert_eq!(read(plain.as_bytes(), "", "vt").unwrap(), Callback::Challenge("ajls384kdjx98XX".into()));
        let sealed = crypto::feishu_encrypt("ek", plain, [3; 16]);
        let body = serde_json::json!({ "encrypt": sealed }).to_string();
        assert_eq!(read(body.as_bytes(), "ek", "vt").unwrap(), Callback::Challenge("ajls384kdjx98XX".into()));
        assert!(matches!(read(body.as_bytes(), "other key", "vt"), Err(FeishuError::Decrypt(_))));
        assert!(matches!(read(body.as_bytes(), "", "vt"), Err(FeishuError::Decrypt(_))));
    }

    #[test]
    fn wrong_tokens_and_strange_bodies_are_refused() {
        assert_eq!(read(message_event("other", "x").as_bytes(), "", "vt"), Err(FeishuError::WrongToken));
        for bad in ["", "[]", "{", r#"{"schema":"1.0"}"#, r#"{"type":"url_verification","token":"vt"}"#] {
            assert!(read(bad.as_bytes(), "", "vt").is_err(), "{bad}");
        }
        let other = r#"{"schema":"2.0","header":{"event_type":"im.message.message_read_v1","token":"vt"}}"#;
        assert_eq!(
            read(other.as_bytes(), "", "vt").unwrap(),
            Callback::Other { event_type: "im.message.message_read_v1".into() }
        );
    }

    #[test]
    fn an_image_has_no_text() {
        let event = message_event("vt", "x").replace(r#""message_type":"text""#, r#""message_type":"image""#);
        let Callback::Message(m) = read(event.as_bytes(), "", "vt").unwrap() else { panic!() };
        assert_eq!(m.text, None);
    }
}
