//! The dialogue manager: one customer turn in three stages.
//!
//! 1. **Signals** ([`signals::gather`]): the model and the indexes run once over
//!    the text and return plain data — normalised text, vector, complaint probability,
//!    ranked FAQ candidates, ranked intents, slot values.
//! 2. **Decision** ([`decide::decide`]): a pure function of (session state,
//!    signals, knowledge, policy) → (decision, next state). Every rule is one named
//!    function there; tests drive it with hand-built signals, no model.
//! 3. **Effects** (here and in [`reply`]): the back-end look-up a decision asks
//!    for, the reply, the transcript.
//!
//! No HTTP and no storage here: the session is passed in locked, the reply is a
//! plain value.

pub mod context;
pub mod decide;
pub mod escalation;
mod lookup;
pub mod pleasantry;
pub mod reply;
pub mod session;
pub mod shortcut;
pub mod signals;
pub mod templates;
pub mod welcome;

pub use decide::{Decision, Outcome, Policy};
pub use escalation::{EscalationConfig, HandoffReason};
pub use reply::{Handoff, MatchInfo, MessagesConfig, Reply, SuggestedAnswer, Suggestion, TurnAction};
pub use session::{
    DialogueState, Holder, Pending, Problem, Seat, Session, SessionBusy, SessionConfig, SessionSlot, SessionStore,
    Speaker, StoreKind, TranscriptLimit, TranscriptLine,
};
pub use shortcut::Shortcut;
pub use signals::Signals;
pub use templates::Templates;
pub use welcome::{WelcomeSuggestion, WhySuggested};

use crate::backend::Backends;
use crate::engine::Engine;
use crate::index::IndexError;
use crate::intent::ThresholdConfig;

/// The customer, as the chat widget knows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserInfo {
    /// Customer id in the company's systems (identity for lookups).
    pub id: Option<String>,
    /// Tags (vip, new, …).
    pub tags: Vec<String>,
    /// Profile fields for answer placeholders.
    pub profile: serde_json::Value,
}

/// Everything a turn needs besides the session and the text.
#[derive(Debug, Clone, Copy)]
pub struct TurnContext<'a> {
    /// Knowledge and indexes.
    pub engine: &'a Engine,
    /// Compiled answer and look-up templates.
    pub templates: &'a Templates,
    /// Answer, clarify and intent thresholds.
    pub thresholds: &'a ThresholdConfig,
    /// Escalation rules.
    pub escalation: &'a EscalationConfig,
    /// Wording.
    pub messages: &'a MessagesConfig,
    /// Transcript kept.
    pub transcript: TranscriptLimit,
    /// The customer.
    pub user: &'a UserInfo,
    /// The request's channel (web, sms, wechat, …).
    pub channel: Option<&'a str>,
    /// Back-ends for scenario lookups.
    pub backends: &'a Backends,
    /// A person can take a hand-off: an agent desk is connected (`[desk]
    /// webhook_url`) or agents answer in the same window (`desk.agent_token`).
    pub agent_desk: bool,
    /// Agents are working now (`desk.hours`).
    pub agents_available: bool,
    /// Agents answer in the customer's window (`desk.live_agents`): a hand-off
    /// takes a seat in their queue.
    pub live_agents: bool,
    /// The time of the turn, Unix ms (when a hand-off starts waiting).
    pub now_ms: u64,
}

/// A turn's reply with what it was decided from.
#[derive(Debug, Clone)]
pub struct Turn {
    /// The reply.
    pub reply: Reply,
    /// The signals the decision read.
    pub signals: Signals,
    /// The decision (after the look-up, when there was one).
    pub decision: Decision,
    /// Why the model did not run, when it did not.
    pub shortcut: Option<Shortcut>,
    /// How the message was read besides alone.
    pub reading: Reading,
}

/// How a message was read besides alone (for the turn log).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reading {
    /// Ranked with the customer's previous message joined before it.
    pub context: bool,
    /// Entries a correction ruled out.
    pub ruled_out: Vec<crate::knowledge::FaqId>,
}

