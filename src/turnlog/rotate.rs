//! An append-only file that rotates by size and age, logrotate style: the full
//! file becomes `NAME.1`, an older `NAME.1` becomes `NAME.2`, …, and files beyond
//! `keep` are deleted.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// When to rotate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RotatePolicy {
    /// Rotate before a write would take the file past this size; 0 = never.
    pub max_bytes: u64,
    /// Rotate when the file was opened longer ago than this; `None` = never.
    pub max_age: Option<Duration>,
    /// Rotated files kept.
    pub keep: usize,
}

/// The open file, its size and when it was started.
#[derive(Debug)]
pub struct RotatingFile {
    path: PathBuf,
    policy: RotatePolicy,
    file: File,
    size: u64,
    started: SystemTime,
}

impl RotatingFile {
    /// Open (create) `path` for appending.
    pub fn open(path: &Path, policy: RotatePolicy) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        let meta = file.metadata()?;
        // An existing file counts from its creation (or last change) time.
        let started = meta.created().or_else(|_| meta.modified()).unwrap_or_else(|_| SystemTime::now());
        Ok(Self { path: path.to_owned(), policy, file, size: meta.len(), started })
    }

    /// Append `bytes` whole, rotating first when the policy says so.
    pub fn append(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.due(bytes.len() as u64, SystemTime::now()) {
            self.rotate()?;
        }
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    /// Push what was written to disk.
    pub fn sync(&self) -> std::io::Result<()> {
        self.file.sync_data()
    }

    fn due(&self, incoming: u64, now: SystemTime) -> bool {
        if self.size == 0 {
            return false;
        }
        let too_big = self.policy.max_bytes > 0 && self.size + incoming > self.policy.max_bytes;
        let too_old =
            self.policy.max_age.is_some_and(|age| now.duration_since(self.started).is_ok_and(|elapsed| elapsed >= age));
        too_big || too_old
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let numbered = |n: usize| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        if self.policy.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(numbered(self.policy.keep));
            for n in (1..self.policy.keep).rev() {
                let from = numbered(n);
                if from.exists() {
                    std::fs::rename(&from, numbered(n + 1))?;
                }
            }
            std::fs::rename(&self.path, numbered(1))?;
        }
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        self.started = SystemTime::now();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_by_size_and_keeps_the_newest_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("turns.jsonl");
        let policy = RotatePolicy { max_bytes: 10, max_age: None, keep: 2 };
        let mut f = RotatingFile::open(&path, policy).unwrap();
        for line in ["aaaa\n", "bbbb\n", "cccc\n", "dddd\n", "eeee\n", "ffff\n", "gggg\n"] {
            f.append(line.as_bytes()).unwrap();
        }
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("turns.jsonl"), "gggg\n");
        assert_eq!(read("turns.jsonl.1"), "eeee\nffff\n");
        assert_eq!(read("turns.jsonl.2"), "cccc\ndddd\n");
        assert!(!dir.path().join("turns.jsonl.3").exists());
    }

    #[test]
    fn a_line_larger_than_the_limit_is_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.log");
        let mut f = RotatingFile::open(&path, RotatePolicy { max_bytes: 4, max_age: None, keep: 1 }).unwrap();
        f.append(b"0123456789\n").unwrap();
        f.append(b"x\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("t.log.1")).unwrap(), "0123456789\n");
    }

    #[test]
    fn rotates_by_age() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.log");
        let policy = RotatePolicy { max_bytes: 0, max_age: Some(Duration::from_secs(3600)), keep: 3 };
        let mut f = RotatingFile::open(&path, policy).unwrap();
        f.append(b"old\n").unwrap();
        assert!(!f.due(4, SystemTime::now()));
        assert!(f.due(4, SystemTime::now() + Duration::from_secs(3601)));
        f.started -= Duration::from_secs(3601);
        f.append(b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(std::fs::read_to_string(dir.path().join("t.log.1")).unwrap(), "old\n");
    }
}
