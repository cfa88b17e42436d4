//! Events of conversations and of the agents' desk, kept per stream and fanned out
//! to every open event stream on every replica.
//!
//! An event is appended to a bounded log per stream — in this process, or a Redis
//! stream shared by the replicas — and gets an id that only grows within its
//! stream. Every append sends a wake-up naming the stream: a broadcast in this
//! process, and Redis pub/sub between replicas. A reader woken up reads what came
//! after the last id it sent, so however wake-ups interleave or get lost (a
//! reconnecting subscriber, a lagging reader) it never misses nor reorders an
//! event; a reader that reconnects with `Last-Event-ID` resumes the same way.

use std::collections::VecDeque;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::dialogue::{HandoffReason, Holder};
use crate::shared::{RedisSessions, StoreError};

/// Events a stream keeps for readers that come back (older ones are dropped).
pub const KEPT: usize = 500;

/// A reader that heard nothing for this long reads its stream anyway (a wake-up
/// lost while Redis pub/sub reconnected costs at most this delay).
const RECHECK: Duration = Duration::from_secs(10);

/// The wake-up that makes every reader read its stream.
const EVERYONE: &str = "*";

/// An event's place in its stream: Unix ms and a sequence number within the ms
/// (`"1733600000000-0"`, the form of a Redis stream id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EventId {
    /// Milliseconds.
    pub ms: u64,
    /// Sequence within the millisecond.
    pub seq: u64,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

impl FromStr for EventId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not an event id like 1733600000000-0");
        let (ms, seq) = s.trim().split_once('-').ok_or_else(bad)?;
        Ok(Self { ms: ms.parse().map_err(|_| bad())?, seq: seq.parse().map_err(|_| bad())? })
    }
}

impl Serialize for EventId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl EventId {
    /// The id after `self` at time `now_ms`.
    fn next(self, now_ms: u64) -> Self {
        if now_ms > self.ms { Self { ms: now_ms, seq: 0 } } else { Self { ms: self.ms, seq: self.seq + 1 } }
    }
}

/// Which log an event goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Stream {
    /// One conversation's: what its customer's widget follows.
    Session(String),
    /// Every conversation handed to a person: what the agents follow.
    Agents,
}

impl Stream {
    fn key(&self) -> String {
        match self {
            Self::Session(id) => format!("s:{id}"),
            Self::Agents => "agents".into(),
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    /// The customer.
    Customer,
    /// The bot.
    Bot,
    /// A person at the desk.
    Agent,
    /// The service itself (a long wait, a conversation closed).
    System,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventBody {
    /// A message of the conversation.
    Message {
        /// Who wrote it.
        from: Author,
        /// What they wrote.
        text: String,
        /// The agent's display name, for an agent's message.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
    },
    /// The conversation changed hands.
    State {
        /// Who holds it now.
        owner: Holder,
        /// The agent holding it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent: Option<String>,
        /// The queue it waits in.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// Why the bot handed it off.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<HandoffReason>,
        /// The hand-off's one-line summary.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        summary: Option<String>,
        /// When it started waiting, Unix ms.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queued_ms: Option<u64>,
        /// A person closed it (the widget then asks for a rating).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        closed: bool,
        /// When closed: whether the agent solved the problem.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        resolved: Option<bool>,
    },
    /// An agent is typing.
    Typing {
        /// The agent's display name.
        agent: String,
    },
}

impl EventBody {
    /// The SSE event name: `message`, `state` or `typing`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Message { .. } => "message",
            Self::State { .. } => "state",
            Self::Typing { .. } => "typing",
        }
    }
}

/// One event of a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Event {
    /// Its id in its stream (`Last-Event-ID` resumes after it).
    #[schema(value_type = String)]
    pub id: EventId,
    /// The conversation.
    pub session_id: String,
    /// When, Unix ms.
    pub ts_ms: u64,
    /// What.
    #[serde(flatten)]
    pub body: EventBody,
}

/// Events in this process: a bounded log per stream, expiring with sessions.
struct MemoryLog {
    streams: moka::sync::Cache<String, Arc<Mutex<VecDeque<Event>>>>,
    last: Mutex<EventId>,
}

