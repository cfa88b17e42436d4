//! Running a scenario: fill its slots (asking for missing ones), look the customer's
//! data up in the back-end, and answer from the template — or apply `on_failure`.

use std::collections::BTreeMap;

use serde_json::json;

use super::{MatchInfo, Reply, Session, TurnAction, TurnContext};
use crate::knowledge::Scenario;

/// How a scenario turn ended.
#[derive(Debug)]
pub(super) enum ScenarioOutcome {
    /// Answered from the lookup.
    Answered(Reply),
    /// Asked for a missing slot; `progress` is whether this turn filled any slot.
    AskedSlot { reply: Reply, progress: bool },
    /// The lookup failed; the scenario's `on_failure` applies.
    Failed { message: String, handoff: bool },
    /// A logged-in customer is needed and the request has none.
    LoginRequired(Reply),
}

/// Fill slots from `text`, then ask, look up or fail.
pub(super) fn run(
    ctx: TurnContext<'_>,
    session: &mut Session,
    scenario: &Scenario,
    confidence: f32,
    text: &str,
    mut filled: BTreeMap<String, String>,
) -> ScenarioOutcome {
    let matched = MatchInfo {
        id: scenario.id.clone(),
        question: scenario.examples.first().cloned().unwrap_or_default(),
        score: confidence,
        source: "scenario".into(),
    };
    let mut reply = Reply {
        turn: session.turn,
        action: TurnAction::AskSlot,
        text: String::new(),
        matched: Some(matched),
        candidates: Vec::new(),
        related: Vec::new(),
        actions: Vec::new(),
        handoff: None,
    };
    if scenario.requires_user && ctx.user.id.is_none() {
        reply.action = TurnAction::Fallback;
        reply.text = ctx.messages.login_required.clone();
        return ScenarioOutcome::LoginRequired(reply);
    }
    let before = filled.len();
    for slot in &scenario.slots {
        if filled.contains_key(&slot.name) {
            continue;
        }
        // Patterns were compiled once at load (validation); a failure here is skipped.
        if let Some(m) =
            regex::Regex::new(&slot.pattern).ok().and_then(|re| re.find(text).map(|m| m.as_str().to_owned()))
        {
            filled.insert(slot.name.clone(), m);
        }
    }
    if let Some(missing) = scenario.slots.iter().find(|s| !filled.contains_key(&s.name)) {
        reply.text = missing.prompt.clone();
        let progress = filled.len() > before;
        session.pending = super::Pending::Slot { scenario: scenario.id.clone(), filled };
        return ScenarioOutcome::AskedSlot { reply, progress };
    }
    match lookup_and_render(ctx, scenario, &filled) {
        Ok(text) => {
            reply.action = TurnAction::Answer;
            reply.text = text;
            reply.actions = scenario.actions.clone();
            ScenarioOutcome::Answered(reply)
        }
        Err(reason) => {
            tracing::warn!(scenario = %scenario.id, "lookup failed: {reason}");
            ScenarioOutcome::Failed {
                message: scenario.on_failure.message.clone(),
                handoff: scenario.on_failure.handoff,
            }
        }
    }
}

fn lookup_and_render(
    ctx: TurnContext<'_>,
    scenario: &Scenario,
    filled: &BTreeMap<String, String>,
) -> Result<String, String> {
    let env = minijinja::Environment::new();
    // Values in the path are percent-encoded: a slot or user id cannot change the path.
    let escaped: BTreeMap<&str, String> = filled.iter().map(|(k, v)| (k.as_str(), encode(v))).collect();
    let path_ctx = json!({"slots": escaped, "user": {"id": ctx.user.id.as_deref().map(encode)}});
    let path = env.render_str(&scenario.lookup.path, path_ctx).map_err(|e| format!("path template: {e}"))?;
    let data = ctx.backends.get(&scenario.lookup.backend, &path).map_err(|e| e.to_string())?;
    let answer_ctx = json!({
        "data": data,
        "slots": filled,
        "user": {"id": ctx.user.id, "tags": ctx.user.tags, "profile": ctx.user.profile},
        "profile": ctx.user.profile,
    });
    let text = env.render_str(&scenario.answer.template, answer_ctx).map_err(|e| format!("answer template: {e}"))?;
    if text.trim().is_empty() {
        return Err("the answer template rendered empty".into());
    }
    Ok(text)
}

/// Percent-encode everything but unreserved characters (RFC 3986).
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn path_values_cannot_escape() {
        assert_eq!(encode("123/../admin?x=1"), "123%2F..%2Fadmin%3Fx%3D1");
        assert_eq!(encode("u-1001"), "u-1001");
    }
}
