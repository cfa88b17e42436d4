//! What the bot does with labelled customer messages, each the first turn of a new
//! session (`bizbot eval` on a `text,expected,kind` file): answered right or wrong,
//! clarified with or without the right entry, declined, handed off, routed to a
//! scenario. Pure functions of the outcomes; running the turns is the caller's.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Kind, LabelledQuery};

/// What one turn did, as far as the figures need.
#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    /// `answer`, `clarify`, `ask_slot`, `handoff` or `fallback`.
    pub action: String,
    /// The entry or scenario matched (answered, asked for, shown).
    pub matched: Option<String>,
    /// Its confidence.
    pub confidence: Option<f32>,
    /// Candidates offered (a clarification's, or beside a request to log in).
    pub candidates: Vec<String>,
    /// The candidates' confidences, in the same order (0 where none was given).
    pub scores: Vec<f32>,
    /// Hand-off reason.
    pub reason: Option<String>,
}

/// One confidence band of the answers given.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// Lower bound (inclusive).
    pub from: f32,
    /// Upper bound.
    pub to: f32,
    /// Answers in the band.
    pub answers: usize,
    /// Mean confidence: the predicted precision.
    pub predicted: f32,
    /// Share right: the observed precision.
    pub observed: f32,
}

/// The figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DialogueMetrics {
    /// Messages by kind.
    pub counts: BTreeMap<&'static str, usize>,
    /// In-scope FAQ messages served with the right entry (answered, or handed off
    /// because the entry asks for a person).
    pub faq_answered_right: f32,
    /// In-scope FAQ messages answered with a wrong entry.
    pub faq_answered_wrong: f32,
    /// In-scope FAQ messages answered right or clarified with the right entry among
    /// the candidates (a clarification's, or those offered beside a request to log
    /// in).
    pub faq_answered_or_clarified: f32,
    /// Right answers among all FAQ answers given (to any kind of message).
    pub answer_precision: f32,
    /// Out-of-scope messages neither answered nor routed to a scenario.
    pub oos_declined: f32,
    /// Requests for a person handed off (any reason).
    pub human_handed_off: f32,
    /// Complaints handed off (any reason).
    pub complaint_handed_off: f32,
    /// Requests a scenario serves that reached it.
    pub scenario_routed: f32,
    /// … or were offered it in a clarification.
    pub scenario_routed_or_offered: f32,
    /// In-scope FAQ messages handed off as complaints (false alarms).
    pub faq_complaint_alarms: f32,
    /// In-scope FAQ messages handed off as requests for a person.
    pub faq_human_alarms: f32,
    /// FAQ answers by confidence band.
    pub calibration: Vec<Band>,
}

fn share(n: usize, of: usize) -> f32 {
    if of == 0 { 0.0 } else { n as f32 / of as f32 }
}

/// The figures for `queries` and what the bot did with each (same order).
pub fn metrics(queries: &[LabelledQuery], outcomes: &[TurnOutcome]) -> DialogueMetrics {
    let pairs: Vec<(&LabelledQuery, &TurnOutcome)> = queries.iter().zip(outcomes).collect();
    let of = |kind: Kind| pairs.iter().filter(move |(q, _)| q.kind == kind).copied();
    let count = |kind: Kind, pred: &dyn Fn(&LabelledQuery, &TurnOutcome) -> bool| -> f32 {
        let all: Vec<_> = of(kind).collect();
        share(all.iter().filter(|(q, o)| pred(q, o)).count(), all.len())
    };
    let right = |q: &LabelledQuery, o: &TurnOutcome| serves_entry(o) && o.matched == q.expected;
    let faq_answers: Vec<(&LabelledQuery, &TurnOutcome)> = pairs
        .iter()
        .filter(|(q, o)| serves_entry(o) && q.kind != Kind::Scenario && o.confidence.is_some())
        .copied()
        .collect();
    let answers_right = faq_answers.iter().filter(|(q, o)| right(q, o)).count();
    let handed_off = |_: &LabelledQuery, o: &TurnOutcome| o.action == "handoff";
    // Candidates are offered by a clarification, and beside a request to log in.
    let offered = |q: &LabelledQuery, o: &TurnOutcome| {
        matches!(o.action.as_str(), "clarify" | "fallback")
            && q.expected.as_ref().is_some_and(|e| o.candidates.contains(e))
    };
    let declined = |_: &LabelledQuery, o: &TurnOutcome| declines(o);
    DialogueMetrics {
        counts: Kind::ALL.iter().map(|k| (k.as_str(), of(*k).count())).collect(),
        faq_answered_right: count(Kind::Faq, &right),
        faq_answered_wrong: count(Kind::Faq, &|q, o| serves_entry(o) && o.matched != q.expected),
        faq_answered_or_clarified: count(Kind::Faq, &|q, o| right(q, o) || offered(q, o)),
        answer_precision: share(answers_right, faq_answers.len()),
        oos_declined: count(Kind::Oos, &declined),
        human_handed_off: count(Kind::Human, &handed_off),
        complaint_handed_off: count(Kind::Complaint, &handed_off),
        scenario_routed: count(Kind::Scenario, &|q, o| o.matched == q.expected),
        scenario_routed_or_offered: count(Kind::Scenario, &|q, o| o.matched == q.expected || offered(q, o)),
        faq_complaint_alarms: count(Kind::Faq, &|_, o| o.reason.as_deref() == Some("complaint")),
        faq_human_alarms: count(Kind::Faq, &|_, o| o.reason.as_deref() == Some("human_requested")),
        calibration: bands(&faq_answers),
    }
}

