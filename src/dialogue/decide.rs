//! The decision: a pure function of (session state, signals, knowledge, policy) →
//! (decision, next state). No model, no index, no back-end, no clock.
//!
//! Each rule of a turn is one function here, tried in this order by [`decide`]:
//! [`escalation_request`], [`continue_pending_slot`], [`pending_choice`],
//! [`scenario_intent`], then [`faq_outcome`] with [`answer_entry`] (flagged
//! entries, the same question again) and [`offered_scenario`] (a scenario offered
//! in a clarification). Every path ends in `settle`, the only place
//! that applies the unresolved streak and hands off when it reaches the limit.

use std::collections::BTreeMap;

use super::escalation::{self, EscalationConfig, HandoffReason, Progress};
use super::pleasantry::{self, Pleasantry};
use super::session::{DialogueState, Pending, Problem};
use super::signals::{FaqCandidate, Signals};
use crate::intent::ThresholdConfig;
use crate::knowledge::{FaqId, KnowledgeBase, Scenario, ScenarioId};

/// The rules in force for a turn.
#[derive(Debug, Clone, Copy)]
pub struct Policy<'a> {
    /// Answer, clarify and intent thresholds.
    pub thresholds: &'a ThresholdConfig,
    /// Escalation rules.
    pub escalation: &'a EscalationConfig,
    /// An agent desk is connected: a hand-off leaves the conversation with it.
    pub agent_desk: bool,
    /// Agents are working now (`desk.hours`); outside, a hand-off asks for a
    /// number to call back instead.
    pub agents_available: bool,
    /// Phrases a greeting alone consists of (`messages.greetings`).
    pub greetings: &'a [String],
    /// Phrases a thank-you alone consists of (`messages.thanks`).
    pub thanks: &'a [String],
    /// Phrases that call off a pending detail or choice (`messages.cancel`).
    pub cancel: &'a [String],
}

/// What the bot does with a turn.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Answer with an FAQ entry.
    Answer {
        /// The entry.
        faq: FaqId,
        /// Confidence (1 when the customer picked it).
        confidence: f32,
        /// The text that matched.
        source: String,
    },
    /// Offer candidates ("您是不是想问").
    Clarify {
        /// Entries with their confidence, best first.
        candidates: Vec<(FaqId, f32)>,
        /// A scenario offered after them, with its intent confidence.
        scenario: Option<(ScenarioId, f32)>,
    },
    /// Nothing close enough.
    Fallback,
    /// Only a greeting or a thank-you: a short reply, the streak and any pending
    /// choice left as they are.
    Pleasantry(Pleasantry),
    /// A scenario needs a detail: ask for it.
    AskSlot {
        /// The scenario.
        scenario: ScenarioId,
        /// The slot asked for.
        slot: String,
        /// Intent confidence.
        confidence: f32,
    },
    /// A scenario has every detail: look it up and answer from the template.
    Lookup {
        /// The scenario.
        scenario: ScenarioId,
        /// Slot values.
        slots: BTreeMap<String, String>,
        /// Intent confidence.
        confidence: f32,
    },
    /// A scenario needs a logged-in customer and the request names none.
    LoginRequired {
        /// The scenario.
        scenario: ScenarioId,
        /// Intent confidence.
        confidence: f32,
        /// FAQ entries of the turn at least `thresholds.clarify_others` sure, best
        /// first, with their confidence, offered to pick from like a
        /// clarification's candidates (by number or text; the first need not reach
        /// `thresholds.clarify`, since the request to log in is the reply): an
        /// anonymous customer is not left with a request to log in alone
        /// ("彩铃每月扣钱 怎么取消" → 怎么退订增值业务). Empty when the scenario was
        /// picked or continued rather than predicted from this text.
        candidates: Vec<(FaqId, f32)>,
    },
    /// A scenario's look-up failed and its `on_failure` does not hand off.
    LookupFailed {
        /// The scenario.
        scenario: ScenarioId,
        /// Intent confidence.
        confidence: f32,
    },
    /// An agent holds the conversation: forward the message, do not answer.
    WithAgent,
    /// After a hand-off outside agent hours the customer left a number: the desk
    /// calls back.
    Callback {
        /// The mobile number, 11 digits.
        phone: String,
    },
    /// Hand off to a person.
    Handoff {
        /// Why.
        reason: HandoffReason,
        /// The problem handed off (its category is the queue).
        problem: Option<Problem>,
        /// A flagged entry's answer is still shown.
        shown: Option<(FaqId, f32, String)>,
    },
}

