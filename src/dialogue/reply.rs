//! The reply: what the customer (and, on a hand-off, the agent) gets for a
//! decision. One builder turns every [`Decision`] into a [`Reply`].

use serde::{Deserialize, Serialize};

use super::UserInfo;
use super::decide::Decision;
use super::escalation::HandoffReason;
use super::pleasantry::Pleasantry;
use super::session::{Pending, Problem, Session, TranscriptLine};
use super::signals::{FaqCandidate, Signals};
use super::templates::Templates;
use crate::knowledge::{Action, FaqEntry, FaqId, KnowledgeBase};

/// Related entries shown with an answer.
const RELATED: usize = 3;

/// Suggested answers given to the agent on a hand-off.
const SUGGESTED: usize = 3;

/// Bot wording (`[messages]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesConfig {
    /// When nothing matches.
    pub fallback: String,
    /// Before the candidates (of a clarification, or beside a request to log in).
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
    /// Said while the conversation waits for a person (the message went to the
    /// agents); nothing is said once an agent holds it.
    pub with_agent: String,
    /// Said when a conversation waited longer than `desk.max_wait_secs`: it is
    /// back with the bot, which asks for a number to call back.
    pub agent_wait_over: String,
    /// Said when an agent closes the conversation and the bot answers again.
    pub agent_closed: String,
    /// A hand-off outside agent hours (`desk.hours`): asks for a number to call back.
    pub handoff_after_hours: String,
    /// The number was taken; `{phone}` is replaced by the masked number.
    pub callback_recorded: String,
    /// Greeting of `/v1/welcome`; a minijinja template over the profile.
    pub welcome: String,
    /// Most "您可能想问" suggestions `/v1/welcome` offers.
    pub welcome_suggestions: usize,
    /// Phrases a message that is only a greeting consists of ("你好", "在吗").
    pub greetings: Vec<String>,
    /// Phrases a message that is only thanks consists of ("谢谢", "好的").
    pub thanks: Vec<String>,
    /// The reply to a greeting alone (action `fallback`: nothing from the knowledge).
    pub greeting_reply: String,
    /// The reply to thanks alone (action `fallback`).
    pub thanks_reply: String,
    /// Phrases a message that calls off what the bot asked for consists of
    /// ("不查了", "算了"): it drops the pending detail or choice.
    pub cancel: Vec<String>,
    /// The reply to a message calling off what was pending (action `fallback`).
    pub cancel_reply: String,
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
    /// Forwarded to the agent who holds the conversation.
    WithAgent,
    /// A number to call back was taken (after a hand-off outside agent hours).
    Callback,
}

impl TurnAction {
    /// Every action, for metrics.
    pub const ALL: [TurnAction; 7] =
        [Self::Answer, Self::Clarify, Self::AskSlot, Self::Handoff, Self::Fallback, Self::WithAgent, Self::Callback];

    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Answer => "answer",
            Self::Clarify => "clarify",
            Self::AskSlot => "ask_slot",
            Self::Handoff => "handoff",
            Self::Fallback => "fallback",
            Self::WithAgent => "with_agent",
            Self::Callback => "callback",
        }
    }
}

/// The entry or scenario a turn matched.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MatchInfo {
    /// Entry or scenario id.
    pub id: String,
    /// Its standard question (a scenario's title).
    pub question: String,
    /// Confidence in [0, 1].
    pub score: f32,
    /// Which text matched (a similar question, the standard one, or `scenario`).
    pub source: String,
}

/// An entry offered as a candidate or related question.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    /// Entry id (or the id of a scenario a clarification offers).
    pub id: String,
    /// Its standard question (a scenario's title).
    pub question: String,
    /// Confidence, when it came from a ranking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
}

/// A knowledge answer suggested to the agent taking over.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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
    /// Candidates to pick from: a clarification's, or the entries offered beside a
    /// request to log in.
    pub candidates: Vec<Suggestion>,
    /// Related questions ("猜您可能还想了解").
    pub related: Vec<Suggestion>,
    /// Self-service actions.
    pub actions: Vec<Action>,
    /// Present when handed off.
    pub handoff: Option<Handoff>,
    /// Who holds the conversation after this turn (a hand-off a person takes
    /// leaves it `queued`).
    pub owner: super::Holder,
}

impl Reply {
    fn new(turn: u64, action: TurnAction, text: String) -> Self {
        Self {
            turn,
            action,
            text,
            matched: None,
            candidates: Vec::new(),
            related: Vec::new(),
            actions: Vec::new(),
            handoff: None,
            owner: super::Holder::Bot,
        }
    }
}

