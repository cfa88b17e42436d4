//! The turn log: one JSON line per customer turn, personal data masked, ids
//! pseudonymised, rotated by size and age; and the report over it (`bizbot report`).

mod report;
mod rotate;

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub use report::{Csat, Day, Report, Scores, Share, read_log, summarize, summarize_with, utc_day};
pub use rotate::{RotatePolicy, RotatingFile};

use crate::text::mask_pii;

/// Turn log settings (`[log]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// JSON-lines file, appended to; empty = no turn log (restart-only).
    pub path: PathBuf,
    /// Mask mobile, ID card and bank card numbers in logged text, channel and ids.
    pub mask_pii: bool,
    /// Write session and customer ids as keyed hashes (`h:` + 16 hex digits):
    /// turns of one session still group, the raw id is not on disk.
    pub pseudonymize_ids: bool,
    /// Secret key of those hashes (set `BIZBOT__LOG__ID_KEY`); empty = a random
    /// key per process, so pseudonyms only link turns within one run.
    pub id_key: String,
    /// Start a new file before the current one would exceed this many MiB; 0 = never.
    pub max_mb: u64,
    /// Start a new file when the current one is older than this many hours; 0 = never.
    pub max_age_hours: u64,
    /// Rotated files kept (`turns.jsonl.1` newest … `.N`); older ones are deleted.
    pub keep: usize,
}

impl LogConfig {
    /// When its files rotate (also the desk's dead letters).
    pub fn rotate_policy(&self) -> RotatePolicy {
        RotatePolicy {
            max_bytes: self.max_mb.saturating_mul(1 << 20),
            max_age: (self.max_age_hours > 0).then(|| Duration::from_secs(self.max_age_hours * 3600)),
            keep: self.keep,
        }
    }
}

/// One logged turn.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnRecord {
    /// Unix time in milliseconds.
    pub ts_ms: u64,
    /// Session id (pseudonymised or masked).
    pub session: String,
    /// Channel, if given (masked).
    pub channel: Option<String>,
    /// Customer id, if given (pseudonymised or masked).
    pub user: Option<String>,
    /// Customer text (masked).
    pub text: String,
    /// answer | clarify | ask_slot | handoff | fallback; `feedback` for a 👍/👎 on
    /// an earlier turn (`turn`, `helpful`) and `rating` for the conversation's 1–5
    /// score (`score_given`, comment in `text`), which are not turns themselves.
    pub action: String,
    /// Matched entry or scenario.
    pub match_id: Option<String>,
    /// Its confidence.
    pub score: Option<f32>,
    /// Hand-off reason.
    pub handoff_reason: Option<String>,
    /// Turn latency.
    pub latency_ms: f64,
    /// The session's turn number (the rated turn for `feedback`).
    #[serde(default)]
    pub turn: u64,
    /// Entries offered to pick from (by a clarification, or beside a request to log
    /// in).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
    /// The rating, for `feedback`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helpful: Option<bool>,
    /// The conversation's 1–5 score, for `rating` (its comment is `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_given: Option<u8>,
    /// How the message was read when not alone: `context` (ranked with the
    /// customer's previous message joined before it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_with: Option<String>,
    /// Entries a correction ("不是，我是问…") ruled out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ruled_out: Vec<String>,
    /// Why the model did not run, when it did not (`pick`, `detail`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub without_model: Option<String>,
    /// For the events of a person's work (`agent_claim`, `agent_message`,
    /// `agent_close`, `agent_transfer`, `agent_timeout`): the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// How long the conversation waited for a person, ms (claims, closes, waits
    /// run out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_ms: Option<u64>,
    /// How long the agent held it, ms (closes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled_ms: Option<u64>,
    /// Whether the agent solved the problem, when the close said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<bool>,
}

/// Appends turn records.
#[derive(Debug)]
pub struct TurnLog {
    file: Option<Mutex<RotatingFile>>,
    mask: bool,
    /// HMAC key when ids are pseudonymised.
    id_key: Option<Vec<u8>>,
}

impl TurnLog {
    /// Open (create) the log file; an empty path disables logging.
    pub fn open(config: &LogConfig) -> std::io::Result<Self> {
        let id_key = config
            .pseudonymize_ids
            .then(|| if config.id_key.is_empty() { random_key() } else { config.id_key.as_bytes().to_vec() });
        if config.path.as_os_str().is_empty() {
            return Ok(Self { file: None, mask: config.mask_pii, id_key });
        }
        if let Some(dir) = config.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = RotatingFile::open(&config.path, config.rotate_policy())?;
        Ok(Self { file: Some(Mutex::new(file)), mask: config.mask_pii, id_key })
    }

