//! The bot: the current snapshot (config + indexed knowledge) behind an `ArcSwap`,
//! the sessions, and atomic reload.
//!
//! Each turn loads the snapshot once and uses it throughout; a reload builds a whole
//! new snapshot off the request path and swaps it in only when everything is valid.

use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;

use crate::backend::Backends;
use crate::config::{Config, ConfigError};
use crate::desk::{DeskCustomer, DeskEvent};
use crate::dialogue::{
    self, Problem, Reply, Session, SessionBusy, SessionSlot, SessionStore, Templates, Turn, TurnAction, TurnContext,
    UserInfo, WelcomeSuggestion,
};
use crate::embed::Encoder;
use crate::engine::Engine;
use crate::index::IndexError;
use crate::knowledge::Customer;
use crate::knowledge::{KnowledgeBase, KnowledgeError};
use crate::live::{Author, Board, EventBody, EventHub, Stream};
use crate::shared::{RedisSessions, SharedLock, StoreError};

mod agents;

use crate::turnlog::{TurnLog, TurnRecord};
pub use agents::{AgentError, Conversation, QueueItem};

/// Config and knowledge in force, immutable.
#[derive(Debug)]
pub struct Snapshot {
    /// The configuration.
    pub config: Config,
    /// The indexed knowledge.
    pub engine: Engine,
    /// Its compiled templates.
    pub templates: Templates,
    /// Back-ends for scenario lookups.
    pub backends: Backends,
}

/// Why a reload was refused. The old snapshot keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The new config is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The new knowledge is invalid.
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    /// Restart-only settings changed.
    #[error("{} changed; restart-only settings take effect only after a restart", .keys.join(", "))]
    RestartOnly {
        /// The settings.
        keys: Vec<&'static str>,
    },
    /// The turn log cannot be opened.
    #[error("turn log {path}: {source}")]
    TurnLog {
        /// The configured path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Indexing failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Back-ends are misconfigured, or a scenario names an unknown one.
    #[error("back-ends: {}", .0.join("; "))]
    Backends(Vec<String>),
    /// The session store cannot be set up.
    #[error(transparent)]
    SessionStore(#[from] StoreError),
}

/// Why a turn could not have its session.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    /// An earlier turn of the session is still running (on this or another
    /// replica) and the wait ran out or the queue is full.
    #[error(transparent)]
    Busy(#[from] SessionBusy),
    /// The shared session store cannot be reached.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a successful reload loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReloadReport {
    /// FAQ entries.
    pub entries: usize,
    /// Knowledge files.
    pub files: usize,
    /// Texts embedded anew (the rest came from the cache).
    pub embedded: usize,
}

/// Settings given on the command line: they win over the config file, at start
/// and on every reload.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// `--knowledge`.
    pub knowledge: Option<PathBuf>,
    /// `--bind`.
    pub bind: Option<String>,
}

impl Overrides {
    fn apply(&self, config: &mut Config) {
        if let Some(path) = &self.knowledge {
            config.knowledge.path.clone_from(path);
        }
        if let Some(bind) = &self.bind {
            config.server.bind.clone_from(bind);
        }
    }
}

/// A session held for one turn (see [`Bot::lock_session`]). [`Bot::finish`]
/// saves it to a shared store and sends the events the turn caused; dropping it
/// lets the next turn of the session in (without saving, when the store is
/// shared, and without its events).
#[derive(Debug)]
pub struct LockedSession {
    id: String,
    slot: Arc<SessionSlot>,
    guard: tokio::sync::OwnedMutexGuard<Session>,
    shared: Option<(Arc<RedisSessions>, SharedLock)>,
    /// Events to send once the session is saved.
    outbox: Vec<Outgoing>,
    /// The seat changed: the board is written once the session is saved.
    seat_changed: bool,
}

/// An event waiting for its session to be saved.
#[derive(Debug)]
struct Outgoing {
    /// To the conversation's own stream (the customer's widget).
    customer: bool,
    /// To the agents' stream.
    agents: bool,
    /// To the external desk's webhook (a turn's own events reach it as
    /// hand-offs and messages already).
    desk: bool,
    body: EventBody,
}

