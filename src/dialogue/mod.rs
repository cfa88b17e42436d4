//! The dialogue manager: one customer turn in, one decision out — answer, clarify,
//! hand off or fall back — using the engine's ranking, the session's state and the
//! escalation policy.
//!
//! No HTTP and no storage here: the session is passed in locked, the reply is a
//! plain value.

pub mod escalation;
mod scenario;
pub mod session;

use serde::{Deserialize, Serialize};

pub use escalation::{EscalationConfig, HandoffReason};
pub use session::{Pending, Session, SessionConfig, SessionStore, Speaker, TranscriptLine};

use crate::engine::{Engine, FaqMatch};
use crate::index::IndexError;
use crate::intent::MatchOutcome;
use crate::knowledge::{Action, FaqEntry};

/// Bot wording (`[messages]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesConfig {
    /// When nothing matches.
    pub fallback: String,
    /// Before the candidates when clarifying.
    pub clarify: String,
    /// Hand-off on a complaint.
    pub handoff_complaint: String,
    /// Hand-off on request.
    pub handoff_human: String,
    /// Hand-off after unresolved turns.
    pub handoff_unresolved: String,
    /// Queue when the problem has no category.
    pub default_queue: String,
    /// When a scenario needs a logged-in customer.
    pub login_required: String,
}

/// What the bot does with a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnAction {
    /// Answered from the knowledge.
    Answer,
    /// Offered candidates.
    Clarify,
    /// Asked for a missing detail.
    AskSlot,
    /// Handed to a person.
    Handoff,
    /// Could not help.
    Fallback,
}

impl TurnAction {
    /// Every action, for metrics.
    pub const ALL: [TurnAction; 5] = [Self::Answer, Self::Clarify, Self::AskSlot, Self::Handoff, Self::Fallback];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answer => "answer",
            Self::Clarify => "clarify",
            Self::AskSlot => "ask_slot",
            Self::Handoff => "handoff",
            Self::Fallback => "fallback",
        }
    }
}

/// The entry a turn matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchInfo {
    /// Entry id.
    pub id: String,
    /// Its standard question.
    pub question: String,
    /// Confidence in [0, 1].
    pub score: f32,
    /// Which text matched (a similar question, or the standard one).
    pub source: String,
}

/// An entry offered as a candidate or related question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// Entry id.
    pub id: String,
    /// Its standard question.
    pub question: String,
    /// Confidence, when it came from a ranking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// A knowledge answer suggested to the agent taking over.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuggestedAnswer {
    /// Entry id.
    pub id: String,
    /// Its standard question.
    pub question: String,
    /// Its answer.
    pub answer: String,
    /// Confidence.
    pub score: f32,
}

/// What a person taking over needs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Handoff {
    /// Why.
    pub reason: HandoffReason,
    /// Which queue (the problem's category).
    pub queue: String,
    /// A one-line summary for the agent.
    pub summary: String,
    /// The conversation so far.
    pub transcript: Vec<TranscriptLine>,
    /// Knowledge answers the agent may use.
    pub suggested_answers: Vec<SuggestedAnswer>,
}

/// The bot's reply to one turn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    /// Turn number in the session (1-based).
    pub turn: u64,
    /// The decision.
    pub action: TurnAction,
    /// What the customer sees.
    pub text: String,
    /// The entry answered or handed off for.
    pub matched: Option<MatchInfo>,
    /// Candidates when clarifying (or when unsure).
    pub candidates: Vec<Suggestion>,
    /// Related questions ("猜您可能还想了解").
    pub related: Vec<Suggestion>,
    /// Self-service actions.
    pub actions: Vec<Action>,
    /// Present when handed off.
    pub handoff: Option<Handoff>,
}

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

/// Everything a turn needs besides the session.
#[derive(Debug, Clone, Copy)]
pub struct TurnContext<'a> {
    /// Knowledge and indexes.
    pub engine: &'a Engine,
    /// Escalation rules.
    pub escalation: &'a EscalationConfig,
    /// Wording.
    pub messages: &'a MessagesConfig,
    /// Transcript lines kept.
    pub max_transcript: usize,
    /// The customer.
    pub user: &'a UserInfo,
    /// Back-ends for scenario lookups.
    pub backends: &'a crate::backend::Backends,
}

/// Related entries shown with an answer.
const RELATED: usize = 3;

