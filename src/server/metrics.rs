//! Prometheus counters and a latency histogram, rendered as text.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::dialogue::{HandoffReason, Shortcut, TurnAction};
use crate::identity::Identity;

const BUCKETS_MS: [u64; 10] = [5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000];

/// Service metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    turns: [AtomicU64; TurnAction::ALL.len()],
    handoffs: [AtomicU64; HandoffReason::ALL.len()],
    latency_buckets: [AtomicU64; BUCKETS_MS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    bad_requests: AtomicU64,
    busy: AtomicU64,
    shed: AtomicU64,
    store_errors: AtomicU64,
    ratings: [AtomicU64; 5],
    identities: [AtomicU64; Identity::KINDS.len()],
    without_model: [AtomicU64; Shortcut::ALL.len()],
    /// Event streams open now: customers' and agents'.
    streams: [std::sync::Arc<AtomicU64>; 2],
    /// Messaging-channel callbacks by platform and outcome.
    channels: [[AtomicU64; ChannelOutcome::ALL.len()]; 3],
}

/// What became of one messaging-channel callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelOutcome {
    /// Answered in the callback's response.
    Replied,
    /// Answered later through the platform's API.
    SentLater,
    /// The later answer could not be sent.
    SendFailed,
    /// The platform's retry of a message already taken.
    Duplicate,
    /// Refused: signature, token, timestamp or format.
    Refused,
    /// Acknowledged with nothing to answer (an unsubscribe, a read receipt).
    Acknowledged,
}

impl ChannelOutcome {
    /// Every outcome, in exposition order.
    pub const ALL: [Self; 6] =
        [Self::Replied, Self::SentLater, Self::SendFailed, Self::Duplicate, Self::Refused, Self::Acknowledged];

    fn as_str(self) -> &'static str {
        match self {
            Self::Replied => "replied",
            Self::SentLater => "sent_later",
            Self::SendFailed => "send_failed",
            Self::Duplicate => "duplicate",
            Self::Refused => "refused",
            Self::Acknowledged => "acknowledged",
        }
    }
}

const PLATFORMS: [crate::channels::Platform; 3] =
    [crate::channels::Platform::Wechat, crate::channels::Platform::Wecom, crate::channels::Platform::Feishu];

/// Whose event stream.
#[derive(Debug, Clone, Copy)]
pub enum StreamKind {
    /// A customer's conversation.
    Customer = 0,
    /// The agents'.
    Agent = 1,
}

