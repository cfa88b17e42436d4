//! Reading a message against its conversation.
//!
//! While the conversation is on an FAQ entry (the problem), every later message
//! is also ranked with the customer's previous message joined before it, and each
//! candidate's confidence is re-estimated from three pieces of evidence
//! ([`in_context`]): what the message alone says of it, what the joined text says
//! of it, and how it stands to the problem (the same entry, an entry it names as
//! related, its category, or none of these). A follow-up without a topic of its
//! own ("多少钱", "需要带什么", "能寄过来吗") is carried by the joined reading and
//! the problem; a message with a topic of its own ("对了 宽带呢") keeps it, because
//! the message alone weighs most. Pure: it combines two sets of signals.
//!
//! While the conversation is on a scenario, a message unsure alone takes the
//! joined reading when that is surer ([`prefer_context`]).
//!
//! The message alone keeps what is its own whatever the ranking: its text, slot
//! values, exact questions, complaint probability, scenario intents and other
//! businesses named (a complaint or a request for a person is never read into a
//! follow-up).

use super::session::{DialogueState, Pending, Problem};
use super::signals::{FaqCandidate, Signals};
use crate::knowledge::{FaqId, KnowledgeBase};

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

/// Whether to read the turn with its context while the conversation is on a
/// scenario: [`worth_trying`], the joined reading's best entry is surer by more
/// than [`CONTEXT_MARGIN`], and, when that entry is `current`, the message alone
/// has no topic of its own (below [`OWN_TOPIC`]).
pub fn prefer_context(alone: &Signals, joined: &Signals, answer: f32, current: Option<&FaqId>) -> bool {
    let again = joined.faqs.first().is_some_and(|c| Some(&c.id) == current);
    worth_trying(alone, answer) && best(joined) > best(alone) + CONTEXT_MARGIN && !(again && best(alone) >= OWN_TOPIC)
}

/// The turn's signals: the message's own, with the joined reading's ranking.
pub fn with_context(alone: Signals, joined: Signals) -> Signals {
    Signals { faqs: joined.faqs, intents: joined.intents, vector: joined.vector, ..alone }
}

/// How a candidate entry stands to the entry the conversation is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// The entry itself: a follow-up on the same question.
    Same,
    /// One names the other as related (`related:`).
    Related,
    /// Another entry of the same category.
    Category,
    /// None of these.
    Other,
}

/// How `candidate` stands to `current`.
pub fn relation(kb: &KnowledgeBase, current: &str, candidate: &str) -> Relation {
    if current == candidate {
        return Relation::Same;
    }
    let (Some(a), Some(b)) = (kb.faq(current), kb.faq(candidate)) else { return Relation::Other };
    if a.related.iter().any(|r| r == candidate) || b.related.iter().any(|r| r == current) {
        Relation::Related
    } else if !a.category.is_empty() && a.category == b.category {
        Relation::Category
    } else {
        Relation::Other
    }
}

/// The weights of the context reading, in log-odds: the message alone, the joined
/// text, and the prior of each [`Relation`]. Fitted (a logistic regression over
/// these five) on the project's development conversations of customers typing
/// follow-ups, topic switches and corrections on the demo knowledge, rounded, and
/// checked on its held-out conversations and on out-of-scope messages sent
/// mid-conversation (README, "Conversations"). In the customers' conversations
/// about half of the follow-ups stay on the same entry, a fifth move to a related
/// one, a tenth to another of its category.
const WEIGHT_ALONE: f32 = 0.9;
const WEIGHT_JOINED: f32 = 0.5;
const PRIOR_SAME: f32 = 2.5;
const PRIOR_RELATED: f32 = 2.0;
const PRIOR_CATEGORY: f32 = 1.0;

/// The confidence taken for an entry a reading does not rank at all (below its
/// last candidate).
const UNRANKED: f32 = 0.05;

fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-4, 1.0 - 1e-4);
    (p / (1.0 - p)).ln()
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// The confidence of a candidate read in its conversation, from its confidence
/// alone, in the joined text, and its relation to the problem.
pub fn contextual_score(alone: f32, joined: f32, relation: Relation) -> f32 {
    let prior = match relation {
        Relation::Same => PRIOR_SAME,
        Relation::Related => PRIOR_RELATED,
        Relation::Category => PRIOR_CATEGORY,
        Relation::Other => 0.0,
    };
    sigmoid(WEIGHT_ALONE * logit(alone) + WEIGHT_JOINED * logit(joined) + prior)
}

