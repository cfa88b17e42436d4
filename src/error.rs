//! The crate error: every module's error, wrapped.

use crate::config::ConfigError;
use crate::embed::EmbedError;
use crate::index::IndexError;
use crate::knowledge::KnowledgeError;

/// Any bizbot error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration could not be loaded or is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Knowledge could not be loaded or is invalid.
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    /// The embedding model failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// Indexing or retrieval failed.
    #[error(transparent)]
    Index(#[from] IndexError),
}

/// Whose fault an error is: decides exit codes and HTTP statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Bad input from a user or an editor.
    User,
    /// Bad configuration or missing files.
    Config,
    /// A bug or an environment failure.
    Internal,
}

impl Error {
    /// Whose fault this is.
    pub fn fault(&self) -> Fault {
        match self {
            Self::Config(_) => Fault::Config,
            Self::Knowledge(_) => Fault::User,
            Self::Embed(EmbedError::Missing { .. } | EmbedError::Load { .. }) => Fault::Config,
            Self::Embed(EmbedError::Inference { .. }) | Self::Index(_) => Fault::Internal,
        }
    }
}

/// `Result` with the crate error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
