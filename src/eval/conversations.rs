//! Labelled multi-turn conversations (`bizbot eval --conversations FILE`): each is
//! played in one session, and the figures say how often the bot followed the
//! customer from the first message to the last.
//!
//! File: CSV `conversation,text,expected,kind,user`. Rows with the same
//! `conversation` are one conversation, in file order; `text,expected,kind` mean
//! what they mean for single messages (see [`super::load_queries`]): the entry or
//! scenario that should take the turn *given the conversation so far*; `user` is
//! the logged-in customer's id (empty: anonymous). Pure apart from the loader;
//! playing the turns is the caller's.

use std::path::Path;

use serde::Serialize;

use super::dialogue::{TurnOutcome, succeeded};
use super::{Kind, LabelledQuery, labelled};
use crate::knowledge::table::{self, Columns};
use crate::knowledge::{KnowledgeBase, Problem};

/// One conversation.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversation {
    /// Its id in the file.
    pub id: String,
    /// The logged-in customer, if any.
    pub user: Option<String>,
    /// The customer's turns, in order.
    pub turns: Vec<LabelledQuery>,
}

const COLUMNS: Columns = Columns {
    known: &["conversation", "text", "expected", "kind", "user"],
    strict: true,
    required: &["conversation", "text", "expected", "kind"],
    variable: None,
};

/// Read a conversation file; every bad row, unknown id and a conversation whose
/// rows are not together or whose user changes is a problem.
pub fn load_conversations(path: &Path, kb: &KnowledgeBase) -> Result<Vec<Conversation>, Vec<Problem>> {
    let table = table::load(path, COLUMNS)?;
    let mut problems = Vec::new();
    let mut conversations: Vec<Conversation> = Vec::new();
    for (line, record) in &table.rows {
        let id = table.cell(record, "conversation");
        let user = Some(table.cell(record, "user")).filter(|u| !u.is_empty()).map(str::to_owned);
        let cells = (table.cell(record, "text"), table.cell(record, "expected"), table.cell(record, "kind"));
        let turn = match labelled(cells, *line, kb) {
            Ok(turn) => turn,
            Err((field, message)) => {
                problems.push(Problem::new(path, *line, field, message));
                continue;
            }
        };
        if id.is_empty() {
            problems.push(Problem::new(path, *line, "conversation", "empty conversation id"));
            continue;
        }
        let seen = conversations.iter().position(|c| c.id == id);
        match (seen, conversations.last_mut()) {
            (Some(_), Some(last)) if last.id == id => {
                if last.user != user {
                    problems.push(Problem::new(path, *line, "user", format!("conversation {id} changes its user")));
                }
                last.turns.push(turn);
            }
            (Some(_), _) => {
                let message = format!("conversation {id} continues after other conversations: keep its rows together");
                problems.push(Problem::new(path, *line, "conversation", message));
            }
            (None, _) => conversations.push(Conversation { id: id.to_owned(), user, turns: vec![turn] }),
        }
    }
    if problems.is_empty() { Ok(conversations) } else { Err(problems) }
}

/// How the conversations went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConversationMetrics {
    /// Conversations played.
    pub conversations: usize,
    /// Customer turns played.
    pub turns: usize,
    /// Share of conversations in which every turn went right.
    pub right_end_to_end: f32,
    /// Share of turns that went right (as [`succeeded`] judges a single message).
    pub turns_right: f32,
    /// Turns that expect an FAQ answer.
    pub answer_turns: usize,
    /// Share of those answered with the right entry.
    pub answered_right: f32,
    /// Share of those answered right or offered the right entry (a clarification).
    pub answered_or_offered: f32,
    /// Hand-offs for "unresolved" on turns where the customer wanted no person
    /// (kind faq, scenario or oos): a customer the bot should have followed.
    pub false_unresolved_handoffs: usize,
    /// The same counted by conversation.
    pub conversations_falsely_handed_off: usize,
}

/// Whether `o` answers or offers the turn's expected FAQ entry.
fn answered_or_offered(q: &LabelledQuery, o: &TurnOutcome) -> bool {
    succeeded(q, o) || q.expected.as_ref().is_some_and(|e| o.candidates.contains(e))
}

/// Whether `o` sent a customer who wanted no person to one for being unresolved.
fn false_unresolved(q: &LabelledQuery, o: &TurnOutcome) -> bool {
    matches!(q.kind, Kind::Faq | Kind::Scenario | Kind::Oos)
        && o.action == "handoff"
        && o.reason.as_deref() == Some("unresolved")
}

