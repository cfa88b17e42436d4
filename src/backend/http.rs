//! HTTP JSON back-ends (blocking client; turns run off the async runtime).

use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use super::{Backend, BackendConfig, BackendError};

/// A back-end reached with `GET base_url + path`.
#[derive(Debug, Clone)]
pub struct HttpBackend {
    name: String,
    base_url: String,
    client: Client,
}

impl HttpBackend {
    /// Build from config; header values come from the environment.
    pub fn new(name: &str, config: &BackendConfig) -> Result<Self, Vec<BackendError>> {
        let mut headers = HeaderMap::new();
        let mut errors = Vec::new();
        let transport =
            |reason: String| BackendError::Transport { backend: name.to_owned(), path: String::new(), reason };
        for (header, var) in &config.headers {
            let Ok(value) = std::env::var(var) else {
                errors.push(BackendError::MissingEnv {
                    backend: name.to_owned(),
                    header: header.clone(),
                    var: var.clone(),
                });
                continue;
            };
            match (HeaderName::try_from(header.as_str()), HeaderValue::try_from(value)) {
                (Ok(h), Ok(v)) => {
                    headers.insert(h, v);
                }
                _ => errors.push(transport(format!("invalid header {header}"))),
            }
        }
        let client = Client::builder()
            .timeout(Duration::from_millis(config.timeout_ms.max(1)))
            .default_headers(headers)
            .build()
            .map_err(|e| vec![transport(e.to_string())])?;
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Self { name: name.to_owned(), base_url: config.base_url.trim_end_matches('/').to_owned(), client })
    }
}

impl Backend for HttpBackend {
    fn get(&self, path: &str) -> Result<serde_json::Value, BackendError> {
        let url = format!("{}{path}", self.base_url);
        let err_path = path.to_owned();
        let response = self.client.get(&url).send().map_err(|e| {
            if e.is_timeout() {
                BackendError::Timeout { backend: self.name.clone(), path: err_path.clone() }
            } else {
                BackendError::Transport { backend: self.name.clone(), path: err_path.clone(), reason: e.to_string() }
            }
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(BackendError::Status { backend: self.name.clone(), path: err_path, status: status.as_u16() });
        }
        response.json().map_err(|e| {
            if e.is_timeout() {
                BackendError::Timeout { backend: self.name.clone(), path: err_path.clone() }
            } else {
                BackendError::InvalidJson { backend: self.name.clone(), path: err_path.clone(), reason: e.to_string() }
            }
        })
    }
}

#[cfg(test)]
crate::backend_conformance!(
    http_conformance,
    super::HttpBackend::new(
        "closed",
        &super::BackendConfig { base_url: "http://127.0.0.1:9".into(), timeout_ms: 200, headers: Default::default() }
    )
    .expect("builds")
);
