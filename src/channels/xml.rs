//! The XML of WeChat / WeCom callbacks: one `<xml>` element of flat fields in,
//! a text reply or an encrypted envelope out. Pure.

use std::collections::BTreeMap;

use quick_xml::events::Event;

/// Largest number of fields read from one message (WeChat's have about ten).
const MAX_FIELDS: usize = 64;

/// A callback message's top-level fields (`ToUserName`, `MsgType`, `Content`, …),
/// text and CDATA joined, nested elements skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    /// The field `name`, when present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The field `name`, trimmed; `""` when absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).map_or("", str::trim)
    }
}

/// Why a body is not a callback message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    /// Not well-formed XML.
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    /// No root element.
    #[error("no <xml> element")]
    Empty,
    /// A document type declaration: never sent by the platforms, refused.
    #[error("a DOCTYPE is not accepted")]
    Doctype,
    /// More fields than any message has.
    #[error("more than {MAX_FIELDS} fields")]
    TooMany,
}

/// The top-level fields of the root element of `xml`.
pub fn parse(xml: &str) -> Result<Fields, XmlError> {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut fields = BTreeMap::new();
    let mut depth = 0usize;
    let mut seen_root = false;
    let mut current: Option<(String, String)> = None;
    loop {
        match reader.read_event().map_err(|e| XmlError::Malformed(e.to_string()))? {
            Event::Start(start) => {
                depth += 1;
                if depth == 1 {
                    seen_root = true;
                } else if depth == 2 {
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    current = Some((name, String::new()));
                }
            }
            Event::Empty(start) => {
                if depth == 0 {
                    seen_root = true;
                } else if depth == 1 {
                    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                    insert(&mut fields, name, String::new())?;
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((name, value)) = current.take()
                {
                    insert(&mut fields, name, value)?;
                }
                depth = depth.saturating_sub(1);
                if depth == 0 && seen_root {
                    break;
                }
            }
            Event::Text(text) if depth == 2 => {
                let value = text.decode().map_err(|e| XmlError::Malformed(e.to_string()))?;
                let value = quick_xml::escape::unescape(&value).map_err(|e| XmlError::Malformed(e.to_string()))?;
                if let Some((_, buf)) = &mut current {
                    buf.push_str(&value);
                }
            }
            Event::GeneralRef(reference) if depth == 2 => {
                let name = reference.decode().map_err(|e| XmlError::Malformed(e.to_string()))?;
                let entity = format!("&{name};");
                let value = quick_xml::escape::unescape(&entity).map_err(|e| XmlError::Malformed(e.to_string()))?;
                if let Some((_, buf)) = &mut current {
                    buf.push_str(&value);
                }
            }
            Event::CData(data) if depth == 2 => {
                let value = std::str::from_utf8(&data).map_err(|e| XmlError::Malformed(e.to_string()))?;
                if let Some((_, buf)) = &mut current {
                    buf.push_str(value);
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Eof => break,
            _ => {}
        }
    }
    if !seen_root {
        return Err(XmlError::Empty);
    }
    Ok(Fields(fields))
}

fn insert(fields: &mut BTreeMap<String, String>, name: String, value: String) -> Result<(), XmlError> {
    if fields.len() >= MAX_FIELDS {
        return Err(XmlError::TooMany);
    }
    fields.entry(name).or_insert(value);
    Ok(())
}

/// `text` inside CDATA (a `]]>` in it split across two sections).
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// A passive text reply: from the account `from` to the customer `to`.
pub fn text_reply(to: &str, from: &str, create_time: u64, content: &str) -> String {
    format!(
        "<xml><ToUserName>{}</ToUserName><FromUserName>{}</FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>{}</Content></xml>",
        cdata(to),
        cdata(from),
        cdata(content)
    )
}

/// The envelope of an encrypted reply.
pub fn encrypted_envelope(encrypt: &str, signature: &str, timestamp: &str, nonce: &str) -> String {
    format!(
        "<xml><Encrypt>{}</Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{}</TimeStamp><Nonce>{}</Nonce></xml>",
        cdata(encrypt),
        cdata(signature),
        cdata_free(timestamp),
        cdata(nonce)
    )
}

/// A number-like value written bare (only digits kept).
fn cdata_free(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_message_as_wechat_sends_it_is_read() {
        let xml = "<xml><ToUserName><![CDATA[gh_123]]></ToUserName>\n<FromUserName><![CDATA[oUser-1]]></FromUserName>\n<CreateTime>1348831860</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[宽带 & 话费 <多少>]]></Content>\n<MsgId>1234567890123456</MsgId>\n</xml>";
        let f = parse(xml).unwrap();
        assert_eq!(f.text("MsgType"), "text");
        assert_eq!(f.text("FromUserName"), "oUser-1");
        assert_eq!(f.get("Content"), Some("宽带 & 话费 <多少>"));
        assert_eq!(f.text("MsgId"), "1234567890123456");
        assert_eq!(f.text("Event"), "");
    }

    #[test]
    fn escaped_text_nested_elements_and_empty_ones_are_handled() {
        let xml = "<xml><Content>a &amp; b &lt;c&gt;</Content><ScanCodeInfo><ScanType>qrcode</ScanType></ScanCodeInfo><Empty/></xml>";
        let f = parse(xml).unwrap();
        assert_eq!(f.get("Content"), Some("a & b <c>"));
        assert_eq!(f.get("ScanType"), None);
        assert_eq!(f.get("Empty"), Some(""));
    }

    #[test]
    fn hostile_and_broken_bodies_are_errors() {
        assert!(parse("").is_err());
        assert!(parse("just text").is_err());
        assert!(parse("<xml><Content>unclosed</xml>").is_err());
        let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>"#;
        assert_eq!(parse(xxe), Err(XmlError::Doctype));
        // An undeclared entity is not expanded into anything.
        assert!(parse("<xml><Content>&e;</Content></xml>").is_err());
        let many: String = (0..100).map(|i| format!("<F{i}>x</F{i}>")).collect();
        assert_eq!(parse(&format!("<xml>{many}</xml>")), Err(XmlError::TooMany));
    }

    #[test]
    fn replies_read_back_whatever_the_content() {
        let reply = text_reply("oUser", "gh_1", 7, "答案 ]]> <b>粗</b> & 完");
        let f = parse(&reply).unwrap();
        assert_eq!(f.get("Content"), Some("答案 ]]> <b>粗</b> & 完"));
        assert_eq!(f.text("ToUserName"), "oUser");
        assert_eq!(f.text("MsgType"), "text");
        let envelope = encrypted_envelope("abc+/=", "sig", "1411525903", "n1");
        let f = parse(&envelope).unwrap();
        assert_eq!((f.text("Encrypt"), f.text("TimeStamp"), f.text("Nonce")), ("abc+/=", "1411525903", "n1"));
    }
}