/// Handle one customer turn.
pub fn reply(ctx: TurnContext<'_>, session: &mut Session, text: &str) -> Result<Reply, IndexError> {
    session.turn += 1;
    session.record(Speaker::Customer, text, ctx.max_transcript);
    let mut reply = decide_turn(ctx, session, text)?;
    reply.turn = session.turn;
    session.record(Speaker::Bot, &reply.text, ctx.max_transcript);
    if reply.action == TurnAction::Handoff {
        session.handed_off = true;
        session.unresolved = 0;
    }
    Ok(reply)
}

/// "Not helpful" feedback on the latest turn counts as unresolved.
pub fn feedback(session: &mut Session, turn: u64, helpful: bool) -> bool {
    if turn == 0 || turn > session.turn {
        return false;
    }
    if !helpful && turn == session.turn {
        session.unresolved += 1;
    }
    true
}

fn decide_turn(ctx: TurnContext<'_>, session: &mut Session, text: &str) -> Result<Reply, IndexError> {
    let engine = ctx.engine;
    let normalized = engine.retriever().analyzer().normalize(text);
    let pending = std::mem::take(&mut session.pending);
    // One embedding per turn, shared by complaint detection, retrieval and intent.
    let vector = engine.embed_query(text)?;
    let vector = vector.as_deref();
    let similarity = if ctx.escalation.complaint { engine.complaint_margin_with(text, vector)? } else { None };
    if let Some(reason) = escalation::detect(&normalized, similarity, ctx.escalation) {
        return handoff(ctx, session, reason, None, text);
    }
    if let Pending::Slot { scenario, filled } = &pending
        && let Some(s) = engine.knowledge().scenario(scenario)
    {
        // Continue the scenario unless the customer clearly moved on to a question
        // the knowledge answers (and gave no missing detail).
        let fills = s.slots.iter().any(|slot| {
            !filled.contains_key(&slot.name) && regex::Regex::new(&slot.pattern).is_ok_and(|re| re.is_match(text))
        });
        if fills || !matches!(engine.ask_with(text, vector, 1)?.1, MatchOutcome::Answer(_)) {
            return run_scenario(ctx, session, s, 1.0, text, filled.clone());
        }
    }
    if let Some(entry) = chosen(&normalized, &pending, engine) {
        // The customer picked a candidate: that is the problem, and it is answered.
        session.problem = Some(entry.id.clone());
        session.unresolved = 0;
        return Ok(answer(ctx, entry, 1.0, &entry.question, &[]));
    }
    let (matches, outcome) = engine.ask_with(text, vector, RELATED + 2)?;
    let best_faq = matches.first().map_or(0.0, |m| m.hit.score);
    if let Some(intent) = engine.predict_intent_with(text, vector)?.filter(|p| p.confidence >= best_faq)
        && let Some(s) = engine.knowledge().scenario(&intent.intent)
    {
        return run_scenario(ctx, session, s, intent.confidence, text, Default::default());
    }
    match outcome {
        MatchOutcome::Answer(hit) => {
            let m = engine.faq_match(hit);
            track_problem(session, &m.entry.id);
            if escalation::unresolved_limit_reached(session.unresolved, ctx.escalation) {
                return handoff(ctx, session, HandoffReason::Unresolved, Some(&matches), text);
            }
            if m.entry.handoff && ctx.escalation.flagged_entries {
                let mut r = handoff(ctx, session, HandoffReason::EntryFlagged, Some(&matches), text)?;
                r.text = render(&m.entry.answer, &ctx.user.profile);
                r.matched = Some(match_info(&m));
                return Ok(r);
            }
            let others: Vec<&FaqMatch<'_>> = matches.iter().filter(|o| o.entry.id != m.entry.id).collect();
            let mut r = answer(ctx, m.entry, m.hit.score, m.matched, &others);
            r.matched = Some(match_info(&m));
            Ok(r)
        }
        MatchOutcome::Clarify(hits) => {
            let candidates: Vec<FaqMatch<'_>> = hits.into_iter().map(|h| engine.faq_match(h)).collect();
            // Clarifying is an unresolved turn, on the top candidate's problem.
            if session.problem.as_deref() != Some(candidates[0].entry.id.as_str()) {
                session.problem = Some(candidates[0].entry.id.clone());
                session.unresolved = 0;
            }
            session.unresolved += 1;
            if escalation::unresolved_limit_reached(session.unresolved, ctx.escalation) {
                return handoff(ctx, session, HandoffReason::Unresolved, Some(&matches), text);
            }
            session.pending = Pending::Choice(candidates.iter().map(|c| c.entry.id.clone()).collect());
            let mut lines = vec![ctx.messages.clarify.clone()];
            lines.extend(candidates.iter().enumerate().map(|(i, c)| format!("{}. {}", i + 1, c.entry.question)));
            Ok(Reply {
                turn: session.turn,
                action: TurnAction::Clarify,
                text: lines.join("\n"),
                matched: None,
                candidates: candidates.iter().map(suggestion).collect(),
                related: Vec::new(),
                actions: Vec::new(),
                handoff: None,
            })
        }
        MatchOutcome::NoMatch => {
            session.unresolved += 1;
            if escalation::unresolved_limit_reached(session.unresolved, ctx.escalation) {
                return handoff(ctx, session, HandoffReason::Unresolved, Some(&matches), text);
            }
            Ok(Reply {
                turn: session.turn,
                action: TurnAction::Fallback,
                text: ctx.messages.fallback.clone(),
                matched: None,
                candidates: Vec::new(),
                related: Vec::new(),
                actions: Vec::new(),
                handoff: None,
            })
        }
    }
}