/// A decision and the session state after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// What to do.
    pub decision: Decision,
    /// The state the session keeps.
    pub next: DialogueState,
}

/// Decide one turn. While an agent holds the conversation the turn goes to the
/// agent; a hand-off with an agent desk connected leaves the conversation with
/// the agent.
pub fn decide(state: &DialogueState, signals: &Signals, kb: &KnowledgeBase, policy: Policy<'_>) -> Outcome {
    if state.with_agent {
        return Outcome { decision: Decision::WithAgent, next: state.clone() };
    }
    if state.pending == Pending::Callback
        && let Some(phone) = crate::text::find_mobile(&signals.text)
    {
        let next = DialogueState { pending: Pending::Nothing, unresolved: 0, ..state.clone() };
        return Outcome { decision: Decision::Callback { phone }, next };
    }
    let mut outcome = decide_for_bot(state, signals, kb, policy);
    if policy.agent_desk && matches!(outcome.decision, Decision::Handoff { .. }) {
        if policy.agents_available {
            outcome.next.with_agent = true;
        } else {
            outcome.next.pending = Pending::Callback;
        }
    }
    outcome
}

fn decide_for_bot(state: &DialogueState, signals: &Signals, kb: &KnowledgeBase, policy: Policy<'_>) -> Outcome {
    if let Some(reason) = escalation_request(signals, policy) {
        return handoff(reason, state.problem.clone());
    }
    if calling_off_applies(state)
        && pleasantry::classify(&signals.normalized, policy.greetings, policy.thanks, policy.cancel)
            == Some(Pleasantry::Cancel)
    {
        // The customer called off what the bot waited for or worked on: not stuck,
        // nothing pending.
        let next = DialogueState { pending: Pending::Nothing, unresolved: 0, lost: false, ..state.clone() };
        return Outcome { decision: Decision::Pleasantry(Pleasantry::Cancel), next };
    }
    if let Some((scenario, filled)) = continue_pending_slot(state, signals, kb, policy) {
        return scenario_turn(state, scenario, filled, Route::Chosen, signals, policy);
    }
    // Picking a candidate resolves the clarification: progress, even when the pick
    // is the candidate the clarification was provisionally about.
    match pending_choice(state, signals, kb) {
        Some(Picked::Faq(entry)) => {
            let source = kb.faq(&entry).map_or_else(String::new, |e| e.question.clone());
            let picked = DialogueState { problem: None, ..state.clone() };
            return answer_entry(&picked, kb, (entry, 1.0, source), false, policy);
        }
        Some(Picked::Scenario(scenario)) => {
            let picked = DialogueState { problem: None, ..state.clone() };
            return scenario_turn(&picked, scenario, BTreeMap::new(), Route::Chosen, signals, policy);
        }
        None => {}
    }
    if let Some(kind) = pleasantry::classify(&signals.normalized, policy.greetings, policy.thanks, &[]) {
        return Outcome { decision: Decision::Pleasantry(kind), next: state.clone() };
    }
    // A text naming another business is most likely a question for it: never
    // answered or routed, at most clarified.
    let foreign = signals.other_business.is_some();
    if !foreign && let Some((scenario, confidence)) = scenario_intent(signals, kb, policy) {
        let route = Route::Predicted { confidence, faqs: &signals.faqs };
        return scenario_turn(state, scenario, BTreeMap::new(), route, signals, policy);
    }
    let offered = offered_scenario(signals, kb, policy);
    let candidates = match faq_outcome(&signals.faqs, &signals.normalized, policy.thresholds) {
        FaqOutcome::Answer(best) if !foreign => return answer_best(state, kb, best, signals.repeated, policy),
        FaqOutcome::Answer(_) => clarify_candidates(&signals.faqs, policy.thresholds),
        FaqOutcome::Clarify(candidates)
            if !foreign && !signals.repeated && confirmed(state, &candidates, policy.thresholds) =>
        {
            return answer_best(state, kb, candidates[0], signals.repeated, policy);
        }
        FaqOutcome::Clarify(candidates) => candidates,
        // A follow-up the bot does not understand: the problem's own and related
        // entries are offered rather than a blind fallback.
        FaqOutcome::NoMatch if !signals.offers.is_empty() => {
            signals.offers.iter().take(policy.thresholds.clarify_candidates.max(1)).collect()
        }
        FaqOutcome::NoMatch => {
            // A choice offered before is no longer on screen: a later "3" picks nothing.
            let next = DialogueState { pending: Pending::Nothing, lost: true, ..state.clone() };
            return settle(next, state.problem.clone(), Progress::Stuck, Decision::Fallback, policy);
        }
    };
    let faqs: Vec<FaqId> = candidates.iter().map(|c| c.id.clone()).collect();
    let problem = Problem::Faq(faqs[0].clone());
    let decision = Decision::Clarify {
        candidates: candidates.iter().map(|c| (c.id.clone(), c.score)).collect(),
        scenario: offered.map(|(s, c)| (s.id.clone(), c)),
    };
    // The streak counts turns on one problem: a clarification about none of the
    // entries the conversation was on (its problem, the choices on screen) is the
    // customer's next question, and its count starts afresh.
    let unresolved = if moved_on(state, &faqs) { 0 } else { state.unresolved };
    let pending = Pending::Choice { faqs, scenario: offered.map(|(s, _)| s.id.clone()) };
    let next = DialogueState { pending, unresolved, lost: state.lost && unresolved > 0, ..state.clone() };
    settle(next, Some(problem), Progress::Stuck, decision, policy)
}

