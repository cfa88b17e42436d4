//! Checks across FAQ entries: ids, duplicates, empty fields, dangling links.

use std::collections::{HashMap, HashSet};

use super::{FaqEntry, Problem, Scenario};
use crate::text::{NormalizeConfig, normalize};

/// Push a problem for every invalid entry or pair of entries.
pub(super) fn validate(faqs: &[FaqEntry], problems: &mut Vec<Problem>) {
    let mut ids: HashMap<&str, &FaqEntry> = HashMap::new();
    let mut questions: HashMap<String, &FaqEntry> = HashMap::new();
    for faq in faqs {
        let (file, line) = (&faq.source.file, faq.source.line);
        if faq.id.is_empty() {
            problems.push(Problem::new(file, line, "id", "empty id"));
        } else if faq.id.chars().any(|c| c.is_whitespace() || c == '|') {
            problems.push(Problem::new(file, line, "id", format!("id {:?} contains whitespace or `|`", faq.id)));
        } else if let Some(first) = ids.insert(&faq.id, faq) {
            problems.push(Problem::new(
                file,
                line,
                "id",
                format!(
                    "duplicate id {:?}, first defined at {}:{}",
                    faq.id,
                    first.source.file.display(),
                    first.source.line
                ),
            ));
        }
        let key = normalize(&faq.question, &NormalizeConfig::default());
        if key.is_empty() {
            problems.push(Problem::new(file, line, "question", format!("entry {:?} has an empty question", faq.id)));
        } else if let Some(first) = questions.insert(key, faq) {
            problems.push(Problem::new(
                file,
                line,
                "question",
                format!(
                    "entry {:?} repeats the standard question of {:?} ({}:{}): {:?}",
                    faq.id,
                    first.id,
                    first.source.file.display(),
                    first.source.line,
                    faq.question
                ),
            ));
        }
        if faq.answer.trim().is_empty() {
            problems.push(Problem::new(file, line, "answer", format!("entry {:?} has an empty answer", faq.id)));
        }
        let mut audiences = HashMap::new();
        for v in &faq.variants {
            if v.answer.trim().is_empty() {
                problems.push(Problem::new(
                    file,
                    v.line,
                    "for",
                    format!("entry {:?}: the answer for {} is empty", faq.id, v.audience),
                ));
            }
            let mut key: Vec<String> = v.audience.to_string().split(' ').map(str::to_lowercase).collect();
            key.sort();
            if let Some(first) = audiences.insert(key, v.line) {
                problems.push(Problem::new(
                    file,
                    v.line,
                    "for",
                    format!("entry {:?} has two answers for {} (the first at line {first})", faq.id, v.audience),
                ));
            }
        }
    }
    let known: HashSet<&str> = faqs.iter().map(|f| f.id.as_str()).collect();
    for faq in faqs {
        for related in &faq.related {
            if related == &faq.id {
                problems.push(Problem::new(
                    &faq.source.file,
                    faq.source.line,
                    "related",
                    "an entry cannot relate to itself",
                ));
            } else if !known.contains(related.as_str()) {
                problems.push(Problem::new(
                    &faq.source.file,
                    faq.source.line,
                    "related",
                    format!("entry {:?} relates to unknown id {related:?}", faq.id),
                ));
            }
        }
    }
}

/// Scenario ids are unique.
pub(super) fn validate_scenarios(scenarios: &[Scenario], problems: &mut Vec<Problem>) {
    let mut ids: HashMap<&str, &Scenario> = HashMap::new();
    for s in scenarios {
        if let Some(first) = ids.insert(&s.id, s) {
            problems.push(Problem::new(
                &s.source.file,
                s.source.line,
                "id",
                format!(
                    "duplicate scenario id {:?}, first defined at {}:{}",
                    s.id,
                    first.source.file.display(),
                    first.source.line
                ),
            ));
        }
    }
}
