//! Finding and reading knowledge files: the only I/O of the knowledge module.

use std::path::{Path, PathBuf};

use super::Problem;

/// The files under `path` (itself if it is a file), sorted, hidden ones skipped.
pub(super) fn list_files(path: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) => {
            problems.push(Problem::new(path, 0, "path", format!("cannot read: {e}")));
            return Vec::new();
        }
    };
    if meta.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    walk(path, &mut files, problems);
    files.sort();
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, problems: &mut Vec<Problem>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            problems.push(Problem::new(dir, 0, "path", format!("cannot list folder: {e}")));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            walk(&path, files, problems);
        } else {
            files.push(path);
        }
    }
}

/// Read a file as UTF-8 text, a leading BOM removed. Unreadable files and invalid
/// UTF-8 become problems (with the line of the first bad byte).
pub(super) fn read_utf8(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            problems.push(Problem::new(path, 0, "file", format!("cannot read: {e}")));
            return None;
        }
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Some(text.to_owned()),
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + bytes[..at].iter().filter(|&&b| b == b'\n').count();
            problems.push(Problem::new(
                path,
                line,
                "encoding",
                format!("invalid UTF-8 at byte {at}; save the file as UTF-8 (GBK/GB18030 is not accepted)"),
            ));
            None
        }
    }
}