impl LockedSession {
    fn new(id: &str, slot: Arc<SessionSlot>, guard: tokio::sync::OwnedMutexGuard<Session>) -> Self {
        Self { id: id.to_owned(), slot, guard, shared: None, outbox: Vec::new(), seat_changed: false }
    }

    /// Whether a request for `owner` may use this session, binding it with `bind`
    /// (see [`Session::admit`]): the first transcript turn it may see, or `None`.
    pub fn admit(&mut self, owner: Option<&str>, bind: bool) -> Option<u64> {
        self.guard.admit(owner, bind)
    }
}

impl Drop for LockedSession {
    fn drop(&mut self) {
        if let Some((store, lock)) = self.shared.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                if let Err(e) = store.unlock(&lock).await {
                    tracing::warn!("session lock left to expire: {e}");
                }
            });
        }
    }
}

/// What `/v1/welcome` answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Welcome {
    /// The greeting.
    pub text: String,
    /// "您可能想问", best first.
    pub suggestions: Vec<WelcomeSuggestion>,
}

/// Help for the agent's console (`/v1/assist`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Assist {
    /// Knowledge answers for the text, best first (the session's own problem first).
    pub suggested_answers: Vec<dialogue::SuggestedAnswer>,
    /// Scenarios (back-end look-ups) the text may be about, best first.
    pub scenarios: Vec<AssistScenario>,
}

/// A scenario suggested to the agent.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssistScenario {
    /// Scenario id.
    pub id: String,
    /// The example it matched.
    pub example: String,
    /// Intent confidence.
    pub score: f32,
}

/// Answers and scenarios offered to the agent at most.
const ASSIST_ANSWERS: usize = 3;
const ASSIST_SCENARIOS: usize = 2;

/// What the bot remembers across sessions for pre-judgement: how often each
/// entry was answered, and each known customer's unresolved problem.
struct Memory {
    answered: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    unresolved: moka::sync::Cache<String, Problem>,
}

impl Memory {
    fn new(config: &crate::dialogue::SessionConfig) -> Self {
        let unresolved = moka::sync::Cache::builder()
            .max_capacity(config.capacity.max(1))
            .time_to_idle(std::time::Duration::from_secs(config.ttl_secs.max(1)))
            .build();
        Self { answered: Default::default(), unresolved }
    }

    /// Remember what a finished turn says about the customer and the knowledge.
    fn learn(&self, user: &UserInfo, reply: &Reply, session: &Session) {
        if reply.action == TurnAction::Answer
            && let Some(m) = &reply.matched
            && m.source != "scenario"
        {
            let mut answered = self.answered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            *answered.entry(m.id.clone()).or_insert(0) += 1;
        }
        let Some(id) = &user.id else { return };
        match (&session.state.problem, reply.action) {
            (_, TurnAction::Answer) => self.unresolved.invalidate(id),
            (Some(problem), _) if session.state.unresolved > 0 => self.unresolved.insert(id.clone(), problem.clone()),
            _ => {}
        }
    }

    /// Entry ids, most answered first.
    fn most_answered(&self, n: usize) -> Vec<String> {
        let answered = self.answered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut counts: Vec<(&String, &u64)> = answered.iter().collect();
        counts.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
        counts.into_iter().take(n).map(|(id, _)| id.clone()).collect()
    }
}

/// The running bot.
pub struct Bot {
    snapshot: ArcSwap<Snapshot>,
    sessions: SessionStore,
    shared: Option<Arc<RedisSessions>>,
    events: Arc<EventHub>,
    board: Board,
    memory: Memory,
    desk: Option<crate::desk::Desk>,
    log: TurnLog,
    encoder: Option<Arc<dyn Encoder>>,
    config_path: Option<PathBuf>,
    overrides: Overrides,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot").field("config_path", &self.config_path).finish_non_exhaustive()
    }
}

impl Bot {
    /// Start with `config` (read from `config_path`, re-read on reload), the
    /// knowledge it names and its turn log (`log.path`; empty: none).
    pub fn new(
        config: Config,
        config_path: Option<PathBuf>,
        encoder: Option<Arc<dyn Encoder>>,
    ) -> Result<Self, ReloadError> {
        Self::with_overrides(config, config_path, Overrides::default(), encoder)
    }

