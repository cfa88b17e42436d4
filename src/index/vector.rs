//! Dense retrieval: every text of every document embedded once and stored as int8
//! codes (a quarter of f32's memory), compared with integer dot products that the
//! compiler vectorises. Up to `retrieval.ann_min_vectors` vectors every query scans
//! all of them exactly; above, an HNSW graph (instant-distance) over one point
//! per document (the direction of its texts' mean) proposes the nearest documents,
//! and only those are scored — over all their texts, exactly as the scan would.

use std::cell::RefCell;
use std::sync::Arc;

use instant_distance::{Builder, Hnsw, Search};
use serde::{Deserialize, Serialize};

use super::{Excluded, HubConfig, IndexDoc, IndexError, hub_offsets};
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

/// When and how the approximate index is used (`[retrieval]` keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnConfig {
    /// Vectors from which on an HNSW graph replaces the exact scan (0 = never).
    pub min_vectors: usize,
    /// Documents the graph search keeps (HNSW's `ef`): more is slower and misses less.
    pub ef_search: usize,
    /// Candidate list size while building the graph (HNSW's `efConstruction`).
    pub ef_construction: usize,
}

impl Default for AnnConfig {
    fn default() -> Self {
        Self { min_vectors: 50_000, ef_search: 300, ef_construction: 100 }
    }
}

/// What a dense search asks for besides the query vector.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DenseQuery<'a> {
    /// A text `(document, slot)` left out (held-out calibration).
    pub exclude: Option<Excluded>,
    /// A document's score is the mean cosine of its this many nearest texts (1..=8).
    pub neighbours: usize,
    /// Documents returned.
    pub limit: usize,
    /// Documents scored and returned too, when not among the best.
    pub also: &'a [usize],
}

/// The best documents for a query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DenseResult {
    /// The best documents, best first, then the requested extra documents.
    pub matches: Vec<DenseMatch>,
}

/// Int8 codes of unit vectors, row-major, shared with the graph's points.
#[derive(Debug)]
struct Codes {
    data: Vec<i8>,
    dim: usize,
}

impl Codes {
    fn row(&self, row: usize) -> &[i8] {
        &self.data[row * self.dim..(row + 1) * self.dim]
    }
}

/// A point in the graph: a document's row in the shared centroid codes, or a
/// query's own codes.
#[derive(Debug, Clone)]
struct Point {
    codes: Arc<Codes>,
    row: u32,
}

impl instant_distance::Point for Point {
    fn distance(&self, other: &Self) -> f32 {
        // Larger dot products are nearer; the graph wants a distance.
        -(dot(self.codes.row(self.row as usize), other.codes.row(other.row as usize)) as f32)
    }
}

thread_local! {
    /// The graph search's working memory, reused by every query on this thread.
    static SEARCH: RefCell<Search> = RefCell::new(Search::default());
}

/// Unit vectors of all texts, one row each, as int8 codes.
pub struct VectorIndex {
    codes: Arc<Codes>,
    /// `code = round(x * scale)`, so a cosine is `dot(codes) / scale²`.
    scale: f32,
    /// Row → (document, slot); rows are stored document by document.
    rows: Vec<(u32, u32)>,
    /// Document → its first row; one more entry for the end.
    doc_start: Vec<u32>,
    mean: Vec<f32>,
    graph: Option<Hnsw<Point>>,
    /// Per row, what is taken off its cosines ([`hub_offsets`]).
    hub: Vec<f32>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("rows", &self.rows.len())
            .field("dim", &self.codes.dim)
            .field("graph", &self.graph.is_some())
            .finish_non_exhaustive()
    }
}

