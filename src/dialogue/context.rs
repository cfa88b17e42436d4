//! Reading a message against its conversation: a follow-up without a topic of its
//! own ("多少钱", "需要带什么", "能寄过来吗") is ranked again with the customer's
//! previous message joined to it, and the turn takes whichever reading the
//! signals trust more. Pure: it compares two sets of signals.
//!
//! The message alone keeps what is its own whatever the ranking: its text, slot
//! values, exact questions, complaint probability and other businesses named (a
//! complaint or a request for a person is never read into a follow-up).

use super::session::{DialogueState, Pending, Problem};
use super::signals::Signals;
use crate::knowledge::FaqId;

/// By how much the joined reading's best confidence must beat the message's own
/// before it is taken: a message with a topic of its own ranks about as well
/// alone, and stays a new problem.
pub const CONTEXT_MARGIN: f32 = 0.05;

/// The best confidence of a reading: its first FAQ entry or scenario intent.
fn best(s: &Signals) -> f32 {
    s.faqs.first().map_or(0.0, |c| c.score).max(s.intents.first().map_or(0.0, |i| i.score))
}

/// Whether the message alone leaves room for its context: not sure enough to
/// answer (below `answer`) and naming no question exactly.
pub fn worth_trying(alone: &Signals, answer: f32) -> bool {
    alone.exact.is_empty() && best(alone) < answer
}

/// A message whose own best confidence reaches this has a topic of its own ("宽带",
/// "流量"): a joined reading that only gives the entry already on the table again
/// (the previous message speaking) does not replace it.
pub const OWN_TOPIC: f32 = 0.4;

/// Whether to read the turn with its context: [`worth_trying`], the joined
/// reading's best entry is surer by more than [`CONTEXT_MARGIN`], and, when that
/// entry is `current` (the problem the conversation is on), the message alone has
/// no topic of its own (below [`OWN_TOPIC`]).
pub fn prefer_context(alone: &Signals, joined: &Signals, answer: f32, current: Option<&FaqId>) -> bool {
    let again = joined.faqs.first().is_some_and(|c| Some(&c.id) == current);
    worth_trying(alone, answer) && best(joined) > best(alone) + CONTEXT_MARGIN && !(again && best(alone) >= OWN_TOPIC)
}

/// The turn's signals: the message's own, with the joined reading's ranking.
pub fn with_context(alone: Signals, joined: Signals) -> Signals {
    Signals { faqs: joined.faqs, intents: joined.intents, vector: joined.vector, ..alone }
}

/// How a customer says the bot got them wrong, at the start of a message ("不是，我是问
/// 宽带到期怎么续", "不对", "答非所问").
const CORRECTIONS: &[&str] = &[
    "不是",
    "不对",
    "都不是",
    "都不对",
    "错了",
    "答非所问",
    "没问这个",
    "我问的不是",
    "我不是问",
    "我问的是",
    "我是问",
    "我是说",
];

/// The entries a correction rules out: what the bot just gave (the entry it
/// answered, or the choices on screen), when `normalized` starts by saying it was
/// wrong; none otherwise.
pub fn ruled_out(state: &DialogueState, normalized: &str) -> Vec<FaqId> {
    let text = normalized.trim_start_matches(|c: char| !c.is_alphanumeric());
    if !CORRECTIONS.iter().any(|m| text.starts_with(m)) {
        return Vec::new();
    }
    match (&state.pending, &state.problem) {
        (Pending::Choice { faqs, .. }, _) => faqs.clone(),
        (Pending::Nothing, Some(Problem::Faq(id))) => vec![id.clone()],
        _ => Vec::new(),
    }
}