    /// As [`new`](Self::new), with command-line `overrides` applied now and on
    /// every reload.
    pub fn with_overrides(
        mut config: Config,
        config_path: Option<PathBuf>,
        overrides: Overrides,
        encoder: Option<Arc<dyn Encoder>>,
    ) -> Result<Self, ReloadError> {
        overrides.apply(&mut config);
        let log = TurnLog::open(&config.log)
            .map_err(|source| ReloadError::TurnLog { path: config.log.path.clone(), source })?;
        let snapshot = build_snapshot(config, encoder.clone())?;
        let sessions = SessionStore::new(&snapshot.config.session);
        let shared = match snapshot.config.session.store {
            dialogue::StoreKind::Memory => None,
            dialogue::StoreKind::Redis => Some(Arc::new(RedisSessions::new(&snapshot.config.session)?)),
        };
        let memory = Memory::new(&snapshot.config.session);
        let (events, board) = match &shared {
            Some(store) => (EventHub::in_redis(Arc::clone(store)), Board::Redis(Arc::clone(store))),
            None => (EventHub::in_memory(snapshot.config.session.ttl_secs), Board::Memory(Default::default())),
        };
        let dead_letters = crate::desk::DeadLetters::new(
            snapshot.config.desk.dead_letter.clone(),
            snapshot.config.log.rotate_policy(),
            log.id_key().map(<[u8]>::to_vec),
        );
        let desk = crate::desk::Desk::start(&snapshot.config.desk, dead_letters);
        Ok(Self {
            snapshot: ArcSwap::from_pointee(snapshot),
            sessions,
            shared,
            events: Arc::new(events),
            board,
            memory,
            desk,
            log,
            encoder,
            config_path,
            overrides,
        })
    }

    /// The snapshot in force.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The sessions.
    pub fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// One customer turn in session `session_id`, written to the turn log.
    pub fn reply(
        &self,
        session_id: &str,
        text: &str,
        user: &UserInfo,
        channel: Option<&str>,
    ) -> Result<Reply, IndexError> {
        Ok(self.turn(session_id, text, user, channel)?.reply)
    }

    /// As [`reply`](Self::reply), with the signals and the decision behind it.
    /// Waits on this thread while another turn of the session is answered (async
    /// callers use [`lock_session`](Self::lock_session) and [`turn_locked`](Self::turn_locked)).
    pub fn turn(
        &self,
        session_id: &str,
        text: &str,
        user: &UserInfo,
        channel: Option<&str>,
    ) -> Result<Turn, IndexError> {
        let slot = self.sessions.get_or_create(session_id);
        let guard = slot.lock_blocking();
        let mut locked = LockedSession::new(session_id, slot, guard);
        self.turn_locked(&mut locked, text, user, channel)
    }

    /// The session `session_id`, locked for one turn: waits (without holding a
    /// thread) at most `server.session_wait_ms` for a turn in progress, and only
    /// when fewer than `server.session_queue` turns already wait. With a shared
    /// store the session is also locked there (against turns on other replicas)
    /// and read from it; hand it back with [`finish`](Self::finish).
    pub async fn lock_session(&self, session_id: &str) -> Result<LockedSession, SessionError> {
        let started = std::time::Instant::now();
        let server = &self.snapshot().config.server;
        let (wait, queue) = (std::time::Duration::from_millis(server.session_wait_ms), server.session_queue);
        let slot = self.sessions.get_or_create(session_id);
        let guard = slot.lock_within(wait, queue).await?;
        let mut locked = LockedSession::new(session_id, slot, guard);
        if let Some(store) = &self.shared {
            let lock = store.lock(session_id, wait.saturating_sub(started.elapsed())).await?.ok_or(SessionBusy)?;
            locked.shared = Some((Arc::clone(store), lock));
            *locked.guard = store.load(session_id).await?.unwrap_or_default();
        }
        Ok(locked)
    }

