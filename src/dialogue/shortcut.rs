//! Turns that need no model: what the message is cannot depend on its vector, so
//! the embedding model does not run (the costliest part of a turn). Pure: it reads
//! the session state and the signals that need neither model nor index
//! ([`signals::text_signals`](super::signals::text_signals)).
//!
//! A message that asks for a person or sounds like a complaint by its words always
//! takes the whole path, so the complaint model still sees it.

use super::decide::{self, Policy};
use super::pleasantry;
use super::session::{DialogueState, Pending};
use super::signals::{FaqCandidate, Signals};
use crate::knowledge::KnowledgeBase;

/// Why a turn ran without the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// A person holds the conversation: the message is forwarded.
    WithAgent,
    /// A pick from the choices on screen by number or position ("2", "第二个").
    Pick,
    /// The detail the bot asked for, and little else ("202405271146").
    Detail,
    /// Only greetings, thanks or calling off ("好的谢谢", "算了 不查了").
    Pleasantry,
    /// Exactly one of the knowledge's questions, with nothing pending.
    Exact,
}

impl Shortcut {
    /// Every shortcut, in a fixed order (for counters).
    pub const ALL: [Shortcut; 5] =
        [Shortcut::WithAgent, Shortcut::Pick, Shortcut::Detail, Shortcut::Pleasantry, Shortcut::Exact];

    /// The label in `/metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            Shortcut::WithAgent => "with_agent",
            Shortcut::Pick => "pick",
            Shortcut::Detail => "detail",
            Shortcut::Pleasantry => "pleasantry",
            Shortcut::Exact => "exact",
        }
    }
}

/// Whether the turn can be decided from `signals` without the model, and why.
/// `scenario_example`: the text is one of a scenario's examples (a scenario may
/// take it, which needs the ranking).
pub fn without_model(
    state: &DialogueState,
    signals: &Signals,
    kb: &KnowledgeBase,
    policy: Policy<'_>,
    scenario_example: bool,
) -> Option<Shortcut> {
    if state.with_agent {
        return Some(Shortcut::WithAgent);
    }
    if decide::escalation_request(signals, policy).is_some() {
        return None;
    }
    let normalized = signals.normalized.as_str();
    match &state.pending {
        Pending::Choice { faqs, scenario } => {
            if decide::choice_index(normalized, faqs.len() + usize::from(scenario.is_some())).is_some() {
                return Some(Shortcut::Pick);
            }
        }
        Pending::Slot { scenario, filled } => {
            let value = signals.slots.iter().find(|v| {
                &v.scenario == scenario
                    && !filled.contains_key(&v.slot)
                    && kb.scenario(scenario).is_some_and(|s| s.slots.iter().any(|slot| slot.name == v.slot))
            });
            if let Some(value) = value {
                let rest = normalized.replace(&value.value.to_lowercase(), "");
                if rest.chars().filter(|c| c.is_alphanumeric()).count() <= decide::REPLY_CHARS {
                    return Some(Shortcut::Detail);
                }
            }
        }
        Pending::Nothing | Pending::Callback => {}
    }
    let cancel = if decide::calling_off_applies(state) { policy.cancel } else { &[][..] };
    if pleasantry::classify(normalized, policy.greetings, policy.thanks, cancel).is_some() {
        return Some(Shortcut::Pleasantry);
    }
    if state.pending == Pending::Nothing && !signals.exact.is_empty() && !scenario_example {
        return Some(Shortcut::Exact);
    }
    None
}

/// The signals a shortcut decides from: the text's own, with its exact entries as
/// certain candidates.
pub fn signals(mut text_signals: Signals) -> Signals {
    text_signals.faqs = text_signals
        .exact
        .iter()
        .map(|id| FaqCandidate {
            id: id.clone(),
            score: 1.0,
            fused: 1.0,
            lexical: 1.0,
            cosine: None,
            matched: text_signals.text.clone(),
        })
        .collect();
    text_signals
}
