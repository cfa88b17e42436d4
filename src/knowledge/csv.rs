//! FAQ entries from CSV: header row, columns
//! `id,question,similar,answer,category,tags,related,actions,handoff,when`, multi-valued
//! cells joined with `|`, actions as `label=>url`; any number of answer-variant
//! columns `answer[channel=sms]`, `answer[tag=老年人]` (an empty cell: no variant).
//!
//! `id`, `question` and `answer` are required columns; the others are optional.
//! An entry without a category gets the file's stem as category.

use std::path::Path;

use super::fields::{parse_actions, parse_flag, split_multi};
use super::table::{self, Columns};
use super::{AnswerVariant, Audience, FaqEntry, Problem, SourceLocation};

const COLUMNS: Columns = Columns {
    known: &["id", "question", "similar", "answer", "category", "tags", "related", "actions", "handoff", "when"],
    strict: true,
    required: &["id", "question", "answer"],
    variable: Some(VARIANT_PREFIX),
};

/// Columns `answer[channel=sms]`, `answer[tag=老年人]`, … hold answer variants.
const VARIANT_PREFIX: &str = "answer[";

/// Parse a CSV FAQ file. Problems are pushed; rows with problems are still returned
/// when they have an id, so cross-entry checks see them.
pub(super) fn parse(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Vec<FaqEntry> {
    let Some(table) = table::parse(path, text, COLUMNS, problems) else { return Vec::new() };
    let default_category = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut entries = Vec::new();
    for (line, record) in &table.rows {
        let line = *line;
        let cell = |name: &str| table.cell(record, name);
        let (actions, action_errors) = parse_actions(cell("actions"));
        for message in action_errors {
            problems.push(Problem::new(path, line, "actions", message));
        }
        let handoff = parse_flag(cell("handoff")).unwrap_or_else(|message| {
            problems.push(Problem::new(path, line, "handoff", message));
            false
        });
        let category = match cell("category") {
            "" => default_category.clone(),
            c => c.to_owned(),
        };
        let mut variants = Vec::new();
        for (header, text) in table.variable_cells(record) {
            let spec = header.strip_prefix(VARIANT_PREFIX).and_then(|s| s.strip_suffix(']'));
            match spec.map(Audience::parse) {
                Some(Ok(audience)) if !text.is_empty() => {
                    variants.push(AnswerVariant { audience, answer: text.to_owned(), line });
                }
                Some(Ok(_)) => {}
                Some(Err(m)) => problems.push(Problem::new(path, line, header, m)),
                None => problems.push(Problem::new(path, line, header, "expected a column like answer[channel=sms]")),
            }
        }
        let mut when = Vec::new();
        for spec in split_multi(cell("when")) {
            match Audience::parse(&spec) {
                Ok(a) => when.push(a),
                Err(m) => problems.push(Problem::new(path, line, "when", m)),
            }
        }
        entries.push(FaqEntry {
            id: cell("id").into(),
            question: cell("question").to_owned(),
            similar: split_multi(cell("similar")),
            answer: cell("answer").to_owned(),
            category,
            tags: split_multi(cell("tags")),
            related: split_multi(cell("related")).into_iter().map(Into::into).collect(),
            actions,
            handoff,
            variants,
            when,
            source: SourceLocation { file: path.to_path_buf(), line },
        });
    }
    entries
}