impl MemoryLog {
    fn append(&self, key: String, mut event: Event) -> EventId {
        let log = self.streams.get_with(key, || Arc::new(Mutex::new(VecDeque::new())));
        let mut log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // One counter for every stream, taken under the stream's lock: ids grow
        // within a stream in the order events are appended to it.
        let id = {
            let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *last = last.next(event.ts_ms);
            *last
        };
        event.id = id;
        log.push_back(event);
        while log.len() > KEPT {
            log.pop_front();
        }
        id
    }

    fn after(&self, key: &str, after: Option<EventId>) -> Vec<Event> {
        let Some(log) = self.streams.get(key) else { return Vec::new() };
        let log = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        log.iter().filter(|e| after.is_none_or(|a| e.id > a)).cloned().collect()
    }
}

enum Log {
    Memory(MemoryLog),
    Redis(Arc<RedisSessions>),
}

/// Where events are kept and how readers are woken.
pub struct EventHub {
    log: Log,
    wake: broadcast::Sender<Arc<str>>,
    subscribed: AtomicBool,
}

impl std::fmt::Debug for EventHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.log {
            Log::Memory(_) => "memory",
            Log::Redis(_) => "redis",
        };
        f.debug_struct("EventHub").field("log", &kind).finish_non_exhaustive()
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl EventHub {
    /// Events kept in this process for `ttl_secs` after a stream's last event.
    pub fn in_memory(ttl_secs: u64) -> Self {
        let streams = moka::sync::Cache::builder().time_to_idle(Duration::from_secs(ttl_secs.max(1))).build();
        let log = Log::Memory(MemoryLog { streams, last: Mutex::new(EventId::default()) });
        Self { log, wake: broadcast::channel(1024).0, subscribed: AtomicBool::new(false) }
    }

    /// Events kept in Redis beside the sessions, shared by every replica.
    pub fn in_redis(store: Arc<RedisSessions>) -> Self {
        Self { log: Log::Redis(store), wake: broadcast::channel(1024).0, subscribed: AtomicBool::new(false) }
    }

    fn redis_key(store: &RedisSessions, stream: &Stream) -> String {
        format!("{}ev:{}", store.prefix(), stream.key())
    }

    fn channel(store: &RedisSessions) -> String {
        format!("{}events", store.prefix())
    }

    /// Append `body` about session `session_id` to `stream` and wake its readers.
    pub async fn publish(&self, stream: &Stream, session_id: &str, body: EventBody) -> Result<EventId, StoreError> {
        let key = stream.key();
        let event = Event { id: EventId::default(), session_id: session_id.to_owned(), ts_ms: now_ms(), body };
        let id = match &self.log {
            Log::Memory(log) => log.append(key.clone(), event),
            Log::Redis(store) => {
                let json = serde_json::to_string(&event).map_err(|e| StoreError::other(e.to_string()))?;
                let mut connection = store.connection().await?;
                let (id,): (String,) = redis::pipe()
                    .cmd("XADD")
                    .arg(Self::redis_key(store, stream))
                    .arg("MAXLEN")
                    .arg("~")
                    .arg(KEPT)
                    .arg("*")
                    .arg("e")
                    .arg(json)
                    .cmd("EXPIRE")
                    .arg(Self::redis_key(store, stream))
                    .arg(store.ttl_secs())
                    .ignore()
                    .cmd("PUBLISH")
                    .arg(Self::channel(store))
                    .arg(&key)
                    .ignore()
                    .query_async(&mut connection)
                    .await?;
                id.parse().map_err(StoreError::other)?
            }
        };
        let _ = self.wake.send(key.into());
        Ok(id)
    }

    /// The id of the newest event of `stream`, if it has any.
    pub async fn last_id(&self, stream: &Stream) -> Result<Option<EventId>, StoreError> {
        match &self.log {
            Log::Memory(log) => Ok(log.after(&stream.key(), None).last().map(|e| e.id)),
            Log::Redis(store) => {
                let mut connection = store.connection().await?;
                let entries: Vec<(String, Vec<String>)> = redis::cmd("XREVRANGE")
                    .arg(Self::redis_key(store, stream))
                    .arg("+")
                    .arg("-")
                    .arg("COUNT")
                    .arg(1)
                    .query_async(&mut connection)
                    .await?;
                Ok(entries.first().and_then(|(id, _)| id.parse().ok()))
            }
        }
    }

    /// The events of `stream` after `after` (all it keeps for `None`), oldest first.
    pub async fn after(&self, stream: &Stream, after: Option<EventId>) -> Result<Vec<Event>, StoreError> {
        match &self.log {
            Log::Memory(log) => Ok(log.after(&stream.key(), after)),
            Log::Redis(store) => {
                let mut connection = store.connection().await?;
                // The first id after `after` (an inclusive start works on every
                // Redis with streams; `(id` needs 6.2).
                let start = after.map_or_else(|| "-".to_owned(), |id| format!("{}-{}", id.ms, id.seq + 1));
                let entries: Vec<(String, Vec<String>)> = redis::cmd("XRANGE")
                    .arg(Self::redis_key(store, stream))
                    .arg(start)
                    .arg("+")
                    .arg("COUNT")
                    .arg(KEPT)
                    .query_async(&mut connection)
                    .await?;
                let mut events = Vec::with_capacity(entries.len());
                for (id, fields) in entries {
                    let json = fields.chunks(2).find(|kv| kv[0] == "e").and_then(|kv| kv.get(1));
                    let parsed = json.and_then(|j| serde_json::from_str::<Event>(j).ok());
                    match (parsed, id.parse::<EventId>()) {
                        (Some(mut event), Ok(id)) => {
                            event.id = id;
                            events.push(event);
                        }
                        _ => tracing::warn!("event {id} in Redis does not parse; skipped"),
                    }
                }
                Ok(events)
            }
        }
    }

    /// Wake-ups (the names of streams appended to); with Redis, the first call
    /// starts this replica's subscription.
    fn wakeups(&self) -> broadcast::Receiver<Arc<str>> {
        let receiver = self.wake.subscribe();
        if let Log::Redis(store) = &self.log
            && !self.subscribed.swap(true, Ordering::SeqCst)
        {
            let (client, channel, wake) = (store.client().clone(), Self::channel(store), self.wake.clone());
            tokio::spawn(listen(client, channel, wake));
        }
        receiver
    }

    /// The events of `stream` after `after`, then each new one as it comes, for
    /// as long as the returned stream is polled.
    pub fn follow(
        self: &Arc<Self>,
        stream: Stream,
        after: Option<EventId>,
    ) -> impl futures_util::Stream<Item = Event> + Send + use<> {
        let reader = Reader {
            hub: Arc::clone(self),
            key: stream.key().into(),
            stream,
            last: after,
            pending: VecDeque::new(),
            wakeups: self.wakeups(),
            read_once: false,
            page_full: false,
        };
        futures_util::stream::unfold(reader, |mut reader| async move {
            let event = reader.next().await?;
            Some((event, reader))
        })
    }
}

