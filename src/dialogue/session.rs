//! Conversation state per session, kept in memory with a TTL and a capacity bound.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
}

/// Who said a transcript line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The customer.
    Customer,
    /// The bot.
    Bot,
}

/// One line of the transcript.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranscriptLine {
    /// Turn number.
    pub turn: u64,
    /// Who spoke.
    pub speaker: Speaker,
    /// What was said.
    pub text: String,
}

/// The problem a conversation is working on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A question an FAQ entry answers.
    Faq(FaqId),
    /// A business flow with a back-end look-up.
    Scenario(ScenarioId),
}

/// What the bot is waiting for.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Pending {
    /// Nothing.
    #[default]
    Nothing,
    /// A choice among these entries ("您是不是想问").
    Choice(Vec<FaqId>),
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
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DialogueState {
    /// The problem being worked on.
    pub problem: Option<Problem>,
    /// Consecutive unresolved turns (see `escalation::next_streak`).
    pub unresolved: u32,
    /// What the bot asked for.
    pub pending: Pending,
}

/// The state of one conversation.
#[derive(Debug, Clone, Default)]
pub struct Session {
    /// Turns so far.
    pub turn: u64,
    /// Problem, unresolved streak, pending question.
    pub state: DialogueState,
    /// The conversation, newest last.
    pub transcript: Vec<TranscriptLine>,
}

impl Session {
    /// Add a line, keeping at most `max` lines.
    pub fn record(&mut self, speaker: Speaker, text: &str, max: usize) {
        self.transcript.push(TranscriptLine { turn: self.turn, speaker, text: text.to_owned() });
        if self.transcript.len() > max {
            let excess = self.transcript.len() - max;
            self.transcript.drain(..excess);
        }
    }
}

/// All sessions. Each is behind its own lock, so turns of different sessions run
/// in parallel and turns of one session run one at a time.
#[derive(Debug, Clone)]
pub struct SessionStore {
    cache: moka::sync::Cache<String, Arc<Mutex<Session>>>,
}

impl SessionStore {
    /// An empty store.
    pub fn new(config: &SessionConfig) -> Self {
        let cache = moka::sync::Cache::builder()
            .max_capacity(config.capacity.max(1))
            .time_to_idle(Duration::from_secs(config.ttl_secs.max(1)))
            .build();
        Self { cache }
    }

    /// The session with `id`, created when new or expired.
    pub fn get_or_create(&self, id: &str) -> Arc<Mutex<Session>> {
        self.cache.get_with(id.to_owned(), || Arc::new(Mutex::new(Session::default())))
    }

    /// The session with `id`, if it exists.
    pub fn get(&self, id: &str) -> Option<Arc<Mutex<Session>>> {
        self.cache.get(id)
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

    #[test]
    fn capacity_bounds_the_store() {
        let store = SessionStore::new(&SessionConfig { ttl_secs: 60, capacity: 10, max_transcript: 10 });
        for i in 0..100 {
            store.get_or_create(&format!("s{i}"));
        }
        assert!(store.len() <= 10, "{}", store.len());
    }

    #[test]
    fn transcript_is_bounded() {
        let mut s = Session::default();
        for i in 0..10 {
            s.record(Speaker::Customer, &i.to_string(), 4);
        }
        assert_eq!(s.transcript.len(), 4);
        assert_eq!(s.transcript[0].text, "6");
    }
}