    /// Hand back a session locked by [`lock_session`](Self::lock_session): with a
    /// shared store, save it there and release its lock. A turn that outlived
    /// `session.lock_ms` is not saved (another turn may have moved on) and is
    /// logged.
    ///
    /// The board of handed-off conversations is written and the turn's events
    /// are sent after the session is saved and before its lock is released, so
    /// the next change of the same conversation (on any replica) sends its
    /// events after these. A store that fails then is logged: the turn stands.
    pub async fn finish(&self, locked: LockedSession) -> Result<(), SessionError> {
        self.finish_saved(locked).await.map(|_| ())
    }

    /// As [`finish`](Self::finish): `false` when the lock had run out, so nothing
    /// was saved nor sent.
    pub(crate) async fn finish_saved(&self, mut locked: LockedSession) -> Result<bool, SessionError> {
        let effects = locked.seat_changed || !locked.outbox.is_empty();
        let Some((store, lock)) = locked.shared.take() else {
            self.send_effects(&mut locked).await;
            return Ok(true);
        };
        let saved = if effects {
            store.save_locked(&lock, &locked.guard).await?
        } else {
            store.save_and_unlock(&lock, &locked.guard).await?
        };
        if !saved {
            tracing::warn!("a turn outlived its session lock (session.lock_ms); its state was not saved");
            return Ok(false);
        }
        if effects {
            self.send_effects(&mut locked).await;
            if let Err(e) = store.unlock(&lock).await {
                tracing::warn!("session lock left to expire: {e}");
            }
        }
        Ok(true)
    }

    /// Write the board and send the events a locked session's change caused.
    async fn send_effects(&self, locked: &mut LockedSession) {
        if locked.seat_changed
            && let Err(e) = self.board.set(&locked.id, locked.guard.seat.as_ref()).await
        {
            tracing::error!("desk board not updated: {e}");
        }
        for out in std::mem::take(&mut locked.outbox) {
            let streams = [(out.customer, Stream::Session(locked.id.clone())), (out.agents, Stream::Agents)];
            for (_, stream) in streams.into_iter().filter(|(to, _)| *to) {
                if let Err(e) = self.events.publish(&stream, &locked.id, out.body.clone()).await {
                    tracing::error!("event not sent: {e}");
                }
            }
            if out.desk
                && let Some(desk) = &self.desk
            {
                desk.send(DeskEvent::Live { session_id: locked.id.clone(), body: out.body, ts_ms: now_ms() });
            }
        }
    }

    /// Whether session `session_id` exists (in the shared store, if there is one).
    pub async fn session_exists(&self, session_id: &str) -> Result<bool, SessionError> {
        match &self.shared {
            Some(store) => Ok(store.exists(session_id).await?),
            None => Ok(self.sessions.get(session_id).is_some()),
        }
    }

    /// Whether `key` (a platform's message id) is claimed here first: always with
    /// sessions in memory (the caller remembers its own), once across replicas
    /// with Redis sessions.
    pub async fn first_claim(&self, key: &str, ttl_secs: u64) -> Result<bool, SessionError> {
        match &self.shared {
            Some(store) => Ok(store.first_claim(key, ttl_secs).await?),
            None => Ok(true),
        }
    }

    /// Whether `holder` holds the lease `key` (taken or renewed for `ttl_ms`):
    /// always with sessions in memory (one replica), one holder across replicas
    /// with Redis.
    pub async fn lease(&self, key: &str, holder: &str, ttl_ms: u64) -> Result<bool, SessionError> {
        match &self.shared {
            Some(store) => Ok(store.lease(key, holder, ttl_ms).await?),
            None => Ok(true),
        }
    }

    /// The problem session `session_id` is working on, if any.
    pub async fn session_problem(&self, session_id: &str) -> Result<Option<Problem>, SessionError> {
        match &self.shared {
            Some(store) => Ok(store.load(session_id).await?.and_then(|s| s.state.problem)),
            None => Ok(self.sessions.get(session_id).and_then(|slot| slot.peek_problem())),
        }
    }

    /// Whether the shared session store answers; `None` when sessions are kept in
    /// this process.
    pub async fn store_health(&self) -> Option<Result<(), StoreError>> {
        match &self.shared {
            Some(store) => Some(store.ping().await),
            None => None,
        }
    }

