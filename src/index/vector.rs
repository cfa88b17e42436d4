//! Dense retrieval: every text of every document embedded once, searched exactly
//! with one matrix–vector product (fast enough for 100k+ vectors on a CPU).

use ndarray::{Array1, Array2};

use super::{IndexDoc, IndexError};
use crate::embed::{EmbeddingCache, Encoder};

/// How a build went, for logs and the reload report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VectorBuildStats {
    /// Texts in the index.
    pub texts: usize,
    /// Texts that had to be encoded (the rest came from the cache).
    pub encoded: usize,
}

/// A per-document dense match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DenseMatch {
    /// Index of the document.
    pub doc: usize,
    /// Best cosine similarity over the document's texts.
    pub cosine: f32,
    /// Which text matched best.
    pub slot: usize,
}

/// Unit vectors of all texts, one row each.
#[derive(Debug)]
pub struct VectorIndex {
    matrix: Array2<f32>,
    rows: Vec<(u32, u32)>,
    docs: usize,
}

impl VectorIndex {
    /// Embed every text of `docs` (through the cache) and index the vectors.
    pub fn build(
        encoder: &dyn Encoder,
        cache: &mut EmbeddingCache,
        docs: &[IndexDoc],
    ) -> Result<(Self, VectorBuildStats), IndexError> {
        let mut rows = Vec::new();
        let mut texts = Vec::new();
        for (d, doc) in docs.iter().enumerate() {
            for (s, t) in doc.texts.iter().enumerate() {
                rows.push((d as u32, s as u32));
                texts.push(t.as_str());
            }
        }
        let (vectors, encoded) = cache.embed_all(encoder, &texts)?;
        let dim = encoder.dim();
        let mut matrix = Array2::<f32>::zeros((vectors.len(), dim));
        for (i, v) in vectors.iter().enumerate() {
            if v.len() != dim {
                return Err(IndexError::Dimension { expected: dim, got: v.len() });
            }
            matrix.row_mut(i).assign(&Array1::from(v.clone()));
        }
        let stats = VectorBuildStats { texts: texts.len(), encoded };
        Ok((Self { matrix, rows, docs: docs.len() }, stats))
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.matrix.ncols()
    }

    /// Each document's best cosine with `query` (a unit vector), indexed by document.
    pub fn best_per_doc(&self, query: &[f32]) -> Result<Vec<DenseMatch>, IndexError> {
        self.best_per_doc_excluding(query, None)
    }

    /// As [`best_per_doc`](Self::best_per_doc), ignoring the text `(doc, slot)`.
    pub fn best_per_doc_excluding(
        &self,
        query: &[f32],
        exclude: Option<(usize, usize)>,
    ) -> Result<Vec<DenseMatch>, IndexError> {
        if query.len() != self.dim() {
            return Err(IndexError::Dimension { expected: self.dim(), got: query.len() });
        }
        let sims = self.matrix.dot(&ndarray::ArrayView1::from(query));
        let mut best: Vec<DenseMatch> =
            (0..self.docs).map(|doc| DenseMatch { doc, cosine: f32::NEG_INFINITY, slot: 0 }).collect();
        for (&(doc, slot), &cosine) in self.rows.iter().zip(sims.iter()) {
            if exclude == Some((doc as usize, slot as usize)) {
                continue;
            }
            let b = &mut best[doc as usize];
            if cosine > b.cosine {
                *b = DenseMatch { doc: doc as usize, cosine, slot: slot as usize };
            }
        }
        Ok(best)
    }

    /// The stored vector of text `slot` of document `doc`.
    pub fn vector(&self, doc: usize, slot: usize) -> Option<Vec<f32>> {
        let row = self.rows.iter().position(|&(d, s)| (d as usize, s as usize) == (doc, slot))?;
        Some(self.matrix.row(row).to_vec())
    }

    /// The `limit` documents most similar to `query`, best first.
    pub fn search(&self, query: &[f32], limit: usize) -> Result<Vec<DenseMatch>, IndexError> {
        Ok(top(self.best_per_doc(query)?, limit))
    }
}

/// The best `limit` matches, sorted best first (ties by document), in O(n + k log k).
pub(super) fn top(mut matches: Vec<DenseMatch>, limit: usize) -> Vec<DenseMatch> {
    let order = |a: &DenseMatch, b: &DenseMatch| b.cosine.total_cmp(&a.cosine).then(a.doc.cmp(&b.doc));
    let limit = limit.min(matches.len());
    if limit == 0 {
        return Vec::new();
    }
    if limit < matches.len() {
        matches.select_nth_unstable_by(limit - 1, order);
        matches.truncate(limit);
    }
    matches.sort_by(order);
    matches
}
