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
use crate::dialogue::{self, Reply, SessionStore, TurnContext, UserInfo};
use crate::embed::Encoder;
use crate::engine::Engine;
use crate::index::IndexError;
use crate::knowledge::{KnowledgeBase, KnowledgeError};

/// Config and knowledge in force, immutable.
#[derive(Debug)]
pub struct Snapshot {
    /// The configuration.
    pub config: Config,
    /// The indexed knowledge.
    pub engine: Engine,
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
    /// A restart-only setting changed.
    #[error("{key} changed; it takes effect only after a restart")]
    RestartOnly {
        /// The setting.
        key: &'static str,
    },
    /// Indexing failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// Back-ends are misconfigured, or a scenario names an unknown one.
    #[error("back-ends: {}", .0.join("; "))]
    Backends(Vec<String>),
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

/// The running bot.
pub struct Bot {
    snapshot: ArcSwap<Snapshot>,
    sessions: SessionStore,
    encoder: Option<Arc<dyn Encoder>>,
    config_path: Option<PathBuf>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot").field("config_path", &self.config_path).finish_non_exhaustive()
    }
}

impl Bot {
    /// Start with `config` (read from `config_path`, re-read on reload) and the
    /// knowledge it names.
    pub fn new(
        config: Config,
        config_path: Option<PathBuf>,
        encoder: Option<Arc<dyn Encoder>>,
    ) -> Result<Self, ReloadError> {
        let snapshot = build_snapshot(config, encoder.clone())?;
        let sessions = SessionStore::new(&snapshot.config.session);
        Ok(Self { snapshot: ArcSwap::from_pointee(snapshot), sessions, encoder, config_path })
    }

    /// The snapshot in force.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The sessions.
    pub fn sessions(&self) -> &SessionStore {
        &self.sessions
    }

    /// One customer turn in session `session_id`.
    pub fn reply(&self, session_id: &str, text: &str, user: &UserInfo) -> Result<Reply, IndexError> {
        let snapshot = self.snapshot();
        let config = &snapshot.config;
        let ctx = TurnContext {
            engine: &snapshot.engine,
            escalation: &config.escalation,
            messages: &config.messages,
            max_transcript: config.session.max_transcript,
            user,
            backends: &snapshot.backends,
        };
        let session = self.sessions.get_or_create(session_id);
        // A panic in another turn of this session cannot leave it half-updated in a
        // way that matters more than losing the turn: recover the state.
        let mut session = session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        dialogue::reply(ctx, &mut session, text)
    }

    /// Feedback on a turn; `false` when the session or turn is unknown.
    pub fn feedback(&self, session_id: &str, turn: u64, helpful: bool) -> bool {
        let Some(session) = self.sessions.get(session_id) else { return false };
        let mut session = session.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        dialogue::feedback(&mut session, turn, helpful)
    }

    /// Re-read config and knowledge, validate, index, and swap in. On any error the
    /// old snapshot keeps serving.
    pub fn reload(&self) -> Result<ReloadReport, ReloadError> {
        let config = crate::config::load(self.config_path.as_deref())?;
        let old = self.snapshot();
        if config.server.bind != old.config.server.bind {
            return Err(ReloadError::RestartOnly { key: "server.bind" });
        }
        if config.model != old.config.model {
            return Err(ReloadError::RestartOnly { key: "model" });
        }
        if config.session != old.config.session {
            return Err(ReloadError::RestartOnly { key: "session" });
        }
        if config.log != old.config.log {
            return Err(ReloadError::RestartOnly { key: "log" });
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
    let engine = Engine::build(kb, &config, encoder)?;
    Ok(Snapshot { config, engine, backends })
}