/// Run a scenario turn and apply the session rules to its outcome.
fn run_scenario(
    ctx: TurnContext<'_>,
    session: &mut Session,
    s: &crate::knowledge::Scenario,
    confidence: f32,
    text: &str,
    filled: std::collections::BTreeMap<String, String>,
) -> Result<Reply, IndexError> {
    let continuing = session.problem.as_deref() == Some(s.id.as_str());
    match scenario::run(ctx, session, s, confidence, text, filled) {
        scenario::ScenarioOutcome::Answered(reply) => {
            session.problem = Some(s.id.clone());
            session.unresolved = 0;
            Ok(reply)
        }
        scenario::ScenarioOutcome::AskedSlot { reply, progress } => {
            if !continuing {
                session.problem = Some(s.id.clone());
                session.unresolved = 0;
            } else if !progress {
                // Asked again for the same detail: the turn did not move the problem on.
                session.unresolved += 1;
                if escalation::unresolved_limit_reached(session.unresolved, ctx.escalation) {
                    session.pending = Pending::Nothing;
                    return handoff(ctx, session, HandoffReason::Unresolved, None, text);
                }
            }
            Ok(reply)
        }
        scenario::ScenarioOutcome::LoginRequired(reply) => Ok(reply),
        scenario::ScenarioOutcome::Failed { message, handoff: hand_off } => {
            if !continuing {
                session.problem = Some(s.id.clone());
                session.unresolved = 0;
            }
            if hand_off {
                let mut r = handoff(ctx, session, HandoffReason::LookupFailed, None, text)?;
                r.text = message;
                if let Some(h) = r.handoff.as_mut() {
                    h.queue.clone_from(&s.category);
                }
                return Ok(r);
            }
            session.unresolved += 1;
            if escalation::unresolved_limit_reached(session.unresolved, ctx.escalation) {
                return handoff(ctx, session, HandoffReason::Unresolved, None, text);
            }
            Ok(Reply {
                turn: session.turn,
                action: TurnAction::Fallback,
                text: message,
                matched: None,
                candidates: Vec::new(),
                related: Vec::new(),
                actions: Vec::new(),
                handoff: None,
            })
        }
    }
}

/// A new problem resets the streak; the same problem asked again counts as unresolved.
fn track_problem(session: &mut Session, id: &str) {
    if session.problem.as_deref() == Some(id) {
        session.unresolved += 1;
    } else {
        session.problem = Some(id.to_owned());
        session.unresolved = 0;
    }
}

/// The candidate the customer picked: its number (`2`, `第二个`) or its question.
fn chosen<'a>(normalized: &str, pending: &Pending, engine: &'a Engine) -> Option<&'a FaqEntry> {
    let Pending::Choice(ids) = pending else { return None };
    let analyzer = engine.retriever().analyzer();
    let picked = choice_number(normalized).and_then(|n| ids.get(n.checked_sub(1)?)).or_else(|| {
        ids.iter().find(|id| engine.knowledge().faq(id).is_some_and(|e| analyzer.normalize(&e.question) == normalized))
    })?;
    engine.knowledge().faq(picked)
}