/// Handle one customer turn: signals → decision → effects.
pub fn turn(ctx: TurnContext<'_>, session: &mut Session, text: &str) -> Result<Turn, IndexError> {
    let own = signals::text_signals(ctx.engine, text, ctx.user.id.is_some());
    // Asked again: read alone, so the conversation does not make the answer that
    // did not help look surer.
    let repeated = repeated(session, text);
    let kb = ctx.engine.knowledge();
    let example = ctx.engine.is_scenario_example(text);
    if let Some(shortcut) = shortcut::without_model(&session.state, &own, kb, policy(&ctx), example) {
        let mut turn = turn_with(ctx, session, shortcut::signals(own));
        turn.shortcut = Some(shortcut);
        return Ok(turn);
    }
    let options = signals::SignalOptions {
        complaints: ctx.escalation.complaint,
        candidates: ctx.thresholds.clarify_candidates,
        user_known: ctx.user.id.is_some(),
    };
    let alone = signals::complete(ctx.engine, own, options)?;
    // "不是，我是问…": what the bot just gave is out of both readings.
    let ruled_out = context::ruled_out(&session.state, &alone.normalized);
    let alone = context::without(alone, &ruled_out);
    let answer = ctx.thresholds.answer;
    // A message the scenario intents route alone has a topic of its own.
    let best_faq = alone.faqs.first().map_or(0.0, |c| c.score);
    let routed = alone.intents.first().is_some_and(|i| i.score >= ctx.thresholds.intent && i.score >= best_faq);
    let mut with_context = false;
    // The message ranked with the customer's previous one joined before it.
    let joined = |previous: &str| -> Result<Signals, IndexError> {
        let options = signals::SignalOptions { complaints: false, ..options };
        Ok(context::without(signals::gather(ctx.engine, &format!("{previous} {text}"), options)?, &ruled_out))
    };
    let signals = match (previous_message(session), &session.state.problem) {
        (Some(previous), Some(session::Problem::Faq(current))) if alone.exact.is_empty() && !repeated && !routed => {
            let joined = joined(previous)?;
            with_context = true;
            context::in_context(alone, &joined, |id| context::relation(kb, current, id))
        }
        (Some(previous), Some(_)) if context::worth_trying(&alone, answer) => {
            let joined = joined(previous)?;
            if context::prefer_context(&alone, &joined, answer, None) {
                with_context = true;
                context::with_context(alone, joined)
            } else {
                alone
            }
        }
        _ => alone,
    };
    let mut turn = turn_with(ctx, session, signals);
    turn.reading = Reading { context: with_context, ruled_out };
    Ok(turn)
}

/// The customer's previous message in this session, if any.
fn previous_message(session: &Session) -> Option<&str> {
    session.transcript.iter().rev().find(|l| l.speaker == Speaker::Customer).map(|l| l.text.as_str())
}

/// Whether `text` says again what the customer's previous message said.
fn repeated(session: &Session, text: &str) -> bool {
    previous_message(session).is_some_and(|previous| context::repeats(previous, text))
}

/// Decide and carry out a turn from signals already gathered (by [`turn`], or
/// built by hand in tests).
pub fn turn_with(ctx: TurnContext<'_>, session: &mut Session, mut signals: Signals) -> Turn {
    signals.repeated = repeated(session, &signals.text);
    let policy = policy(&ctx);
    let text = signals.text.as_str();
    let kb = ctx.engine.knowledge();
    let mut outcome = decide::decide(&session.state, &signals, kb, policy);
    let mut looked_up = None;
    if let Decision::Lookup { scenario, slots, confidence } = &outcome.decision
        && let Some(s) = kb.scenario(scenario)
    {
        match lookup::run(s, slots, ctx.user, ctx.templates, ctx.backends) {
            Ok(text) => looked_up = Some(text),
            Err(reason) => {
                tracing::warn!(scenario = %s.id, "lookup failed: {reason}");
                outcome = decide::lookup_failed(&session.state, s, *confidence, policy);
            }
        }
    }
    session.turn += 1;
    session.record(Speaker::Customer, text, ctx.transcript);
    session.state = outcome.next;
    let reply_ctx = reply::ReplyContext {
        kb,
        templates: ctx.templates,
        messages: ctx.messages,
        user: ctx.user,
        channel: ctx.channel,
    };
    let reply = reply::build(reply_ctx, &outcome.decision, looked_up, &signals, session);
    if ctx.live_agents
        && session.state.with_agent
        && session.seat.is_none()
        && let Some(handoff) = &reply.handoff
    {
        session.seat = Some(Seat {
            queue: handoff.queue.clone(),
            reason: handoff.reason,
            summary: handoff.summary.clone(),
            queued_ms: ctx.now_ms,
            agent: None,
            claimed_ms: None,
            customer: ctx.user.id.clone(),
            tags: ctx.user.tags.clone(),
            channel: ctx.channel.map(str::to_owned),
            profile: ctx.user.profile.clone(),
        });
    }
    if !reply.text.is_empty() {
        session.record(Speaker::Bot, &reply.text, ctx.transcript);
    }
    let reply = Reply { owner: session.holder(), ..reply };
    Turn { reply, signals, decision: outcome.decision, shortcut: None, reading: Reading::default() }
}

/// The decision's policy from the turn's context.
fn policy<'a>(ctx: &TurnContext<'a>) -> Policy<'a> {
    Policy {
        thresholds: ctx.thresholds,
        escalation: ctx.escalation,
        agent_desk: ctx.agent_desk,
        agents_available: ctx.agents_available,
        greetings: &ctx.messages.greetings,
        thanks: &ctx.messages.thanks,
        cancel: &ctx.messages.cancel,
    }
}

/// The agent desk gives the conversation back to the bot: it answers again, with
/// a fresh problem and streak. Whether a person held it (or it waited for one).
pub fn release(session: &mut Session) -> bool {
    let held = session.state.with_agent;
    session.state = DialogueState::default();
    session.seat = None;
    held
}

/// Feedback on a turn; `false` when the turn does not exist. "Not helpful" on the
/// latest turn counts as one more unresolved turn.
pub fn feedback(session: &mut Session, turn: u64, helpful: bool) -> bool {
    if turn == 0 || turn > session.turn {
        return false;
    }
    if !helpful && turn == session.turn {
        session.state = decide::not_helpful(&session.state);
    }
    true
}
