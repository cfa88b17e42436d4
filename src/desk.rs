//! The agent desk a company already runs, reached by a webhook: hand-offs and the
//! customer's messages while an agent holds the conversation are POSTed to it as
//! JSON, signed with HMAC-SHA256, from a background thread with a timeout and
//! retries. A delivery that still fails is logged, counted and written to a
//! dead-letter file (text masked), never dropped silently.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::dialogue::Handoff;
use crate::text::mask_pii;
use crate::turnlog::{RotatePolicy, RotatingFile, pseudonym};

/// Agent desk settings (`[desk]` in bizbot.toml; restart-only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    /// Where hand-offs and messages are POSTed; empty = no desk (after a hand-off
    /// the bot keeps answering).
    pub webhook_url: String,
    /// HMAC key of the `X-Bizbot-Signature` header (set `BIZBOT__DESK__SECRET`).
    pub secret: String,
    /// Timeout of one delivery attempt.
    pub timeout_ms: u64,
    /// Further attempts after a failed one (1 s, 2 s, 4 s … apart).
    pub retries: u32,
    /// Deliveries that failed every attempt are appended here (JSON lines,
    /// customer text masked); empty = not kept.
    pub dead_letter: PathBuf,
    /// A conversation waiting for a person longer than this many seconds goes
    /// back to the bot, which asks for a number to call back; 0 = no limit.
    pub max_wait_secs: u64,
    /// When agents work, `HH:MM-HH:MM` in local time (may run past midnight);
    /// empty = always. Outside, a hand-off asks for a number to call back.
    pub hours: String,
    /// Local time's offset from UTC in hours (China: 8).
    pub utc_offset_hours: i32,
    /// Bearer token of the agents' endpoints (`/v1/agent/*`, `/v1/assist`,
    /// session release); the admin token works there too. Empty: only the admin
    /// token.
    pub agent_token: String,
    /// Agents answer in the customer's window (`/agent`, `/v1/agent/*`): a
    /// hand-off waits in a queue for one instead of the bot answering on.
    pub live_agents: bool,
}

impl DeskConfig {
    /// Whether a person can take a hand-off: agents in the window or a webhook.
    pub fn takes_handoffs(&self) -> bool {
        self.live_agents || !self.webhook_url.trim().is_empty()
    }

    /// Whether agents work at Unix time `now_secs`.
    pub fn agents_available(&self, now_secs: u64) -> bool {
        let Ok(Some((start, end))) = parse_hours(&self.hours) else { return true };
        let local = now_secs as i64 + i64::from(self.utc_offset_hours) * 3600;
        let minute = (local.rem_euclid(86_400) / 60) as u32;
        if start <= end { (start..end).contains(&minute) } else { minute >= start || minute < end }
    }
}

/// `HH:MM-HH:MM` as minutes of the day; `None` for an empty string (always).
pub fn parse_hours(hours: &str) -> Result<Option<(u32, u32)>, String> {
    if hours.trim().is_empty() {
        return Ok(None);
    }
    let minute = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
    };
    let parsed = hours.split_once('-').and_then(|(a, b)| Some((minute(a)?, minute(b)?)));
    match parsed {
        Some((a, b)) if a != b => Ok(Some((a, b))),
        _ => Err(format!("desk.hours = {hours:?} is not like 08:00-22:00")),
    }
}

/// The customer in an event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeskCustomer {
    /// Customer id, if known.
    pub id: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
}

/// What the desk receives.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DeskEvent {
    /// A conversation is handed to a person.
    Handoff {
        /// The session.
        session_id: String,
        /// The channel, if given.
        channel: Option<String>,
        /// Who.
        customer: DeskCustomer,
        /// Reason, queue, summary, transcript, suggested answers.
        #[serde(flatten)]
        handoff: Handoff,
        /// Unix ms.
        ts_ms: u64,
    },
    /// After a hand-off outside agent hours the customer left a number to call.
    Callback {
        /// The session.
        session_id: String,
        /// Who.
        customer: DeskCustomer,
        /// The mobile number to call, 11 digits.
        phone: String,
        /// The conversation so far.
        transcript: Vec<crate::dialogue::TranscriptLine>,
        /// Unix ms.
        ts_ms: u64,
    },
    /// A customer message while an agent holds the conversation.
    Message {
        /// The session.
        session_id: String,
        /// Who.
        customer: DeskCustomer,
        /// What they wrote.
        text: String,
        /// Unix ms.
        ts_ms: u64,
    },
    /// What agents in the customer's window did, as the customer's widget hears
    /// it (`"type"`: `state` on a claim, transfer, close or a wait run out;
    /// `message` for an agent's reply).
    Live {
        /// The session.
        session_id: String,
        /// The event.
        #[serde(flatten)]
        body: crate::live::EventBody,
        /// Unix ms.
        ts_ms: u64,
    },
}