    /// One turn in a session locked by [`lock_session`](Self::lock_session).
    pub fn turn_locked(
        &self,
        locked: &mut LockedSession,
        text: &str,
        user: &UserInfo,
        channel: Option<&str>,
    ) -> Result<Turn, IndexError> {
        let started = std::time::Instant::now();
        let LockedSession { id: session_id, slot, guard: session, outbox, seat_changed, .. } = locked;
        let seated = session.seat.is_some();

        let snapshot = self.snapshot();
        let config = &snapshot.config;
        let ctx = TurnContext {
            engine: &snapshot.engine,
            templates: &snapshot.templates,
            thresholds: &config.thresholds,
            escalation: &config.escalation,
            messages: &config.messages,
            transcript: config.session.transcript_limit(),
            user,
            channel,
            backends: &snapshot.backends,
            agent_desk: self.desk.is_some() || config.desk.takes_handoffs(),
            live_agents: config.desk.live_agents,
            agents_available: config.desk.agents_available(now_ms() / 1000),
            now_ms: now_ms(),
        };
        let turn = dialogue::turn(ctx, session, text)?;
        self.sessions.update(session_id, slot, session);
        match (&session.seat, seated) {
            // Handed to a person: it waits in a queue.
            (Some(seat), false) => {
                *seat_changed = true;
                outbox.push(Outgoing { customer: true, agents: true, desk: false, body: agents::queued(seat) });
            }
            // The customer writes to a person: the agents hear it (the customer's
            // own stream does not replay it to whoever follows the session).
            (Some(_), true) => outbox.push(Outgoing {
                customer: false,
                agents: true,
                desk: false,
                body: EventBody::Message { from: Author::Customer, text: text.to_owned(), agent: None },
            }),
            _ => {}
        }
        self.memory.learn(user, &turn.reply, session);
        if let Some(desk) = &self.desk {
            let customer = DeskCustomer { id: user.id.clone(), tags: user.tags.clone() };
            let ts_ms = now_ms();
            if let Some(handoff) = &turn.reply.handoff {
                let session_id = session_id.to_owned();
                let channel = channel.map(str::to_owned);
                desk.send(DeskEvent::Handoff { session_id, channel, customer, handoff: handoff.clone(), ts_ms });
            } else if let dialogue::Decision::Callback { phone } = &turn.decision {
                let transcript = session.transcript.clone();
                desk.send(DeskEvent::Callback {
                    session_id: session_id.to_owned(),
                    customer,
                    phone: phone.clone(),
                    transcript,
                    ts_ms,
                });
            } else if turn.reply.action == TurnAction::WithAgent {
                desk.send(DeskEvent::Message {
                    session_id: session_id.to_owned(),
                    customer,
                    text: text.to_owned(),
                    ts_ms,
                });
            }
        }
        let reply = &turn.reply;
        self.log.write(TurnRecord {
            ts_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            session: session_id.to_owned(),
            channel: channel.map(str::to_owned),
            user: user.id.clone(),
            text: text.to_owned(),
            action: reply.action.as_str().to_owned(),
            match_id: reply.matched.as_ref().map(|m| m.id.clone()),
            score: reply.matched.as_ref().map(|m| m.score),
            handoff_reason: reply.handoff.as_ref().map(|h| h.reason.as_str().to_owned()),
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
            turn: reply.turn,
            candidates: reply.candidates.iter().map(|c| c.id.clone()).collect(),
            helpful: None,
            score_given: None,
            read_with: turn.reading.context.then(|| "context".to_owned()),
            ruled_out: turn.reading.ruled_out.iter().map(ToString::to_string).collect(),
            without_model: turn.shortcut.map(|s| s.as_str().to_owned()),
            ..TurnRecord::default()
        });
        Ok(turn)
    }

