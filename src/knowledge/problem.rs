//! A problem found while loading knowledge: file, line, field, message.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// One problem in the knowledge, located precisely enough for an editor to fix it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Problem {
    /// The file the problem is in.
    pub file: PathBuf,
    /// 1-based line; 0 when the problem concerns the whole file.
    pub line: usize,
    /// The field or column concerned (`question`, `actions`, `encoding`, …).
    pub field: String,
    /// What is wrong, in words an editor understands.
    pub message: String,
}

impl Problem {
    /// A problem at `file:line` in `field`.
    pub fn new(file: &Path, line: usize, field: &str, message: impl Into<String>) -> Self {
        Self { file: file.to_path_buf(), line, field: field.to_owned(), message: message.into() }
    }
}

impl fmt::Display for Problem {
    /// `file:line: field: message`, the format of `bizbot check`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file.display(), self.line, self.field, self.message)
    }
}