/// Counts an open event stream until dropped (when its connection closes).
#[derive(Debug)]
pub struct OpenStream(std::sync::Arc<AtomicU64>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Count an event stream as open until the returned guard is dropped.
    pub fn stream_opened(&self, kind: StreamKind) -> OpenStream {
        let counter = std::sync::Arc::clone(&self.streams[kind as usize]);
        counter.fetch_add(1, Ordering::Relaxed);
        OpenStream(counter)
    }

    /// Count one callback of a messaging channel.
    pub fn channel(&self, platform: crate::channels::Platform, outcome: ChannelOutcome) {
        let p = PLATFORMS.iter().position(|x| *x == platform).expect("listed");
        let o = ChannelOutcome::ALL.iter().position(|x| *x == outcome).expect("listed");
        self.channels[p][o].fetch_add(1, Ordering::Relaxed);
    }

    /// Count one turn.
    pub fn turn(&self, action: TurnAction, reason: Option<HandoffReason>, micros: u64) {
        let a = TurnAction::ALL.iter().position(|x| *x == action).expect("listed");
        self.turns[a].fetch_add(1, Ordering::Relaxed);
        if let Some(r) = reason {
            let i = HandoffReason::ALL.iter().position(|x| *x == r).expect("listed");
            self.handoffs[i].fetch_add(1, Ordering::Relaxed);
        }
        for (i, b) in BUCKETS_MS.iter().enumerate() {
            if micros <= b * 1000 {
                self.latency_buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(micros, Ordering::Relaxed);
    }

    /// Count one turn decided without the model, and why.
    pub fn without_model(&self, shortcut: Shortcut) {
        let i = Shortcut::ALL.iter().position(|x| *x == shortcut).expect("listed");
        self.without_model[i].fetch_add(1, Ordering::Relaxed);
    }

    /// Count one rejected request.
    pub fn bad_request(&self) {
        self.bad_requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one turn refused because its session was busy (429).
    pub fn busy(&self) {
        self.busy.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one conversation rating (1–5).
    pub fn rating(&self, score: u8) {
        if let Some(c) = self.ratings.get(usize::from(score.clamp(1, 5)) - 1) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Count one request refused because the shared session store was down (503).
    pub fn store_error(&self) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
    }

    /// Count who one customer request spoke for (an [`Identity::kind`]).
    pub fn identity(&self, kind: &str) {
        if let Some(i) = Identity::KINDS.iter().position(|k| *k == kind) {
            self.identities[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Count one request shed because the server was saturated (503).
    pub fn shed(&self) {
        self.shed.fetch_add(1, Ordering::Relaxed);
    }

    /// Prometheus text exposition.
    pub fn render(&self, sessions: u64, entries: usize) -> String {
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        out.push_str("# HELP bizbot_event_streams Event streams open (Server-Sent Events).\n");
        out.push_str("# TYPE bizbot_event_streams gauge\n");
        for (kind, open) in ["customer", "agent"].iter().zip(&self.streams) {
            let _ = writeln!(out, "bizbot_event_streams{{kind=\"{kind}\"}} {}", get(open));
        }
        out.push_str("# HELP bizbot_turns_total Customer turns by action.\n# TYPE bizbot_turns_total counter\n");
        for (a, c) in TurnAction::ALL.iter().zip(&self.turns) {
            let _ = writeln!(out, "bizbot_turns_total{{action=\"{}\"}} {}", a.as_str(), get(c));
        }
        out.push_str("# HELP bizbot_handoffs_total Hand-offs by reason.\n# TYPE bizbot_handoffs_total counter\n");
        for (r, c) in HandoffReason::ALL.iter().zip(&self.handoffs) {
            let _ = writeln!(out, "bizbot_handoffs_total{{reason=\"{}\"}} {}", r.as_str(), get(c));
        }
        out.push_str("# HELP bizbot_turn_seconds Turn latency.\n# TYPE bizbot_turn_seconds histogram\n");
        for (b, c) in BUCKETS_MS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(out, "bizbot_turn_seconds_bucket{{le=\"{}\"}} {}", *b as f64 / 1000.0, get(c));
        }
        let count = get(&self.latency_count);
        let _ = writeln!(out, "bizbot_turn_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "bizbot_turn_seconds_sum {}", get(&self.latency_sum_us) as f64 / 1e6);
        let _ = writeln!(out, "bizbot_turn_seconds_count {count}");
        out.push_str("# HELP bizbot_turns_without_model_total Turns decided without the embedding model, by why (a pick, the detail asked for, a pleasantry, an exact question, a person holding the conversation).\n# TYPE bizbot_turns_without_model_total counter\n");
        for (s, c) in Shortcut::ALL.iter().zip(&self.without_model) {
            let _ = writeln!(out, "bizbot_turns_without_model_total{{reason=\"{}\"}} {}", s.as_str(), get(c));
        }
        out.push_str("# HELP bizbot_bad_requests_total Requests rejected with a 4xx.\n# TYPE bizbot_bad_requests_total counter\n");
        let _ = writeln!(out, "bizbot_bad_requests_total {}", get(&self.bad_requests));
        out.push_str("# HELP bizbot_session_busy_total Turns refused with 429: an earlier turn of the session was still running.\n# TYPE bizbot_session_busy_total counter\n");
        let _ = writeln!(out, "bizbot_session_busy_total {}", get(&self.busy));
        out.push_str("# HELP bizbot_shed_total Requests refused with 503: too many in flight.\n# TYPE bizbot_shed_total counter\n");
        let _ = writeln!(out, "bizbot_shed_total {}", get(&self.shed));
        out.push_str("# HELP bizbot_session_store_errors_total Requests refused with 503: the shared session store (Redis) did not answer.\n# TYPE bizbot_session_store_errors_total counter\n");
        let _ = writeln!(out, "bizbot_session_store_errors_total {}", get(&self.store_errors));
        out.push_str(
            "# HELP bizbot_ratings_total Conversation ratings by score.\n# TYPE bizbot_ratings_total counter\n",
        );
        for (i, c) in self.ratings.iter().enumerate() {
            let _ = writeln!(out, "bizbot_ratings_total{{score=\"{}\"}} {}", i + 1, get(c));
        }
        out.push_str("# HELP bizbot_identity_total Customer requests by identity: verified by a token, claimed (identity.required = false), or why anonymous.\n# TYPE bizbot_identity_total counter\n");
        for (kind, c) in Identity::KINDS.iter().zip(&self.identities) {
            let _ = writeln!(out, "bizbot_identity_total{{kind=\"{kind}\"}} {}", get(c));
        }
        out.push_str("# HELP bizbot_channel_messages_total Messaging-channel callbacks by platform and outcome.\n# TYPE bizbot_channel_messages_total counter\n");
        for (platform, counts) in PLATFORMS.iter().zip(&self.channels) {
            for (outcome, c) in ChannelOutcome::ALL.iter().zip(counts) {
                let _ = writeln!(
                    out,
                    "bizbot_channel_messages_total{{platform=\"{}\",outcome=\"{}\"}} {}",
                    platform.as_str(),
                    outcome.as_str(),
                    get(c)
                );
            }
        }
        out.push_str("# HELP bizbot_sessions Sessions in memory.\n# TYPE bizbot_sessions gauge\n");
        let _ = writeln!(out, "bizbot_sessions {sessions}");
        out.push_str("# HELP bizbot_knowledge_entries FAQ entries served.\n# TYPE bizbot_knowledge_entries gauge\n");
        let _ = writeln!(out, "bizbot_knowledge_entries {entries}");
        out
    }
}