    /// Suggestions for an agent serving a customer: knowledge answers and scenarios
    /// for `text` (what the customer or the agent wrote). With a session, the
    /// problem the bot was working on (see [`session_problem`](Self::session_problem))
    /// comes first.
    pub fn assist(&self, text: &str, problem: Option<Problem>) -> Result<Assist, IndexError> {
        let snapshot = self.snapshot();
        let engine = &snapshot.engine;
        let options =
            dialogue::signals::SignalOptions { complaints: false, candidates: ASSIST_ANSWERS, user_known: true };
        let signals = dialogue::signals::gather(engine, text, options)?;
        let problem = match problem {
            Some(Problem::Faq(id)) => Some(id),
            _ => None,
        };
        let kb = engine.knowledge();
        let nobody = serde_json::Value::Null;
        let who = Customer { channel: None, tags: &[], profile: &nobody };
        let ranked = signals.faqs.iter().map(|c| (c.id.clone(), c.score));
        let mut suggested_answers: Vec<dialogue::SuggestedAnswer> = Vec::new();
        for (id, score) in problem.map(|p| (p, 1.0)).into_iter().chain(ranked) {
            if suggested_answers.len() == ASSIST_ANSWERS || suggested_answers.iter().any(|s| s.id == id.as_str()) {
                continue;
            }
            if let Some(entry) = kb.faq(&id) {
                suggested_answers.push(dialogue::SuggestedAnswer {
                    id: entry.id.to_string(),
                    question: entry.question.clone(),
                    answer: snapshot.templates.faq_answer(entry, who),
                    score,
                });
            }
        }
        let scenarios = signals
            .intents
            .iter()
            .take(ASSIST_SCENARIOS)
            .map(|i| AssistScenario { id: i.id.to_string(), example: i.example.clone(), score: i.score })
            .collect();
        Ok(Assist { suggested_answers, scenarios })
    }

    /// The agent desk gives session `session_id` back to the bot (as a close
    /// whose outcome is not said): `None` when the session is unknown, else
    /// whether a person held it or it waited for one.
    pub async fn release(&self, session_id: &str) -> Result<Option<bool>, SessionError> {
        match self.close(session_id, None).await {
            Ok(()) => Ok(Some(true)),
            Err(AgentError::UnknownSession) => Ok(None),
            // No seat: an external desk held it (or nobody did).
            Err(AgentError::NotHandedOff) => {
                let mut locked = self.lock_session(session_id).await?;
                let held = dialogue::release(&mut locked.guard);
                self.finish(locked).await?;
                Ok(Some(held))
            }
            Err(AgentError::Session(e)) => Err(e),
            Err(other) => unreachable!("a close fails only so: {other}"),
        }
    }

    /// Hits and misses of the query-vector cache, if one is in front of the model.
    pub fn query_cache_stats(&self) -> Option<(u64, u64)> {
        self.encoder.as_ref().and_then(|e| e.cache_stats())
    }

    /// Delivery counters of the agent desk (delivered, failed), if one is connected.
    pub fn desk_stats(&self) -> Option<(u64, u64)> {
        self.desk.as_ref().map(|d| {
            let s = d.stats();
            (
                s.delivered.load(std::sync::atomic::Ordering::Relaxed),
                s.failed.load(std::sync::atomic::Ordering::Relaxed),
            )
        })
    }

    /// Open session `session_id` (if new) and greet the customer with what they
    /// are likely to ask: their unresolved problem from an earlier session, the
    /// entries whose `when` audiences match them, the most answered entries.
    /// With a shared store, open the session there first with
    /// [`open_session`](Self::open_session).
    pub fn welcome(&self, session_id: &str, user: &UserInfo, channel: Option<&str>) -> Welcome {
        self.sessions.get_or_create(session_id);
        let snapshot = self.snapshot();
        let messages = &snapshot.config.messages;
        let mut env = minijinja::Environment::new();
        env.set_formatter(dialogue::templates::neutral_formatter);
        let text = env.render_str(&messages.welcome, &user.profile).unwrap_or_else(|_| messages.welcome.clone());
        let unresolved = user.id.as_ref().and_then(|id| self.memory.unresolved.get(id));
        let who = Customer { channel, tags: &user.tags, profile: &user.profile };
        let n = messages.welcome_suggestions;
        let popular = self.memory.most_answered(n + 8);
        let suggestions =
            dialogue::welcome::suggest(snapshot.engine.knowledge(), who, unresolved.as_ref(), &popular, n);
        Welcome { text, suggestions }
    }

