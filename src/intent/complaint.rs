//! Complaint likelihood from example texts, one half of complaint detection (the
//! other half, phrases, is pure policy in `dialogue::escalation`).
//!
//! A nearest-neighbour margin: the mean cosine of a text to its 3 nearest
//! complaint examples minus that to its 3 nearest ordinary examples. Positive means
//! "reads more like a complaint than like an ordinary message".

use std::sync::Arc;

use crate::embed::{EmbeddingCache, Encoder};
use crate::index::IndexError;
use crate::text::Analyzer;

/// Neighbours averaged on each side.
const NEIGHBOURS: usize = 3;

/// Embedded complaint and ordinary examples.
pub struct ComplaintExamples {
    encoder: Option<Arc<dyn Encoder>>,
    complaints: Vec<Vec<f32>>,
    ordinary: Vec<Vec<f32>>,
}

impl std::fmt::Debug for ComplaintExamples {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComplaintExamples")
            .field("complaints", &self.complaints.len())
            .field("ordinary", &self.ordinary.len())
            .finish_non_exhaustive()
    }
}

impl ComplaintExamples {
    /// Embed both example sets (normalised like queries). Without an encoder there
    /// is no margin and only phrases detect complaints.
    pub fn build(
        analyzer: &Analyzer,
        complaints: &[String],
        ordinary: &[String],
        encoder: Option<(Arc<dyn Encoder>, &mut EmbeddingCache)>,
    ) -> Result<Self, IndexError> {
        let Some((encoder, cache)) = encoder else {
            return Ok(Self { encoder: None, complaints: Vec::new(), ordinary: Vec::new() });
        };
        let mut embed = |examples: &[String]| -> Result<Vec<Vec<f32>>, IndexError> {
            let texts: Vec<String> = examples.iter().map(|e| analyzer.normalize(e)).filter(|e| !e.is_empty()).collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            Ok(cache.embed_all(encoder.as_ref(), &refs)?.0)
        };
        let complaints = embed(complaints)?;
        let ordinary = embed(ordinary)?;
        Ok(Self { encoder: Some(encoder), complaints, ordinary })
    }

    /// Whether similarity detection is available (a model and examples).
    pub fn is_active(&self) -> bool {
        self.encoder.is_some() && !self.complaints.is_empty()
    }

    /// Embed `normalized` text with the examples' model.
    pub fn embed(&self, normalized: &str) -> Result<Option<Vec<f32>>, IndexError> {
        match &self.encoder {
            Some(encoder) if !normalized.is_empty() => Ok(Some(encoder.encode_one(normalized)?)),
            _ => Ok(None),
        }
    }

    /// The margin of the unit vector `v`: mean cosine to its nearest complaint
    /// examples minus mean cosine to its nearest ordinary texts, where the ordinary
    /// side also counts `more_ordinary` (cosines to the knowledge's own questions:
    /// a text that reads like a known question is not a complaint).
    pub fn margin(&self, v: &[f32], more_ordinary: &[f32]) -> f32 {
        let sims = |side: &[Vec<f32>]| side.iter().map(|e| e.iter().zip(v).map(|(a, b)| a * b).sum::<f32>()).collect();
        let near = |mut sims: Vec<f32>| -> f32 {
            sims.sort_by(|a, b| b.total_cmp(a));
            let k = sims.len().min(NEIGHBOURS);
            if k == 0 { 0.0 } else { sims[..k].iter().sum::<f32>() / k as f32 }
        };
        let mut ordinary: Vec<f32> = sims(&self.ordinary);
        ordinary.extend_from_slice(more_ordinary);
        near(sims(&self.complaints)) - near(ordinary)
    }
}