fn choice_number(normalized: &str) -> Option<usize> {
    let t = normalized.trim_start_matches('第').trim_end_matches(['个', '条', '项']).trim();
    if let Ok(n) = t.parse::<usize>() {
        return Some(n);
    }
    ["一", "二", "三", "四", "五"].iter().position(|c| *c == t).map(|p| p + 1)
}

fn answer(ctx: TurnContext<'_>, entry: &FaqEntry, score: f32, source: &str, others: &[&FaqMatch<'_>]) -> Reply {
    let engine = ctx.engine;
    let mut related: Vec<Suggestion> = entry
        .related
        .iter()
        .filter_map(|id| engine.knowledge().faq(id))
        .map(|e| Suggestion { id: e.id.clone(), question: e.question.clone(), score: None })
        .collect();
    if related.is_empty() {
        related = others.iter().filter(|o| o.entry.category == entry.category).map(|o| suggestion(o)).collect();
    }
    related.truncate(RELATED);
    Reply {
        turn: 0,
        action: TurnAction::Answer,
        text: render(&entry.answer, &ctx.user.profile),
        matched: Some(MatchInfo {
            id: entry.id.clone(),
            question: entry.question.clone(),
            score,
            source: source.to_owned(),
        }),
        candidates: Vec::new(),
        related,
        actions: entry.actions.clone(),
        handoff: None,
    }
}

fn handoff(
    ctx: TurnContext<'_>,
    session: &Session,
    reason: HandoffReason,
    matches: Option<&[FaqMatch<'_>]>,
    text: &str,
) -> Result<Reply, IndexError> {
    let engine = ctx.engine;
    let owned;
    let matches = match matches {
        Some(m) => m,
        None => {
            owned = engine.search(text, 3, crate::index::Mode::Hybrid)?;
            &owned
        }
    };
    let queue = session
        .problem
        .as_deref()
        .and_then(|id| engine.knowledge().faq(id))
        .map_or_else(|| ctx.messages.default_queue.clone(), |e| e.category.clone());
    let message = match reason {
        HandoffReason::Complaint => &ctx.messages.handoff_complaint,
        HandoffReason::HumanRequested | HandoffReason::EntryFlagged => &ctx.messages.handoff_human,
        HandoffReason::Unresolved | HandoffReason::LookupFailed => &ctx.messages.handoff_unresolved,
    };
    let summary = format!("{}；第 {} 轮；客户最后说：{}", reason_label(reason), session.turn, text);
    Ok(Reply {
        turn: session.turn,
        action: TurnAction::Handoff,
        text: message.clone(),
        matched: None,
        candidates: Vec::new(),
        related: Vec::new(),
        actions: Vec::new(),
        handoff: Some(Handoff {
            reason,
            queue,
            summary,
            transcript: session.transcript.clone(),
            suggested_answers: matches
                .iter()
                .take(3)
                .map(|m| SuggestedAnswer {
                    id: m.entry.id.clone(),
                    question: m.entry.question.clone(),
                    answer: m.entry.answer.clone(),
                    score: m.hit.score,
                })
                .collect(),
        }),
    })
}

fn reason_label(reason: HandoffReason) -> &'static str {
    match reason {
        HandoffReason::Complaint => "客户投诉",
        HandoffReason::HumanRequested => "客户要求人工",
        HandoffReason::Unresolved => "多轮未解决",
        HandoffReason::EntryFlagged => "该问题需人工办理",
        HandoffReason::LookupFailed => "系统查询失败",
    }
}

fn suggestion(m: &FaqMatch<'_>) -> Suggestion {
    Suggestion { id: m.entry.id.clone(), question: m.entry.question.clone(), score: Some(m.hit.score) }
}

fn match_info(m: &FaqMatch<'_>) -> MatchInfo {
    MatchInfo {
        id: m.entry.id.clone(),
        question: m.entry.question.clone(),
        score: m.hit.score,
        source: m.matched.to_owned(),
    }
}

/// Fill `{{placeholders}}` from the customer profile; a template error leaves the
/// answer as written (a broken placeholder must not lose the answer).
fn render(answer: &str, profile: &serde_json::Value) -> String {
    if !answer.contains("{{") && !answer.contains("{%") {
        return answer.to_owned();
    }
    let env = minijinja::Environment::new();
    env.render_str(answer, profile).unwrap_or_else(|_| answer.to_owned())
}