/// What the reply builder reads.
#[derive(Debug, Clone, Copy)]
pub(super) struct ReplyContext<'a> {
    pub(super) kb: &'a KnowledgeBase,
    pub(super) templates: &'a Templates,
    pub(super) messages: &'a MessagesConfig,
    pub(super) user: &'a UserInfo,
    pub(super) channel: Option<&'a str>,
}

impl ReplyContext<'_> {
    fn customer(&self) -> crate::knowledge::Customer<'_> {
        crate::knowledge::Customer { channel: self.channel, tags: &self.user.tags, profile: &self.user.profile }
    }
}

/// Build the reply to `decision`. `looked_up` is the rendered answer of a
/// successful [`Decision::Lookup`].
pub(super) fn build(
    ctx: ReplyContext<'_>,
    decision: &Decision,
    looked_up: Option<String>,
    signals: &Signals,
    session: &Session,
) -> Reply {
    let turn = session.turn;
    let kb = ctx.kb;
    match decision {
        Decision::Answer { faq, confidence, source } => match kb.faq(faq) {
            Some(entry) => answer(ctx, turn, entry, *confidence, source, &signals.faqs),
            None => Reply::new(turn, TurnAction::Fallback, ctx.messages.fallback.clone()),
        },
        Decision::Clarify { candidates, scenario } => {
            let offered = scenario.as_ref().and_then(|(id, score)| {
                kb.scenario(id).map(|s| Suggestion {
                    id: s.id.to_string(),
                    question: s.title.clone(),
                    score: Some(*score),
                })
            });
            let candidates: Vec<Suggestion> =
                candidates.iter().filter_map(|(id, score)| suggestion(kb, id, Some(*score))).chain(offered).collect();
            let text = offer_text(ctx, &candidates);
            Reply { candidates, ..Reply::new(turn, TurnAction::Clarify, text) }
        }
        Decision::Fallback => Reply::new(turn, TurnAction::Fallback, ctx.messages.fallback.clone()),
        Decision::Pleasantry(Pleasantry::Greeting) => {
            Reply::new(turn, TurnAction::Fallback, ctx.messages.greeting_reply.clone())
        }
        Decision::Pleasantry(Pleasantry::Thanks) => {
            Reply::new(turn, TurnAction::Fallback, ctx.messages.thanks_reply.clone())
        }
        Decision::Pleasantry(Pleasantry::Cancel) => {
            Reply::new(turn, TurnAction::Fallback, ctx.messages.cancel_reply.clone())
        }
        // While a person holds the conversation the person answers: the bot says
        // nothing. While it waits, the bot says the message was passed on.
        Decision::WithAgent => {
            let text = match session.holder() {
                super::Holder::Agent => String::new(),
                _ => ctx.messages.with_agent.clone(),
            };
            Reply::new(turn, TurnAction::WithAgent, text)
        }
        Decision::Callback { phone } => {
            let masked = crate::text::mask_pii(phone);
            let text = ctx.messages.callback_recorded.replace("{phone}", &masked);
            Reply::new(turn, TurnAction::Callback, text)
        }
        Decision::AskSlot { scenario, slot, confidence } => {
            let s = kb.scenario(scenario);
            let prompt = s.and_then(|s| s.slots.iter().find(|x| x.name == *slot)).map(|x| x.prompt.clone());
            let reply = Reply::new(turn, TurnAction::AskSlot, prompt.unwrap_or_default());
            Reply { matched: s.map(|s| scenario_match(s, *confidence)), ..reply }
        }
        Decision::Lookup { scenario, confidence, .. } => {
            let s = kb.scenario(scenario);
            let reply = Reply::new(turn, TurnAction::Answer, looked_up.unwrap_or_default());
            Reply {
                matched: s.map(|s| scenario_match(s, *confidence)),
                actions: s.map(|s| s.actions.clone()).unwrap_or_default(),
                ..reply
            }
        }
        Decision::LoginRequired { scenario, confidence, candidates } => {
            // The entries near enough are offered as a clarification's candidates.
            let candidates: Vec<Suggestion> =
                candidates.iter().filter_map(|(id, score)| suggestion(kb, id, Some(*score))).collect();
            let mut text = ctx.messages.login_required.clone();
            if !candidates.is_empty() {
                text = format!("{text}\n{}", offer_text(ctx, &candidates));
            }
            let reply = Reply::new(turn, TurnAction::Fallback, text);
            Reply { matched: kb.scenario(scenario).map(|s| scenario_match(s, *confidence)), candidates, ..reply }
        }
        Decision::LookupFailed { scenario, confidence } => {
            let s = kb.scenario(scenario);
            let message = s.map(|s| s.on_failure.message.clone()).unwrap_or_else(|| ctx.messages.fallback.clone());
            Reply {
                matched: s.map(|s| scenario_match(s, *confidence)),
                ..Reply::new(turn, TurnAction::Fallback, message)
            }
        }
        Decision::Handoff { reason, problem, shown } => {
            let mut reply = handoff(ctx, *reason, problem.as_ref(), shown, signals, session);
            if session.state.pending == Pending::Callback {
                reply.text = ctx.messages.handoff_after_hours.clone();
            }
            reply
        }
    }
}

