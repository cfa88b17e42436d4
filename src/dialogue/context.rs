//! Reading a message against its conversation: a follow-up without a topic of its
//! own ("多少钱", "需要带什么", "能寄过来吗") is ranked again with the customer's
//! previous message joined to it, and the turn takes whichever reading the
//! signals trust more. Pure: it compares two sets of signals.
//!
//! The message alone keeps what is its own whatever the ranking: its text, slot
//! values, exact questions, complaint probability and other businesses named (a
//! complaint or a request for a person is never read into a follow-up).

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::signals::{FaqCandidate, IntentCandidate};

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
