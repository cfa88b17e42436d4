//! Configuration: compiled-in defaults (`config/default.toml`) → an optional file →
//! `BIZBOT__SECTION__KEY` environment variables, deserialised strictly and then
//! validated as a whole.
//!
//! Each module owns its settings struct; this module only composes them.

mod load;
mod validate;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::{DEFAULT_TOML, load, load_from, merge};
pub use validate::validate;

use crate::backend::BackendConfig;
use crate::dialogue::{EscalationConfig, MessagesConfig, SessionConfig};
use crate::embed::EmbedConfig;
use crate::engine::EngineSettings;
use crate::index::RetrievalConfig;
use crate::intent::ThresholdConfig;
use crate::text::NormalizeConfig;

/// Where the knowledge is (`[knowledge]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeConfig {
    /// Folder or single CSV/Markdown file.
    pub path: PathBuf,
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[knowledge]`
    pub knowledge: KnowledgeConfig,
    /// `[text]`
    pub text: NormalizeConfig,
    /// `[model]`
    pub model: EmbedConfig,
    /// `[retrieval]`
    pub retrieval: RetrievalConfig,
    /// `[thresholds]`
    pub thresholds: ThresholdConfig,
    /// `[server]`
    pub server: ServerConfig,
    /// `[session]`
    pub session: SessionConfig,
    /// `[escalation]`
    pub escalation: EscalationConfig,
    /// `[messages]`
    pub messages: MessagesConfig,
    /// `[log]`
    pub log: crate::turnlog::LogConfig,
    /// `[desk]`
    pub desk: crate::desk::DeskConfig,
    /// `[identity]`
    pub identity: crate::identity::IdentityConfig,
    /// `[channels]`: WeChat, WeCom and Feishu.
    pub channels: crate::channels::ChannelsConfig,
    /// `[backends.NAME]`: systems scenarios look up.
    #[serde(default)]
    pub backends: std::collections::BTreeMap<String, BackendConfig>,
}

impl Config {
    /// The sections the engine is built from.
    pub fn engine_settings(&self) -> EngineSettings<'_> {
        EngineSettings {
            text: &self.text,
            retrieval: &self.retrieval,
            cache_dir: &self.model.cache_dir,
            complaint_examples: &self.escalation.complaint_examples,
            ordinary_examples: &self.escalation.ordinary_examples,
            builtin_complaint_examples: self.escalation.builtin_complaint_examples,
            complaint_phrases: &self.escalation.complaint_phrases,
            out_of_scope_examples: &self.retrieval.out_of_scope_examples,
        }
    }

    /// The restart-only settings that differ between `self` (in force) and `new`:
    /// they are read once at start (listen address, request body limit, model,
    /// session store, turn log), so a reload that changes them is refused.
    pub fn restart_only_changes(&self, new: &Config) -> Vec<&'static str> {
        let changed = [
            ("server.bind", self.server.bind != new.server.bind),
            ("server.max_body_bytes", self.server.max_body_bytes != new.server.max_body_bytes),
            ("server.max_in_flight", self.server.max_in_flight != new.server.max_in_flight),
            ("server.max_connections", self.server.max_connections != new.server.max_connections),
            (
                "server.max_connections_per_address",
                self.server.max_connections_per_address != new.server.max_connections_per_address,
            ),
            ("server.header_timeout_secs", self.server.header_timeout_secs != new.server.header_timeout_secs),
            ("server.body_timeout_secs", self.server.body_timeout_secs != new.server.body_timeout_secs),
            ("server.cors_origins", self.server.cors_origins != new.server.cors_origins),
            ("server.metrics_bind", self.server.metrics_bind != new.server.metrics_bind),
            ("model", self.model != new.model),
            ("session", self.session != new.session),
            ("log", self.log != new.log),
            ("desk", self.desk != new.desk),
            // The channels' memory of message ids and signatures is sized at start.
            ("channels.dedup_secs", self.channels.dedup_secs != new.channels.dedup_secs),
            ("channels.max_clock_skew_secs", self.channels.max_clock_skew_secs != new.channels.max_clock_skew_secs),
        ];
        changed.into_iter().filter(|(_, c)| *c).map(|(key, _)| key).collect()
    }
}

/// The HTTP service (`[server]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address (restart-only).
    pub bind: String,
    /// Bearer token for `/admin/*`; empty disables them.
    pub admin_token: String,
    /// Largest request body in bytes (restart-only).
    pub max_body_bytes: usize,
    /// Longest customer text in characters.
    pub max_text_chars: usize,
    /// How long a turn waits for an earlier turn of the same session, in ms.
    pub session_wait_ms: u64,
    /// Turns of one session that may wait at once; more get 429 at once.
    pub session_queue: usize,
    /// Requests handled at once; more get 503 `overloaded` (restart-only).
    pub max_in_flight: usize,
    /// Open connections; further ones wait in the kernel's backlog (restart-only).
    pub max_connections: usize,
    /// Open connections from one client address; further ones are closed at once.
    /// 0 = no limit (behind a proxy that is the only address) (restart-only).
    pub max_connections_per_address: usize,
    /// Seconds a connection may take to send a request's headers, and may stay
    /// idle between requests (restart-only).
    pub header_timeout_secs: u64,
    /// Seconds a request may take to send its whole body (restart-only).
    pub body_timeout_secs: u64,
    /// Seconds in-flight requests get to finish after SIGTERM / ctrl-c.
    pub shutdown_grace_secs: u64,
    /// Origins whose pages may call the API from a browser (the widget on a
    /// company's site), e.g. `https://www.example.com`; `*` = any (restart-only).
    pub cors_origins: Vec<String>,
    /// A separate address for `/metrics` (then not served on `bind`); empty = on
    /// `bind` (restart-only).
    pub metrics_bind: String,
}

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A layer is not valid TOML or does not fit the schema (unknown key, wrong type).
    #[error("{origin}: {message}")]
    Parse {
        /// The layer: the file path or the environment variable.
        origin: String,
        /// What is wrong.
        message: String,
    },
    /// Values are out of range or inconsistent; every violation is listed.
    #[error("invalid configuration:\n  {}", .problems.join("\n  "))]
    Invalid {
        /// One line per violation, naming the key.
        problems: Vec<String>,
    },
}
