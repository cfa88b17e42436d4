//! Accepting proposals: new similar questions written into the knowledge files
//! where their entries are defined (CSV `similar` cell, Markdown `> similar:`
//! line), then the whole knowledge validated; on any problem every file is put
//! back as it was.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::knowledge::{KnowledgeBase, Problem};
use crate::text::{NormalizeConfig, normalize};

/// What accepting did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Accepted {
    /// `(entry, wording)` written.
    pub added: Vec<(String, String)>,
    /// `(entry, wording, why)` left out.
    pub skipped: Vec<(String, String, String)>,
    /// Files changed.
    pub files: Vec<PathBuf>,
}

/// Why accepting failed; the knowledge files are unchanged.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    /// The knowledge does not load as it is.
    #[error("the knowledge has problems before any change: {0}")]
    Before(crate::knowledge::KnowledgeError),
    /// The edited knowledge does not validate; files were restored.
    #[error("the edited knowledge does not validate (files restored): {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    After(Vec<Problem>),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> AcceptError + '_ {
    move |source| AcceptError::Io { path: path.to_owned(), source }
}

/// A wording as one similar question: one line, no `|` (the separator).
fn clean(wording: &str) -> String {
    wording.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "｜")
}

/// Add each `(entry id, wording)` to the knowledge at `path` as a similar
/// question. Wordings already a question of any entry, or for unknown entries,
/// are skipped with a reason.
pub fn accept(path: &Path, proposals: &[(String, String)]) -> Result<Accepted, AcceptError> {
    let kb = KnowledgeBase::load(path).map_err(AcceptError::Before)?;
    let norm = |t: &str| normalize(t, &NormalizeConfig::default());
    let mut known: HashSet<String> = kb.faqs.iter().flat_map(|f| f.questions().map(norm)).collect();
    let mut out = Accepted::default();
    // file → (line of the entry, entry id) → wordings
    let mut edits: BTreeMap<PathBuf, BTreeMap<(usize, String), Vec<String>>> = BTreeMap::new();
    for (id, wording) in proposals {
        let wording = clean(wording);
        let Some(entry) = kb.faq(id) else {
            out.skipped.push((id.clone(), wording, "no such entry".into()));
            continue;
        };
        let key = norm(&wording);
        if key.is_empty() {
            out.skipped.push((id.clone(), wording, "empty".into()));
            continue;
        }
        if !known.insert(key) {
            out.skipped.push((id.clone(), wording, "already a question in the knowledge".into()));
            continue;
        }
        edits
            .entry(entry.source.file.clone())
            .or_default()
            .entry((entry.source.line, id.clone()))
            .or_default()
            .push(wording.clone());
        out.added.push((id.clone(), wording));
    }
    let mut originals: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for (file, entries) in &edits {
        let before = std::fs::read(file).map_err(io(file))?;
        let text = String::from_utf8_lossy(&before).into_owned();
        let after = if file.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
            edit_csv(&text, entries)
        } else {
            edit_markdown(&text, entries)
        };
        std::fs::write(file, after).map_err(io(file))?;
        originals.push((file.clone(), before));
        out.files.push(file.clone());
    }
    if let Err(e) = KnowledgeBase::load(path) {
        for (file, bytes) in &originals {
            std::fs::write(file, bytes).map_err(io(file))?;
        }
        return Err(AcceptError::After(e.problems().to_vec()));
    }
    Ok(out)
}

