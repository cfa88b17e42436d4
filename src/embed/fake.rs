//! A deterministic encoder for unit tests of code around the model: character
//! bigrams hashed into a small vector. Not a semantic model; never used in serving.

use sha2::{Digest, Sha256};

use super::{EmbedError, Encoder, normalize_l2};

/// Hashes character unigrams and bigrams into `dim` buckets.
#[derive(Debug, Clone)]
pub struct FakeEncoder {
    dim: usize,
}

impl FakeEncoder {
    /// A fake encoder with vectors of length `dim`.
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn bucket(&self, s: &str) -> usize {
        let d = Sha256::digest(s.as_bytes());
        (u64::from_le_bytes(d[..8].try_into().expect("8 bytes")) % self.dim as u64) as usize
    }
}

impl Encoder for FakeEncoder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn model_id(&self) -> &str {
        "fake"
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.0; self.dim];
                let chars: Vec<char> = t.chars().collect();
                for (i, c) in chars.iter().enumerate() {
                    v[self.bucket(&c.to_string())] += 1.0;
                    if let Some(next) = chars.get(i + 1) {
                        v[self.bucket(&format!("{c}{next}"))] += 1.0;
                    }
                }
                if chars.is_empty() {
                    v[0] = 1.0;
                }
                normalize_l2(&mut v);
                v
            })
            .collect())
    }
}

#[cfg(test)]
crate::encoder_conformance!(fake_conformance, Some(super::FakeEncoder::new(64)));
