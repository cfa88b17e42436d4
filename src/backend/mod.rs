//! Back-end lookups: the company's own systems, reached over HTTP JSON.
//!
//! A [`Backend`] answers `GET path` with JSON or an error; it knows nothing of
//! scenarios or templates. `noop.rs` is the annotated template for a new connector.

mod bulkhead;
mod http;
mod noop;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use bulkhead::{Admission, Breaker, BreakerPolicy, Guarded};
pub use http::HttpBackend;
pub use noop::NoopBackend;

/// One back-end (`[backends.NAME]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendConfig {
    /// Base URL, e.g. `http://crm.internal:8081`; the lookup path is appended.
    pub base_url: String,
    /// Whole-request timeout in milliseconds: a slow back-end never hangs a turn.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
    /// Headers sent with every request: header name → the *environment variable*
    /// holding its value (secrets stay out of the config file).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Look-ups waiting on this back-end at once; one more fails at once (its
    /// turn takes the scenario's `on_failure` path) instead of holding the
    /// service while the back-end is slow.
    #[serde(default = "default_max_concurrent")]
    pub max_concurrent: usize,
    /// Failures in a row (timeouts, connection errors, 5xx) after which the
    /// back-end is not called for `breaker_open_ms`; 0 = never.
    #[serde(default = "default_breaker_failures")]
    pub breaker_failures: u32,
    /// How long look-ups fail at once after `breaker_failures`, in ms; then one
    /// trial look-up decides.
    #[serde(default = "default_breaker_open_ms")]
    pub breaker_open_ms: u64,
}

fn default_timeout() -> u64 {
    2000
}

fn default_max_concurrent() -> usize {
    16
}

fn default_breaker_failures() -> u32 {
    5
}

fn default_breaker_open_ms() -> u64 {
    10_000
}

impl BackendConfig {
    /// A back-end at `base_url` with every other setting at its default.
    pub fn at(base_url: &str) -> Self {
        Self {
            base_url: base_url.to_owned(),
            timeout_ms: default_timeout(),
            headers: BTreeMap::new(),
            max_concurrent: default_max_concurrent(),
            breaker_failures: default_breaker_failures(),
            breaker_open_ms: default_breaker_open_ms(),
        }
    }
}

/// Why a lookup failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// No back-end with that name is configured.
    #[error("no back-end named {name:?} in [backends]")]
    Unknown {
        /// The name.
        name: String,
    },
    /// The back-end did not answer in time.
    #[error("{backend}: {path} timed out")]
    Timeout {
        /// Back-end name.
        backend: String,
        /// Requested path.
        path: String,
    },
    /// The back-end answered with an error status.
    #[error("{backend}: {path} answered HTTP {status}")]
    Status {
        /// Back-end name.
        backend: String,
        /// Requested path.
        path: String,
        /// HTTP status.
        status: u16,
    },
    /// Connection or protocol failure.
    #[error("{backend}: {path}: {reason}")]
    Transport {
        /// Back-end name.
        backend: String,
        /// Requested path.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The body is not JSON.
    #[error("{backend}: {path} did not return JSON: {reason}")]
    InvalidJson {
        /// Back-end name.
        backend: String,
        /// Requested path.
        path: String,
        /// Parser message.
        reason: String,
    },
    /// `max_concurrent` look-ups already wait on the back-end.
    #[error("{backend}: {path} not sent: max_concurrent look-ups already wait on it")]
    Busy {
        /// Back-end name.
        backend: String,
        /// Requested path.
        path: String,
    },
    /// The breaker is open after failures in a row.
    #[error("{backend}: {path} not sent: the back-end failed repeatedly and is paused")]
    Unavailable {
        /// Back-end name.
        backend: String,
        /// Requested path.
        path: String,
    },
    /// A header's environment variable is not set.
    #[error("back-end {backend}: header {header} needs environment variable {var}, which is not set")]
    MissingEnv {
        /// Back-end name.
        backend: String,
        /// Header name.
        header: String,
        /// Variable name.
        var: String,
    },
}

/// A system answering JSON lookups.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// `GET path` (already rendered and escaped), parsed as JSON.
    fn get(&self, path: &str) -> Result<serde_json::Value, BackendError>;
}

/// The configured back-ends by name.
#[derive(Debug, Clone, Default)]
pub struct Backends {
    by_name: HashMap<String, Arc<dyn Backend>>,
}

impl Backends {
    /// Build HTTP back-ends from config, reading header values from the environment.
    /// Every problem is returned, not only the first.
    pub fn from_config(configs: &BTreeMap<String, BackendConfig>) -> Result<Self, Vec<BackendError>> {
        let mut by_name: HashMap<String, Arc<dyn Backend>> = HashMap::new();
        let mut errors = Vec::new();
        for (name, config) in configs {
            match HttpBackend::new(name, config) {
                Ok(b) => {
                    let policy = BreakerPolicy {
                        failures: config.breaker_failures,
                        open_for: std::time::Duration::from_millis(config.breaker_open_ms),
                    };
                    by_name.insert(name.clone(), Arc::new(Guarded::new(name, b, config.max_concurrent, policy)));
                }
                Err(e) => errors.extend(e),
            }
        }
        if errors.is_empty() { Ok(Self { by_name }) } else { Err(errors) }
    }

    /// Add or replace a back-end (tests, custom connectors).
    pub fn insert(&mut self, name: &str, backend: Arc<dyn Backend>) {
        self.by_name.insert(name.to_owned(), backend);
    }

    /// Whether `name` is configured.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Look up `path` on back-end `name`.
    pub fn get(&self, name: &str, path: &str) -> Result<serde_json::Value, BackendError> {
        self.by_name.get(name).ok_or_else(|| BackendError::Unknown { name: name.to_owned() })?.get(path)
    }
}

/// Shared checks every back-end must pass (conformance tests).
#[cfg(test)]
#[macro_export]
macro_rules! backend_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use $crate::backend::{Backend, BackendError};

            #[test]
            fn errors_name_the_path() {
                let backend = $make;
                if let Err(e) = backend.get("/definitely/missing") {
                    let text = e.to_string();
                    assert!(
                        text.contains("/definitely/missing") || matches!(e, BackendError::Unknown { .. }),
                        "{text}"
                    );
                }
            }
        }
    };
}