/// The turn's signals while the conversation is on an entry: the message's own,
/// with every FAQ candidate of either reading re-scored by [`contextual_score`]
/// and ranked again, and the problem's own and related entries among them kept
/// as [`Signals::offers`]. An entry the joined reading does not rank keeps its own
/// confidence there (a message with a topic of its own is not held back by the
/// previous message's); one the message alone does not rank counts as
/// 0.05 alone.
pub fn in_context(alone: Signals, joined: &Signals, relation: impl Fn(&FaqId) -> Relation) -> Signals {
    let score_in = |s: &Signals, id: &FaqId| s.faqs.iter().find(|c| &c.id == id).map(|c| c.score);
    let mut faqs: Vec<FaqCandidate> = alone.faqs.clone();
    faqs.extend(joined.faqs.iter().filter(|c| score_in(&alone, &c.id).is_none()).cloned());
    for c in &mut faqs {
        let own = score_in(&alone, &c.id);
        let with = score_in(joined, &c.id).or(own).unwrap_or(UNRANKED);
        c.score = contextual_score(own.unwrap_or(UNRANKED), with, relation(&c.id));
    }
    faqs.sort_by(|a, b| b.score.total_cmp(&a.score));
    faqs.truncate(alone.faqs.len().max(joined.faqs.len()));
    let offers =
        faqs.iter().filter(|c| matches!(relation(&c.id), Relation::Same | Relation::Related)).cloned().collect();
    Signals { faqs, offers, ..alone }
}

/// The Dice overlap of character pairs from which a message repeats the previous
/// one ("宽带怎么装" after "宽带怎么安装"); a follow-up shares few ("要带什么"
/// after "补卡").
pub const REPEAT_OVERLAP: f32 = 0.5;

/// Whether `text` says again what `previous` said ([`REPEAT_OVERLAP`], on the
/// lower-cased texts without spaces and punctuation).
pub fn repeats(previous: &str, text: &str) -> bool {
    let plain = |t: &str| t.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect::<String>();
    let (a, b) = (plain(previous), plain(text));
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let (dice, _) = crate::rerank::overlap(&crate::rerank::bigrams(&a), &crate::rerank::bigrams(&b));
    dice >= REPEAT_OVERLAP
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

    fn ranked(faqs: &[(&str, f32)]) -> Signals {
        let mut s = signals(None, false);
        s.faqs = faqs.iter().map(|(id, score)| signals(Some((id, *score)), false).faqs.remove(0)).collect();
        s
    }

    /// The demo's broadband entries: "apply" is the problem, "price" is related to
    /// it, "slow" shares its category, "wlan" is another topic.
    fn broadband(id: &FaqId) -> Relation {
        match id.as_str() {
            "broadband-apply" => Relation::Same,
            "broadband-price" => Relation::Related,
            "broadband-slow" => Relation::Category,
            _ => Relation::Other,
        }
    }

    #[test]
    fn a_follow_up_without_a_topic_is_carried_by_its_conversation() {
        // "多少钱" after the broadband answer: alone it is the phone balance, a little;
        // joined to "想装宽带" it is the broadband price, the entry related to it.
        let alone = ranked(&[("bill-balance", 0.2), ("broadband-price", 0.03)]);
        let joined = ranked(&[("broadband-price", 0.8), ("broadband-apply", 0.3)]);
        let read = in_context(alone, &joined, broadband);
        assert_eq!(read.faqs[0].id, "broadband-price", "{:?}", read.faqs);
        assert!(read.faqs[0].score >= 0.15, "sure enough to offer first: {:?}", read.faqs);
        // The same message saying a little more alone ("宽带多少钱"-like) is answered.
        let surer = in_context(ranked(&[("broadband-price", 0.5)]), &joined, broadband);
        assert!(surer.faqs[0].score >= 0.72, "{:?}", surer.faqs);
        assert_eq!(read.text, "多少钱", "the message keeps its own text");
        let offers: Vec<&str> = read.offers.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(offers, ["broadband-price", "broadband-apply"]);
    }

    #[test]
    fn a_message_with_a_topic_of_its_own_keeps_it() {
        // "对了 无线网怎么连" while on broadband: the joined text still says broadband.
        let alone = ranked(&[("wlan-connect", 0.85)]);
        let joined = ranked(&[("broadband-apply", 0.7), ("wlan-connect", 0.4)]);
        let read = in_context(alone, &joined, broadband);
        assert_eq!(read.faqs[0].id, "wlan-connect", "{:?}", read.faqs);
        assert!(read.faqs[0].score >= 0.72);
    }

    #[test]
    fn the_prior_follows_the_relation() {
        let score = |r| contextual_score(0.3, 0.3, r);
        assert!(score(Relation::Same) > score(Relation::Category));
        assert!(score(Relation::Related) > score(Relation::Category));
        assert!(score(Relation::Category) > score(Relation::Other));
        assert!((contextual_score(0.5, 0.5, Relation::Other) - 0.5).abs() < 1e-6, "no evidence either way");
    }

    #[test]
    fn a_repeated_question_is_told_from_a_follow_up() {
        assert!(repeats("宽带怎么安装", "宽带怎么安装啊？"));
        assert!(repeats("我的宽带坏了", "宽带 坏了"));
        assert!(!repeats("补卡怎么办", "需要带什么"));
        assert!(!repeats("", "需要带什么"));
    }

    #[test]
    fn a_scenario_intent_counts_as_sureness_too() {
        let mut alone = signals(None, false);
        alone.intents = vec![IntentCandidate { id: "order-status".into(), score: 0.6, example: String::new() }];
        assert!(!prefer_context(&alone, &signals(Some(("order-track", 0.62)), false), 0.72, None));
        assert!(prefer_context(&alone, &signals(Some(("order-track", 0.7)), false), 0.72, None));
    }
}
