//! The knowledge base: FAQ entries from CSV and Markdown, the customer vocabulary
//! (synonyms, jieba user dictionary).
//!
//! Loading reads a folder (or a single file), parses every file it recognises and
//! validates the whole: every problem is collected, each with file, line and field,
//! and a knowledge base with any problem is rejected as a whole. It does not index or
//! analyse text; that is `text` and `index`.

mod audience;
mod csv;
mod fields;
mod ids;
mod markdown;
mod problem;
mod scenario;
mod source;
pub mod table;
mod validate;
mod vocab;

use std::path::{Path, PathBuf};

use serde::Serialize;

pub use audience::{AnswerVariant, Audience, Condition, Customer, pick_variant};
pub use ids::{FaqId, ScenarioId};
pub use problem::Problem;
pub use scenario::{AnswerTemplate, Lookup, OnFailure, Scenario, Slot};

use crate::text::Vocabulary;

/// A self-service action attached to an answer: a button or link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Action {
    /// What the button says (`查看订单列表`).
    pub label: String,
    /// Where it leads: a URL or an app route.
    pub url: String,
}

/// Where an entry was defined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceLocation {
    /// The knowledge file.
    pub file: PathBuf,
    /// 1-based line of the entry's row or `##` heading.
    pub line: usize,
}

/// One FAQ entry: a standard question (标准问), its paraphrases (相似问) and the answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FaqEntry {
    /// Stable id, unique in the knowledge base.
    pub id: FaqId,
    /// The standard question.
    pub question: String,
    /// Similar questions (paraphrases).
    pub similar: Vec<String>,
    /// The answer, Markdown; may hold `{{placeholders}}` from the customer profile.
    pub answer: String,
    /// Category, also the handoff queue.
    pub category: String,
    /// Free tags.
    pub tags: Vec<String>,
    /// Ids of related entries ("猜您可能还想了解").
    pub related: Vec<FaqId>,
    /// Self-service actions.
    pub actions: Vec<Action>,
    /// Always hand this topic off to a person.
    pub handoff: bool,
    /// Answers for particular audiences (channel, tags, profile); the most specific
    /// matching one replaces `answer`.
    pub variants: Vec<AnswerVariant>,
    /// Customers to whom the entry is offered before they ask (`/v1/welcome`):
    /// any one audience matching is enough.
    pub when: Vec<Audience>,
    /// Where the entry was defined.
    pub source: SourceLocation,
}

impl FaqEntry {
    /// The answer for `who`: the most specific matching variant, else the entry's
    /// own answer. The second value is the variant's index.
    pub fn answer_for(&self, who: Customer<'_>) -> (&str, Option<usize>) {
        match pick_variant(&self.variants, who) {
            Some(i) => (&self.variants[i].answer, Some(i)),
            None => (&self.answer, None),
        }
    }

    /// Whether the entry is to be offered to `who` before they ask.
    pub fn offered_to(&self, who: Customer<'_>) -> bool {
        self.when.iter().any(|a| a.matches(who))
    }

    /// The standard question followed by the similar ones.
    pub fn questions(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.question.as_str()).chain(self.similar.iter().map(String::as_str))
    }
}

/// A validated knowledge base.
#[derive(Debug, Clone, Default)]
pub struct KnowledgeBase {
    /// FAQ entries in load order (files sorted by path).
    pub faqs: Vec<FaqEntry>,
    /// Customer vocabulary for the analyser.
    pub vocabulary: Vocabulary,
    /// Scenarios (back-end lookups).
    pub scenarios: Vec<Scenario>,
    /// The files that were loaded.
    pub files: Vec<PathBuf>,
}

/// Why knowledge could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    /// Validation found problems; all of them are listed.
    #[error("{} problem(s) in the knowledge{}", problems.len(), first_problem(problems))]
    Invalid {
        /// Every problem found, sorted by file and line.
        problems: Vec<Problem>,
    },
}

fn first_problem(problems: &[Problem]) -> String {
    problems.first().map(|p| format!(", first: {p}")).unwrap_or_default()
}

impl KnowledgeError {
    /// The problems, for listing.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::Invalid { problems } => problems,
        }
    }
}

/// Which loader a file goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    FaqCsv,
    FaqMarkdown,
    Synonyms,
    UserDict,
    Scenarios,
}

fn file_kind(path: &Path) -> Option<FileKind> {
    let name = path.file_name()?.to_str()?.to_lowercase();
    if name == "synonyms.txt" {
        Some(FileKind::Synonyms)
    } else if name == "userdict.txt" {
        Some(FileKind::UserDict)
    } else if name == "readme.md" {
        None
    } else if name.ends_with(".toml") {
        Some(FileKind::Scenarios)
    } else if name.ends_with(".csv") {
        Some(FileKind::FaqCsv)
    } else if name.ends_with(".md") {
        Some(FileKind::FaqMarkdown)
    } else {
        None
    }
}

impl KnowledgeBase {
    /// Load and validate the knowledge at `path`: a folder (searched recursively) or a
    /// single CSV / Markdown file.
    ///
    /// Recognised files: `*.csv` and `*.md` (FAQ; `README.md` is skipped),
    /// `*.toml` (scenarios), `synonyms.txt`, `userdict.txt`. Other files are ignored.
    pub fn load(path: &Path) -> Result<Self, KnowledgeError> {
        let mut problems = Vec::new();
        let files = source::list_files(path, &mut problems);
        let mut kb = KnowledgeBase::default();
        let mut seen_synonyms = vocab::SeenTerms::new();
        for file in files {
            let Some(kind) = file_kind(&file) else { continue };
            let Some(text) = source::read_utf8(&file, &mut problems) else {
                kb.files.push(file);
                continue;
            };
            match kind {
                FileKind::FaqCsv => kb.faqs.extend(csv::parse(&file, &text, &mut problems)),
                FileKind::FaqMarkdown => kb.faqs.extend(markdown::parse(&file, &text, &mut problems)),
                FileKind::Synonyms => {
                    let groups = vocab::parse_synonyms(&file, &text, &mut seen_synonyms, &mut problems);
                    kb.vocabulary.synonym_groups.extend(groups);
                }
                FileKind::Scenarios => kb.scenarios.extend(scenario::parse(&file, &text, &mut problems)),
                FileKind::UserDict => {
                    kb.vocabulary.user_words.extend(vocab::parse_user_dict(&file, &text, &mut problems))
                }
            }
            kb.files.push(file);
        }
        if path.is_dir() && kb.faqs.is_empty() && problems.is_empty() {
            problems.push(Problem::new(path, 0, "knowledge", "no FAQ entries found (*.csv or *.md)"));
        }
        validate::validate(&kb.faqs, &mut problems);
        validate::validate_scenarios(&kb.scenarios, &mut problems);
        kb.vocabulary.terms = domain_terms(&kb.faqs);
        if problems.is_empty() {
            Ok(kb)
        } else {
            problems.sort();
            problems.dedup();
            Err(KnowledgeError::Invalid { problems })
        }
    }

    /// The scenario with `id`.
    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| *s.id == *id)
    }

    /// The entry with `id`.
    pub fn faq(&self, id: &str) -> Option<&FaqEntry> {
        self.faqs.iter().find(|f| *f.id == *id)
    }
}

/// Tags and categories: words editors chose, so segmentation should keep them whole.
fn domain_terms(faqs: &[FaqEntry]) -> Vec<String> {
    let mut terms: Vec<String> =
        faqs.iter().flat_map(|f| f.tags.iter().chain(std::iter::once(&f.category))).cloned().collect();
    terms.sort();
    terms.dedup();
    terms
}

#[cfg(test)]
mod tests;
