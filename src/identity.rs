//! Who the customer is, as vouched for by the site or channel that embeds the bot.
//!
//! A customer id in a request body is a claim anyone can make. It is believed only
//! with a token the integrator's own server signed: a JWT (RFC 7519) whose `sub`
//! is the customer id and whose `exp` is in the future, signed HS256 with a secret
//! shared with the integrator's server. Everything else is anonymous: look-ups that need a customer ask to log in, as without an id.
//!
//! Pure apart from the clock: no I/O, no knowledge of HTTP. Used by `server`.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

/// Customer identity settings (`[identity]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// Believe `user.id` only with a valid token. `false` believes any claimed id:
    /// for trying the demo only, never with real customers.
    pub required: bool,
    /// HS256 key shared with the site's server (set `BIZBOT__IDENTITY__SECRET`).
    pub secret: String,
    /// When not empty, a token's `iss` must be this.
    pub issuer: String,
    /// When not empty, a token's `aud` must be this.
    pub audience: String,
    /// Seconds of clock difference tolerated on `exp` and `nbf`.
    pub leeway_secs: u64,
}

/// Who a request speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// A token signed by the integrator names this customer.
    Verified(String),
    /// `identity.required = false`: the claimed id, believed unchecked.
    Claimed(String),
    /// Nobody in particular: no id, or an id without a valid token.
    Anonymous(Unverified),
}

/// Why a request is anonymous.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unverified {
    /// Neither an id nor a token.
    NoClaim,
    /// An id without a token.
    NoToken,
    /// A token, but no key is configured to check it with.
    NoKey,
    /// A token that fails: bad signature, expired, wrong issuer or audience, not a JWT.
    InvalidToken,
    /// A valid token for another customer than the id given.
    OtherCustomer,
}

impl Unverified {
    /// A short name for metrics and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoClaim => "none",
            Self::NoToken => "no_token",
            Self::NoKey => "no_key",
            Self::InvalidToken => "invalid_token",
            Self::OtherCustomer => "other_customer",
        }
    }
}

impl Identity {
    /// Every [`kind`](Self::kind), for metrics.
    pub const KINDS: [&'static str; 7] =
        ["verified", "claimed", "none", "no_token", "no_key", "invalid_token", "other_customer"];

    /// The customer id look-ups and history may use: verified, or claimed where
    /// the config believes claims.
    pub fn customer_id(&self) -> Option<&str> {
        match self {
            Self::Verified(id) | Self::Claimed(id) => Some(id),
            Self::Anonymous(_) => None,
        }
    }

    /// The id when a token proved it (a session may be bound to it).
    pub fn verified_id(&self) -> Option<&str> {
        match self {
            Self::Verified(id) => Some(id),
            Self::Claimed(_) | Self::Anonymous(_) => None,
        }
    }

    /// A short name for metrics: verified, claimed, or why anonymous.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Verified(_) => "verified",
            Self::Claimed(_) => "claimed",
            Self::Anonymous(why) => why.as_str(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: String,
}

impl IdentityConfig {
    /// Whether a token could be checked at all (a key is configured).
    pub fn has_key(&self) -> bool {
        !self.secret.is_empty()
    }

    /// The keyed hash a session stores for its verified owner: sessions (in memory
    /// or Redis) never hold the raw id, and every replica with the same secret
    /// computes the same tag.
    pub fn owner_tag(&self, id: &str) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(self.secret.as_bytes())
            .expect("HMAC-SHA256 takes a key of any length");
        mac.update(b"bizbot-session-owner\0");
        mac.update(id.as_bytes());
        mac.finalize().into_bytes().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }

    /// Every problem with these settings (`identity.…` named).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.leeway_secs > 300 {
            problems.push(format!("identity.leeway_secs = {}: at most 300", self.leeway_secs));
        }
        if !self.secret.is_empty() && self.secret.len() < 32 {
            problems.push("identity.secret: at least 32 bytes (HS256 keys shorter than the hash are weak)".into());
        }
        problems
    }

    /// Who a request with this claimed id and token speaks for.
    pub fn identify(&self, claimed_id: Option<&str>, token: Option<&str>) -> Identity {
        let claimed_id = claimed_id.map(str::trim).filter(|id| !id.is_empty());
        let token = token.map(str::trim).filter(|t| !t.is_empty());
        if !self.required && token.is_none() {
            return match claimed_id {
                Some(id) => Identity::Claimed(id.to_owned()),
                None => Identity::Anonymous(Unverified::NoClaim),
            };
        }
        let Some(token) = token else {
            let why = if claimed_id.is_some() { Unverified::NoToken } else { Unverified::NoClaim };
            return Identity::Anonymous(why);
        };
        if !self.has_key() {
            return Identity::Anonymous(Unverified::NoKey);
        }
        let Some(subject) = self.subject(token) else {
            return Identity::Anonymous(Unverified::InvalidToken);
        };
        match claimed_id {
            Some(id) if id != subject => Identity::Anonymous(Unverified::OtherCustomer),
            _ => Identity::Verified(subject),
        }
    }

    /// The `sub` of a token that passes every check. Only HS256 is accepted: the
    /// token's header cannot choose another algorithm (`none`, or a public-key one
    /// fed the secret).
    fn subject(&self, token: &str) -> Option<String> {
        let key = DecodingKey::from_secret(self.secret.as_bytes());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if self.issuer.is_empty() {
            validation.iss = None;
        } else {
            validation.set_issuer(&[self.issuer.as_str()]);
            required.push("iss");
        }
        if self.audience.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&[self.audience.as_str()]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Claims>(token, &key, &validation).ok()?;
        let sub = data.claims.sub.trim();
        (!sub.is_empty() && sub.chars().count() <= 128 && !sub.chars().any(char::is_control)).then(|| sub.to_owned())
    }
}

