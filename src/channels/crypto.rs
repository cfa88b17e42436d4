//! The message crypto of WeChat Official Accounts and WeCom (one scheme, "安全模式"),
//! and of Feishu event callbacks. Pure: no I/O, no clock; random bytes are passed in.
//!
//! WeChat / WeCom: `msg_signature = sha1(sort(token, timestamp, nonce, encrypt))`
//! in hex; `encrypt = base64(AES-256-CBC(key, iv = key[..16], pkcs7₃₂(random₁₆ ‖
//! len₄ ‖ message ‖ receive_id)))` with `key = base64(EncodingAESKey + "=")` and
//! `receive_id` the official account's app id or the WeCom corp id.
//!
//! Feishu: `X-Lark-Signature = sha256_hex(timestamp ‖ nonce ‖ encrypt_key ‖ body)`;
//! `encrypt = base64(iv₁₆ ‖ AES-256-CBC(sha256(encrypt_key), iv, pkcs7₁₆(json)))`.

use aes::Aes256;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cbc::cipher::block_padding::NoPadding;
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// What is wrong with a signed or encrypted message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 base64 characters.
    #[error("the EncodingAESKey must be 43 characters of base64 (32 bytes)")]
    BadKey,
    /// The ciphertext is not base64 of whole AES blocks.
    #[error("the encrypted message is not base64 of whole AES blocks")]
    BadCiphertext,
    /// The plaintext's padding or length prefix does not hold.
    #[error("the decrypted message is malformed (wrong key?)")]
    BadPlaintext,
    /// The message was encrypted for another app id / corp id.
    #[error("the message is for app id {0:?}, not this one")]
    OtherReceiver(String),
    /// The plaintext is not UTF-8.
    #[error("the decrypted message is not UTF-8")]
    NotUtf8,
}

/// `sha1(sort(parts).concat())` in lowercase hex: the WeChat / WeCom signature of
/// `token, timestamp, nonce` (plain mode) or of those and the `Encrypt` text.
pub fn wechat_signature(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    hex(&Sha1::digest(sorted.concat().as_bytes()))
}

/// Whether `given` is the signature of `parts`, compared in constant time.
pub fn wechat_signature_ok(parts: &[&str], given: &str) -> bool {
    same(wechat_signature(parts).as_bytes(), given.trim().to_ascii_lowercase().as_bytes())
}

/// The AES key of a WeChat / WeCom EncodingAESKey.
#[derive(Clone)]
pub struct WechatKey([u8; 32]);

impl std::fmt::Debug for WechatKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WechatKey(…)")
    }
}

/// WeChat pads to 32-byte blocks (its own PKCS#7 variant).
const WECHAT_BLOCK: usize = 32;

impl WechatKey {
    /// The key of `encoding_aes_key` (43 base64 characters, as the platform shows it).
    pub fn new(encoding_aes_key: &str) -> Result<Self, CryptoError> {
        let text = encoding_aes_key.trim();
        if text.len() != 43 {
            return Err(CryptoError::BadKey);
        }
        // The platforms' keys often have stray bits in their last character,
        // which their own (lenient) decoders ignore.
        let lenient = base64::engine::GeneralPurpose::new(
            &base64::alphabet::STANDARD,
            base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
        );
        let bytes = lenient.decode(format!("{text}=")).map_err(|_| CryptoError::BadKey)?;
        bytes.try_into().map(Self).map_err(|_| CryptoError::BadKey)
    }

    fn iv(&self) -> [u8; 16] {
        let mut iv = [0; 16];
        iv.copy_from_slice(&self.0[..16]);
        iv
    }

