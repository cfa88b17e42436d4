//! Back-end lookups: the company's own systems, reached over HTTP JSON.
//!
//! A [`Backend`] answers `GET path` with JSON or an error; it knows nothing of
//! scenarios or templates. `noop.rs` is the annotated template for a new connector.

mod http;
mod noop;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

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
}

fn default_timeout() -> u64 {
    2000
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
                    by_name.insert(name.clone(), Arc::new(b));
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
