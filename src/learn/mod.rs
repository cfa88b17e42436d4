//! Learning from turns (`bizbot learn`): what the turn log says the knowledge
//! should gain. Pure functions over the records; the CLI embeds, ranks and writes
//! the review files, and [`accept`] edits the knowledge.
//!
//! - **Confirmed wordings**: a customer's text that led to an answer the customer
//!   confirmed — they picked the entry from a clarification (or from the entries
//!   beside a request to log in), or rated the answer helpful — and that was not
//!   followed by a complaint or an unresolved hand-off.
//!   Proposed as new similar questions of that entry.
//! - **Unanswered texts**: fallbacks, unresolved hand-offs and clarifications (or
//!   requests to log in that offered entries) the customer did not pick from;
//!   clustered by meaning with [`cluster`].
//! - **Poor entries**: answers rated not helpful, or followed by an unresolved or
//!   complaint hand-off.

pub mod accept;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::turnlog::TurnRecord;

/// How a wording was confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// The customer picked the entry from a clarification (or from the entries
    /// beside a request to log in).
    ClarifyChoice,
    /// The customer rated the answer helpful.
    Helpful,
}

impl Evidence {
    /// As written in the review file.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClarifyChoice => "clarify_choice",
            Self::Helpful => "helpful",
        }
    }
}

/// A customer wording proposed as a similar question of an entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    /// The entry.
    pub entry: String,
    /// The customer's words.
    pub wording: String,
    /// How often it was confirmed.
    pub count: usize,
    /// The strongest evidence seen.
    pub evidence: Evidence,
}

/// An entry customers were not helped by.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EntryFeedback {
    /// The entry.
    pub entry: String,
    /// Times answered.
    pub answered: usize,
    /// Rated helpful.
    pub helpful: usize,
    /// Rated not helpful.
    pub not_helpful: usize,
    /// Answers followed by an unresolved or complaint hand-off in the next turn.
    pub handed_off_after: usize,
}

/// The log's turns of the bot (not feedback, ratings nor people's work) of each
/// session, in log order.
fn sessions(records: &[TurnRecord]) -> Vec<Vec<&TurnRecord>> {
    let mut order: Vec<&str> = Vec::new();
    let mut by: HashMap<&str, Vec<&TurnRecord>> = HashMap::new();
    let turns = records.iter().filter(|r| !matches!(r.action.as_str(), "feedback" | "rating"));
    for r in turns.filter(|r| !r.action.starts_with("agent_")) {
        by.entry(r.session.as_str())
            .or_insert_with(|| {
                order.push(&r.session);
                Vec::new()
            })
            .push(r);
    }
    order.into_iter().map(|s| by.remove(s).unwrap_or_default()).collect()
}

/// `(session, turn)` → whether the customer found it helpful (the last rating wins).
fn ratings(records: &[TurnRecord]) -> HashMap<(&str, u64), bool> {
    records
        .iter()
        .filter(|r| r.action == "feedback")
        .filter_map(|r| Some(((r.session.as_str(), r.turn), r.helpful?)))
        .collect()
}

fn bad_next(next: Option<&&TurnRecord>) -> bool {
    next.is_some_and(|n| matches!(n.handoff_reason.as_deref(), Some("complaint" | "unresolved")))
}

/// Wordings confirmed by a clarification choice or a helpful rating, most
/// confirmed first.
pub fn confirmed_wordings(records: &[TurnRecord]) -> Vec<Proposal> {
    let rated = ratings(records);
    let mut found: BTreeMap<(String, String), (usize, Evidence)> = BTreeMap::new();
    for turns in sessions(records) {
        for (i, r) in turns.iter().enumerate() {
            if r.action != "answer" {
                continue;
            }
            let Some(entry) = &r.match_id else { continue };
            if bad_next(turns.get(i + 1)) || rated.get(&(r.session.as_str(), r.turn)) == Some(&false) {
                continue;
            }
            let chosen = i
                .checked_sub(1)
                .map(|p| turns[p])
                .filter(|p| offers_choices(p) && p.candidates.iter().any(|c| c == entry));
            let (wording, evidence) = match chosen {
                Some(clarify) => (clarify.text.trim(), Evidence::ClarifyChoice),
                None if rated.get(&(r.session.as_str(), r.turn)) == Some(&true) => (r.text.trim(), Evidence::Helpful),
                None => continue,
            };
            if wording.is_empty() {
                continue;
            }
            let slot = found.entry((entry.clone(), wording.to_owned())).or_insert((0, evidence));
            slot.0 += 1;
            slot.1 = slot.1.min(evidence);
        }
    }
    let mut out: Vec<Proposal> = found
        .into_iter()
        .map(|((entry, wording), (count, evidence))| Proposal { entry, wording, count, evidence })
        .collect();
    out.sort_by(|a, b| {
        b.count.cmp(&a.count).then_with(|| a.entry.cmp(&b.entry)).then_with(|| a.wording.cmp(&b.wording))
    });
    out
}