/// Answer the ranked candidate `best`.
fn answer_best(
    state: &DialogueState,
    kb: &KnowledgeBase,
    best: &FaqCandidate,
    repeated: bool,
    policy: Policy<'_>,
) -> Outcome {
    answer_entry(state, kb, (best.id.clone(), best.score, best.matched.clone()), repeated, policy)
}

/// Rule 5b: the customer wrote past a clarification (picked none of it, and did
/// not just say the same again), and the new message's best entry is that clarification's first choice again, at
/// `thresholds.answer_confirmed` (capped by `answer`) and clear of the runner-up by
/// the ambiguity margin: two readings in a row agree, so it is answered rather than
/// offered a second time ("网上能办不" after "这个号不打算用了 怎么弄掉" offered closing
/// the account first).
fn confirmed(state: &DialogueState, candidates: &[&FaqCandidate], thresholds: &ThresholdConfig) -> bool {
    let Pending::Choice { faqs, .. } = &state.pending else { return false };
    let Some(best) = candidates.first() else { return false };
    let runner_up = candidates.get(1).map_or(0.0, |c| c.score);
    faqs.first() == Some(&best.id)
        && best.score >= thresholds.answer_confirmed.min(thresholds.answer)
        && best.score - runner_up > thresholds.ambiguity_margin
}

/// Whether a message of only calling-off phrases ("算了 不查了") calls something off:
/// the bot waits for a detail or a choice, or works on a problem (a look-up that
/// just failed). With neither, such a message is read as any other ("取消" alone
/// may be a question).
pub fn calling_off_applies(state: &DialogueState) -> bool {
    state.pending != Pending::Nothing || state.problem.is_some()
}