/// Append wordings to the `similar` cell of the entries' rows (the column is added
/// when the file has none).
fn edit_csv(text: &str, entries: &BTreeMap<(usize, String), Vec<String>>) -> String {
    let bom = text.starts_with('\u{feff}');
    let body = text.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(body.as_bytes());
    let mut rows: Vec<Vec<String>> =
        reader.records().filter_map(Result::ok).map(|r| r.iter().map(str::to_owned).collect()).collect();
    let Some(header) = rows.first().cloned() else { return text.to_owned() };
    let id_col = header.iter().position(|h| h.trim() == "id");
    let similar_col = match header.iter().position(|h| h.trim() == "similar") {
        Some(c) => c,
        None => {
            for row in &mut rows {
                row.push(String::new());
            }
            if let Some(h) = rows[0].last_mut() {
                *h = "similar".into();
            }
            header.len()
        }
    };
    for row in rows.iter_mut().skip(1) {
        let Some(id) = id_col.and_then(|c| row.get(c)).map(|s| s.trim().to_owned()) else { continue };
        let Some(wordings) = entries.iter().find(|((_, e), _)| *e == id).map(|(_, w)| w) else { continue };
        if row.len() <= similar_col {
            row.resize(similar_col + 1, String::new());
        }
        let cell = &mut row[similar_col];
        for w in wordings {
            if !cell.trim().is_empty() {
                cell.push('|');
            }
            cell.push_str(w);
        }
    }
    let mut writer =
        ::csv::WriterBuilder::new().flexible(true).terminator(::csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    for row in &rows {
        let _ = writer.write_record(row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    let mut out = if bom { "\u{feff}".to_owned() } else { String::new() };
    out.push_str(&String::from_utf8_lossy(&bytes));
    out
}

/// Append wordings to the `> similar:` line under each entry's `##` heading (one is
/// inserted under the heading when there is none).
fn edit_markdown(text: &str, entries: &BTreeMap<(usize, String), Vec<String>>) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    // From the bottom up, so earlier line numbers stay valid.
    for ((heading, _), wordings) in entries.iter().rev() {
        let joined = wordings.join(" | ");
        let mut at = *heading; // 0-based index of the line after the heading
        let mut done = false;
        while let Some(line) = lines.get(at) {
            let Some(meta) = line.trim_start().strip_prefix('>') else { break };
            if let Some((key, value)) = meta.split_once([':', '：'])
                && key.trim().eq_ignore_ascii_case("similar")
            {
                let sep = if value.trim().is_empty() { " " } else { " | " };
                lines[at] = format!("{}{sep}{joined}", line.trim_end());
                done = true;
                break;
            }
            at += 1;
        }
        if !done {
            lines.insert(*heading, format!("> similar: {joined}"));
        }
    }
    let mut out = lines.join("\n");
    if text.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(list: &[(usize, &str, &[&str])]) -> BTreeMap<(usize, String), Vec<String>> {
        list.iter()
            .map(|(line, id, w)| ((*line, (*id).to_owned()), w.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn csv_cells_grow_and_other_rows_stay() {
        let text = "\u{feff}id,question,similar,answer\na,问一,旧说法,答\nb,问二,,\"答,二\"\n";
        let out = edit_csv(text, &entries(&[(2, "a", &["新说法"]), (3, "b", &["再一个", "还有"])]));
        assert_eq!(out, "\u{feff}id,question,similar,answer\na,问一,旧说法|新说法,答\nb,问二,再一个|还有,\"答,二\"\n");
        let out = edit_csv("id,question,answer\na,问,答\n", &entries(&[(2, "a", &["说法"])]));
        assert_eq!(out, "id,question,answer,similar\na,问,答,说法\n");
    }

    #[test]
    fn markdown_similar_lines_grow_or_appear() {
        let text = "# 类\n## 问一 {#a}\n> tags: x\n> similar: 旧\n\n答一\n## 问二 {#b}\n答二\n";
        let out = edit_markdown(text, &entries(&[(2, "a", &["新"]), (7, "b", &["甲", "乙"])]));
        assert_eq!(
            out,
            "# 类\n## 问一 {#a}\n> tags: x\n> similar: 旧 | 新\n\n答一\n## 问二 {#b}\n> similar: 甲 | 乙\n答二\n"
        );
    }

    #[test]
    fn accepting_writes_validates_and_skips_known_wordings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.csv"), "id,question,similar,answer\na,怎么退货,退货流程,在订单页申请。\n")
            .unwrap();
        std::fs::write(dir.path().join("b.md"), "## 宽带怎么报修 {#b}\n先重启光猫。\n").unwrap();
        let proposals = vec![
            ("a".to_owned(), "东西不想要了 能退吗".to_owned()),
            ("b".to_owned(), "网断了咋整|急".to_owned()),
            ("a".to_owned(), "退货流程".to_owned()),
            ("zz".to_owned(), "什么".to_owned()),
        ];
        let got = accept(dir.path(), &proposals).unwrap();
        assert_eq!(got.added.len(), 2);
        assert_eq!(got.skipped.len(), 2);
        let kb = KnowledgeBase::load(dir.path()).unwrap();
        assert!(kb.faq("a").unwrap().similar.contains(&"东西不想要了 能退吗".to_owned()));
        assert_eq!(kb.faq("b").unwrap().similar, ["网断了咋整｜急"]);
    }
}