    /// Append one record (masking first). A failed write is logged, not fatal:
    /// the customer's turn matters more than its log line.
    pub fn write(&self, mut record: TurnRecord) {
        let Some(file) = &self.file else { return };
        if let Some(key) = &self.id_key {
            // Hash the raw ids (masking first would merge different customers).
            record.session = pseudonym(key, &record.session);
            record.user = record.user.map(|u| pseudonym(key, &u));
        } else if self.mask {
            record.user = record.user.map(|u| mask_pii(&u));
            record.session = mask_pii(&record.session);
        }
        if self.mask {
            record.text = mask_pii(&record.text);
            record.channel = record.channel.map(|c| mask_pii(&c));
        }
        let mut line = match serde_json::to_string(&record) {
            Ok(line) => line,
            Err(e) => return tracing::warn!("turn log: cannot serialise: {e}"),
        };
        line.push('\n');
        let mut file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = file.append(line.as_bytes()) {
            tracing::warn!("turn log: cannot write: {e}");
        }
    }

    /// The key ids are pseudonymised with, when they are: other files the bot
    /// writes (the desk's dead letters) use the same, so their lines join the log's.
    pub fn id_key(&self) -> Option<&[u8]> {
        self.id_key.as_deref()
    }

    /// Push written lines to disk; failures are logged.
    pub fn flush(&self) {
        let Some(file) = &self.file else { return };
        let file = file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = file.sync() {
            tracing::warn!("turn log: cannot sync: {e}");
        }
    }
}

