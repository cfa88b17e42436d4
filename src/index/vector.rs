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
    /// Mean of the best `neighbours` cosines over the document's texts (the best
    /// one when `neighbours` is 1 or the document has one text).
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
        self.best_per_doc_excluding(query, None, 1)
    }

    /// Each document's mean cosine over its `neighbours` texts nearest to `query`
    /// (fewer when it has fewer texts), ignoring the text `(doc, slot)`. An entry
    /// whose several similar questions all sit near the query beats one with a
    /// single lucky near question.
    pub fn best_per_doc_excluding(
        &self,
        query: &[f32],
        exclude: Option<(usize, usize)>,
        neighbours: usize,
    ) -> Result<Vec<DenseMatch>, IndexError> {
        Ok(self.scan(query, exclude, neighbours, 0)?.0)
    }

    /// As [`best_per_doc_excluding`](Self::best_per_doc_excluding), also returning
    /// the `top_texts` highest per-document best text cosines, best first (what
    /// `top(best_per_doc(q), k)` gives) — from the same pass over the vectors, so a
    /// caller needing both scans once.
    pub fn scan(
        &self,
        query: &[f32],
        exclude: Option<(usize, usize)>,
        neighbours: usize,
        top_texts: usize,
    ) -> Result<(Vec<DenseMatch>, Vec<f32>), IndexError> {
        let neighbours = neighbours.max(1);
        if query.len() != self.dim() {
            return Err(IndexError::Dimension { expected: self.dim(), got: query.len() });
        }
        let sims = self.matrix.dot(&ndarray::ArrayView1::from(query));
        let mut best: Vec<DenseMatch> =
            (0..self.docs).map(|doc| DenseMatch { doc, cosine: f32::NEG_INFINITY, slot: 0 }).collect();
        // Rows are stored document by document: keep the best `neighbours` cosines of
        // the current document in one reused buffer.
        let mut nearest: Vec<f32> = Vec::with_capacity(neighbours + 1);
        let mut current = usize::MAX;
        let mean = |nearest: &[f32]| nearest.iter().sum::<f32>() / nearest.len() as f32;
        let mut texts: Vec<f32> = Vec::with_capacity(top_texts + 1);
        let mut doc_best = f32::NEG_INFINITY;
        let keep_best = |texts: &mut Vec<f32>, cosine: f32| {
            if top_texts > 0 && cosine > f32::NEG_INFINITY {
                let at = texts.partition_point(|&c| c >= cosine);
                texts.insert(at, cosine);
                texts.truncate(top_texts);
            }
        };
        for (&(doc, slot), &cosine) in self.rows.iter().zip(sims.iter()) {
            let doc = doc as usize;
            if exclude == Some((doc, slot as usize)) {
                continue;
            }
            if doc != current {
                keep_best(&mut texts, doc_best);
                doc_best = f32::NEG_INFINITY;
            }
            doc_best = doc_best.max(cosine);
            if doc != current {
                if neighbours > 1 && !nearest.is_empty() {
                    best[current].cosine = mean(&nearest);
                }
                nearest.clear();
                current = doc;
            }
            if neighbours > 1 {
                let at = nearest.partition_point(|&c| c >= cosine);
                if at < neighbours {
                    nearest.insert(at, cosine);
                    nearest.truncate(neighbours);
                }
            }
            let b = &mut best[doc];
            if cosine > b.cosine {
                *b = DenseMatch { doc, cosine, slot: slot as usize };
            }
        }
        if neighbours > 1 && !nearest.is_empty() {
            best[current].cosine = mean(&nearest);
        }
        keep_best(&mut texts, doc_best);
        Ok((best, texts))
    }

    /// The mean of all stored vectors (the centre of the knowledge's texts).
    pub fn mean(&self) -> Vec<f32> {
        self.matrix.mean_axis(ndarray::Axis(0)).map_or_else(|| vec![0.0; self.dim()], |m| m.to_vec())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two documents in 2-d: doc 0 has one text right on the query, doc 1 three
    /// texts near it.
    fn index() -> VectorIndex {
        let rows = [[1.0, 0.0], [0.9, 0.436], [0.9, -0.436], [0.95, 0.312]];
        let mut matrix = Array2::<f32>::zeros((4, 2));
        for (i, r) in rows.iter().enumerate() {
            matrix.row_mut(i).assign(&Array1::from(r.to_vec()));
        }
        VectorIndex { matrix, rows: vec![(0, 0), (1, 0), (1, 1), (1, 2)], docs: 2 }
    }

    #[test]
    fn neighbours_average_the_nearest_texts() {
        let q = [1.0, 0.0];
        let best = index().best_per_doc_excluding(&q, None, 1).unwrap();
        assert!((best[0].cosine - 1.0).abs() < 1e-6 && (best[1].cosine - 0.95).abs() < 1e-6);
        let mean = index().best_per_doc_excluding(&q, None, 2).unwrap();
        assert!((mean[0].cosine - 1.0).abs() < 1e-6, "one text: its own cosine");
        assert!((mean[1].cosine - 0.925).abs() < 1e-6, "{mean:?}");
        assert_eq!(mean[1].slot, 2, "the slot is still the best text");
        let held_out = index().best_per_doc_excluding(&q, Some((1, 2)), 2).unwrap();
        assert!((held_out[1].cosine - 0.9).abs() < 1e-6);
    }

    #[test]
    fn one_scan_gives_the_best_documents_cosines_too() {
        for q in [[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]] {
            for neighbours in [1, 2] {
                let (per_doc, texts) = index().scan(&q, None, neighbours, 3).unwrap();
                assert_eq!(per_doc, index().best_per_doc_excluding(&q, None, neighbours).unwrap());
                let want: Vec<f32> = top(index().best_per_doc(&q).unwrap(), 3).iter().map(|d| d.cosine).collect();
                assert_eq!(texts, want, "{q:?}");
            }
        }
    }
}