    /// The message inside `encrypt`, checked to be for `receive_id` (the app id
    /// or corp id; "" accepts any).
    pub fn decrypt(&self, encrypt: &str, receive_id: &str) -> Result<String, CryptoError> {
        let data = BASE64.decode(encrypt.trim()).map_err(|_| CryptoError::BadCiphertext)?;
        if data.is_empty() || data.len() % 16 != 0 {
            return Err(CryptoError::BadCiphertext);
        }
        let plain = cbc::Decryptor::<Aes256>::new(&self.0.into(), &self.iv().into())
            .decrypt_padded_vec_mut::<NoPadding>(&data)
            .map_err(|_| CryptoError::BadCiphertext)?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::BadPlaintext)?);
        if !(1..=WECHAT_BLOCK).contains(&pad) || pad > plain.len() {
            return Err(CryptoError::BadPlaintext);
        }
        let body = &plain[..plain.len() - pad];
        if body.len() < 20 {
            return Err(CryptoError::BadPlaintext);
        }
        let len = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
        let rest = &body[20..];
        if len > rest.len() {
            return Err(CryptoError::BadPlaintext);
        }
        let (message, receiver) = rest.split_at(len);
        let receiver = std::str::from_utf8(receiver).map_err(|_| CryptoError::NotUtf8)?;
        if !receive_id.is_empty() && receiver != receive_id {
            return Err(CryptoError::OtherReceiver(receiver.to_owned()));
        }
        String::from_utf8(message.to_vec()).map_err(|_| CryptoError::NotUtf8)
    }

    /// `message` encrypted for `receive_id`, with 16 `random` bytes in front.
    pub fn encrypt(&self, message: &str, receive_id: &str, random: [u8; 16]) -> String {
        let mut plain = Vec::with_capacity(20 + message.len() + receive_id.len() + WECHAT_BLOCK);
        plain.extend_from_slice(&random);
        plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
        plain.extend_from_slice(message.as_bytes());
        plain.extend_from_slice(receive_id.as_bytes());
        let pad = WECHAT_BLOCK - plain.len() % WECHAT_BLOCK;
        plain.resize(plain.len() + pad, pad as u8);
        let sealed = cbc::Encryptor::<Aes256>::new(&self.0.into(), &self.iv().into())
            .encrypt_padded_vec_mut::<NoPadding>(&plain);
        BASE64.encode(sealed)
    }
}

/// `sha256_hex(timestamp ‖ nonce ‖ encrypt_key ‖ body)`: Feishu's `X-Lark-Signature`.
pub fn feishu_signature(timestamp: &str, nonce: &str, encrypt_key: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(timestamp.as_bytes());
    hash.update(nonce.as_bytes());
    hash.update(encrypt_key.as_bytes());
    hash.update(body);
    hex(&hash.finalize())
}

/// Whether `given` is Feishu's signature of the request, compared in constant time.
pub fn feishu_signature_ok(timestamp: &str, nonce: &str, encrypt_key: &str, body: &[u8], given: &str) -> bool {
    same(feishu_signature(timestamp, nonce, encrypt_key, body).as_bytes(), given.trim().as_bytes())
}

/// The JSON inside a Feishu `encrypt` field.
pub fn feishu_decrypt(encrypt_key: &str, encrypt: &str) -> Result<String, CryptoError> {
    let data = BASE64.decode(encrypt.trim()).map_err(|_| CryptoError::BadCiphertext)?;
    if data.len() < 32 || data.len() % 16 != 0 {
        return Err(CryptoError::BadCiphertext);
    }
    let key: [u8; 32] = Sha256::digest(encrypt_key.as_bytes()).into();
    let (iv, sealed) = data.split_at(16);
    let mut iv_bytes = [0; 16];
    iv_bytes.copy_from_slice(iv);
    let plain = cbc::Decryptor::<Aes256>::new(&key.into(), &iv_bytes.into())
        .decrypt_padded_vec_mut::<cbc::cipher::block_padding::Pkcs7>(sealed)
        .map_err(|_| CryptoError::BadPlaintext)?;
    String::from_utf8(plain).map_err(|_| CryptoError::NotUtf8)
}

/// `json` encrypted as Feishu does with `iv` (the platform's side: for tests and
/// tools that play Feishu).
pub fn feishu_encrypt(encrypt_key: &str, json: &str, iv: [u8; 16]) -> String {
    let key: [u8; 32] = Sha256::digest(encrypt_key.as_bytes()).into();
    let sealed = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into())
        .encrypt_padded_vec_mut::<cbc::cipher::block_padding::Pkcs7>(json.as_bytes());
    let mut out = iv.to_vec();
    out.extend_from_slice(&sealed);
    BASE64.encode(out)
}

