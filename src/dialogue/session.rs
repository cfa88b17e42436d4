//! Conversation state per session, kept in memory with a TTL, a count bound and a
//! byte budget.
//!
//! Turns of one session run one at a time: a session sits behind an async-aware
//! lock, so a turn waiting for the previous one of its session waits without
//! holding a thread, and a session with too many waiting turns refuses more.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::{Mutex, OwnedMutexGuard};

use serde::{Deserialize, Serialize};

use crate::knowledge::{FaqId, ScenarioId};

/// Session settings (`[session]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// Seconds of inactivity after which a session is forgotten.
    pub ttl_secs: u64,
    /// Most sessions kept; the least recently used go first.
    pub capacity: u64,
    /// Transcript lines kept per session (older ones are dropped).
    pub max_transcript: usize,
    /// Characters of transcript text kept per session (older lines are dropped).
    pub max_transcript_chars: usize,
    /// Memory budget of all sessions together, in MiB (estimated from their
    /// contents); the least recently used go first when it is exceeded.
    pub max_memory_mb: u64,
    /// Where sessions live.
    pub store: StoreKind,
    /// The Redis server for `store = "redis"`.
    pub redis_url: String,
    /// Prefix of every Redis key.
    pub redis_prefix: String,
    /// Milliseconds a turn may hold a session's lock in Redis.
    pub lock_ms: u64,
}

/// Where sessions live (`session.store`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// In this process.
    Memory,
    /// In Redis, shared by replicas.
    Redis,
}

/// Who said a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The customer.
    Customer,
    /// The bot.
    Bot,
    /// A person at the agent desk.
    Agent,
    /// A notice of the service itself (a long wait, a conversation closed).
    System,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TranscriptLine {
    /// Turn number.
    pub turn: u64,
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
}

/// The problem a conversation is working on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// A question an FAQ entry answers.
    Faq(FaqId),
    /// A business flow with a back-end look-up.
    Scenario(ScenarioId),
}

/// What the bot is waiting for.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pending {
    /// Nothing.
    #[default]
    Nothing,
    /// A choice among these entries ("您是不是想问"), and a scenario offered after
    /// them.
    Choice {
        /// The entries, in the order offered.
        faqs: Vec<FaqId>,
        /// A scenario offered as the last choice.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scenario: Option<ScenarioId>,
    },
    /// A hand-off outside agent hours asked for a number to call back.
    Callback,
    /// A scenario waiting for a slot; the slots filled so far.
    Slot {
        /// The scenario.
        scenario: ScenarioId,
        /// Slot name → value.
        filled: BTreeMap<String, String>,
    },
}

/// The part of a session that decisions read and write: a pure decision takes
/// one and returns the next.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct DialogueState {
    /// The problem being worked on.
    pub problem: Option<Problem>,
    /// Consecutive unresolved turns (see `escalation::next_streak`).
    pub unresolved: u32,
    /// A turn of the current streak understood nothing (a fallback): the customer
    /// is lost, not moving from one question to the next.
    pub lost: bool,
    /// What the bot asked for.
    pub pending: Pending,
    /// A person at the agent desk holds the conversation: the bot forwards the
    /// customer's messages and does not answer until the desk releases it.
    pub with_agent: bool,
}

/// The state of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Session {
    /// Turns so far.
    pub turn: u64,
    /// Problem, unresolved streak, pending question.
    pub state: DialogueState,
    /// The conversation, newest last.
    pub transcript: Vec<TranscriptLine>,
    /// The verified customer the conversation belongs to, as a keyed hash
    /// (`IdentityConfig::owner_tag`); `None` while nobody logged in proved who
    /// they are. Once set, only that customer's token opens the session.
    pub owner: Option<String>,
    /// The first turn the owner spoke: what came before (somebody anonymous, who
    /// knew the session id) is never shown to them.
    pub owner_since: u64,
    /// The place of a conversation handed to a person: waiting in a queue, or
    /// held by an agent. `None` while the bot holds it. Set with
    /// `state.with_agent` and cleared with it.
    pub seat: Option<Seat>,
}

/// Who holds a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Holder {
    /// The bot answers.
    Bot,
    /// Handed off, waiting for a person.
    Queued,
    /// A person (an agent) holds it.
    Agent,
}

