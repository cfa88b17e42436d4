//! Sentence embeddings: the [`Encoder`] trait, the ONNX Runtime encoder and a
//! deterministic fake for fast unit tests, plus an on-disk cache of vectors.
//!
//! Encoders turn text into unit-length vectors; they know nothing of knowledge or
//! indexes.

mod blend;
mod cache;
mod fake;
mod micro_batch;
mod onnx;
mod query_cache;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use blend::BlendEncoder;
pub use cache::EmbeddingCache;
pub use fake::FakeEncoder;
pub use onnx::OnnxEncoder;
pub use query_cache::QueryCache;

/// Turns text into unit-length vectors of a fixed dimension.
pub trait Encoder: Send + Sync {
    /// Vector length.
    fn dim(&self) -> usize;
    /// Identifies the model and its settings, for cache keys.
    fn model_id(&self) -> &str;
    /// Encode a batch of texts; one vector per text, in order.
    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
    /// Hits and misses of a query-vector cache in front of the model, if any.
    fn cache_stats(&self) -> Option<(u64, u64)> {
        None
    }
    /// Encode one text.
    fn encode_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut v = self.encode(&[text])?;
        v.pop().ok_or_else(|| EmbedError::Inference { reason: "the model returned no vector".into() })
    }
}

/// Where the model is and how to run it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbedConfig {
    /// Use the embedding model (false: lexical-only).
    #[serde(default = "default_enabled")]
    pub enabled: bool,
    /// Folder with `model.onnx` and `tokenizer.json`.
    #[serde(default = "default_model_dir")]
    pub model_dir: PathBuf,
    /// A second model whose vectors are joined to the first's (see
    /// [`BlendEncoder`]); empty = none.
    #[serde(default = "default_second_model_dir")]
    pub second_model_dir: PathBuf,
    /// The second model's share of every cosine, in (0, 1).
    #[serde(default = "default_second_weight")]
    pub second_weight: f32,
    /// The ONNX Runtime shared library.
    #[serde(default = "default_runtime")]
    pub runtime_library: PathBuf,
    /// Name of the model output holding sentence vectors.
    #[serde(default = "default_output")]
    pub output: String,
    /// Texts per inference call when building the index. 1 keeps every vector
    /// independent of its batch-mates, which the default (dynamically quantised)
    /// model needs for exact, cacheable vectors.
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    /// Longest input in tokens; longer input is truncated.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// ONNX Runtime intra-op threads per session.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// Most texts of concurrent turns embedded in one inference call (1 = each
    /// alone). Batches form only while every session is busy. Keep 1 for a model
    /// whose vectors depend on their batch-mates.
    #[serde(default = "default_micro_batch")]
    pub micro_batch: usize,
    /// Folder for the embedding cache; empty disables it.
    #[serde(default = "default_cache_dir")]
    pub cache_dir: PathBuf,
    /// Query vectors kept in memory (repeated texts skip the model); 0 = off.
    #[serde(default = "default_query_cache")]
    pub query_cache: u64,
}

fn default_query_cache() -> u64 {
    10_000
}

fn default_enabled() -> bool {
    true
}
fn default_model_dir() -> PathBuf {
    PathBuf::from("models/e5-small")
}
fn default_second_model_dir() -> PathBuf {
    PathBuf::new()
}
fn default_second_weight() -> f32 {
    0.2
}
fn default_runtime() -> PathBuf {
    PathBuf::from("models/onnxruntime/libonnxruntime.so")
}
fn default_output() -> String {
    "sentence_embedding".into()
}
fn default_batch_size() -> usize {
    1
}
fn default_max_tokens() -> usize {
    256
}
fn default_threads() -> usize {
    1
}
fn default_micro_batch() -> usize {
    8
}
fn default_cache_dir() -> PathBuf {
    PathBuf::from(".cache/embeddings")
}

impl Default for EmbedConfig {
    fn default() -> Self {
        Self {
            enabled: default_enabled(),
            model_dir: default_model_dir(),
            second_model_dir: default_second_model_dir(),
            second_weight: default_second_weight(),
            runtime_library: default_runtime(),
            output: default_output(),
            batch_size: default_batch_size(),
            max_tokens: default_max_tokens(),
            threads: default_threads(),
            micro_batch: default_micro_batch(),
            cache_dir: default_cache_dir(),
            query_cache: default_query_cache(),
        }
    }
}

/// Why embedding failed.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A model file is missing.
    #[error("model file not found: {path} (run scripts/setup.sh)")]
    Missing {
        /// The missing file.
        path: PathBuf,
    },
    /// ONNX Runtime or the model could not be loaded.
    #[error("cannot load {path}: {reason}")]
    Load {
        /// The file that failed.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Tokenisation or inference failed.
    #[error("embedding failed: {reason}")]
    Inference {
        /// What went wrong.
        reason: String,
    },
}

/// Scale `v` to unit length (left as is when it is all zeros).
pub fn normalize_l2(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
}

/// Shared checks every encoder must pass (conformance tests).
#[cfg(test)]
#[macro_export]
macro_rules! encoder_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            use $crate::embed::Encoder;

            #[test]
            fn vectors_have_dim_and_unit_norm() {
                let Some(enc) = $make else { return };
                let texts = ["怎么退货", "", "WIFI免费吗😀", "a"];
                let vs = enc.encode(&texts).expect("encode");
                assert_eq!(vs.len(), texts.len());
                for v in &vs {
                    assert_eq!(v.len(), enc.dim());
                    let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");
                }
            }

            #[test]
            fn encoding_is_deterministic() {
                let Some(enc) = $make else { return };
                assert_eq!(enc.encode_one("宽带怎么报修").unwrap(), enc.encode_one("宽带怎么报修").unwrap());
            }

            #[test]
            fn empty_batch_gives_no_vectors() {
                let Some(enc) = $make else { return };
                assert!(enc.encode(&[]).unwrap().is_empty());
            }
        }
    };
}
