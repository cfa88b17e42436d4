//! The turn log: one JSON line per customer turn, personal data masked; and the
//! report over it (`bizbot report`).

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::knowledge::Problem;
use crate::text::mask_pii;

/// Turn log settings (`[log]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// JSON-lines file, appended to; empty = no turn log (restart-only).
    pub path: PathBuf,
    /// Mask mobile, ID card and bank card numbers in logged text and user ids.
    pub mask_pii: bool,
}

/// One logged turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// Unix time in milliseconds.
    pub ts_ms: u64,
    /// Session id.
    pub session: String,
    /// Channel, if given.
    pub channel: Option<String>,
    /// Customer id, if given (masked).
    pub user: Option<String>,
    /// Customer text (masked).
    pub text: String,
    /// answer | clarify | ask_slot | handoff | fallback
    pub action: String,
    /// Matched entry or scenario.
    pub match_id: Option<String>,
    /// Its confidence.
    pub score: Option<f32>,
    /// Hand-off reason.
    pub handoff_reason: Option<String>,
    /// Turn latency.
    pub latency_ms: f64,
}

/// Appends turn records.
#[derive(Debug)]
pub struct TurnLog {
    file: Option<Mutex<std::fs::File>>,
    mask: bool,
}

impl TurnLog {
    /// Open (create) the log file; an empty path disables logging.
    pub fn open(config: &LogConfig) -> std::io::Result<Self> {
        if config.path.as_os_str().is_empty() {
            return Ok(Self { file: None, mask: config.mask_pii });
        }
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new().create(true).append(true).open(&config.path)?;
        Ok(Self { file: Some(Mutex::new(file)), mask: config.mask_pii })
    }

    /// Append one record (masking first). A failed write is logged, not fatal:
    /// the customer's turn matters more than its log line.
    pub fn write(&self, mut record: TurnRecord) {
        let Some(file) = &self.file else { return };
        if self.mask {
            record.text = mask_pii(&record.text);
            record.user = record.user.map(|u| mask_pii(&u));
            record.channel = record.channel.map(|c| mask_pii(&c));
            record.session = mask_pii(&record.session);
        }
        let mut line = match serde_json::to_string(&record) {
            Ok(line) => line,
            Err(e) => return tracing::warn!("turn log: cannot serialise: {e}"),
        };
        line.push('\n');
        let mut file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::warn!("turn log: cannot write: {e}");
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(text: &str, action: &str, reason: Option<&str>) -> TurnRecord {
        TurnRecord {
            ts_ms: 0,
            session: "s".into(),
            channel: None,
            user: Some("13812345678".into()),
            text: text.into(),
            action: action.into(),
            match_id: None,
            score: None,
            handoff_reason: reason.map(str::to_owned),
            latency_ms: 1.0,
        }
    }

    #[test]
    fn report_counts_and_ranks_unanswered() {
        let records = vec![
            rec("a", "answer", None),
            rec("x", "fallback", None),
            rec("x", "fallback", None),
            rec("y", "clarify", None),
            rec("x", "handoff", Some("unresolved")),
            rec("z", "handoff", Some("complaint")),
        ];
        let r = summarize(&records, 2);
        assert_eq!(r.turns, 6);
        assert!((r.answer_rate - 1.0 / 6.0).abs() < 1e-6);
        assert_eq!(r.handoffs["unresolved"], 1);
        assert_eq!(r.unanswered, vec![("x".to_owned(), 3), ("y".to_owned(), 1)]);
    }

    #[test]
    fn the_log_masks_and_the_reader_reports_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/turns.jsonl");
        let log = TurnLog::open(&LogConfig { path: path.clone(), mask_pii: true }).unwrap();
        log.write(rec("我的手机13812345678", "answer", None));
        log.write(TurnRecord {
            session: "wx-138 1234 5678".into(),
            channel: Some("sms:+86 13812345678".into()),
            ..rec("卡号６２２２　０２１２　３４５６　７８９０", "answer", None)
        });
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{broken\n").unwrap();
        log.write(rec("b", "fallback", None));
        let (records, problems) = read_log(&path).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[0].text, "我的手机138****5678");
        assert_eq!(records[0].user.as_deref(), Some("138****5678"));
        assert_eq!(records[1].text, "卡号************7890");
        assert_eq!(records[1].session, "wx-138****5678");
        assert_eq!(records[1].channel.as_deref(), Some("sms:138****5678"));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, 3);
    }
}
