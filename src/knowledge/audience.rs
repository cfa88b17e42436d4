//! Who an answer variant or a welcome suggestion is for: conditions on the channel,
//! the customer's tags and profile fields, written `channel=sms`, `tag=老年人`,
//! `profile.order.status=已发货`, several joined by spaces or commas (all must hold).

use serde::Serialize;

/// One condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "on", content = "value")]
pub enum Condition {
    /// The request's channel equals this (case-insensitive).
    Channel(String),
    /// The customer has this tag (case-insensitive).
    Tag(String),
    /// The profile field at this dotted path, as text, equals the value.
    Profile {
        /// Dotted path into `user.profile` (`order.status`).
        path: String,
        /// The expected value.
        equals: String,
    },
}

/// All of these conditions; an empty audience is everyone.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Audience {
    /// The conditions.
    pub conditions: Vec<Condition>,
}

/// The customer a turn is for, as audiences see it.
#[derive(Debug, Clone, Copy)]
pub struct Customer<'a> {
    /// The request's channel.
    pub channel: Option<&'a str>,
    /// The customer's tags.
    pub tags: &'a [String],
    /// The customer's profile (a JSON object, or null).
    pub profile: &'a serde_json::Value,
}

impl Condition {
    fn holds(&self, who: Customer<'_>) -> bool {
        match self {
            Self::Channel(c) => who.channel.is_some_and(|w| w.trim().eq_ignore_ascii_case(c)),
            Self::Tag(t) => who.tags.iter().any(|w| w.trim().to_lowercase() == t.to_lowercase()),
            Self::Profile { path, equals } => {
                let value = path.split('.').try_fold(who.profile, |v, key| v.get(key));
                match value {
                    Some(serde_json::Value::String(s)) => s.trim() == equals,
                    Some(serde_json::Value::Number(n)) => n.to_string() == *equals,
                    Some(serde_json::Value::Bool(b)) => b.to_string() == *equals,
                    _ => false,
                }
            }
        }
    }
}

impl Audience {
    /// Parse `channel=sms tag=老年人` (spaces, commas or `，` between conditions).
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut conditions = Vec::new();
        for part in spec.split(|c: char| c.is_whitespace() || c == ',' || c == '，').filter(|p| !p.is_empty()) {
            let Some((key, value)) = part.split_once(['=', '＝']) else {
                return Err(format!("{part:?} is not key=value (channel=…, tag=… or profile.FIELD=…)"));
            };
            let (key, value) = (key.trim(), value.trim());
            if value.is_empty() {
                return Err(format!("{part:?} has no value"));
            }
            let condition = match key {
                "channel" => Condition::Channel(value.to_owned()),
                "tag" => Condition::Tag(value.to_owned()),
                _ => match key.strip_prefix("profile.") {
                    Some(path) if !path.is_empty() && path.split('.').all(|k| !k.is_empty()) => {
                        Condition::Profile { path: path.to_owned(), equals: value.to_owned() }
                    }
                    _ => return Err(format!("unknown condition {key:?}: use channel=…, tag=… or profile.FIELD=…")),
                },
            };
            conditions.push(condition);
        }
        if conditions.is_empty() {
            return Err("no condition given (e.g. channel=sms or tag=VIP)".into());
        }
        Ok(Self { conditions })
    }

    /// Whether every condition holds for `who`.
    pub fn matches(&self, who: Customer<'_>) -> bool {
        self.conditions.iter().all(|c| c.holds(who))
    }

    /// How specific the audience is: tags and profile fields count 2 (who the
    /// customer is), a channel 1 (where they write from).
    pub fn specificity(&self) -> usize {
        self.conditions.iter().map(|c| if matches!(c, Condition::Channel(_)) { 1 } else { 2 }).sum()
    }
}

impl std::fmt::Display for Audience {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .conditions
            .iter()
            .map(|c| match c {
                Condition::Channel(v) => format!("channel={v}"),
                Condition::Tag(v) => format!("tag={v}"),
                Condition::Profile { path, equals } => format!("profile.{path}={equals}"),
            })
            .collect();
        f.write_str(&parts.join(" "))
    }
}

/// An answer written for an audience.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnswerVariant {
    /// Who it is for.
    pub audience: Audience,
    /// The answer (Markdown, placeholders allowed).
    pub answer: String,
    /// Line where it was defined.
    pub line: usize,
}

/// The index of the variant for `who`: the most specific one whose audience
/// matches; ties go to the one written first. `None`: the entry's own answer.
pub fn pick_variant(variants: &[AnswerVariant], who: Customer<'_>) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, v) in variants.iter().enumerate() {
        if v.audience.matches(who) {
            let s = v.audience.specificity();
            if best.is_none_or(|(_, b)| s > b) {
                best = Some((i, s));
            }
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn variant(spec: &str) -> AnswerVariant {
        AnswerVariant { audience: Audience::parse(spec).unwrap(), answer: spec.into(), line: 1 }
    }

    #[test]
    fn parses_and_rejects_with_a_reason() {
        let a = Audience::parse("channel=sms，tag=老年人 profile.order.status=已发货").unwrap();
        assert_eq!(a.conditions.len(), 3);
        assert_eq!(a.to_string(), "channel=sms tag=老年人 profile.order.status=已发货");
        for bad in ["", "channel", "color=red", "tag=", "profile.=x"] {
            assert!(Audience::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_most_specific_matching_variant_wins() {
        let variants = [variant("channel=sms"), variant("tag=老年人"), variant("channel=sms tag=老年人")];
        let profile = json!({});
        let who = |channel, tags: &'static [String]| Customer { channel, tags, profile: &profile };
        let elderly: &'static [String] = Box::leak(Box::new(["老年人".to_owned()]));
        assert_eq!(pick_variant(&variants, who(Some("SMS"), &[])), Some(0));
        assert_eq!(pick_variant(&variants, who(Some("web"), elderly)), Some(1));
        assert_eq!(pick_variant(&variants, who(Some("sms"), elderly)), Some(2));
        assert_eq!(pick_variant(&variants, who(None, &[])), None);
        // A tag is more specific than a channel.
        let two = [variant("channel=sms"), variant("tag=老年人")];
        assert_eq!(pick_variant(&two, who(Some("sms"), elderly)), Some(1));
    }

    #[test]
    fn profile_conditions_read_nested_fields_of_any_scalar_type() {
        let profile = json!({"order": {"status": "已发货"}, "overdue": true, "level": 3});
        let who = Customer { channel: None, tags: &[], profile: &profile };
        assert!(Audience::parse("profile.order.status=已发货").unwrap().matches(who));
        assert!(Audience::parse("profile.overdue=true profile.level=3").unwrap().matches(who));
        assert!(!Audience::parse("profile.order.status=已签收").unwrap().matches(who));
        assert!(!Audience::parse("profile.missing=x").unwrap().matches(who));
    }
}