/// A conversation handed to a person: where it waits and who took it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Seat {
    /// The queue it waits in (the problem's category, or another an agent
    /// transferred it to).
    pub queue: String,
    /// Why the bot handed it off.
    pub reason: super::HandoffReason,
    /// The one-line summary the hand-off gave.
    pub summary: String,
    /// When it was handed off, Unix ms.
    pub queued_ms: u64,
    /// The agent holding it, once claimed.
    #[serde(default)]
    pub agent: Option<String>,
    /// When the agent claimed it, Unix ms.
    #[serde(default)]
    pub claimed_ms: Option<u64>,
    /// The customer's id, if known.
    #[serde(default)]
    pub customer: Option<String>,
    /// The customer's tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// The channel the customer writes from.
    #[serde(default)]
    pub channel: Option<String>,
    /// The profile the customer's site sent (`user.profile`: name, plan, …).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub profile: serde_json::Value,
}

impl Seat {
    /// Waiting or held.
    pub fn holder(&self) -> Holder {
        if self.agent.is_some() { Holder::Agent } else { Holder::Queued }
    }
}

impl SessionConfig {
    /// The transcript bound.
    pub fn transcript_limit(&self) -> TranscriptLimit {
        TranscriptLimit { lines: self.max_transcript, chars: self.max_transcript_chars }
    }
}

/// How much transcript a session keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TranscriptLimit {
    /// Lines.
    pub lines: usize,
    /// Characters of text over all lines.
    pub chars: usize,
}

impl Session {
    /// Who holds the conversation.
    pub fn holder(&self) -> Holder {
        self.seat.as_ref().map_or(Holder::Bot, Seat::holder)
    }

    /// Whether a request for `owner` (its tag; `None`: not verified) may use this
    /// session: an owned session only by its owner, an unowned one by anybody.
    /// With `bind` (a customer turn), the first verified customer becomes the
    /// owner from the coming turn on. `Some(turn)`: admitted, and the first turn of
    /// the transcript this customer may see (`u64::MAX` for nobody verified).
    pub fn admit(&mut self, owner: Option<&str>, bind: bool) -> Option<u64> {
        match (&self.owner, owner) {
            (Some(mine), given) => (given == Some(mine.as_str())).then_some(self.owner_since),
            (None, Some(given)) if bind => {
                self.owner = Some(given.to_owned());
                self.owner_since = self.turn + 1;
                Some(self.owner_since)
            }
            (None, _) => Some(u64::MAX),
        }
    }

    /// Add a line, then drop the oldest lines beyond `limit` (the newest line is
    /// always kept, cut to `limit.chars` characters).
    pub fn record(&mut self, speaker: Speaker, text: &str, limit: TranscriptLimit) {
        let text: String = text.chars().take(limit.chars.max(1)).collect();
        self.transcript.push(TranscriptLine { turn: self.turn, speaker, text });
        let mut kept_chars = 0;
        let mut keep = 0;
        for line in self.transcript.iter().rev() {
            let n = line.text.chars().count();
            if keep > 0 && (keep == limit.lines.max(1) || kept_chars + n > limit.chars) {
                break;
            }
            kept_chars += n;
            keep += 1;
        }
        let excess = self.transcript.len() - keep;
        self.transcript.drain(..excess);
    }

    /// Rough bytes this session holds in memory (for the store's budget).
    pub fn estimated_bytes(&self) -> usize {
        let lines: usize = self.transcript.iter().map(|l| l.text.len() + std::mem::size_of::<TranscriptLine>()).sum();
        let pending = match &self.state.pending {
            Pending::Nothing | Pending::Callback => 0,
            Pending::Choice { faqs, scenario } => {
                let ids = faqs.iter().map(|id| id.as_str().len()).chain(scenario.iter().map(|id| id.as_str().len()));
                ids.map(|n| n + 24).sum()
            }
            Pending::Slot { filled, .. } => filled.iter().map(|(k, v)| k.len() + v.len() + 48).sum(),
        };
        let owner = self.owner.as_ref().map_or(0, String::len);
        let seat =
            self.seat.as_ref().map_or(0, |s| s.summary.len() + s.queue.len() + s.profile.to_string().len() + 128);
        std::mem::size_of::<Session>() + lines + pending + owner + seat + ENTRY_OVERHEAD
    }
}