/// `signals` without the entries `ruled_out`: neither candidates nor exact.
pub fn without(mut signals: Signals, ruled_out: &[FaqId]) -> Signals {
    signals.faqs.retain(|c| !ruled_out.contains(&c.id));
    signals.exact.retain(|id| !ruled_out.contains(id));
    signals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::signals::{FaqCandidate, IntentCandidate};

    #[test]
    fn a_correction_rules_out_what_was_just_given() {
        let answered = DialogueState { problem: Some(Problem::Faq("wlan".into())), ..DialogueState::default() };
        assert_eq!(ruled_out(&answered, "不是，我是问宽带到期怎么续"), ["wlan"]);
        assert_eq!(ruled_out(&answered, "，，不对"), ["wlan"]);
        assert!(ruled_out(&answered, "宽带到期怎么续").is_empty());
        let shown = DialogueState {
            problem: Some(Problem::Faq("a".into())),
            pending: Pending::Choice { faqs: vec!["a".into(), "b".into()], scenario: None },
            ..DialogueState::default()
        };
        assert_eq!(ruled_out(&shown, "都不是"), ["a", "b"]);
        assert_eq!(ruled_out(&shown, "不是这些 我要改套餐"), ["a", "b"]);
        assert!(ruled_out(&DialogueState::default(), "不是").is_empty(), "nothing given yet");
        let kept = without(signals(Some(("wlan", 0.9)), true), &["wlan".into(), "x".into()]);
        assert!(kept.faqs.is_empty() && kept.exact.is_empty());
    }

    fn signals(faq: Option<(&str, f32)>, exact: bool) -> Signals {
        Signals {
            text: "多少钱".into(),
            faqs: faq
                .map(|(id, score)| FaqCandidate {
                    id: id.into(),
                    score,
                    fused: score,
                    lexical: score,
                    cosine: None,
                    matched: String::new(),
                })
                .into_iter()
                .collect(),
            exact: if exact { vec!["x".into()] } else { vec![] },
            ..Signals::default()
        }
    }

    #[test]
    fn a_follow_up_is_read_with_its_context_only_when_that_is_surer() {
        let alone = signals(Some(("bill-balance", 0.2)), false);
        let joined = signals(Some(("broadband-price", 0.8)), false);
        assert!(prefer_context(&alone, &joined, 0.72, None));
        let read = with_context(alone.clone(), joined.clone());
        assert_eq!((read.text.as_str(), read.faqs[0].id.as_str()), ("多少钱", "broadband-price"));
        // Barely surer: the message keeps its own reading.
        assert!(!prefer_context(&alone, &signals(Some(("broadband-price", 0.24)), false), 0.72, None));
        // Sure enough alone (a new topic), or an exact question: never replaced.
        assert!(!prefer_context(&signals(Some(("wlan-free", 0.8)), false), &joined, 0.72, None));
        assert!(!prefer_context(&signals(Some(("wlan-free", 0.3)), true), &joined, 0.72, None));
    }

    #[test]
    fn a_message_with_a_topic_of_its_own_is_not_read_as_the_entry_already_given() {
        // "宽带" after the WLAN answer: the joined text ranks WLAN again, but only
        // because the previous message speaks; the keyword has its own topic.
        let wlan: FaqId = "wlan-free".into();
        let keyword = signals(Some(("broadband-apply", 0.44)), false);
        let echo = signals(Some(("wlan-free", 0.9)), false);
        assert!(!prefer_context(&keyword, &echo, 0.72, Some(&wlan)));
        // "能寄过来吗" after the SIM answer: no topic alone, the same entry again.
        let vague = signals(Some(("invoice-paper", 0.14)), false);
        let sim: FaqId = "account-replace-sim".into();
        assert!(prefer_context(&vague, &signals(Some(("account-replace-sim", 0.98)), false), 0.72, Some(&sim)));
    }

    #[test]
    fn a_scenario_intent_counts_as_sureness_too() {
        let mut alone = signals(None, false);
        alone.intents = vec![IntentCandidate { id: "order-status".into(), score: 0.6, example: String::new() }];
        assert!(!prefer_context(&alone, &signals(Some(("order-track", 0.62)), false), 0.72, None));
        assert!(prefer_context(&alone, &signals(Some(("order-track", 0.7)), false), 0.72, None));
    }
}