/// Whether the bot did what a message of its kind needs: a FAQ question answered with
/// the right entry, a scenario request routed to it, an out-of-scope message not
/// answered, a complaint or a request for a person handed off. What `--misses` lists.
pub fn succeeded(q: &LabelledQuery, o: &TurnOutcome) -> bool {
    match q.kind {
        Kind::Faq => serves_entry(o) && o.matched == q.expected,
        Kind::Scenario => o.matched == q.expected,
        Kind::Oos => declines(o),
        Kind::Complaint | Kind::Human => o.action == "handoff",
    }
}

/// Served an entry the way its editors wrote it: answered, or handed off because the
/// entry says so (`handoff: true`, reason `entry_flagged`).
fn serves_entry(o: &TurnOutcome) -> bool {
    o.action == "answer" || (o.action == "handoff" && o.reason.as_deref() == Some("entry_flagged"))
}

/// Neither answered nor routed to a scenario (a scenario whose look-up failed or
/// needs a login still took the message as its own).
fn declines(o: &TurnOutcome) -> bool {
    o.action != "answer" && o.matched.is_none()
}

/// Answers in ten confidence bands of 0.1.
fn bands(answers: &[(&LabelledQuery, &TurnOutcome)]) -> Vec<Band> {
    (0..10)
        .filter_map(|b| {
            let (from, to) = (b as f32 / 10.0, (b + 1) as f32 / 10.0);
            let inside: Vec<_> = answers
                .iter()
                .filter(|(_, o)| o.confidence.is_some_and(|c| c >= from && (c < to || (b == 9 && c <= 1.0))))
                .collect();
            if inside.is_empty() {
                return None;
            }
            let predicted = inside.iter().filter_map(|(_, o)| o.confidence).sum::<f32>() / inside.len() as f32;
            let right = inside.iter().filter(|(q, o)| o.matched == q.expected).count();
            Some(Band { from, to, answers: inside.len(), predicted, observed: share(right, inside.len()) })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(kind: Kind, expected: Option<&str>) -> LabelledQuery {
        LabelledQuery { text: "x".into(), expected: expected.map(str::to_owned), kind, line: 2 }
    }

    fn o(action: &str, matched: Option<&str>, confidence: f32) -> TurnOutcome {
        TurnOutcome {
            action: action.into(),
            matched: matched.map(str::to_owned),
            confidence: Some(confidence),
            candidates: vec!["b".into()],
            scores: vec![0.0],
            reason: None,
        }
    }

    #[test]
    fn figures_per_kind() {
        let queries = [
            q(Kind::Faq, Some("a")),
            q(Kind::Faq, Some("b")),
            q(Kind::Faq, Some("c")),
            q(Kind::Oos, None),
            q(Kind::Human, None),
            q(Kind::Scenario, Some("s")),
            q(Kind::Scenario, Some("b")),
        ];
        let outcomes = [
            o("answer", Some("a"), 0.95),
            o("clarify", None, 0.5),
            o("answer", Some("x"), 0.91),
            o("answer", Some("y"), 0.92),
            TurnOutcome { reason: Some("human_requested".into()), ..o("handoff", None, 0.0) },
            o("ask_slot", Some("s"), 0.8),
            o("clarify", None, 0.3),
        ];
        let m = metrics(&queries, &outcomes);
        assert!((m.faq_answered_right - 1.0 / 3.0).abs() < 1e-6);
        assert!((m.faq_answered_or_clarified - 2.0 / 3.0).abs() < 1e-6);
        assert!((m.answer_precision - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!((m.oos_declined, m.human_handed_off, m.scenario_routed), (0.0, 1.0, 0.5));
        assert_eq!(m.scenario_routed_or_offered, 1.0, "offered in a clarification");
        assert_eq!(m.calibration.len(), 1);
        assert_eq!(m.calibration[0].answers, 3);
        let ok: Vec<bool> = queries.iter().zip(&outcomes).map(|(q, o)| succeeded(q, o)).collect();
        assert_eq!(ok, [true, false, false, false, true, true, false]);
    }

    #[test]
    fn an_entry_handed_off_as_its_editors_asked_is_served() {
        let queries = [q(Kind::Faq, Some("a")), q(Kind::Faq, Some("b")), q(Kind::Faq, Some("c"))];
        let flagged = |m: &str| TurnOutcome { reason: Some("entry_flagged".into()), ..o("handoff", Some(m), 0.9) };
        let complaint = TurnOutcome { reason: Some("complaint".into()), ..o("handoff", Some("c"), 0.9) };
        let outcomes = [flagged("a"), flagged("x"), complaint];
        let m = metrics(&queries, &outcomes);
        assert!((m.faq_answered_right - 1.0 / 3.0).abs() < 1e-6);
        assert!((m.faq_answered_wrong - 1.0 / 3.0).abs() < 1e-6);
        assert!((m.answer_precision - 0.5).abs() < 1e-6);
        let ok: Vec<bool> = queries.iter().zip(&outcomes).map(|(q, o)| succeeded(q, o)).collect();
        assert_eq!(ok, [true, false, false]);
    }
}
