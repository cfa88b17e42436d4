//! How to add a connector: this back-end answers nothing, and is annotated as the
//! template to copy. It is compiled, so it cannot go out of date.
//!
//! 1. Make a struct holding what the connection needs (client, base URL, credentials).
//! 2. Implement [`Backend::get`]: take the rendered path, call the system, return its
//!    JSON. Never block longer than a configured timeout: a turn waits for you.
//! 3. Map every failure to a [`BackendError`] naming the back-end and the path; the
//!    scenario's `on_failure` decides what the customer sees.
//! 4. Register it with [`Backends::insert`](super::Backends::insert) under the name
//!    scenarios use in `lookup.backend`.
//! 5. Run `backend_conformance!` on it in its tests.

use super::{Backend, BackendError};

/// A back-end that is not connected: every lookup fails.
#[derive(Debug, Clone, Default)]
pub struct NoopBackend {
    /// The name it is registered under, for error messages.
    pub name: String,
}

impl Backend for NoopBackend {
    fn get(&self, path: &str) -> Result<serde_json::Value, BackendError> {
        // A real connector calls its system here.
        Err(BackendError::Transport {
            backend: self.name.clone(),
            path: path.to_owned(),
            reason: "not connected".into(),
        })
    }
}

#[cfg(test)]
crate::backend_conformance!(noop_conformance, super::NoopBackend { name: "noop".into() });