/// Whether clarification candidates `faqs` leave the problem the conversation is
/// on: there is one, neither its entry nor a choice on screen is among them, and
/// no turn of the streak understood nothing (a customer the bot lost, who then
/// gets guesses about other entries, is still stuck).
fn moved_on(state: &DialogueState, faqs: &[FaqId]) -> bool {
    let on_screen: &[FaqId] = match &state.pending {
        Pending::Choice { faqs: shown, .. } => shown,
        Pending::Nothing | Pending::Slot { .. } | Pending::Callback => &[],
    };
    let current = match &state.problem {
        Some(Problem::Faq(id)) => Some(id),
        Some(Problem::Scenario(_)) | None => None,
    };
    state.problem.is_some() && !state.lost && !faqs.iter().any(|f| Some(f) == current || on_screen.contains(f))
}

/// A scenario's look-up failed: apply its `on_failure` to the state before the turn.
pub fn lookup_failed(before: &DialogueState, scenario: &Scenario, confidence: f32, policy: Policy<'_>) -> Outcome {
    let problem = Some(Problem::Scenario(scenario.id.clone()));
    if scenario.on_failure.handoff {
        return handoff(HandoffReason::LookupFailed, problem);
    }
    let next = DialogueState { pending: Pending::Nothing, ..before.clone() };
    settle(next, problem, Progress::Stuck, Decision::LookupFailed { scenario: scenario.id.clone(), confidence }, policy)
}

/// Rule 1: the text itself asks for a person, or complains.
pub fn escalation_request(signals: &Signals, policy: Policy<'_>) -> Option<HandoffReason> {
    escalation::detect(&signals.normalized, signals.complaint_score, policy.escalation)
}

/// Rule 2: a scenario asked for a detail; it goes on when this text fills a missing
/// slot, or is not a question the knowledge answers outright. A short text (up to
/// [`REPLY_CHARS`]: "不记得了", "找不到") is the customer's reply to the bot's
/// question, not a new one, unless it is exactly one of the knowledge's questions.
/// Returns the scenario and the slots filled so far.
pub fn continue_pending_slot<'k>(
    state: &DialogueState,
    signals: &Signals,
    kb: &'k KnowledgeBase,
    policy: Policy<'_>,
) -> Option<(&'k Scenario, BTreeMap<String, String>)> {
    let Pending::Slot { scenario, filled } = &state.pending else { return None };
    let s = kb.scenario(scenario)?;
    let fills = signals
        .slots
        .iter()
        .any(|v| v.scenario == s.id && !filled.contains_key(&v.slot) && s.slots.iter().any(|slot| slot.name == v.slot));
    let short = signals.normalized.chars().filter(|c| !c.is_whitespace()).count() <= REPLY_CHARS;
    let answered = matches!(
        faq_outcome(&signals.faqs, &signals.normalized, policy.thresholds),
        FaqOutcome::Answer(best) if !short || best.score >= 1.0
    );
    (fills || !answered).then(|| (s, filled.clone()))
}

/// What the customer picked from a clarification (or from the entries offered
/// beside a request to log in).
#[derive(Debug, Clone, PartialEq)]
pub enum Picked<'k> {
    /// An entry.
    Faq(FaqId),
    /// The scenario offered.
    Scenario(&'k Scenario),
}

/// Rule 3: after a clarification (or a request to log in that offered entries), the
/// choice the customer picked by number (`2`,
/// `第二个`; the scenario offered is the last) or by its text (an entry's question,
/// the scenario's title).
pub fn pending_choice<'k>(state: &DialogueState, signals: &Signals, kb: &'k KnowledgeBase) -> Option<Picked<'k>> {
    let Pending::Choice { faqs, scenario } = &state.pending else { return None };
    let scenario = scenario.as_ref().and_then(|id| kb.scenario(id));
    if let Some(i) = choice_index(&signals.normalized, faqs.len() + usize::from(scenario.is_some())) {
        return match faqs.get(i) {
            Some(id) => Some(Picked::Faq(id.clone())),
            None => scenario.filter(|_| i == faqs.len()).map(Picked::Scenario),
        };
    }
    if let Some(id) = faqs.iter().find(|id| signals.exact.contains(id)) {
        return Some(Picked::Faq(id.clone()));
    }
    // The title as typed or sent back by a button, punctuation and spaces aside.
    let squeeze = |t: &str| t.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let said = [squeeze(&signals.text), squeeze(&signals.normalized)];
    scenario.filter(|s| said.contains(&squeeze(&s.title))).map(Picked::Scenario)
}