/// What holding a session costs besides its own fields: the store's entry (key,
/// hashing and expiry bookkeeping), the slot, its lock and its `Arc`s, and the
/// allocator's rounding. A probe of the release server measured about 3.9 KB of
/// resident memory per one-turn session where the fields were estimated at 2.5 KB
/// with a 256-byte allowance; this allowance makes up the difference
/// (`scripts/reliability.sh` measures it again).
const ENTRY_OVERHEAD: usize = 1700;

/// A session and the turns waiting for it.
#[derive(Debug, Default)]
pub struct SessionSlot {
    session: Arc<Mutex<Session>>,
    waiting: AtomicUsize,
    weight: AtomicUsize,
}

/// Why a turn could not have its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an earlier turn of this session is still being answered")]
pub struct SessionBusy;

impl SessionSlot {
    /// The session, waiting on this thread for a turn in progress. Not for async
    /// code (use [`lock_within`](Self::lock_within)).
    pub fn lock_blocking(&self) -> OwnedMutexGuard<Session> {
        Arc::clone(&self.session).blocking_lock_owned()
    }

    /// The problem the session is on, if it is not locked by a turn right now.
    pub fn peek_problem(&self) -> Option<Problem> {
        self.session.try_lock().ok().and_then(|s| s.state.problem.clone())
    }

    /// The session, waiting at most `wait` for a turn in progress, and only when
    /// fewer than `queue` other turns already wait for it.
    pub async fn lock_within(&self, wait: Duration, queue: usize) -> Result<OwnedMutexGuard<Session>, SessionBusy> {
        if let Ok(guard) = Arc::clone(&self.session).try_lock_owned() {
            return Ok(guard);
        }
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(SessionBusy);
        }
        let got = tokio::time::timeout(wait, Arc::clone(&self.session).lock_owned()).await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        got.map_err(|_| SessionBusy)
    }
}

/// All sessions. Each is behind its own lock, so turns of different sessions run
/// in parallel and turns of one session run one at a time.
///
/// Both bounds are kept by one weighted cache: a session weighs its estimated
/// bytes, but at least `budget / capacity`, so neither more than `capacity`
/// sessions nor more than the byte budget are held.
#[derive(Debug, Clone)]
pub struct SessionStore {
    cache: moka::sync::Cache<String, Arc<SessionSlot>>,
    /// Weight of the smallest session: `budget / capacity`.
    floor: u64,
}

impl SessionStore {
    /// An empty store.
    pub fn new(config: &SessionConfig) -> Self {
        let budget = config.max_memory_mb.max(1).saturating_mul(1 << 20);
        let floor = (budget / config.capacity.max(1)).max(1);
        let cache = moka::sync::Cache::builder()
            .max_capacity(budget)
            .weigher(|_, slot: &Arc<SessionSlot>| slot.weight.load(Ordering::Relaxed) as u32)
            .time_to_idle(Duration::from_secs(config.ttl_secs.max(1)))
            .build();
        Self { cache, floor }
    }

    /// The session with `id`, created when new or expired.
    pub fn get_or_create(&self, id: &str) -> Arc<SessionSlot> {
        self.cache.get_with(id.to_owned(), || {
            let slot = SessionSlot::default();
            slot.weight.store(self.floor.max(Session::default().estimated_bytes() as u64) as usize, Ordering::Relaxed);
            Arc::new(slot)
        })
    }

    /// The session with `id`, if it exists.
    pub fn get(&self, id: &str) -> Option<Arc<SessionSlot>> {
        self.cache.get(id)
    }

    /// Re-weigh session `id` after a turn changed it to `session`.
    pub fn update(&self, id: &str, slot: &Arc<SessionSlot>, session: &Session) {
        let bytes = session.estimated_bytes() + id.len();
        let weight = self.floor.max(bytes as u64).min(u64::from(u32::MAX));
        if slot.weight.swap(weight as usize, Ordering::Relaxed) != weight as usize {
            self.cache.insert(id.to_owned(), Arc::clone(slot));
        }
    }

    /// Sessions currently held (approximate).
    pub fn len(&self) -> u64 {
        self.cache.run_pending_tasks();
        self.cache.entry_count()
    }