/// `messages.clarify`, then the candidates numbered as the customer picks them.
fn offer_text(ctx: ReplyContext<'_>, candidates: &[Suggestion]) -> String {
    let mut lines = vec![ctx.messages.clarify.clone()];
    lines.extend(candidates.iter().enumerate().map(|(i, c)| format!("{}. {}", i + 1, c.question)));
    lines.join("\n")
}

fn answer(
    ctx: ReplyContext<'_>,
    turn: u64,
    entry: &FaqEntry,
    score: f32,
    source: &str,
    ranked: &[FaqCandidate],
) -> Reply {
    let kb = ctx.kb;
    let mut related: Vec<Suggestion> = entry.related.iter().filter_map(|id| suggestion(kb, id, None)).collect();
    if related.is_empty() {
        // Other candidates of this turn in the same category.
        related = ranked
            .iter()
            .filter(|c| c.id != entry.id && kb.faq(&c.id).is_some_and(|e| e.category == entry.category))
            .filter_map(|c| suggestion(kb, &c.id, Some(c.score)))
            .collect();
    }
    related.truncate(RELATED);
    let text = ctx.templates.faq_answer(entry, ctx.customer());
    Reply {
        matched: Some(faq_match(entry, score, source)),
        related,
        actions: entry.actions.clone(),
        ..Reply::new(turn, TurnAction::Answer, text)
    }
}

fn handoff(
    ctx: ReplyContext<'_>,
    reason: HandoffReason,
    problem: Option<&Problem>,
    shown: &Option<(FaqId, f32, String)>,
    signals: &Signals,
    session: &Session,
) -> Reply {
    let kb = ctx.kb;
    let category = match problem {
        Some(Problem::Faq(id)) => kb.faq(id).map(|e| e.category.as_str()),
        Some(Problem::Scenario(id)) => kb.scenario(id).map(|s| s.category.as_str()),
        None => None,
    };
    let queue = category.filter(|c| !c.is_empty()).unwrap_or(&ctx.messages.default_queue).to_owned();
    let scenario_message = match problem {
        Some(Problem::Scenario(id)) if reason == HandoffReason::LookupFailed => {
            kb.scenario(id).map(|s| s.on_failure.message.clone())
        }
        _ => None,
    };
    let shown_entry = shown.as_ref().and_then(|(id, score, source)| Some((kb.faq(id)?, *score, source)));
    let text = match (&shown_entry, scenario_message) {
        (Some((entry, ..)), _) => ctx.templates.faq_answer(entry, ctx.customer()),
        (None, Some(message)) => message,
        (None, None) => match reason {
            HandoffReason::Complaint => ctx.messages.handoff_complaint.clone(),
            HandoffReason::HumanRequested | HandoffReason::EntryFlagged => ctx.messages.handoff_human.clone(),
            HandoffReason::Unresolved | HandoffReason::LookupFailed => ctx.messages.handoff_unresolved.clone(),
        },
    };
    let suggested_answers = signals
        .faqs
        .iter()
        .take(SUGGESTED)
        .filter_map(|c| {
            let e = kb.faq(&c.id)?;
            Some(SuggestedAnswer {
                id: e.id.to_string(),
                question: e.question.clone(),
                answer: e.answer.clone(),
                score: c.score,
            })
        })
        .collect();
    let summary = format!("{}；第 {} 轮；客户最后说：{}", reason_label(reason), session.turn, signals.text);
    Reply {
        matched: shown_entry.map(|(entry, score, source)| faq_match(entry, score, source)),
        handoff: Some(Handoff { reason, queue, summary, transcript: session.transcript.clone(), suggested_answers }),
        ..Reply::new(session.turn, TurnAction::Handoff, text)
    }
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

fn suggestion(kb: &KnowledgeBase, id: &FaqId, score: Option<f32>) -> Option<Suggestion> {
    kb.faq(id).map(|e| Suggestion { id: e.id.to_string(), question: e.question.clone(), score })
}

fn faq_match(entry: &FaqEntry, score: f32, source: &str) -> MatchInfo {
    MatchInfo { id: entry.id.to_string(), question: entry.question.clone(), score, source: source.to_owned() }
}

fn scenario_match(s: &crate::knowledge::Scenario, confidence: f32) -> MatchInfo {
    MatchInfo { id: s.id.to_string(), question: s.title.clone(), score: confidence, source: "scenario".into() }
}
