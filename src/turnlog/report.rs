//! `bizbot report`: a summary of a turn log.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::Path;

use serde::Serialize;

use super::TurnRecord;
use crate::knowledge::Problem;

/// What `bizbot report` shows.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Turns read.
    pub turns: usize,
    /// Share of turns answered (from knowledge or a lookup).
    pub answer_rate: f32,
    /// Turns by action.
    pub actions: BTreeMap<String, usize>,
    /// Hand-offs by reason.
    pub handoffs: BTreeMap<String, usize>,
    /// The most frequent texts the bot could not answer (fallback, clarify, or
    /// handed off as unresolved), with their counts.
    pub unanswered: Vec<(String, usize)>,
}

/// Summarise records; `top` unanswered texts are kept.
pub fn summarize(records: &[TurnRecord], top: usize) -> Report {
    let mut actions = BTreeMap::new();
    let mut handoffs = BTreeMap::new();
    let mut unanswered: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        *actions.entry(r.action.clone()).or_insert(0) += 1;
        if let Some(reason) = &r.handoff_reason {
            *handoffs.entry(reason.clone()).or_insert(0) += 1;
        }
        let not_answered =
            matches!(r.action.as_str(), "fallback" | "clarify") || r.handoff_reason.as_deref() == Some("unresolved");
        if not_answered {
            *unanswered.entry(r.text.trim().to_owned()).or_insert(0) += 1;
        }
    }
    let mut unanswered: Vec<(String, usize)> = unanswered.into_iter().collect();
    unanswered.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    unanswered.truncate(top);
    let answered = actions.get("answer").copied().unwrap_or(0);
    let answer_rate = if records.is_empty() { 0.0 } else { answered as f32 / records.len() as f32 };
    Report { turns: records.len(), answer_rate, actions, handoffs, unanswered }
}

/// Read a turn log; malformed lines are returned as problems (the rest is read).
pub fn read_log(path: &Path) -> Result<(Vec<TurnRecord>, Vec<Problem>), Problem> {
    let file = std::fs::File::open(path).map_err(|e| Problem::new(path, 0, "file", format!("cannot read: {e}")))?;
    let mut records = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in std::io::BufReader::new(file).split(b'\n').enumerate() {
        let line = line.map_err(|e| Problem::new(path, i + 1, "file", format!("cannot read: {e}")))?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<TurnRecord>(&line) {
            Ok(r) => records.push(r),
            Err(e) => problems.push(Problem::new(path, i + 1, "record", e.to_string())),
        }
    }
    Ok((records, problems))
}