    /// Whether no session is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(capacity: u64, max_memory_mb: u64) -> SessionConfig {
        SessionConfig {
            ttl_secs: 60,
            capacity,
            max_transcript: 10,
            max_transcript_chars: 100,
            max_memory_mb,
            store: StoreKind::Memory,
            redis_url: String::new(),
            redis_prefix: "bizbot:".into(),
            lock_ms: 15_000,
        }
    }

    #[test]
    fn capacity_bounds_the_store() {
        let store = SessionStore::new(&config(10, 64));
        for i in 0..100 {
            store.get_or_create(&format!("s{i}"));
        }
        assert!(store.len() <= 10, "{}", store.len());
    }

    #[test]
    fn byte_budget_bounds_the_store() {
        let store = SessionStore::new(&config(1_000_000, 1));
        let limit = TranscriptLimit { lines: 50, chars: 10_000 };
        for i in 0..200 {
            let id = format!("s{i}");
            let slot = store.get_or_create(&id);
            let mut session = slot.lock_blocking();
            for _ in 0..5 {
                session.record(Speaker::Customer, &"长".repeat(2_000), limit);
            }
            store.update(&id, &slot, &session);
        }
        store.cache.run_pending_tasks();
        // Each session holds ~30 KB: a 1 MiB budget keeps a few dozen, not 200.
        assert!(store.len() < 60, "{}", store.len());
        assert!(store.cache.weighted_size() <= 1 << 20, "{}", store.cache.weighted_size());
    }

    #[test]
    fn transcript_is_bounded_by_lines() {
        let mut s = Session::default();
        for i in 0..10 {
            s.record(Speaker::Customer, &i.to_string(), TranscriptLimit { lines: 4, chars: 100 });
        }
        assert_eq!(s.transcript.len(), 4);
        assert_eq!(s.transcript[0].text, "6");
    }

    #[test]
    fn transcript_is_bounded_by_characters() {
        let limit = TranscriptLimit { lines: 50, chars: 9 };
        let mut s = Session::default();
        for text in ["一二三四", "五六七", "八九十"] {
            s.record(Speaker::Customer, text, limit);
        }
        assert_eq!(s.transcript.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["五六七", "八九十"]);
        s.record(Speaker::Bot, &"长".repeat(30), limit);
        assert_eq!(s.transcript.len(), 1);
        assert_eq!(s.transcript[0].text.chars().count(), 9);
    }

    #[test]
    fn a_session_survives_a_trip_through_json() {
        let limit = TranscriptLimit { lines: 10, chars: 100 };
        let mut s = Session { turn: 3, ..Session::default() };
        s.state = DialogueState {
            problem: Some(Problem::Scenario("order-status".into())),
            unresolved: 2,
            pending: Pending::Slot {
                scenario: "order-status".into(),
                filled: BTreeMap::from([("order_id".to_owned(), "123".to_owned())]),
            },
            with_agent: true,
            lost: true,
        };
        s.record(Speaker::Customer, "我的订单呢", limit);
        s.record(Speaker::Bot, "请提供订单号", limit);
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), s);
        s.state.pending = Pending::Choice { faqs: vec!["a".into(), "b".into()], scenario: Some("order-status".into()) };
        s.state.problem = Some(Problem::Faq("a".into()));
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<Session>(&json).unwrap(), s);
        // A choice pending in the format before scenarios could be offered does not
        // read: the shared store starts such a session afresh.
        assert!(serde_json::from_str::<Session>(r#"{"turn": 1, "state": {"pending": {"choice": ["a"]}}}"#).is_err());
        // A session written by an older version with fewer fields still reads.
        let old: Session = serde_json::from_str(r#"{"turn": 2, "state": {"unresolved": 1}}"#).unwrap();
        assert_eq!((old.turn, old.state.unresolved, old.state.pending), (2, 1, Pending::Nothing));
    }

    #[tokio::test]
    async fn a_busy_session_queues_a_few_turns_and_refuses_more() {
        let slot = Arc::new(SessionSlot::default());
        let held = slot.lock_within(Duration::from_millis(10), 1).await.expect("free session");
        // One may wait; it times out while the first turn holds the session.
        assert_eq!(slot.lock_within(Duration::from_millis(20), 1).await.err(), Some(SessionBusy));
        let waiter = {
            let slot = Arc::clone(&slot);
            tokio::spawn(async move { slot.lock_within(Duration::from_secs(5), 1).await.map(drop) })
        };
        while slot.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        // The queue is full: refused at once.
        assert_eq!(slot.lock_within(Duration::from_secs(5), 1).await.err(), Some(SessionBusy));
        drop(held);
        assert_eq!(waiter.await.unwrap(), Ok(()));
    }
}