impl DeskEvent {
    /// The event as a dead letter keeps it: text masked, the session and customer
    /// ids pseudonymised with `id_key` (masked without one), channel and tags masked.
    fn masked(&self, id_key: Option<&[u8]>) -> serde_json::Value {
        let mut v = serde_json::to_value(self).unwrap_or_default();
        let id = |raw: &str| id_key.map_or_else(|| mask_pii(raw), |key| pseudonym(key, raw));
        if let Some(session) = v.get("session_id").and_then(|t| t.as_str()).map(id) {
            v["session_id"] = session.into();
        }
        if let Some(customer) = v.get("customer").and_then(|c| c.get("id")).and_then(|t| t.as_str()).map(id) {
            v["customer"]["id"] = customer.into();
        }
        if let Some(tags) = v.get_mut("customer").and_then(|c| c.get_mut("tags")).and_then(|t| t.as_array_mut()) {
            for tag in tags {
                if let Some(masked) = tag.as_str().map(mask_pii) {
                    *tag = masked.into();
                }
            }
        }
        for field in ["text", "summary", "phone", "channel"] {
            if let Some(text) = v.get(field).and_then(|t| t.as_str()).map(mask_pii) {
                v[field] = text.into();
            }
        }
        if let Some(lines) = v.get_mut("transcript").and_then(|t| t.as_array_mut()) {
            for line in lines {
                if let Some(text) = line.get("text").and_then(|t| t.as_str()).map(mask_pii) {
                    line["text"] = text.into();
                }
            }
        }
        v
    }
}

/// Delivery counters, for `/metrics`.
#[derive(Debug, Default)]
pub struct DeskStats {
    /// Events delivered.
    pub delivered: AtomicU64,
    /// Events that failed every attempt (or found the queue full).
    pub failed: AtomicU64,
}

/// The connection to the desk: a queue and the thread that empties it.
#[derive(Debug)]
pub struct Desk {
    queue: SyncSender<DeskEvent>,
    stats: Arc<DeskStats>,
    dead_letters: Arc<DeadLetters>,
}

/// Where undeliverable events go: a file rotated and capped like the turn log, its
/// text masked and its ids written as the turn log writes them (keyed hashes by
/// default, `log.pseudonymize_ids`).
#[derive(Debug)]
pub struct DeadLetters {
    path: PathBuf,
    policy: RotatePolicy,
    id_key: Option<Vec<u8>>,
    file: std::sync::Mutex<Option<RotatingFile>>,
}

impl DeadLetters {
    /// Dead letters at `path` (empty: none kept), rotated by `policy`, ids
    /// pseudonymised with `id_key` (the turn log's).
    pub fn new(path: PathBuf, policy: RotatePolicy, id_key: Option<Vec<u8>>) -> Self {
        Self { path, policy, id_key, file: std::sync::Mutex::new(None) }
    }

    fn write(&self, event: &DeskEvent, why: &str) {
        if self.path.as_os_str().is_empty() {
            return;
        }
        let line = serde_json::json!({"error": mask_pii(why), "event": event.masked(self.id_key.as_deref())})
            .to_string()
            + "\n";
        let mut file = self.file.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let written = match &mut *file {
            Some(f) => f.append(line.as_bytes()),
            None => {
                if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    let _ = std::fs::create_dir_all(dir);
                }
                RotatingFile::open(&self.path, self.policy).and_then(|mut f| {
                    let written = f.append(line.as_bytes());
                    *file = Some(f);
                    written
                })
            }
        };
        if let Err(e) = written {
            tracing::error!("desk: cannot write the dead letter {}: {e}", self.path.display());
        }
    }
}

/// Events waiting for delivery at most; beyond, events go to the dead letters.
const QUEUE: usize = 10_000;

