//! A bounded in-memory cache of query vectors in front of an encoder: customer
//! traffic repeats a few hundred questions, and a repeated (normalised) text skips
//! the model. Vectors depend only on the model and the text, so the cache survives
//! knowledge reloads. Batches (indexing) pass through uncached.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{EmbedError, Encoder};

/// An encoder whose single-text calls are cached.
pub struct QueryCache {
    inner: Arc<dyn Encoder>,
    cache: moka::sync::Cache<String, Arc<Vec<f32>>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCache").field("entries", &self.cache.entry_count()).finish_non_exhaustive()
    }
}

impl QueryCache {
    /// Cache at most `capacity` query vectors of `inner`.
    pub fn new(inner: Arc<dyn Encoder>, capacity: u64) -> Self {
        Self {
            inner,
            cache: moka::sync::Cache::new(capacity.max(1)),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// Hits and misses so far.
    pub fn stats(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

impl Encoder for QueryCache {
    fn dim(&self) -> usize {
        self.inner.dim()
    }

    fn model_id(&self) -> &str {
        self.inner.model_id()
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.inner.encode(texts)
    }

    fn cache_stats(&self) -> Option<(u64, u64)> {
        Some(self.stats())
    }

    fn encode_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        if let Some(v) = self.cache.get(text) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(v.as_ref().clone());
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let v = self.inner.encode_one(text)?;
        self.cache.insert(text.to_owned(), Arc::new(v.clone()));
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::FakeEncoder;

    #[test]
    fn repeated_texts_skip_the_model() {
        let cache = QueryCache::new(Arc::new(FakeEncoder::new(8)), 100);
        let a = cache.encode_one("怎么退货").unwrap();
        assert_eq!(cache.encode_one("怎么退货").unwrap(), a);
        cache.encode_one("怎么换货").unwrap();
        assert_eq!(cache.stats(), (1, 2));
        // Batches are not cached (indexing has its own on-disk cache).
        cache.encode(&["怎么退货"]).unwrap();
        assert_eq!(cache.stats(), (1, 2));
    }
}