/// A choice by position among `count` choices, 0-based: `2`, `第2个`, `二`,
/// `第二条`, `选2吧`, `就第一个`, `最后那个`; `None` beyond them.
pub fn choice_index(normalized: &str, count: usize) -> Option<usize> {
    let t = normalized
        .trim_matches(|c: char| !c.is_alphanumeric())
        .trim_start_matches(['选', '就', '要', '是'])
        .trim_end_matches(['吧', '呢', '啊', '哈', '的', '吗'])
        .trim();
    if ["最后", "最后一个", "最后那个", "最后一条", "最后这个", "最下面", "最下面那个"].contains(&t)
    {
        return count.checked_sub(1);
    }
    let t = t.trim_start_matches('第').trim_end_matches(['个', '条', '项']).trim_end_matches(['那', '这']).trim();
    let n = match t.parse::<usize>() {
        Ok(n) => n,
        Err(_) => ["一", "二", "三", "四", "五"].iter().position(|c| *c == t)? + 1,
    };
    // A number beyond the choices is no pick ("452120231108" is an order number).
    n.checked_sub(1).filter(|&i| i < count)
}

/// Rule 4: the best scenario intent, when it is at least `thresholds.intent` and at
/// least as sure as the best FAQ entry — or whenever the text gives one of the best
/// scenario's details (its slot pattern matched: an order number).
pub fn scenario_intent<'k>(
    signals: &Signals,
    kb: &'k KnowledgeBase,
    policy: Policy<'_>,
) -> Option<(&'k Scenario, f32)> {
    let best = signals.intents.first()?;
    let best_faq = signals.faqs.first().map_or(0.0, |f| f.score);
    // A detail only this scenario asks for (an order number) is evidence of its own.
    let gives_detail = signals.slots.iter().any(|v| v.scenario == best.id);
    let sure = (best.score >= policy.thresholds.intent && best.score >= best_faq) || gives_detail;
    kb.scenario(&best.id).filter(|_| sure).map(|s| (s, best.score))
}

/// Rule 4b: a scenario intent not sure enough to route to, but at least
/// `thresholds.clarify`, is offered after the entries of a clarification (never on
/// its own: a text that matches no entry and only half a scenario is more often
/// about something else).
pub fn offered_scenario<'k>(
    signals: &Signals,
    kb: &'k KnowledgeBase,
    policy: Policy<'_>,
) -> Option<(&'k Scenario, f32)> {
    let best = signals.intents.first().filter(|i| i.score >= policy.thresholds.clarify)?;
    kb.scenario(&best.id).map(|s| (s, best.score))
}

