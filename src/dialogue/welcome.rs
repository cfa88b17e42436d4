//! Pre-judgement (意图预判): what to offer a customer before the first word.
//!
//! Pure: the knowledge, the customer, their last unresolved problem and the most
//! asked entries in; ranked suggestions out. In order: the customer's own
//! unresolved problem, entries whose `when` audiences match the customer (in
//! knowledge order), then the most asked entries; each entry once.

use serde::Serialize;

use super::session::Problem;
use crate::knowledge::{Customer, KnowledgeBase};

/// Why a suggestion is offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhySuggested {
    /// The customer's problem from their last session was left unresolved.
    Unresolved,
    /// A `when` rule of the entry matches the customer.
    Rule,
    /// One of the most asked questions.
    Popular,
}

/// One "您可能想问" suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WelcomeSuggestion {
    /// Entry or scenario id.
    pub id: String,
    /// Its standard question (a scenario's first example).
    pub question: String,
    /// Why it is offered.
    pub reason: WhySuggested,
}

/// Up to `n` suggestions for `who`. `popular` is ordered, most asked first.
pub fn suggest(
    kb: &KnowledgeBase,
    who: Customer<'_>,
    unresolved: Option<&Problem>,
    popular: &[String],
    n: usize,
) -> Vec<WelcomeSuggestion> {
    let mut out: Vec<WelcomeSuggestion> = Vec::new();
    let mut push = |id: &str, question: &str, reason: WhySuggested| {
        if out.len() < n && !out.iter().any(|s| s.id == id) {
            out.push(WelcomeSuggestion { id: id.to_owned(), question: question.to_owned(), reason });
        }
    };
    match unresolved {
        Some(Problem::Faq(id)) => {
            if let Some(e) = kb.faq(id) {
                push(&e.id, &e.question, WhySuggested::Unresolved);
            }
        }
        Some(Problem::Scenario(id)) => {
            if let Some(s) = kb.scenario(id)
                && let Some(example) = s.examples.first()
            {
                push(&s.id, example, WhySuggested::Unresolved);
            }
        }
        None => {}
    }
    for e in kb.faqs.iter().filter(|e| e.offered_to(who)) {
        push(&e.id, &e.question, WhySuggested::Rule);
    }
    for id in popular {
        if let Some(e) = kb.faq(id) {
            push(&e.id, &e.question, WhySuggested::Popular);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kb() -> KnowledgeBase {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("a.csv"),
            "id,question,answer,when\n\
             recharge,怎么充值,App 充值。,tag=欠费\n\
             suspend,停机了怎么办,补缴后开机。,tag=欠费|profile.overdue=true\n\
             balance,怎么查余额,发 YE。,\n\
             invoice,怎么开发票,App 开。,\n",
        )
        .unwrap();
        KnowledgeBase::load(dir.path()).unwrap()
    }

    fn ids(s: &[WelcomeSuggestion]) -> Vec<(&str, WhySuggested)> {
        s.iter().map(|s| (s.id.as_str(), s.reason)).collect()
    }

    #[test]
    fn unresolved_first_then_rules_then_popular_each_once() {
        let kb = kb();
        let tags = ["欠费".to_owned()];
        let profile = json!({});
        let who = Customer { channel: None, tags: &tags, profile: &profile };
        let popular = ["recharge".to_owned(), "invoice".to_owned(), "balance".to_owned()];
        let got = suggest(&kb, who, Some(&Problem::Faq("balance".into())), &popular, 4);
        assert_eq!(
            ids(&got),
            [
                ("balance", WhySuggested::Unresolved),
                ("recharge", WhySuggested::Rule),
                ("suspend", WhySuggested::Rule),
                ("invoice", WhySuggested::Popular),
            ]
        );
        assert_eq!(suggest(&kb, who, None, &popular, 1)[0].id, "recharge");
    }

    #[test]
    fn a_customer_without_matching_rules_gets_the_most_asked() {
        let kb = kb();
        let profile = json!({"overdue": false});
        let who = Customer { channel: Some("web"), tags: &[], profile: &profile };
        let got = suggest(&kb, who, None, &["invoice".to_owned(), "gone".to_owned()], 3);
        assert_eq!(ids(&got), [("invoice", WhySuggested::Popular)]);
    }
}