/// `h:` and the first 8 bytes of HMAC-SHA256(`key`, `id`) in hex.
pub fn pseudonym(key: &[u8], id: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    let digest = mac.finalize().into_bytes();
    let mut out = String::from("h:");
    for b in &digest[..8] {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// 32 random bytes from the OS (or, failing that, from the process's hasher
/// seeds and the clock).
fn random_key() -> Vec<u8> {
    use std::io::Read;
    let mut key = vec![0u8; 32];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut key)).is_ok() {
        return key;
    }
    use std::hash::{BuildHasher, Hasher};
    let mut out = Vec::with_capacity(32);
    for i in 0..4u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(i);
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
        out.extend_from_slice(&h.finish().to_le_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn config(path: &std::path::Path, id_key: Option<&str>) -> LogConfig {
        LogConfig {
            path: path.to_owned(),
            mask_pii: true,
            pseudonymize_ids: id_key.is_some(),
            id_key: id_key.unwrap_or_default().to_owned(),
            max_mb: 0,
            max_age_hours: 0,
            keep: 1,
        }
    }

    fn rec(text: &str, action: &str, reason: Option<&str>) -> TurnRecord {
        TurnRecord {
            session: "s".into(),
            user: Some("13812345678".into()),
            text: text.into(),
            action: action.into(),
            handoff_reason: reason.map(str::to_owned),
            latency_ms: 1.0,
            turn: 1,
            ..TurnRecord::default()
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
        assert_eq!(r.follow_ups.turns, 0);
    }

    #[test]
    fn follow_ups_read_with_context_are_counted_apart() {
        let follow_up =
            |text: &str, action: &str| TurnRecord { read_with: Some("context".into()), ..rec(text, action, None) };
        let records =
            vec![rec("宽带多少钱", "answer", None), follow_up("那安装呢", "answer"), follow_up("要多久", "clarify")];
        let r = summarize(&records, 5);
        assert_eq!((r.follow_ups.turns, r.follow_ups.answered), (2, 1));
        assert_eq!(r.unanswered_follow_ups, vec![("要多久".to_owned(), 1)]);
        // The fields survive the log's JSON and are left out when empty.
        let line = serde_json::to_string(&records[1]).unwrap();
        assert!(line.contains("\"read_with\":\"context\"") && !line.contains("ruled_out"), "{line}");
        assert_eq!(serde_json::from_str::<TurnRecord>(&line).unwrap(), records[1]);
    }

    #[test]
    fn people_are_counted_apart_from_the_bots_turns() {
        let at = |session: &str, r: TurnRecord| TurnRecord { session: session.into(), ..r };
        let desk = |action: &str, waited: Option<u64>, handled: Option<u64>, resolved: Option<bool>| TurnRecord {
            agent: Some("王芳".into()),
            waited_ms: waited,
            handled_ms: handled,
            resolved,
            ..rec("", action, None)
        };
        let records = vec![
            at("bot", rec("宽带多少钱", "answer", None)),
            at("p1", rec("我要投诉", "handoff", Some("complaint"))),
            at("p1", desk("agent_claim", Some(4_000), None, None)),
            at("p1", desk("agent_message", Some(4_000), None, None)),
            at("p1", desk("agent_close", Some(4_000), Some(60_000), Some(true))),
            at("p2", rec("转人工", "handoff", Some("human_requested"))),
            at("p2", desk("agent_claim", Some(10_000), None, None)),
            at("p2", desk("agent_close", Some(10_000), Some(30_000), Some(false))),
            at("p3", rec("转人工", "handoff", Some("human_requested"))),
            at("p3", desk("agent_timeout", Some(300_000), None, None)),
        ];
        let r = summarize(&records, 5);
        assert_eq!(r.turns, 4, "the people's work is not the bot's turns");
        assert_eq!(r.handoffs.values().sum::<usize>(), 3);
        let p = &r.people;
        assert_eq!((p.conversations, p.resolved_by_bot, p.handed_off, p.claimed), (4, 1, 3, 2));
        assert_eq!((p.resolved_by_person, p.unresolved_by_person, p.waits_run_out), (1, 1, 1));
        assert_eq!((p.waiting_ms.count, p.waiting_ms.median, p.waiting_ms.p90), (2, 4_000, 10_000));
        assert_eq!((p.handling_ms.median, p.handling_ms.p90), (30_000, 60_000));
    }

    #[test]
    fn the_log_masks_and_the_reader_reports_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("logs/turns.jsonl");
        let log = TurnLog::open(&config(&path, None)).unwrap();
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

    #[test]
    fn ids_are_pseudonymised_with_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("turns.jsonl");
        let log = TurnLog::open(&config(&path, Some("k1"))).unwrap();
        log.write(rec("a", "answer", None));
        log.write(TurnRecord { session: "s2".into(), user: Some("13812345679".into()), ..rec("b", "answer", None) });
        log.write(rec("c", "answer", None));
        let (records, _) = read_log(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("1381234567") && !text.contains("\"s\""), "{text}");
        assert_eq!(records[0].session, pseudonym(b"k1", "s"));
        assert_eq!(records[0].session, records[2].session);
        assert_ne!(records[0].session, records[1].session);
        // Two customers whose masked ids would be equal keep distinct pseudonyms.
        assert_ne!(records[0].user, records[1].user);
        assert!(records[0].session.starts_with("h:") && records[0].session.len() == 18);
        assert_ne!(pseudonym(b"k1", "s"), pseudonym(b"k2", "s"));
    }

    #[test]
    fn report_groups_by_channel_category_and_day() {
        let at = |ts_ms, channel: Option<&str>, action: &str, id: Option<&str>, reason: Option<&str>| TurnRecord {
            ts_ms,
            channel: channel.map(str::to_owned),
            match_id: id.map(str::to_owned),
            ..rec("t", action, reason)
        };
        let day1 = 1_795_392_000_000; // 2026-11-23 00:00 UTC
        let day2 = day1 + 86_400_000 + 5;
        let records = vec![
            at(day1, Some("web"), "answer", Some("a"), None),
            at(day1 + 1, Some("web"), "fallback", None, None),
            at(day1 + 2, Some("sms"), "handoff", Some("b"), Some("complaint")),
            at(day2, None, "answer", Some("zz"), None),
        ];
        let r = summarize_with(&records, 5, |id| match id {
            "a" => Some("话费".into()),
            "b" => Some("宽带".into()),
            _ => None,
        });
        assert_eq!(r.by_channel["web"], Share { turns: 2, answered: 1, answer_rate: 0.5 });
        assert_eq!(r.by_channel["(none)"].turns, 1);
        assert_eq!(r.by_category["话费"].answered, 1);
        assert_eq!(r.by_category["宽带"].answer_rate, 0.0);
        assert_eq!(r.by_category["(no match)"].turns, 1);
        assert_eq!(r.by_category["(unknown)"].turns, 1);
        assert_eq!(r.by_day.keys().collect::<Vec<_>>(), ["2026-11-23", "2026-11-24"]);
        assert_eq!(r.by_day["2026-11-23"].reasons["complaint"], 1);
        assert!((r.by_day["2026-11-23"].handoff_rate - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(utc_day(0), "1970-01-01");
        assert_eq!(utc_day(951_782_400_000), "2000-02-29");
    }

    #[test]
    fn conversation_ratings_group_by_handoff_reason_and_category() {
        let rating = |session: &str, score| TurnRecord {
            session: session.into(),
            score_given: Some(score),
            ..rec("", "rating", None)
        };
        let records = vec![
            TurnRecord { session: "a".into(), match_id: Some("x".into()), ..rec("t", "answer", None) },
            rating("a", 5),
            TurnRecord { session: "b".into(), ..rec("t", "handoff", Some("complaint")) },
            rating("b", 1),
            rating("b", 2),
        ];
        let r = summarize_with(&records, 5, |_| Some("话费".into()));
        assert_eq!(r.turns, 2, "ratings are not turns");
        assert_eq!(r.csat.overall.ratings, 3);
        assert!((r.csat.overall.satisfied - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(r.csat.by_handoff_reason["complaint"].ratings, 2);
        assert!((r.csat.by_handoff_reason["complaint"].mean - 1.5).abs() < 1e-6);
        assert_eq!(r.csat.by_handoff_reason["none"].ratings, 1);
        assert_eq!(r.csat.by_category["话费"].ratings, 1);
        assert_eq!(r.csat.by_category["(no match)"].ratings, 2);
    }
}
