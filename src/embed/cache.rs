//! On-disk cache of sentence vectors, keyed by model id and text, so reloading
//! unchanged knowledge does not re-embed it.
//!
//! One file per model: `<cache_dir>/<model_id>.vec`, a sequence of records
//! `[u32 text length][text UTF-8][dim × f32]`, little-endian. A corrupt or truncated
//! file is ignored (and rewritten); the cache is never a source of truth.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{EmbedError, Encoder};

/// Vectors by text for one model.
#[derive(Debug)]
pub struct EmbeddingCache {
    path: Option<PathBuf>,
    vectors: HashMap<String, Vec<f32>>,
    dirty: bool,
}

impl EmbeddingCache {
    /// Open the cache for `model_id` in `dir`; an empty `dir` gives a memory-only cache.
    pub fn open(dir: &Path, model_id: &str, dim: usize) -> Self {
        let path = (!dir.as_os_str().is_empty()).then(|| dir.join(format!("{model_id}.vec")));
        let vectors = path.as_deref().and_then(|p| read(p, dim)).unwrap_or_default();
        Self { path, vectors, dirty: false }
    }

    /// Number of cached vectors.
    pub fn len(&self) -> usize {
        self.vectors.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.vectors.is_empty()
    }

    /// Vectors for `texts`, encoding (in batches) only those not cached yet.
    /// Returns the vectors and how many were newly encoded.
    pub fn embed_all(&mut self, encoder: &dyn Encoder, texts: &[&str]) -> Result<(Vec<Vec<f32>>, usize), EmbedError> {
        let mut missing: Vec<&str> = texts.iter().copied().filter(|t| !self.vectors.contains_key(*t)).collect();
        missing.sort_unstable();
        missing.dedup();
        for chunk in missing.chunks(256) {
            for (text, v) in chunk.iter().zip(encoder.encode(chunk)?) {
                self.vectors.insert((*text).to_owned(), v);
            }
        }
        self.dirty |= !missing.is_empty();
        let out = texts.iter().map(|t| self.vectors[*t].clone()).collect();
        Ok((out, missing.len()))
    }

    /// Write the cache if it changed. Failure to write only costs re-embedding
    /// next time, so it is reported, not fatal.
    pub fn save(&mut self) -> std::io::Result<()> {
        let Some(path) = self.path.as_deref() else { return Ok(()) };
        if !self.dirty {
            return Ok(());
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension("vec.tmp");
        let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        for (text, v) in &self.vectors {
            out.write_all(&(text.len() as u32).to_le_bytes())?;
            out.write_all(text.as_bytes())?;
            for x in v {
                out.write_all(&x.to_le_bytes())?;
            }
        }
        out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        std::fs::rename(&tmp, path)?;
        self.dirty = false;
        Ok(())
    }
}

fn read(path: &Path, dim: usize) -> Option<HashMap<String, Vec<f32>>> {
    let bytes = std::fs::read(path).ok()?;
    let mut vectors = HashMap::new();
    let mut at = 0;
    while at < bytes.len() {
        let len = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        let text = std::str::from_utf8(bytes.get(at..at + len)?).ok()?.to_owned();
        at += len;
        let raw = bytes.get(at..at + 4 * dim)?;
        at += 4 * dim;
        let v = raw.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes"))).collect();
        vectors.insert(text, v);
    }
    Some(vectors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::FakeEncoder;

    #[test]
    fn second_open_reuses_vectors() {
        let dir = tempfile::tempdir().unwrap();
        let enc = FakeEncoder::new(8);
        let mut cache = EmbeddingCache::open(dir.path(), "fake", 8);
        let (first, fresh) = cache.embed_all(&enc, &["退货", "换货", "退货"]).unwrap();
        assert_eq!(fresh, 2);
        cache.save().unwrap();
        let mut again = EmbeddingCache::open(dir.path(), "fake", 8);
        assert_eq!(again.len(), 2);
        let (second, fresh) = again.embed_all(&enc, &["退货", "换货", "退货"]).unwrap();
        assert_eq!(fresh, 0);
        assert_eq!(first, second);
    }

    #[test]
    fn a_corrupt_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fake.vec"), b"\xff\xff\xff\x7fgarbage").unwrap();
        let cache = EmbeddingCache::open(dir.path(), "fake", 8);
        assert!(cache.is_empty());
    }
}