/// This replica's subscription to the other replicas' wake-ups: resubscribes
/// after Redis comes back, and then wakes every reader (what was published in
/// between is read from the streams).
async fn listen(client: redis::Client, channel: String, wake: broadcast::Sender<Arc<str>>) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(&channel).await {
                Ok(()) => {
                    let _ = wake.send(EVERYONE.into());
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        if let Ok(key) = message.get_payload::<String>() {
                            let _ = wake.send(key.into());
                        }
                    }
                    tracing::warn!("events: Redis subscription ended; subscribing again");
                }
                Err(e) => tracing::warn!("events: cannot subscribe in Redis: {e}"),
            },
            Err(e) => tracing::warn!("events: cannot connect to Redis for wake-ups: {e}"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// One follower of one stream.
struct Reader {
    hub: Arc<EventHub>,
    stream: Stream,
    key: Arc<str>,
    last: Option<EventId>,
    pending: VecDeque<Event>,
    wakeups: broadcast::Receiver<Arc<str>>,
    read_once: bool,
    page_full: bool,
}

impl Reader {
    async fn next(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.last = Some(event.id);
                return Some(event);
            }
            // After a full page there may be more: read on without waiting.
            if self.read_once && !self.page_full && !self.woken().await {
                return None;
            }
            self.read_once = true;
            match self.hub.after(&self.stream, self.last).await {
                Ok(events) => {
                    self.page_full = events.len() >= KEPT;
                    self.pending.extend(events);
                }
                Err(e) => {
                    tracing::warn!("events: cannot read {}: {e}", self.key);
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Wait until this stream may have news: a wake-up for it or for everyone,
    /// a lag, or [`RECHECK`] of silence. `false` when the hub is gone.
    async fn woken(&mut self) -> bool {
        let deadline = tokio::time::Instant::now() + RECHECK;
        loop {
            match tokio::time::timeout_at(deadline, self.wakeups.recv()).await {
                Err(_) => return true,
                Ok(Ok(key)) if *key == *self.key || &*key == EVERYONE => return true,
                Ok(Ok(_)) => {}
                Ok(Err(broadcast::error::RecvError::Lagged(_))) => return true,
                Ok(Err(broadcast::error::RecvError::Closed)) => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(text: &str) -> EventBody {
        EventBody::Message { from: Author::Agent, text: text.into(), agent: Some("王芳".into()) }
    }

    #[test]
    fn ids_print_parse_and_grow() {
        let id: EventId = "1733600000000-7".parse().unwrap();
        assert_eq!(id, EventId { ms: 1_733_600_000_000, seq: 7 });
        assert_eq!(id.to_string(), "1733600000000-7");
        assert!(id.next(id.ms) > id && id.next(id.ms + 1) > id.next(id.ms));
        assert!(id.next(id.ms - 5) > id, "a clock that steps back does not make ids shrink");
        for bad in ["", "17", "a-1", "1-b", "-1"] {
            assert!(bad.parse::<EventId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn events_serialise_with_their_type_and_id() {
        let event = Event { id: EventId { ms: 5, seq: 1 }, session_id: "s".into(), ts_ms: 5, body: message("您好") };
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["id"], "5-1");
        assert_eq!(json["type"], "message");
        assert_eq!(json["from"], "agent");
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }

    #[tokio::test]
    async fn a_follower_gets_what_came_before_and_after_in_order_and_resumes_after_an_id() {
        let hub = Arc::new(EventHub::in_memory(60));
        let stream = Stream::Session("a".into());
        let first = hub.publish(&stream, "a", message("一")).await.unwrap();
        hub.publish(&Stream::Session("b".into()), "b", message("别人的")).await.unwrap();
        let mut follower = Box::pin(hub.follow(stream.clone(), None));
        assert_eq!(follower.next().await.unwrap().id, first);
        let publisher = Arc::clone(&hub);
        let s = stream.clone();
        tokio::spawn(async move {
            for n in 0..50 {
                publisher.publish(&s, "a", message(&n.to_string())).await.unwrap();
            }
        });
        for n in 0..50 {
            match follower.next().await.unwrap().body {
                EventBody::Message { text, .. } => assert_eq!(text, n.to_string()),
                other => panic!("{other:?}"),
            }
        }
        // A reader that comes back after the first event gets the rest, no more.
        let resumed: Vec<Event> = hub.after(&stream, Some(first)).await.unwrap();
        assert_eq!(resumed.len(), 50);
        assert!(resumed.windows(2).all(|w| w[0].id < w[1].id));
    }

    #[tokio::test]
    async fn a_stream_keeps_its_newest_events_only() {
        let hub = EventHub::in_memory(60);
        let stream = Stream::Agents;
        for n in 0..KEPT + 10 {
            hub.publish(&stream, "s", message(&n.to_string())).await.unwrap();
        }
        let kept = hub.after(&stream, None).await.unwrap();
        assert_eq!(kept.len(), KEPT);
        assert!(matches!(&kept[0].body, EventBody::Message { text, .. } if text == "10"));
    }
}
