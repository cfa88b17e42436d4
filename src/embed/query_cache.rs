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
        // Concurrent misses of one text wait for a single model call; those that
        // waited count as hits.
        let ran = std::cell::Cell::new(false);
        let v = self
            .cache
            .try_get_with(text.to_owned(), || {
                ran.set(true);
                self.inner.encode_one(text).map(Arc::new)
            })
            .map_err(|e| EmbedError::Inference { reason: e.to_string() })?;
        let counter = if ran.get() { &self.misses } else { &self.hits };
        counter.fetch_add(1, Ordering::Relaxed);
        Ok(v.as_ref().clone())
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

    #[test]
    fn concurrent_misses_of_one_text_run_the_model_once() {
        let cache = Arc::new(QueryCache::new(Arc::new(FakeEncoder::new(8)), 100));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                std::thread::spawn({
                    let cache = cache.clone();
                    move || cache.encode_one("怎么退货").unwrap()
                })
            })
            .collect();
        let vectors: Vec<Vec<f32>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert!(vectors.windows(2).all(|w| w[0] == w[1]));
        assert_eq!(cache.stats(), (7, 1));
    }
}