/// An HS256 token for `sub` valid until `exp` (Unix seconds): what an integrator's
/// server issues (any JWT library does the same), and what tests and the demo use.
pub fn sign_hs256(secret: &str, sub: &str, exp: u64) -> String {
    let claims = serde_json::json!({"sub": sub, "exp": exp});
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("HS256 signing of a JSON object cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn keyless() -> IdentityConfig {
        IdentityConfig {
            required: true,
            secret: String::new(),
            issuer: String::new(),
            audience: String::new(),
            leeway_secs: 30,
        }
    }

    fn config() -> IdentityConfig {
        IdentityConfig { secret: SECRET.into(), ..keyless() }
    }

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    #[test]
    fn a_signed_token_verifies_its_customer() {
        let token = sign_hs256(SECRET, "u1001", now() + 600);
        assert_eq!(config().identify(Some("u1001"), Some(&token)), Identity::Verified("u1001".into()));
        // The id may be left out: the token names the customer.
        assert_eq!(config().identify(None, Some(&token)), Identity::Verified("u1001".into()));
    }

    #[test]
    fn a_claimed_id_without_a_valid_token_is_anonymous() {
        let c = config();
        let anonymous = |why| Identity::Anonymous(why);
        assert_eq!(c.identify(Some("u1001"), None), anonymous(Unverified::NoToken));
        assert_eq!(c.identify(None, None), anonymous(Unverified::NoClaim));
        let expired = sign_hs256(SECRET, "u1001", now() - 3600);
        assert_eq!(c.identify(Some("u1001"), Some(&expired)), anonymous(Unverified::InvalidToken));
        let forged = sign_hs256("another-secret-another-secret-xx", "u1001", now() + 600);
        assert_eq!(c.identify(Some("u1001"), Some(&forged)), anonymous(Unverified::InvalidToken));
        let theirs = sign_hs256(SECRET, "u2002", now() + 600);
        assert_eq!(c.identify(Some("u1001"), Some(&theirs)), anonymous(Unverified::OtherCustomer));
        for junk in ["", "x", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1MTAwMSJ9."] {
            assert!(c.identify(Some("u1001"), Some(junk)).customer_id().is_none(), "{junk:?}");
        }
    }

    #[test]
    fn alg_none_and_tokens_without_expiry_are_refused() {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let none = format!("{}.{}.", b64(r#"{"alg":"none","typ":"JWT"}"#), b64(r#"{"sub":"u1001","exp":9999999999}"#));
        assert!(config().identify(Some("u1001"), Some(&none)).customer_id().is_none());
        let no_exp = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "u1001"}),
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert!(config().identify(Some("u1001"), Some(&no_exp)).customer_id().is_none());
    }

    #[test]
    fn without_a_key_nobody_is_verified_and_claims_are_believed_only_when_not_required() {
        let token = sign_hs256(SECRET, "u1001", now() + 600);
        assert_eq!(keyless().identify(Some("u1001"), Some(&token)), Identity::Anonymous(Unverified::NoKey));
        let open = IdentityConfig { required: false, ..keyless() };
        assert_eq!(open.identify(Some("u1001"), None), Identity::Claimed("u1001".into()));
        assert_eq!(open.identify(Some(" "), None), Identity::Anonymous(Unverified::NoClaim));
    }

    #[test]
    fn issuer_and_audience_are_checked_when_configured() {
        let c = IdentityConfig { issuer: "shop".into(), ..config() };
        let token = sign_hs256(SECRET, "u1001", now() + 600);
        assert!(c.identify(None, Some(&token)).customer_id().is_none(), "no iss");
        let with_iss = jsonwebtoken::encode(
            &jsonwebtoken::Header::new(Algorithm::HS256),
            &serde_json::json!({"sub": "u1001", "exp": now() + 600, "iss": "shop"}),
            &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .unwrap();
        assert_eq!(c.identify(None, Some(&with_iss)), Identity::Verified("u1001".into()));
    }

    #[test]
    fn short_secrets_are_problems() {
        let c = IdentityConfig { secret: "short".into(), ..keyless() };
        assert_eq!(c.problems().len(), 1);
        assert!(config().problems().is_empty());
    }
}
