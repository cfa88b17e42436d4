//! FAQ entries from Markdown.
//!
//! ```markdown
//! # 宽带业务                       ← category
//! ## 宽带怎么报修？ {#broadband-repair}   ← standard question, optional id
//! > similar: 宽带坏了找谁 | 网络断了怎么办
//! > tags: 宽带 | 报修
//! > related: broadband-speed
//! > actions: 在线报修=>https://example.com/repair
//! > handoff: false
//!
//! The answer: every line up to the next `#` or `##` heading,
//! or up to the first variant:
//! > for: channel=sms                ← an answer for SMS customers …
//! 短信版答案。
//! > for: tag=老年人                  ← … and one for elderly customers
//! 给老年人的答案。
//! ```
//!
//! `> when: tag=欠费 | profile.order.status=已发货` (metadata) offers the entry in
//! `/v1/welcome` to customers matching any of the audiences.
//!
//! Metadata lines (`> key: value`, a full-width `：` works too) come right under the
//! `##` heading. An entry without `{#id}` gets `<file stem>-<8 hex of the question's
//! SHA-256>`: stable while the question is unchanged. `###` and deeper headings and
//! anything inside ``` fences belong to the answer.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::fields::{parse_actions, parse_flag, split_multi};
use super::{AnswerVariant, Audience, FaqEntry, Problem, SourceLocation};

const KEYS: [&str; 6] = ["similar", "tags", "related", "actions", "handoff", "when"];

/// The audience of a `> for: channel=sms` line, which starts an answer variant.
fn variant_heading(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix('>')?.trim_start();
    let rest = rest.strip_prefix("for")?.trim_start();
    rest.strip_prefix([':', '：'])
}

struct Draft {
    entry: FaqEntry,
    in_metadata: bool,
    body: Vec<String>,
    /// `> for: …` sections after the answer: audience, line, lines of text.
    variants: Vec<(Audience, usize, Vec<String>)>,
}

/// Parse a Markdown FAQ file.
pub(super) fn parse(path: &Path, text: &str, problems: &mut Vec<Problem>) -> Vec<FaqEntry> {
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut category = stem.clone();
    let mut entries = Vec::new();
    let mut draft: Option<Draft> = None;
    let mut in_fence = false;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim_end();
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if !in_fence {
            if let Some(title) = line.strip_prefix("# ") {
                finish(draft.take(), &mut entries);
                category = title.trim().to_owned();
                if category.is_empty() {
                    problems.push(Problem::new(path, line_no, "category", "empty `#` heading"));
                    category = stem.clone();
                }
                continue;
            }
            if let Some(title) = line.strip_prefix("## ") {
                finish(draft.take(), &mut entries);
                draft = Some(start_entry(path, line_no, title, &category, &stem, problems));
                continue;
            }
        }
        let Some(d) = draft.as_mut() else { continue };
        if d.in_metadata && !in_fence {
            if let Some(meta) = line.trim_start().strip_prefix('>') {
                apply_metadata(&mut d.entry, meta, path, line_no, problems);
                continue;
            }
            if line.trim().is_empty() && d.body.is_empty() {
                continue;
            }
            d.in_metadata = false;
        }
        if !in_fence && let Some(spec) = variant_heading(line) {
            match Audience::parse(spec) {
                Ok(audience) => d.variants.push((audience, line_no, Vec::new())),
                Err(m) => problems.push(Problem::new(path, line_no, "for", m)),
            }
            continue;
        }
        match d.variants.last_mut() {
            Some((_, _, lines)) => lines.push(raw.to_owned()),
            None => d.body.push(raw.to_owned()),
        }
    }
    finish(draft, &mut entries);
    entries
}

fn start_entry(
    path: &Path,
    line: usize,
    title: &str,
    category: &str,
    stem: &str,
    problems: &mut Vec<Problem>,
) -> Draft {
    let title = title.trim();
    let (question, id) = match title.rfind("{#") {
        Some(at) if title.ends_with('}') => {
            let id = title[at + 2..title.len() - 1].trim().to_owned();
            if id.is_empty() || id.chars().any(char::is_whitespace) {
                problems.push(Problem::new(path, line, "id", format!("invalid id {id:?} in `{{#id}}`")));
            }
            (title[..at].trim().to_owned(), id)
        }
        _ => (title.to_owned(), generated_id(stem, title)),
    };
    let entry = FaqEntry {
        id: id.into(),
        question,
        similar: Vec::new(),
        answer: String::new(),
        category: category.to_owned(),
        tags: Vec::new(),
        related: Vec::new(),
        actions: Vec::new(),
        handoff: false,
        variants: Vec::new(),
        when: Vec::new(),
        source: SourceLocation { file: path.to_path_buf(), line },
    };
    Draft { entry, in_metadata: true, body: Vec::new(), variants: Vec::new() }
}

fn generated_id(stem: &str, question: &str) -> String {
    let digest = Sha256::digest(question.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{stem}-{hex}")
}

fn apply_metadata(entry: &mut FaqEntry, meta: &str, path: &Path, line: usize, problems: &mut Vec<Problem>) {
    let Some((key, value)) = meta.split_once([':', '：']) else {
        problems.push(Problem::new(path, line, "metadata", format!("expected `> key: value`, got {:?}", meta.trim())));
        return;
    };
    let key = key.trim().to_lowercase();
    let value = value.trim();
    match key.as_str() {
        "similar" => entry.similar.extend(split_multi(value)),
        "tags" => entry.tags.extend(split_multi(value)),
        "related" => entry.related.extend(split_multi(value).into_iter().map(Into::into)),
        "actions" => {
            let (actions, errors) = parse_actions(value);
            entry.actions.extend(actions);
            problems.extend(errors.into_iter().map(|m| Problem::new(path, line, "actions", m)));
        }
        "when" => {
            for spec in split_multi(value) {
                match Audience::parse(&spec) {
                    Ok(a) => entry.when.push(a),
                    Err(m) => problems.push(Problem::new(path, line, "when", m)),
                }
            }
        }
        "handoff" => match parse_flag(value) {
            Ok(flag) => entry.handoff = flag,
            Err(m) => problems.push(Problem::new(path, line, "handoff", m)),
        },
        _ => problems.push(Problem::new(
            path,
            line,
            &key,
            format!("unknown metadata key {key:?}; known keys: {}", KEYS.join(", ")),
        )),
    }
}

fn finish(draft: Option<Draft>, entries: &mut Vec<FaqEntry>) {
    if let Some(mut d) = draft {
        d.entry.answer = d.body.join("\n").trim().to_owned();
        d.entry.variants = d
            .variants
            .into_iter()
            .map(|(audience, line, lines)| AnswerVariant { audience, answer: lines.join("\n").trim().to_owned(), line })
            .collect();
        entries.push(d.entry);
    }
}