/// The figures over `conversations` and their turns' `outcomes` (one list per
/// conversation, as long as its turns).
pub fn metrics(conversations: &[Conversation], outcomes: &[Vec<TurnOutcome>]) -> ConversationMetrics {
    let pairs = || conversations.iter().zip(outcomes).flat_map(|(c, o)| c.turns.iter().zip(o));
    let turns = pairs().count();
    let right_end_to_end = conversations
        .iter()
        .zip(outcomes)
        .filter(|(c, o)| c.turns.iter().zip(*o).all(|(q, o)| succeeded(q, o)))
        .count();
    let answer_turns: Vec<_> = pairs().filter(|(q, _)| q.kind == Kind::Faq).collect();
    let false_unresolved_handoffs = pairs().filter(|(q, o)| false_unresolved(q, o)).count();
    let conversations_falsely_handed_off = conversations
        .iter()
        .zip(outcomes)
        .filter(|(c, o)| c.turns.iter().zip(*o).any(|(q, o)| false_unresolved(q, o)))
        .count();
    ConversationMetrics {
        conversations: conversations.len(),
        turns,
        right_end_to_end: share(right_end_to_end, conversations.len()),
        turns_right: share(pairs().filter(|(q, o)| succeeded(q, o)).count(), turns),
        answer_turns: answer_turns.len(),
        answered_right: share(answer_turns.iter().filter(|(q, o)| succeeded(q, o)).count(), answer_turns.len()),
        answered_or_offered: share(
            answer_turns.iter().filter(|(q, o)| answered_or_offered(q, o)).count(),
            answer_turns.len(),
        ),
        false_unresolved_handoffs,
        conversations_falsely_handed_off,
    }
}

fn share(n: usize, of: usize) -> f32 {
    if of == 0 { 0.0 } else { n as f32 / of as f32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn turn(kind: Kind, expected: Option<&str>) -> LabelledQuery {
        LabelledQuery { text: "x".into(), expected: expected.map(str::to_owned), kind, line: 2 }
    }

    fn outcome(action: &str, matched: Option<&str>, candidates: &[&str], reason: Option<&str>) -> TurnOutcome {
        TurnOutcome {
            action: action.into(),
            matched: matched.map(str::to_owned),
            confidence: matched.map(|_| 0.9),
            candidates: candidates.iter().map(|c| (*c).to_owned()).collect(),
            scores: vec![0.0; candidates.len()],
            reason: reason.map(str::to_owned),
        }
    }

    #[test]
    fn conversations_count_right_only_when_every_turn_is() {
        let conversations = vec![
            Conversation {
                id: "a".into(),
                user: None,
                turns: vec![turn(Kind::Faq, Some("price")), turn(Kind::Faq, Some("install"))],
            },
            Conversation {
                id: "b".into(),
                user: None,
                turns: vec![
                    turn(Kind::Faq, Some("price")),
                    turn(Kind::Faq, Some("install")),
                    turn(Kind::Faq, Some("x")),
                ],
            },
        ];
        let outcomes = vec![
            vec![outcome("answer", Some("price"), &[], None), outcome("answer", Some("install"), &[], None)],
            vec![
                outcome("answer", Some("price"), &[], None),
                outcome("clarify", None, &["install", "price"], None),
                outcome("handoff", None, &[], Some("unresolved")),
            ],
        ];
        let m = metrics(&conversations, &outcomes);
        assert_eq!((m.conversations, m.turns, m.answer_turns), (2, 5, 5));
        assert_eq!(m.right_end_to_end, 0.5);
        assert_eq!(m.turns_right, 0.6);
        assert_eq!(m.answered_right, 0.6);
        assert_eq!(m.answered_or_offered, 0.8, "the clarification offered the right entry");
        assert_eq!((m.false_unresolved_handoffs, m.conversations_falsely_handed_off), (1, 1));
    }

    #[test]
    fn a_person_asked_for_is_no_false_hand_off() {
        let conversations = vec![Conversation { id: "a".into(), user: None, turns: vec![turn(Kind::Human, None)] }];
        let outcomes = vec![vec![outcome("handoff", None, &[], Some("unresolved"))]];
        let m = metrics(&conversations, &outcomes);
        assert_eq!((m.false_unresolved_handoffs, m.right_end_to_end), (0, 1.0));
    }

    #[test]
    fn the_file_is_checked_row_by_row() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("faq.csv"), "id,question,similar,answer\nprice,宽带多少钱,,100元\n").unwrap();
        let kb = KnowledgeBase::load(dir.path()).unwrap();
        let file = dir.path().join("c.csv");
        std::fs::write(
            &file,
            "conversation,text,expected,kind,user\nc1,宽带咋收费,price,faq,\nc1,那安装呢,nope,faq,\n\
             c2,你好,,oos,u1\nc1,再问,price,faq,\nc2,嗯,,oos,u2\n",
        )
        .unwrap();
        let problems = load_conversations(&file, &kb).unwrap_err();
        let found: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.field.as_str())).collect();
        assert_eq!(found, [(3, "expected"), (5, "conversation"), (6, "user")], "{problems:?}");
        std::fs::write(&file, "conversation,text,expected,kind,user\nc1,宽带咋收费,price,faq,u1\nc1,谢谢,,oos,u1\n")
            .unwrap();
        let ok = load_conversations(&file, &kb).unwrap();
        assert_eq!((ok.len(), ok[0].turns.len(), ok[0].user.as_deref()), (1, 2, Some("u1")));
    }
}