/// `sha256=` and the hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`:
/// the value of `X-Bizbot-Signature` (the timestamp is `X-Bizbot-Timestamp`).
pub fn signature(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

impl Desk {
    /// Start the delivery thread; `None` when no webhook is configured.
    pub fn start(config: &DeskConfig, dead_letters: DeadLetters) -> Option<Self> {
        if config.webhook_url.trim().is_empty() {
            return None;
        }
        let (queue, events) = std::sync::mpsc::sync_channel(QUEUE);
        let stats = Arc::new(DeskStats::default());
        let dead_letters = Arc::new(dead_letters);
        let worker =
            Worker { config: config.clone(), stats: Arc::clone(&stats), dead_letters: Arc::clone(&dead_letters) };
        std::thread::Builder::new()
            .name("bizbot-desk".into())
            .spawn(move || worker.run(&events))
            .map_err(|e| tracing::error!("desk: cannot start the delivery thread: {e}"))
            .ok()?;
        Some(Self { queue, stats, dead_letters })
    }

    /// Queue `event` for delivery (never blocks the turn).
    pub fn send(&self, event: DeskEvent) {
        match self.queue.try_send(event) {
            Ok(()) => {}
            Err(TrySendError::Full(event) | TrySendError::Disconnected(event)) => {
                tracing::error!("desk: delivery queue full or stopped; event kept as a dead letter");
                self.dead_letters.write(&event, "queue full");
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Delivery counters.
    pub fn stats(&self) -> &DeskStats {
        &self.stats
    }
}

struct Worker {
    config: DeskConfig,
    stats: Arc<DeskStats>,
    dead_letters: Arc<DeadLetters>,
}

impl Worker {
    fn run(self, events: &Receiver<DeskEvent>) {
        let agent = ureq::Agent::new_with_config(
            ureq::config::Config::builder()
                .timeout_global(Some(Duration::from_millis(self.config.timeout_ms.max(1))))
                .http_status_as_error(false)
                .build(),
        );
        while let Ok(event) = events.recv() {
            let body = serde_json::to_vec(&event).unwrap_or_default();
            let mut last = String::new();
            let mut delivered = false;
            for attempt in 0..=self.config.retries {
                if attempt > 0 {
                    std::thread::sleep(Duration::from_secs(1 << (attempt - 1).min(5)));
                }
                let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
                let result = agent
                    .post(&self.config.webhook_url)
                    .header("content-type", "application/json")
                    .header("x-bizbot-timestamp", &ts.to_string())
                    .header("x-bizbot-signature", &signature(&self.config.secret, ts, &body))
                    .send(&body[..]);
                match result {
                    Ok(r) if r.status().is_success() => {
                        delivered = true;
                        break;
                    }
                    Ok(r) => last = format!("HTTP {}", r.status().as_u16()),
                    Err(e) => last = e.to_string(),
                }
            }
            if delivered {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
            } else {
                tracing::error!("desk: delivery failed after {} attempt(s): {last}", self.config.retries + 1);
                // Written before counted: whoever sees the count finds the letter.
                self.dead_letters.write(&event, &last);
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_covers_timestamp_and_body() {
        let s = signature("k", 1_700_000_000, b"{\"a\":1}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64, "{s}");
        assert_ne!(s, signature("k", 1_700_000_001, b"{\"a\":1}"));
        assert_ne!(s, signature("k", 1_700_000_000, b"{\"a\":2}"));
        assert_ne!(s, signature("other", 1_700_000_000, b"{\"a\":1}"));
    }

    #[test]
    fn a_desk_that_never_answers_leaves_dead_letters_with_masked_text() {
        let dir = tempfile::tempdir().unwrap();
        let dead = dir.path().join("dead.jsonl");
        let config = DeskConfig {
            webhook_url: "http://127.0.0.1:9/hook".into(),
            secret: "s".into(),
            timeout_ms: 200,
            retries: 1,
            dead_letter: dead.clone(),
            max_wait_secs: 0,
            hours: String::new(),
            utc_offset_hours: 8,
            agent_token: String::new(),
            live_agents: false,
        };
        // Small files: every letter rotates the last one out, two are kept.
        let policy = RotatePolicy { max_bytes: 10, max_age: None, keep: 2 };
        let letters = || DeadLetters::new(dead.clone(), policy, Some(b"key".to_vec()));
        let desk = Desk::start(&config, letters()).unwrap();
        let sent = 4;
        for n in 0..sent {
            desk.send(DeskEvent::Message {
                session_id: format!("session-{n}"),
                customer: DeskCustomer { id: Some("u1001".into()), tags: vec!["13900001111".into()] },
                text: "我的手机13812345678，邮箱 zhang@example.com".into(),
                ts_ms: 0,
            });
        }
        for _ in 0..200 {
            if desk.stats().failed.load(Ordering::Relaxed) == sent {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(desk.stats().failed.load(Ordering::Relaxed), sent);
        let text = std::fs::read_to_string(&dead).unwrap();
        assert!(text.contains("138****5678") && !text.contains("13812345678"), "{text}");
        for raw in ["zhang@example.com", "session-3", "u1001", "13900001111"] {
            assert!(!text.contains(raw), "{raw} in {text}");
        }
        assert!(text.contains(&pseudonym(b"key", "u1001")), "{text}");
        let files = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(files, 3, "the dead letters and two rotated files, no more");
        assert!(Desk::start(&DeskConfig { webhook_url: String::new(), ..config }, letters()).is_none());
    }

    #[test]
    fn agent_hours_in_local_time_also_past_midnight() {
        let config = |hours: &str| DeskConfig {
            webhook_url: String::new(),
            secret: String::new(),
            timeout_ms: 1,
            retries: 0,
            dead_letter: PathBuf::new(),
            max_wait_secs: 0,
            hours: hours.into(),
            utc_offset_hours: 8,
            agent_token: String::new(),
            live_agents: false,
        };
        let at = |h: u64, m: u64| ((h + 24 - 8) % 24) * 3600 + m * 60; // local h:m as UTC seconds
        let day = config("08:00-22:00");
        assert!(!day.agents_available(at(7, 59)));
        assert!(day.agents_available(at(8, 0)));
        assert!(day.agents_available(at(21, 59)));
        assert!(!day.agents_available(at(22, 0)));
        let night = config("20:00-02:00");
        assert!(night.agents_available(at(23, 0)) && night.agents_available(at(1, 0)));
        assert!(!night.agents_available(at(12, 0)));
        assert!(config("").agents_available(at(3, 0)));
        for bad in ["8-22", "08:00", "25:00-26:00", "08:00-08:00", "08:61-09:00"] {
            assert!(parse_hours(bad).is_err(), "{bad}");
        }
    }
}