/// What a ranking of FAQ entries means on its own.
#[derive(Debug, Clone, PartialEq)]
pub enum FaqOutcome<'a> {
    /// Confident: answer with this entry.
    Answer(&'a FaqCandidate),
    /// Unsure: offer these (never empty).
    Clarify(Vec<&'a FaqCandidate>),
    /// Nothing close enough.
    NoMatch,
}

/// While a scenario waits for a detail, a text of at most this many characters is
/// the customer's reply.
pub const REPLY_CHARS: usize = 5;

/// A text of at most this many characters is a bare keyword ("宽带", "流量包").
const KEYWORD_CHARS: usize = 3;

/// Rule 5: answer when the best entry is at least `thresholds.answer` and clear of
/// the runner-up by more than `ambiguity_margin`, or at least
/// `thresholds.answer_alone` (capped by `answer`) with no rival at `clarify_others` (a clarification
/// would offer it alone: "did you mean X?" costs the customer a turn for the
/// answer they would pick anyway); clarify when it is at least
/// `thresholds.clarify`, offering it and the next candidates at or above
/// `thresholds.clarify_others`; else no match. A bare keyword that the runner-up
/// contains as fully as the best entry names a topic, not a question: it is a tie
/// unless it is one of the best entry's questions (ambiguity margin on).
pub fn faq_outcome<'a>(ranked: &'a [FaqCandidate], normalized: &str, thresholds: &ThresholdConfig) -> FaqOutcome<'a> {
    let Some(best) = ranked.first() else { return FaqOutcome::NoMatch };
    let runner_up = ranked.get(1).map_or(0.0, |c| c.score);
    let keyword = normalized.chars().filter(|c| !c.is_whitespace()).count() <= KEYWORD_CHARS;
    let shared_keyword = keyword && best.score < 1.0 && ranked.get(1).is_some_and(|r| r.lexical >= best.lexical);
    let clear =
        thresholds.ambiguity_margin <= 0.0 || (best.score - runner_up > thresholds.ambiguity_margin && !shared_keyword);
    let others = thresholds.clarify_others.min(thresholds.clarify);
    let alone = ranked.iter().skip(1).all(|c| c.score < others);
    let sure =
        best.score >= thresholds.answer || (alone && best.score >= thresholds.answer_alone.min(thresholds.answer));
    if sure && clear {
        return FaqOutcome::Answer(best);
    }
    if best.score >= thresholds.clarify {
        return FaqOutcome::Clarify(clarify_candidates(ranked, thresholds));
    }
    FaqOutcome::NoMatch
}

/// The FAQ entries offered with a request to log in: those at or above
/// `clarify_others`, as a clarification's after its first ([`near_enough`]).
fn login_candidates(ranked: &[FaqCandidate], thresholds: &ThresholdConfig) -> Vec<(FaqId, f32)> {
    near_enough(ranked, thresholds, false).into_iter().map(|c| (c.id.clone(), c.score)).collect()
}

/// The candidates a clarification offers: the best, then the others
/// ([`near_enough`]).
fn clarify_candidates<'a>(ranked: &'a [FaqCandidate], thresholds: &ThresholdConfig) -> Vec<&'a FaqCandidate> {
    near_enough(ranked, thresholds, true)
}

/// The candidates at or above `clarify_others` (capped by `clarify`), the best one
/// too when `with_best`, at most `clarify_candidates`.
fn near_enough<'a>(ranked: &'a [FaqCandidate], thresholds: &ThresholdConfig, with_best: bool) -> Vec<&'a FaqCandidate> {
    let others = thresholds.clarify_others.min(thresholds.clarify);
    let take = thresholds.clarify_candidates.max(1);
    ranked
        .iter()
        .enumerate()
        .filter(|(i, c)| (with_best && *i == 0) || c.score >= others)
        .map(|(_, c)| c)
        .take(take)
        .collect()
}

/// Rule 6: answering an entry. The same entry again for a message that `repeated`
/// the previous one means the last answer did not help (stuck); a flagged entry
/// goes to a person with its answer shown.
pub fn answer_entry(
    state: &DialogueState,
    kb: &KnowledgeBase,
    (faq, confidence, source): (FaqId, f32, String),
    repeated: bool,
    policy: Policy<'_>,
) -> Outcome {
    let problem = Problem::Faq(faq.clone());
    // The same entry again is no progress when the customer asked the same again;
    // a follow-up it answers ("要带什么" after the SIM answer) is.
    let progress = if repeated && state.problem.as_ref() == Some(&problem) { Progress::Stuck } else { Progress::Moved };
    let next = DialogueState { pending: Pending::Nothing, ..state.clone() };
    let flagged = policy.escalation.flagged_entries && kb.faq(&faq).is_some_and(|e| e.handoff);
    let decision = if flagged {
        Decision::Handoff {
            reason: HandoffReason::EntryFlagged,
            problem: Some(problem.clone()),
            shown: Some((faq, confidence, source)),
        }
    } else {
        Decision::Answer { faq, confidence, source }
    };
    settle(next, Some(problem), progress, decision, policy)
}

