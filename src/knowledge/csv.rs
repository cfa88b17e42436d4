//! FAQ entries from CSV: header row, columns
//! `id,question,similar,answer,category,tags,related,actions,handoff`, multi-valued
//! cells joined with `|`, actions as `label=>url`.
//!
//! `id`, `question` and `answer` are required columns; the others are optional.
//! An entry without a category gets the file's stem as category.

use std::path::Path;

use super::fields::{parse_actions, parse_flag, split_multi};
use super::{FaqEntry, Problem, SourceLocation};

const COLUMNS: [&str; 9] = ["id", "question", "similar", "answer", "category", "tags", "related", "actions", "handoff"];
const REQUIRED: [&str; 3] = ["id", "question", "answer"];

/// Parse a CSV FAQ file. Problems are pushed; rows with problems are still returned
/// when they have an id, so cross-entry checks see them.
pub(super) fn parse(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Vec<FaqEntry> {
    let mut reader = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            problems.push(Problem::new(path, 1, "header", format!("cannot read the header row: {e}")));
            return Vec::new();
        }
    };
    let mut index = [None; COLUMNS.len()];
    let mut header_ok = true;
    for (i, name) in header.iter().enumerate() {
        let name = name.trim();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(col) if index[col].is_some() => {
                problems.push(Problem::new(path, 1, name, "column appears twice; the first one is used"));
            }
            Some(col) => index[col] = Some(i),
            None => {
                problems.push(Problem::new(
                    path,
                    1,
                    name,
                    format!("unknown column {name:?}; known columns: {}", COLUMNS.join(",")),
                ));
                // Keep going: the rows still get checked, so every problem is listed.
            }
        }
    }
    for required in REQUIRED {
        if index[COLUMNS.iter().position(|c| *c == required).expect("required columns are known")].is_none() {
            problems.push(Problem::new(path, 1, required, "required column is missing"));
            header_ok = false;
        }
    }
    if !header_ok {
        return Vec::new();
    }
    let default_category = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut entries = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                problems.push(Problem::new(path, line, "row", csv_error_message(&e)));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        let cell = |name: &str| -> &str {
            let col = COLUMNS.iter().position(|c| *c == name).expect("known column");
            index[col].and_then(|i| record.get(i)).unwrap_or("").trim()
        };
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
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
            source: SourceLocation { file: path.to_path_buf(), line },
        });
    }
    entries
}

fn csv_error_message(e: &::csv::Error) -> String {
    match e.kind() {
        ::csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
            format!("has {len} fields, the header has {expected_len} (a cell with a comma must be quoted)")
        }
        _ => e.to_string(),
    }
}
