//! HTTP JSON back-ends, with `ureq`: a plain blocking client with no async runtime
//! inside, so turns (which run off the async runtime) can call it and it can be
//! created and dropped anywhere.

use std::time::Duration;

use ureq::Agent;

use super::{Backend, BackendConfig, BackendError};

/// A back-end reached with `GET base_url + path`.
#[derive(Debug, Clone)]
pub struct HttpBackend {
    name: String,
    base_url: String,
    headers: Vec<(String, String)>,
    agent: Agent,
}

impl HttpBackend {
    /// Build from config; header values come from the environment.
    pub fn new(name: &str, config: &BackendConfig) -> Result<Self, Vec<BackendError>> {
        let mut headers = Vec::new();
        let mut errors = Vec::new();
        for (header, var) in &config.headers {
            match std::env::var(var) {
                Ok(value) => headers.push((header.clone(), value)),
                Err(_) => errors.push(BackendError::MissingEnv {
                    backend: name.to_owned(),
                    header: header.clone(),
                    var: var.clone(),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let agent: Agent = Agent::config_builder()
            .timeout_global(Some(Duration::from_millis(config.timeout_ms.max(1))))
            .http_status_as_error(false)
            .build()
            .into();
        Ok(Self { name: name.to_owned(), base_url: config.base_url.trim_end_matches('/').to_owned(), headers, agent })
    }

    fn error(&self, path: &str, e: &ureq::Error) -> BackendError {
        let (backend, path) = (self.name.clone(), path.to_owned());
        match e {
            ureq::Error::Timeout(_) => BackendError::Timeout { backend, path },
            ureq::Error::Json(e) => BackendError::InvalidJson { backend, path, reason: e.to_string() },
            other => BackendError::Transport { backend, path, reason: other.to_string() },
        }
    }
}

impl Backend for HttpBackend {
    fn get(&self, path: &str) -> Result<serde_json::Value, BackendError> {
        let mut request = self.agent.get(format!("{}{path}", self.base_url)).header("accept", "application/json");
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let mut response = request.call().map_err(|e| self.error(path, &e))?;
        let status = response.status().as_u16();
        if !(200..300).contains(&status) {
            return Err(BackendError::Status { backend: self.name.clone(), path: path.to_owned(), status });
        }
        response.body_mut().read_json::<serde_json::Value>().map_err(|e| self.error(path, &e))
    }
}

#[cfg(test)]
crate::backend_conformance!(
    http_conformance,
    super::HttpBackend::new(
        "closed",
        &super::BackendConfig { timeout_ms: 200, ..super::BackendConfig::at("http://127.0.0.1:9") }
    )
    .expect("builds")
);