/// How a turn came to a scenario.
#[derive(Debug, Clone, Copy)]
enum Route<'a> {
    /// Predicted from this text with `confidence`; a request to log in may offer
    /// the text's FAQ entries `faqs`.
    Predicted { confidence: f32, faqs: &'a [FaqCandidate] },
    /// Picked from a clarification, or continued with a detail: certain, and
    /// nothing of this text to offer ("3" ranks no entry worth offering).
    Chosen,
}

/// A scenario turn: fill slots from the signals, then ask for the first missing
/// one, or look up (the look-up itself is an effect; see [`lookup_failed`]).
fn scenario_turn(
    state: &DialogueState,
    scenario: &Scenario,
    mut filled: BTreeMap<String, String>,
    route: Route<'_>,
    signals: &Signals,
    policy: Policy<'_>,
) -> Outcome {
    let (confidence, offers) = match route {
        Route::Predicted { confidence, faqs } => (confidence, faqs),
        Route::Chosen => (1.0, &[][..]),
    };
    let id = scenario.id.clone();
    let problem = Problem::Scenario(id.clone());
    let continuing = state.problem.as_ref() == Some(&problem);
    let next = DialogueState { pending: Pending::Nothing, ..state.clone() };
    if scenario.requires_user && !signals.user_known {
        let candidates = login_candidates(offers, policy.thresholds);
        // The entries are offered like a clarification's: "1" picks the first.
        let next = if candidates.is_empty() {
            next
        } else {
            let faqs = candidates.iter().map(|(id, _)| id.clone()).collect();
            DialogueState { pending: Pending::Choice { faqs, scenario: None }, ..next }
        };
        let decision = Decision::LoginRequired { scenario: id, confidence, candidates };
        return settle(next, Some(problem), Progress::Stuck, decision, policy);
    }
    let before = filled.len();
    for v in signals.slots.iter().filter(|v| v.scenario == id) {
        filled.entry(v.slot.clone()).or_insert_with(|| v.value.clone());
    }
    match scenario.slots.iter().find(|slot| !filled.contains_key(&slot.name)) {
        Some(slot) => {
            // Asking again for a detail the customer did not give is no progress.
            let progress = if continuing && filled.len() == before { Progress::Stuck } else { Progress::Moved };
            let decision = Decision::AskSlot { scenario: id.clone(), slot: slot.name.clone(), confidence };
            let next = DialogueState { pending: Pending::Slot { scenario: id, filled }, ..next };
            settle(next, Some(problem), progress, decision, policy)
        }
        None => {
            let decision = Decision::Lookup { scenario: id, slots: filled, confidence };
            settle(next, Some(problem), Progress::Moved, decision, policy)
        }
    }
}

/// Apply the unresolved streak to a decision: the one place where "one more stuck
/// turn → limit reached → hand off" happens.
fn settle(
    next: DialogueState,
    problem: Option<Problem>,
    progress: Progress,
    decision: Decision,
    policy: Policy<'_>,
) -> Outcome {
    let unresolved = escalation::next_streak(next.unresolved, progress);
    if progress == Progress::Stuck && escalation::unresolved_limit_reached(unresolved, policy.escalation) {
        return handoff(HandoffReason::Unresolved, problem);
    }
    let lost = next.lost && unresolved > 0;
    Outcome { decision, next: DialogueState { problem, unresolved, lost, ..next } }
}

/// Hand off: the session starts afresh with the person (the problem is kept for
/// the queue).
fn handoff(reason: HandoffReason, problem: Option<Problem>) -> Outcome {
    Outcome {
        decision: Decision::Handoff { reason, problem: problem.clone(), shown: None },
        next: DialogueState { problem, unresolved: 0, pending: Pending::Nothing, with_agent: false, lost: false },
    }
}

/// "Not helpful" feedback on the latest turn: one more stuck turn.
pub fn not_helpful(state: &DialogueState) -> DialogueState {
    DialogueState { unresolved: escalation::next_streak(state.unresolved, Progress::Stuck), ..state.clone() }
}

#[cfg(test)]
mod tests;