/// The integer dot product of two code rows, in lanes the compiler vectorises.
fn dot(a: &[i8], b: &[i8]) -> i32 {
    const LANES: usize = 32;
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: i32 = ca.remainder().iter().zip(cb.remainder()).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum();
    let mut acc = [0i32; LANES];
    for (x, y) in ca.zip(cb) {
        for i in 0..LANES {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    acc.iter().sum::<i32>() + tail
}

impl VectorIndex {
    /// Embed every text of `docs` (through the cache) and index the vectors.
    pub fn build(
        encoder: &dyn Encoder,
        cache: &mut EmbeddingCache,
        docs: &[IndexDoc],
        ann: AnnConfig,
        hub: HubConfig,
    ) -> Result<(Self, VectorBuildStats), IndexError> {
        let texts: Vec<&str> = docs.iter().flat_map(|d| d.texts.iter().map(String::as_str)).collect();
        let (vectors, encoded) = cache.embed_all(encoder, &texts)?;
        let counts: Vec<usize> = docs.iter().map(|d| d.texts.len()).collect();
        let index = Self::from_vectors(&vectors, &counts, encoder.dim(), ann)?.with_hub_penalty(hub);
        Ok((index, VectorBuildStats { texts: texts.len(), encoded }))
    }

    /// Index unit `vectors` of dimension `dim`, document by document: the first
    /// `counts[0]` belong to document 0, and so on.
    pub fn from_vectors(
        vectors: &[Vec<f32>],
        counts: &[usize],
        dim: usize,
        ann: AnnConfig,
    ) -> Result<Self, IndexError> {
        if let Some(v) = vectors.iter().find(|v| v.len() != dim) {
            return Err(IndexError::Dimension { expected: dim, got: v.len() });
        }
        let mut rows = Vec::with_capacity(vectors.len());
        let mut doc_start = Vec::with_capacity(counts.len() + 1);
        for (d, &n) in counts.iter().enumerate() {
            doc_start.push(rows.len() as u32);
            rows.extend((0..n).map(|s| (d as u32, s as u32)));
        }
        doc_start.push(rows.len() as u32);
        assert_eq!(rows.len(), vectors.len(), "counts must add up to the vectors");
        // One scale for all: the largest component maps to 127.
        let max = vectors.iter().flatten().fold(0.0f32, |m, &x| m.max(x.abs())).max(1e-6);
        let scale = 127.0 / max;
        let data: Vec<i8> = vectors.iter().flatten().map(|&x| quantize(x, scale)).collect();
        let mut mean = vec![0.0f32; dim];
        for v in vectors {
            for (m, &x) in mean.iter_mut().zip(v) {
                *m += x;
            }
        }
        let n = vectors.len().max(1) as f32;
        mean.iter_mut().for_each(|m| *m /= n);
        let codes = Arc::new(Codes { data, dim });
        let graph = (ann.min_vectors > 0 && vectors.len() >= ann.min_vectors).then(|| {
            // One point per document: the unit direction of its texts' mean. An
            // entry's score is the mean cosine of its nearest texts, which for an
            // entry of up to `neighbours` texts is exactly the query's dot product
            // with that mean; for larger entries the direction still lies among
            // their paraphrases.
            let mut centroids = Vec::with_capacity(counts.len() * dim);
            for d in 0..counts.len() {
                let (start, end) = (doc_start[d] as usize, doc_start[d + 1] as usize);
                let mut c = vec![0.0f32; dim];
                for v in &vectors[start..end] {
                    c.iter_mut().zip(v).for_each(|(c, &x)| *c += x);
                }
                let norm = c.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
                centroids.extend(c.iter().map(|&x| quantize(x / norm, scale)));
            }
            let centroids = Arc::new(Codes { data: centroids, dim });
            let points: Vec<Point> =
                (0..counts.len()).map(|doc| Point { codes: Arc::clone(&centroids), row: doc as u32 }).collect();
            let builder =
                Builder::default().ef_construction(ann.ef_construction.max(1)).ef_search(ann.ef_search.max(1)).seed(7);
            builder.build_hnsw(points).0
        });
        Ok(Self { codes, scale, rows, doc_start, mean, graph, hub: vec![0.0; vectors.len()] })
    }

    /// The index with the hubness reduction of `hub`: a text near many texts of
    /// other documents has its cosines lowered ([`hub_offsets`]).
    pub fn with_hub_penalty(mut self, hub: HubConfig) -> Self {
        let owners: Vec<usize> = self.rows.iter().map(|&(d, _)| d as usize).collect();
        let unit = 1.0 / (self.scale * self.scale);
        let codes = &self.codes;
        self.hub = hub_offsets(&owners, hub, |i, j| dot(codes.row(i), codes.row(j)) as f32 * unit);
        self
    }

    /// Vector dimension.
    pub fn dim(&self) -> usize {
        self.codes.dim
    }

    /// Indexed vectors.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether queries go through the approximate graph.
    pub fn is_approximate(&self) -> bool {
        self.graph.is_some()
    }

    /// Bytes held per document (its texts' codes and row map; with the graph its
    /// centroid, point and links too), for reports.
    pub fn bytes_per_doc(&self) -> usize {
        let docs = (self.doc_start.len() - 1).max(1);
        let texts = self.rows.len() * (self.dim() + std::mem::size_of::<(u32, u32)>()) / docs;
        let graph = if self.graph.is_some() { self.dim() + std::mem::size_of::<Point>() + 2 * 32 * 4 } else { 0 };
        texts + std::mem::size_of::<u32>() + graph
    }

    fn query_codes(&self, query: &[f32]) -> Result<Arc<Codes>, IndexError> {
        if query.len() != self.dim() {
            return Err(IndexError::Dimension { expected: self.dim(), got: query.len() });
        }
        Ok(Arc::new(Codes { data: query.iter().map(|&x| quantize(x, self.scale)).collect(), dim: self.dim() }))
    }

    /// Document `doc` scored against `query` over all its texts but `exclude`
    /// (the mean of its `neighbours` nearest, at most 8).
    fn doc_match(&self, query: &[i8], doc: usize, exclude: Option<Excluded>, neighbours: usize) -> DenseMatch {
        let unit = 1.0 / (self.scale * self.scale);
        let (start, end) = (self.doc_start[doc] as usize, self.doc_start[doc + 1] as usize);
        let mut best = DenseMatch { doc, cosine: f32::NEG_INFINITY, slot: 0 };
        let mut nearest: [f32; 8] = [f32::NEG_INFINITY; 8];
        let keep = neighbours.clamp(1, nearest.len());
        let mut found = 0;
        for row in start..end {
            let slot = row - start;
            if exclude.is_some_and(|e| e.covers(doc, slot)) {
                continue;
            }
            let cosine = dot(self.codes.row(row), query) as f32 * unit - self.hub[row];
            if cosine > best.cosine {
                best = DenseMatch { doc, cosine, slot };
            }
            // Insertion into the `keep` best so far, best first.
            let at = nearest[..keep].partition_point(|&c| c >= cosine);
            if at < keep {
                nearest.copy_within(at..keep - 1, at + 1);
                nearest[at] = cosine;
            }
            found += 1;
        }
        if keep > 1 && found > 1 {
            let n = found.min(keep);
            best.cosine = nearest[..n].iter().sum::<f32>() / n as f32;
        }
        best
    }

    /// The `how.limit` documents nearest to `query` (a unit vector), best first,
    /// each scored by the mean cosine of its `how.neighbours` texts nearest to the
    /// query (ignoring the text `how.exclude`), followed by the documents of
    /// `how.also` not among them. An entry whose several similar questions all sit near the
    /// query beats one with a single lucky near question.
    pub fn nearest(&self, query: &[f32], how: DenseQuery<'_>) -> Result<DenseResult, IndexError> {
        let DenseQuery { exclude, neighbours, limit, also } = how;
        let q = self.query_codes(query)?;
        let docs = self.doc_start.len() - 1;
        let candidates: Vec<usize> = match &self.graph {
            None => (0..docs).collect(),
            Some(graph) => {
                let point = Point { codes: Arc::clone(&q), row: 0 };
                let mut seen = std::collections::HashSet::new();
                SEARCH.with(|search| {
                    let mut search = search.borrow_mut();
                    graph
                        .search(&point, &mut search)
                        .map(|item| item.point.row as usize)
                        .filter(|&doc| seen.insert(doc))
                        .collect()
                })
            }
        };
        let mut scored = Vec::with_capacity(candidates.len());
        for &doc in &candidates {
            let m = self.doc_match(&q.data, doc, exclude, neighbours);
            if !m.cosine.is_finite() {
                continue; // its only text is the excluded one
            }
            scored.push(m);
        }
        let mut matches = top(scored, limit);
        for &doc in also.iter().filter(|&&d| d < docs) {
            if matches.iter().any(|m| m.doc == doc) {
                continue;
            }
            let m = self.doc_match(&q.data, doc, exclude, neighbours);
            if m.cosine.is_finite() {
                matches.push(m);
            }
        }
        Ok(DenseResult { matches })
    }

    /// The mean of all stored vectors (the centre of the knowledge's texts).
    pub fn mean(&self) -> Vec<f32> {
        self.mean.clone()
    }

    /// The stored vector of text `slot` of document `doc` (decoded from its codes).
    pub fn vector(&self, doc: usize, slot: usize) -> Option<Vec<f32>> {
        let start = *self.doc_start.get(doc)? as usize;
        let row = start + slot;
        if row >= *self.doc_start.get(doc + 1)? as usize {
            return None;
        }
        Some(self.codes.row(row).iter().map(|&c| f32::from(c) / self.scale).collect())
    }

    /// The `limit` documents most similar to `query`, best first (by their best text).
    pub fn search(&self, query: &[f32], limit: usize) -> Result<Vec<DenseMatch>, IndexError> {
        Ok(self.nearest(query, DenseQuery { neighbours: 1, limit, ..DenseQuery::default() })?.matches)
    }
}

fn quantize(x: f32, scale: f32) -> i8 {
    (x * scale).round().clamp(-127.0, 127.0) as i8
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
        let vectors: Vec<Vec<f32>> = rows.iter().map(|r| r.to_vec()).collect();
        VectorIndex::from_vectors(&vectors, &[1, 3], 2, AnnConfig::default()).unwrap()
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn neighbours_average_the_nearest_texts() {
        let q = [1.0, 0.0];
        let best =
            index().nearest(&q, DenseQuery { exclude: None, neighbours: 1, limit: 2, also: &[] }).unwrap().matches;
        assert_eq!(best.iter().map(|m| m.doc).collect::<Vec<_>>(), [0, 1]);
        assert!(close(best[0].cosine, 1.0) && close(best[1].cosine, 0.95), "{best:?}");
        let mean =
            index().nearest(&q, DenseQuery { exclude: None, neighbours: 2, limit: 2, also: &[] }).unwrap().matches;
        assert!(close(mean[0].cosine, 1.0), "one text: its own cosine");
        assert!(close(mean[1].cosine, 0.925), "{mean:?}");
        assert_eq!(mean[1].slot, 2, "the slot is still the best text");
        let held_out = index()
            .nearest(
                &q,
                DenseQuery { exclude: Some(Excluded::text(1, 2)), neighbours: 2, limit: 2, ..DenseQuery::default() },
            )
            .unwrap()
            .matches;
        assert!(close(held_out[1].cosine, 0.9), "{held_out:?}");
        // A document whose only text is held out is not a match.
        let alone = index()
            .nearest(&q, DenseQuery { exclude: Some(Excluded::text(0, 0)), neighbours: 1, limit: 2, also: &[0] })
            .unwrap()
            .matches;
        assert_eq!(alone.iter().map(|m| m.doc).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn the_extra_documents_follow_the_best() {
        for q in [[1.0, 0.0], [0.0, 1.0], [0.6, -0.8]] {
            for neighbours in [1, 2] {
                let r = index().nearest(&q, DenseQuery { exclude: None, neighbours, limit: 1, also: &[0, 1] }).unwrap();
                assert_eq!(r.matches.len(), 2, "the best one, then the other one asked for");
            }
        }
    }

    #[test]
    fn int8_dot_products_match_f32() {
        let a: Vec<i8> = (0..77).map(|i| ((i * 37) % 255 - 127) as i8).collect();
        let b: Vec<i8> = (0..77).map(|i| ((i * 91) % 255 - 127) as i8).collect();
        let want: i32 = a.iter().zip(&b).map(|(&x, &y)| i32::from(x) * i32::from(y)).sum();
        assert_eq!(dot(&a, &b), want);
    }

    /// Deterministic unit vectors in clusters, as sentence embeddings are.
    fn clustered(n: usize, dim: usize) -> Vec<Vec<f32>> {
        let mut seed = 12345u64;
        let mut next = move || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let centres: Vec<Vec<f32>> = (0..40).map(|_| (0..dim).map(|_| next()).collect()).collect();
        (0..n)
            .map(|i| {
                let v: Vec<f32> = centres[i % 40].iter().map(|c| c + 0.6 * next()).collect();
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                v.iter().map(|x| x / norm).collect()
            })
            .collect()
    }

    #[test]
    fn the_graph_finds_what_the_exact_scan_finds() {
        let vectors = clustered(1_500, 48);
        let counts = vec![3; 500];
        let exact = VectorIndex::from_vectors(&vectors, &counts, 48, AnnConfig::default()).unwrap();
        let ann = AnnConfig { min_vectors: 1, ..AnnConfig::default() };
        let graph = VectorIndex::from_vectors(&vectors, &counts, 48, ann).unwrap();
        assert!(!exact.is_approximate() && graph.is_approximate());
        let (mut found, mut wanted) = (0, 0);
        for q in clustered(1_530, 48).iter().skip(1_500) {
            let want: Vec<usize> = exact.search(q, 10).unwrap().iter().map(|m| m.doc).collect();
            let got: Vec<DenseMatch> = graph.search(q, 10).unwrap();
            found += got.iter().filter(|m| want.contains(&m.doc)).count();
            wanted += want.len();
            // Whatever the graph finds is scored exactly as the scan scores it.
            let exact_all =
                exact.nearest(q, DenseQuery { exclude: None, neighbours: 3, limit: 500, also: &[] }).unwrap().matches;
            for m in
                graph.nearest(q, DenseQuery { exclude: None, neighbours: 3, limit: 10, also: &[] }).unwrap().matches
            {
                assert_eq!(Some(&m), exact_all.iter().find(|e| e.doc == m.doc));
            }
        }
        assert!(found as f64 / wanted as f64 >= 0.95, "recall@10 {found}/{wanted}");
    }
}