/// 16 random bytes (the WeChat plaintext prefix, a Feishu IV).
pub fn random16() -> [u8; 16] {
    let mut bytes = [0; 16];
    // The OS source failing is not a reason to drop a customer's message: the
    // prefix only has to differ between messages, which the clock gives.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        bytes = nanos.to_le_bytes();
    }
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two secrets are equal, compared in constant time.
pub fn same_secret(a: &str, b: &str) -> bool {
    same(a.as_bytes(), b.as_bytes())
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // Test vectors of WeCom's callback crypto as published with wechatpy's tests
    // (token, EncodingAESKey and corp id of its example app).
    const TOKEN: &str = "123456";
    const AES_KEY: &str = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR";
    const CORP_ID: &str = "wx49f0ab532d5d035a";

    #[test]
    fn the_published_url_verification_signature_checks_and_decrypts() {
        let echo = "4ByGGj+sVCYcvGeQYhaKIk1o0pQRNbRjxybjTGblXrBaXlTXeOo1+bXFXDQQb1o6co6Yh9Bv41n7hOchLF6p+Q==";
        let parts = [TOKEN, "1411443780", "437374425", echo];
        assert!(wechat_signature_ok(&parts, "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"));
        // One nonce digit off: refused.
        assert!(!wechat_signature_ok(
            &[TOKEN, "1411443780", "437374424", echo],
            "dd6b9c95b495b3f7e2901bfbc76c664930ffdb96"
        ));
        let key = WechatKey::new(AES_KEY).unwrap();
        let plain = key.decrypt(echo, CORP_ID).unwrap();
        assert!(!plain.is_empty() && plain.chars().all(|c| c.is_ascii_digit()), "{plain}");
    }

    #[test]
    fn wecoms_own_documentation_example_of_the_url_check_verifies_and_decrypts() {
        // WeCom's developer guide (回调配置 / 加解密方案), its sample app:
        // token QDG6eK, CorpID wx5823bf96d3bd56c7.
        let echo = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
        let parts = ["QDG6eK", "1409659589", "263014780", echo];
        assert!(wechat_signature_ok(&parts, "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"));
        let key = WechatKey::new("jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C").unwrap();
        assert_eq!(key.decrypt(echo, "wx5823bf96d3bd56c7").unwrap(), "1616140317555161061");
    }

    #[test]
    fn the_published_message_decrypts_to_its_text() {
        let encrypt = "RgqEoJj5A4EMYlLvWO1F86ioRjZfaex/gePD0gOXTxpsq5Yj4GNglrBb8I2BAJVODGajiFnXBu7mCPatfjsu6IHCrsTyeDXzF6Bv283dGymzxh6ydJRvZsryDyZbLTE7rhnus50qGPMfp2wASFlzEgMW9z1ef/RD8XzaFYgm7iTdaXpXaG4+BiYyolBug/gYNx410cvkKR2/nPwBiT+P4hIiOAQqGp/TywZBtDh1yCF2KOd0gpiMZ5jSw3e29mTvmUHzkVQiMS6td7vXUaWOMZnYZlF3So2SjHnwh4jYFxdgpkHHqIrH/54SNdshoQgWYEvccTKe7FS709/5t6NMxuGhcUGAPOQipvWTT4dShyqio7mlsl5noTrb++x6En749zCpQVhDpbV6GDnTbcX2e8K9QaNWHp91eBdCRxthuL0=";
        let parts = [TOKEN, "1411525903", "461056294", encrypt];
        assert!(wechat_signature_ok(&parts, "74d92dfeb87ba7c714f89d98870ae5eb62dff26d"));
        let key = WechatKey::new(AES_KEY).unwrap();
        let xml = key.decrypt(encrypt, CORP_ID).unwrap();
        assert!(xml.contains("<Content><![CDATA[test]]></Content>"), "{xml}");
        assert!(xml.contains("<FromUserName><![CDATA[messense]]></FromUserName>"), "{xml}");
        assert_eq!(key.decrypt(encrypt, "wx0000000000000000"), Err(CryptoError::OtherReceiver(CORP_ID.into())));
    }

    #[test]
    fn the_published_reply_encrypts_byte_for_byte() {
        let reply = "<xml>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[test]]></Content>\n<FromUserName><![CDATA[wx49f0ab532d5d035a]]></FromUserName>\n<ToUserName><![CDATA[messense]]></ToUserName>\n<AgentID>1</AgentID>\n<CreateTime>1411525903</CreateTime>\n</xml>";
        let key = WechatKey::new(AES_KEY).unwrap();
        let encrypt = key.encrypt(reply, CORP_ID, *b"1234567890123456");
        assert_eq!(
            encrypt,
            "9s4gMv99m88kKTh/H8IdkOiMg6bisoy3ypwy9H4hvSPe9nsGaqyw5hhSjdYbcrKk+j3nba4HMOTzHrluLBYqxgNcBqGsL8GqxlhZgURnAtObvesEl5nZ+uBE8bviY0LWke8Zy9V/QYKxNV2FqllNXcfmstttyIkMKCCmVbCFM2JTF5wY0nFhHZSjPUL2Q1qvSUCUld+/WIXrx0oyKQmpB6o8NRrrNrsDf03oxI1p9FxUgMnwKKZeOA/uu+2IEvEBtb7muXsVbwbgX05UPPJvFurDXafG0RQyPR+mf1nDnAtQmmNOuiR5MIkdQ39xn1vWwi1O5oazPoQJz0nTYjxxEE8kv3kFxtAGVRe3ypD3WeK2XeFYFMNMpatF9XiKzHo3"
        );
        assert_eq!(
            wechat_signature(&[TOKEN, "1411525903", "461056294", &encrypt]),
            "407518b7649e86ef23978113f92d27afa9296533"
        );
        assert_eq!(key.decrypt(&encrypt, CORP_ID).unwrap(), reply);
    }

    #[test]
    fn bad_keys_and_ciphertexts_are_errors_not_panics() {
        assert_eq!(WechatKey::new("short").unwrap_err(), CryptoError::BadKey);
        assert_eq!(WechatKey::new(&"!".repeat(43)).unwrap_err(), CryptoError::BadKey);
        let key = WechatKey::new(AES_KEY).unwrap();
        for bad in ["", "not base64!", "AAAA", &BASE64.encode([0u8; 32])] {
            assert!(key.decrypt(bad, "").is_err(), "{bad}");
        }
        // Encrypted with another key: padding or length prefix fails, or the
        // receiver differs.
        let other = WechatKey::new("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG").unwrap();
        let sealed = other.encrypt("<xml/>", CORP_ID, [7; 16]);
        assert!(key.decrypt(&sealed, CORP_ID).is_err());
        assert!(feishu_decrypt("k", "").is_err());
        assert!(feishu_decrypt("k", &BASE64.encode([1u8; 48])).is_err());
    }

    #[test]
    fn the_feishu_documentation_example_decrypts() {
        // Feishu's event-subscription guide: encrypt key "test key".
        assert_eq!(feishu_decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=").unwrap(), "hello world");
        let sealed = feishu_encrypt("test key", r#"{"a":1}"#, [9; 16]);
        assert_eq!(feishu_decrypt("test key", &sealed).unwrap(), r#"{"a":1}"#);
    }

    #[test]
    fn feishu_signature_is_sha256_of_the_four_parts() {
        // sha256("1" ‖ "2" ‖ "3" ‖ "4") = sha256("1234").
        assert_eq!(
            feishu_signature("1", "2", "3", b"4"),
            "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4"
        );
        assert!(feishu_signature_ok(
            "1",
            "2",
            "3",
            b"4",
            "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4"
        ));
        assert!(!feishu_signature_ok(
            "1",
            "2",
            "3",
            b"5",
            "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4"
        ));
    }
}