    /// Open session `session_id` empty in the shared store unless it exists there
    /// (so that feedback and ratings find it on any replica).
    pub async fn open_session(&self, session_id: &str) -> Result<(), SessionError> {
        if let Some(store) = &self.shared {
            store.open(session_id).await?;
        }
        Ok(())
    }

    /// Feedback on a turn of a locked session; `false` when the turn is unknown.
    pub fn feedback_locked(&self, locked: &mut LockedSession, turn: u64, helpful: bool) -> bool {
        let known = dialogue::feedback(&mut locked.guard, turn, helpful);
        if known {
            self.log_feedback(&locked.id, turn, helpful);
        }
        known
    }

    /// A 👍/👎 goes to the turn log as a `feedback` line (for `bizbot learn`).
    fn log_feedback(&self, session_id: &str, turn: u64, helpful: bool) {
        self.log.write(TurnRecord { turn, helpful: Some(helpful), ..event_record(session_id, "feedback") });
    }

    /// The customer's 1–5 score of the conversation in session `session_id`, with
    /// an optional comment, to the turn log; `false` when the session is unknown.
    pub async fn rate(&self, session_id: &str, score: u8, comment: &str) -> Result<bool, SessionError> {
        if !self.session_exists(session_id).await? {
            return Ok(false);
        }
        self.log.write(TurnRecord {
            text: comment.to_owned(),
            score_given: Some(score),
            ..event_record(session_id, "rating")
        });
        Ok(true)
    }

    /// Feedback on a turn; `false` when the session or turn is unknown. Waits on
    /// this thread while a turn of the session is answered.
    pub fn feedback(&self, session_id: &str, turn: u64, helpful: bool) -> bool {
        let Some(slot) = self.sessions.get(session_id) else { return false };
        let mut session = slot.lock_blocking();
        let known = dialogue::feedback(&mut session, turn, helpful);
        if known {
            self.log_feedback(session_id, turn, helpful);
        }
        known
    }

    /// Make sure every turn-log line written so far is on disk.
    pub fn flush(&self) {
        self.log.flush();
    }

    /// Re-read config and knowledge, validate, index, and swap in. On any error the
    /// old snapshot keeps serving.
    pub fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let mut config = crate::config::load(self.config_path.as_deref())?;
        self.overrides.apply(&mut config);
        let keys = self.snapshot().config.restart_only_changes(&config);
        if !keys.is_empty() {
            return Err(ReloadError::RestartOnly { keys });
        }
        let snapshot = build_snapshot(config, self.encoder.clone())?;
        let report = ReloadReport {
            entries: snapshot.engine.knowledge().faqs.len(),
            files: snapshot.engine.knowledge().files.len(),
            embedded: snapshot.engine.vector_stats().encoded,
        };
        self.snapshot.store(Arc::new(snapshot));
        Ok(report)
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// A turn-log line for an event that is not a turn (`feedback`, `rating`).
fn event_record(session_id: &str, action: &str) -> TurnRecord {
    TurnRecord { ts_ms: now_ms(), session: session_id.to_owned(), action: action.into(), ..TurnRecord::default() }
}

/// Load knowledge, index it, connect back-ends, and check that every scenario's
/// back-end exists.
fn build_snapshot(config: Config, encoder: Option<Arc<dyn Encoder>>) -> Result<Snapshot, ReloadError> {
    let kb = KnowledgeBase::load(&config.knowledge.path)?;
    let backends = Backends::from_config(&config.backends)
        .map_err(|errors| ReloadError::Backends(errors.iter().map(ToString::to_string).collect()))?;
    let unknown: Vec<String> = kb
        .scenarios
        .iter()
        .filter(|s| !backends.contains(&s.lookup.backend))
        .map(|s| {
            format!(
                "{}:{}: lookup.backend: scenario {:?} uses back-end {:?}, which is not in [backends]",
                s.source.file.display(),
                s.source.line,
                s.id,
                s.lookup.backend
            )
        })
        .collect();
    if !unknown.is_empty() {
        return Err(ReloadError::Backends(unknown));
    }
    let templates = Templates::compile(&kb);
    let engine = Engine::build(kb, &config.engine_settings(), encoder)?;
    Ok(Snapshot { config, engine, templates, backends })
}