/// A turn that offered entries to pick: a clarification, or a request to log in
/// with the entries near enough.
fn offers_choices(r: &TurnRecord) -> bool {
    matches!(r.action.as_str(), "clarify" | "fallback") && !r.candidates.is_empty()
}

/// Texts the bot did not answer, with their counts, most frequent first: fallbacks
/// and clarifications the customer did not pick from (a request to log in that
/// offered entries counts as answered when one was picked), unresolved hand-offs.
pub fn unanswered_texts(records: &[TurnRecord]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for turns in sessions(records) {
        for (i, r) in turns.iter().enumerate() {
            let picked = offers_choices(r)
                && turns.get(i + 1).is_some_and(|n| {
                    n.action == "answer" && n.match_id.as_ref().is_some_and(|m| r.candidates.contains(m))
                });
            let unanswered = (matches!(r.action.as_str(), "fallback" | "clarify") && !picked)
                || r.handoff_reason.as_deref() == Some("unresolved");
            if unanswered && !r.text.trim().is_empty() {
                *counts.entry(r.text.trim().to_owned()).or_insert(0) += 1;
            }
        }
    }
    let mut out: Vec<(String, usize)> = counts.into_iter().collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

/// Per answered entry: ratings and hand-offs right after it, worst first; only
/// entries with at least one bad signal.
pub fn poor_entries(records: &[TurnRecord]) -> Vec<EntryFeedback> {
    let rated = ratings(records);
    let mut by: BTreeMap<String, EntryFeedback> = BTreeMap::new();
    for turns in sessions(records) {
        for (i, r) in turns.iter().enumerate() {
            let (true, Some(entry)) = (r.action == "answer", &r.match_id) else { continue };
            let e =
                by.entry(entry.clone()).or_insert_with(|| EntryFeedback { entry: entry.clone(), ..Default::default() });
            e.answered += 1;
            match rated.get(&(r.session.as_str(), r.turn)) {
                Some(true) => e.helpful += 1,
                Some(false) => e.not_helpful += 1,
                None => {}
            }
            if bad_next(turns.get(i + 1)) {
                e.handed_off_after += 1;
            }
        }
    }
    let mut out: Vec<EntryFeedback> = by.into_values().filter(|e| e.not_helpful + e.handed_off_after > 0).collect();
    out.sort_by(|a, b| {
        (b.not_helpful + b.handed_off_after)
            .cmp(&(a.not_helpful + a.handed_off_after))
            .then_with(|| a.entry.cmp(&b.entry))
    });
    out
}

/// Group texts by meaning: average-linkage agglomerative clustering — the two
/// groups whose members are most similar on average merge, until no two groups
/// reach `threshold`. `vectors[i]` is the embedding of text `i`; pass them
/// centred on the knowledge's mean (raw sentence embeddings of one domain are all
/// alike). Returns the members' indices of each cluster, biggest (by `weights`
/// sum) first, members in input order. Quadratic memory and cubic time in the
/// number of texts: callers cap it.
pub fn cluster(vectors: &[Vec<f32>], weights: &[usize], threshold: f32) -> Vec<Vec<usize>> {
    let unit = |v: &Vec<f32>| {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-9);
        v.iter().map(|x| x / n).collect::<Vec<f32>>()
    };
    let units: Vec<Vec<f32>> = vectors.iter().map(unit).collect();
    let n = units.len();
    let mut sim = vec![vec![0f32; n]; n];
    for i in 0..n {
        for j in 0..i {
            let s: f32 = units[i].iter().zip(&units[j]).map(|(a, b)| a * b).sum();
            sim[i][j] = s;
            sim[j][i] = s;
        }
    }
    let mut members: Vec<Option<Vec<usize>>> = (0..n).map(|i| Some(vec![i])).collect();
    loop {
        let mut best: Option<(f32, usize, usize)> = None;
        for i in 0..n {
            if members[i].is_none() {
                continue;
            }
            for j in 0..i {
                if members[j].is_some() && best.is_none_or(|(s, ..)| sim[i][j] > s) {
                    best = Some((sim[i][j], i, j));
                }
            }
        }
        let Some((s, i, j)) = best.filter(|(s, ..)| *s >= threshold) else { break };
        debug_assert!(s >= threshold);
        // Lance–Williams update for average linkage: the merged group's similarity
        // to every other group is the size-weighted mean of the two.
        let (a, b) = (members[i].as_ref().map_or(0, Vec::len) as f32, members[j].as_ref().map_or(0, Vec::len) as f32);
        for k in 0..n {
            if k != i && k != j && members[k].is_some() {
                let merged = (b * sim[j][k] + a * sim[i][k]) / (a + b);
                sim[j][k] = merged;
                sim[k][j] = merged;
            }
        }
        let moved = members[i].take().unwrap_or_default();
        if let Some(m) = members[j].as_mut() {
            m.extend(moved);
            m.sort_unstable();
        }
    }
    let mut out: Vec<Vec<usize>> = members.into_iter().flatten().collect();
    out.sort_by_key(|m| (std::cmp::Reverse(m.iter().map(|&i| weights[i]).sum::<usize>()), m[0]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(session: &str, turn: u64, text: &str, action: &str) -> TurnRecord {
        TurnRecord {
            session: session.into(),
            text: text.into(),
            action: action.into(),
            latency_ms: 1.0,
            turn,
            ..TurnRecord::default()
        }
    }

    fn clarify(session: &str, turn: u64, text: &str, candidates: &[&str]) -> TurnRecord {
        TurnRecord {
            candidates: candidates.iter().map(|c| (*c).to_owned()).collect(),
            ..rec(session, turn, text, "clarify")
        }
    }

    fn answer(session: &str, turn: u64, text: &str, id: &str) -> TurnRecord {
        TurnRecord { match_id: Some(id.into()), ..rec(session, turn, text, "answer") }
    }

    fn feedback(session: &str, turn: u64, helpful: bool) -> TurnRecord {
        TurnRecord { helpful: Some(helpful), ..rec(session, turn, "", "feedback") }
    }

    #[test]
    fn choices_and_helpful_ratings_confirm_wordings() {
        let records = vec![
            clarify("a", 1, "网断了咋整", &["repair", "slow"]),
            clarify("b", 1, "网断了咋整", &["repair", "slow"]),
            answer("a", 2, "1", "repair"),
            answer("b", 2, "宽带坏了怎么报修", "repair"),
            // Picked, then complained: not confirmed.
            clarify("c", 1, "网太卡", &["slow", "repair"]),
            answer("c", 2, "1", "slow"),
            TurnRecord { handoff_reason: Some("complaint".into()), ..rec("c", 3, "什么破网", "handoff") },
            // Answered and rated helpful.
            answer("d", 1, "光猫灯红了", "repair"),
            feedback("d", 1, true),
            // Answered and rated not helpful.
            answer("e", 1, "宽带多少钱", "price"),
            feedback("e", 1, false),
            // An answer nobody confirmed.
            answer("f", 1, "怎么退货", "return"),
        ];
        let got = confirmed_wordings(&records);
        let got: Vec<(&str, &str, usize, Evidence)> =
            got.iter().map(|p| (p.entry.as_str(), p.wording.as_str(), p.count, p.evidence)).collect();
        assert_eq!(
            got,
            [("repair", "网断了咋整", 2, Evidence::ClarifyChoice), ("repair", "光猫灯红了", 1, Evidence::Helpful)]
        );
        let poor = poor_entries(&records);
        assert_eq!(poor.iter().map(|e| e.entry.as_str()).collect::<Vec<_>>(), ["price", "slow"]);
        assert_eq!(poor[0].not_helpful, 1);
        assert_eq!(poor[1].handed_off_after, 1);
    }

    #[test]
    fn a_pick_beside_a_request_to_log_in_confirms_like_a_clarification() {
        let login = |session: &str, candidates: &[&str]| TurnRecord {
            candidates: candidates.iter().map(|c| (*c).to_owned()).collect(),
            ..rec(session, 1, "彩铃每月扣钱 怎么取消", "fallback")
        };
        let records = vec![
            login("a", &["cancel-addon", "dispute"]),
            answer("a", 2, "1", "cancel-addon"),
            // Nothing offered: a plain request to log in, unanswered.
            login("b", &[]),
        ];
        let got = confirmed_wordings(&records);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!((got[0].entry.as_str(), got[0].evidence), ("cancel-addon", Evidence::ClarifyChoice));
        assert_eq!(unanswered_texts(&records), [("彩铃每月扣钱 怎么取消".to_owned(), 1)]);
    }

    #[test]
    fn unanswered_are_fallbacks_unresolved_and_ignored_clarifications() {
        let records = vec![
            rec("a", 1, "能带狗吗", "fallback"),
            rec("b", 1, "能带狗吗", "fallback"),
            clarify("c", 1, "宽带", &["repair"]),
            answer("c", 2, "1", "repair"),
            clarify("d", 1, "套餐", &["plan"]),
            rec("d", 2, "算了", "fallback"),
            TurnRecord { handoff_reason: Some("unresolved".into()), ..rec("e", 3, "还是不行", "handoff") },
        ];
        assert_eq!(
            unanswered_texts(&records),
            [("能带狗吗".to_owned(), 2), ("套餐".into(), 1), ("算了".into(), 1), ("还是不行".into(), 1)]
        );
    }

    #[test]
    fn average_linkage_merges_groups_close_on_average() {
        let v = |x: f32, y: f32| vec![x, y];
        // Two tight groups and a point between them: the point is close to one
        // member of each group, but on average to neither.
        let vectors = vec![v(1.0, 0.0), v(0.0, 1.0), v(0.95, 0.1), v(0.1, 0.95), v(0.7, 0.7)];
        assert_eq!(cluster(&vectors, &[5, 1, 1, 1, 1], 0.9), vec![vec![0, 2], vec![1, 3], vec![4]]);
        // Weights order the clusters; a low threshold merges everything.
        assert_eq!(cluster(&vectors, &[1, 5, 1, 1, 1], 0.9)[0], vec![1, 3]);
        assert_eq!(cluster(&vectors, &[1; 5], 0.0).len(), 1);
    }
}
