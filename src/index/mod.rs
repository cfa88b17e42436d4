//! Retrieval over documents with several texts each (FAQ entries with their
//! questions, intents with their example utterances): lexical (BM25), dense
//! (embeddings) and their fusion into one confidence per document.
//!
//! This module ranks; deciding what to do with a ranking is `intent`'s job.

mod bayes;
mod entry;
mod hub;
mod hybrid;
mod lexical;
mod vector;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use bayes::{BayesEvidence, NaiveBayes};
pub use entry::EntryTerms;
pub use hub::{HubConfig, hub_offsets};
pub use hybrid::{dense_confidence, fuse};
pub use lexical::{LexicalIndex, LexicalMatch};
pub use vector::{AnnConfig, DenseMatch, DenseQuery, DenseResult, VectorBuildStats, VectorIndex};

use crate::embed::{EmbedError, EmbeddingCache, Encoder};
use crate::text::Analyzer;

/// The slot number of a document's body (the FAQ answer) in matches.
pub const BODY_SLOT: usize = u32::MAX as usize;

/// A retrievable unit: texts to match (questions, examples) and an optional body
/// that matches lexically with a lower weight.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IndexDoc {
    /// Texts matched by both retrievers; the first is the canonical one.
    pub texts: Vec<String>,
    /// Longer text matched lexically only (the answer).
    pub body: Option<String>,
}

/// One ranked document.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index of the document.
    pub doc: usize,
    /// Fused confidence in [0, 1].
    pub score: f32,
    /// Lexical part in [0, 1] before weighting.
    pub lexical: f32,
    /// Best cosine, when dense retrieval ran.
    pub cosine: Option<f32>,
    /// The text that matched best (`BODY_SLOT` for the body).
    pub slot: usize,
}

/// A text of one document left out of a search, as if it were not indexed (a
/// held-out question, to see how its entry ranks without it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Excluded {
    doc: usize,
    slot: usize,
}

impl Excluded {
    /// The text `slot` of document `doc`.
    pub fn text(doc: usize, slot: usize) -> Self {
        Self { doc, slot }
    }

    /// The document.
    pub fn doc(&self) -> usize {
        self.doc
    }

    /// Whether text `slot` of document `doc` is left out.
    pub fn covers(&self, doc: usize, slot: usize) -> bool {
        (doc, slot) == (self.doc, self.slot)
    }
}

/// Which retrievers rank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// BM25 only.
    Lexical,
    /// Embeddings only.
    Dense,
    /// Both, fused.
    Hybrid,
}

/// Retrieval settings (`[retrieval]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetrievalConfig {
    /// Share of the dense part in the confidence, 0..=1.
    #[serde(default = "default_semantic_weight")]
    pub semantic_weight: f32,
    /// Cosine that maps to dense confidence 0.
    #[serde(default = "default_dense_floor")]
    pub dense_floor: f32,
    /// Cosine that maps to dense confidence 1.
    #[serde(default = "default_dense_ceiling")]
    pub dense_ceiling: f32,
    /// An entry's dense score is the mean cosine of its this many questions
    /// nearest to the query (1 = the best one alone); at most what nine entries in
    /// ten have ([`comparable_neighbours`]).
    #[serde(default = "default_dense_neighbours")]
    pub dense_neighbours: usize,
    /// How much of a text's hubness (its mean cosine to its nearest texts of other
    /// entries) above the knowledge's average is taken off its cosines, 0..=1;
    /// 0 = off (see [`hub_offsets`]).
    #[serde(default = "default_hub_penalty")]
    pub hub_penalty: f32,
    /// Nearest texts of other entries a text's hubness is the mean cosine of.
    #[serde(default = "default_hub_neighbours")]
    pub hub_neighbours: usize,
    /// Weight of answer-text matches relative to question matches, 0..=1.
    #[serde(default = "default_answer_weight")]
    pub answer_weight: f32,
    /// Share of the lexical score that comes from all of an entry's questions
    /// counted together (entry-level BM25, see [`EntryTerms`]) rather than its
    /// best single question, 0..=1.
    #[serde(default)]
    pub entry_weight: f32,
    /// Candidates taken from each retriever before fusion.
    #[serde(default = "default_candidates")]
    pub candidates: usize,
    /// Matches returned.
    #[serde(default = "default_top_k")]
    pub top_k: usize,
    /// Generic texts no knowledge base answers (chit-chat, other trades): the
    /// calibrator learns from them what "nothing is right" looks like.
    #[serde(default)]
    pub out_of_scope_examples: Vec<String>,
    /// Names of other businesses (platforms, banks, public services). A text
    /// naming one that its best entry never mentions is not answered or routed, at
    /// most clarified: it is most likely a question for that business.
    #[serde(default)]
    pub other_businesses: Vec<String>,
    /// Question vectors from which on an approximate (HNSW) index replaces the
    /// exact scan; 0 = always exact.
    #[serde(default = "default_ann_min_vectors")]
    pub ann_min_vectors: usize,
    /// Texts the approximate search keeps (HNSW `ef`).
    #[serde(default = "default_ann_ef_search")]
    pub ann_ef_search: usize,
    /// Candidate list size while building the approximate index (HNSW `efConstruction`).
    #[serde(default = "default_ann_ef_construction")]
    pub ann_ef_construction: usize,
}

impl RetrievalConfig {
    /// The hubness reduction's settings.
    pub fn hub(&self) -> HubConfig {
        HubConfig { penalty: self.hub_penalty, neighbours: self.hub_neighbours }
    }

    /// The approximate index's settings.
    pub fn ann(&self) -> AnnConfig {
        AnnConfig {
            min_vectors: self.ann_min_vectors,
            ef_search: self.ann_ef_search,
            ef_construction: self.ann_ef_construction,
        }
    }
}

fn default_ann_min_vectors() -> usize {
    AnnConfig::default().min_vectors
}
fn default_ann_ef_search() -> usize {
    AnnConfig::default().ef_search
}
fn default_ann_ef_construction() -> usize {
    AnnConfig::default().ef_construction
}

fn default_semantic_weight() -> f32 {
    0.9
}
fn default_hub_penalty() -> f32 {
    HubConfig::default().penalty
}
fn default_hub_neighbours() -> usize {
    HubConfig::default().neighbours
}
fn default_dense_floor() -> f32 {
    0.85
}
fn default_dense_ceiling() -> f32 {
    1.0
}
fn default_dense_neighbours() -> usize {
    3
}
fn default_answer_weight() -> f32 {
    0.3
}
fn default_candidates() -> usize {
    50
}
fn default_top_k() -> usize {
    5
}

impl Default for RetrievalConfig {
    fn default() -> Self {
        Self {
            semantic_weight: default_semantic_weight(),
            dense_floor: default_dense_floor(),
            dense_ceiling: default_dense_ceiling(),
            dense_neighbours: default_dense_neighbours(),
            hub_penalty: default_hub_penalty(),
            hub_neighbours: default_hub_neighbours(),
            answer_weight: default_answer_weight(),
            entry_weight: 0.0,
            candidates: default_candidates(),
            top_k: default_top_k(),
            out_of_scope_examples: Vec::new(),
            other_businesses: Vec::new(),
            ann_min_vectors: default_ann_min_vectors(),
            ann_ef_search: default_ann_ef_search(),
            ann_ef_construction: default_ann_ef_construction(),
        }
    }
}

/// Why retrieval failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy failed.
    #[error("lexical index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    /// The encoder failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// A vector has the wrong length.
    #[error("vector dimension {got} does not match the index dimension {expected}")]
    Dimension {
        /// The index's dimension.
        expected: usize,
        /// The vector's.
        got: usize,
    },
}

/// Lexical and (optionally) dense retrieval over one set of documents.
pub struct Retriever {
    analyzer: Arc<Analyzer>,
    lexical: LexicalIndex,
    entries: EntryTerms,
    dense: Option<(Arc<dyn Encoder>, VectorIndex)>,
    config: RetrievalConfig,
    /// The neighbours a document's dense score averages ([`comparable_neighbours`]).
    neighbours: usize,
    docs: usize,
}

/// The nearest texts a document's dense score averages, for documents of `texts`
/// texts each: `wanted`, but no more than nine documents in ten have. Scores are then
/// means over as many texts for nearly every document: where most entries have one
/// question (public FAQ sets), an entry's best cosine is not set against another's
/// mean of three, which a lucky single question always beats.
pub fn comparable_neighbours(texts: impl Iterator<Item = usize>, wanted: usize) -> usize {
    let mut counts: Vec<usize> = texts.filter(|&n| n > 0).collect();
    if counts.is_empty() {
        return wanted.max(1);
    }
    counts.sort_unstable();
    wanted.clamp(1, counts[counts.len() / 10].max(1))
}

impl std::fmt::Debug for Retriever {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Retriever")
            .field("docs", &self.docs)
            .field("dense", &self.dense.is_some())
            .finish_non_exhaustive()
    }
}

impl Retriever {
    /// Index `docs`; with an encoder, embed their texts too (through `cache`).
    pub fn build(
        analyzer: Arc<Analyzer>,
        docs: &[IndexDoc],
        encoder: Option<(Arc<dyn Encoder>, &mut EmbeddingCache)>,
        config: RetrievalConfig,
    ) -> Result<(Self, VectorBuildStats), IndexError> {
        let lexical = LexicalIndex::build(Arc::clone(&analyzer), docs, config.answer_weight)?;
        let entries =
            EntryTerms::new(docs.iter().map(|d| d.texts.iter().map(|t| analyzer.terms(t)).collect()).collect());
        let mut stats = VectorBuildStats::default();
        let dense = match encoder {
            Some((encoder, cache)) => {
                let embed_docs: Vec<IndexDoc> = docs
                    .iter()
                    .map(|d| IndexDoc { texts: d.texts.iter().map(|t| analyzer.normalize(t)).collect(), body: None })
                    .collect();
                let (index, s) = VectorIndex::build(encoder.as_ref(), cache, &embed_docs, config.ann(), config.hub())?;
                stats = s;
                Some((encoder, index))
            }
            None => None,
        };
        let neighbours = comparable_neighbours(docs.iter().map(|d| d.texts.len()), config.dense_neighbours);
        Ok((Self { analyzer, lexical, entries, dense, config, neighbours, docs: docs.len() }, stats))
    }

    /// Whether dense retrieval is available.
    pub fn has_dense(&self) -> bool {
        self.dense.is_some()
    }

    /// The mean vector of the indexed texts, when dense retrieval is available.
    pub fn dense_mean(&self) -> Option<Vec<f32>> {
        self.dense.as_ref().map(|(_, index)| index.mean())
    }

    /// The settings in use.
    pub fn config(&self) -> &RetrievalConfig {
        &self.config
    }

    /// The analyser in use.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Embed a query the way the index texts were embedded.
    pub fn embed_query(&self, query: &str) -> Result<Option<Vec<f32>>, IndexError> {
        match &self.dense {
            Some((encoder, _)) => Ok(Some(encoder.encode_one(&self.analyzer.normalize(query))?)),
            None => Ok(None),
        }
    }

    /// The stored vector of text `slot` of document `doc` (`None` without a model).
    pub fn text_vector(&self, doc: usize, slot: usize) -> Option<Vec<f32>> {
        self.dense.as_ref().and_then(|(_, index)| index.vector(doc, slot))
    }

    /// Embed texts the way the index texts were embedded (normalised), through
    /// `cache` (`None` without a model).
    pub fn embed_texts(
        &self,
        texts: &[String],
        cache: Option<&mut EmbeddingCache>,
    ) -> Result<Option<Vec<Vec<f32>>>, IndexError> {
        let Some((encoder, _)) = &self.dense else { return Ok(None) };
        let normalized: Vec<String> = texts.iter().map(|t| self.analyzer.normalize(t)).collect();
        let refs: Vec<&str> = normalized.iter().map(String::as_str).collect();
        match cache {
            Some(cache) => Ok(Some(cache.embed_all(encoder.as_ref(), &refs)?.0)),
            None => Ok(Some(encoder.encode(&refs)?)),
        }
    }

    /// The best `k` documents for `query` in `mode`. Dense and hybrid fall back to
    /// lexical when there is no model.
    pub fn search(&self, query: &str, k: usize, mode: Mode) -> Result<Vec<Hit>, IndexError> {
        let vector = if mode == Mode::Lexical { None } else { self.embed_query(query)? };
        self.search_with_vector(query, vector.as_deref(), k, mode)
    }

    /// As [`search`](Self::search) with the query vector computed by the caller
    /// (so one embedding serves several modes).
    pub fn search_with_vector(
        &self,
        query: &str,
        vector: Option<&[f32]>,
        k: usize,
        mode: Mode,
    ) -> Result<Vec<Hit>, IndexError> {
        self.search_excluding(query, vector, k, mode, None)
    }

    /// As [`search_with_vector`](Self::search_with_vector), as if the text
    /// `(doc, slot)` were not indexed: how an entry ranks for one of its own
    /// questions held out (calibration learns from that).
    pub fn search_excluding(
        &self,
        query: &str,
        vector: Option<&[f32]>,
        k: usize,
        mode: Mode,
        exclude: Option<Excluded>,
    ) -> Result<Vec<Hit>, IndexError> {
        self.search_scanning(query, vector, k, mode, exclude)
    }

    /// Each candidate's lexical score blended with its entry-level score (all its
    /// texts counted together, see [`EntryTerms`]); candidates only the dense
    /// search found get their entry-level share.
    fn with_entry_scores(
        &self,
        terms: &[String],
        mut lexical: Vec<LexicalMatch>,
        dense: &[DenseMatch],
        exclude: Option<Excluded>,
    ) -> Vec<LexicalMatch> {
        let w = self.config.entry_weight;
        if w <= 0.0 || lexical.is_empty() {
            return lexical;
        }
        for m in &mut lexical {
            m.score = (1.0 - w) * m.score + w * self.entries.score(terms, m.doc, exclude);
        }
        for d in dense {
            if !lexical.iter().any(|m| m.doc == d.doc) {
                let score = w * self.entries.score(terms, d.doc, exclude);
                if score > 0.0 {
                    lexical.push(LexicalMatch { doc: d.doc, score, bm25: 0.0, slot: d.slot });
                }
            }
        }
        lexical
    }

    fn search_scanning(
        &self,
        query: &str,
        vector: Option<&[f32]>,
        k: usize,
        mode: Mode,
        exclude: Option<Excluded>,
    ) -> Result<Vec<Hit>, IndexError> {
        let n = self.config.candidates.max(k);
        let dense = match (&self.dense, vector, mode) {
            (Some((_, index)), Some(v), Mode::Dense | Mode::Hybrid) => Some((index, v)),
            _ => None,
        };
        // The query is analysed once, for the per-text and the entry-level scores.
        let terms = self.lexical.query_terms(query);
        let (lexical, weight) = match (mode, &dense) {
            (Mode::Dense, Some(_)) => (Vec::new(), 1.0),
            (Mode::Hybrid, Some(_)) => (self.lexical.search_terms(&terms, n, exclude)?, self.config.semantic_weight),
            _ => (self.lexical.search_terms(&terms, n, exclude)?, 0.0),
        };
        // The dense top n plus the lexical candidates, so every candidate has both parts.
        let dense = match dense {
            Some((index, v)) => {
                let also: Vec<usize> = lexical.iter().map(|l| l.doc).collect();
                let r = index.nearest(v, DenseQuery { exclude, neighbours: self.neighbours, limit: n, also: &also })?;
                r.matches
            }
            None => Vec::new(),
        };
        let lexical = self.with_entry_scores(&terms, lexical, &dense, exclude);
        let mut hits = fuse(&lexical, &dense, weight, &self.config);
        hits.truncate(k);
        Ok(hits)
    }
}

#[cfg(test)]
mod tests {
    use super::comparable_neighbours;

    #[test]
    fn neighbours_are_no_more_than_nearly_every_document_has() {
        // Entries of 12 to 16 questions (the demo): the configured 3.
        assert_eq!(comparable_neighbours([12, 13, 14, 16, 15, 13, 14, 12, 13, 14].into_iter(), 3), 3);
        // Most entries with one question (a public FAQ set): their best cosine.
        assert_eq!(comparable_neighbours([1, 1, 1, 1, 1, 1, 1, 2, 3, 3].into_iter(), 3), 1);
        // A few short documents (one in ten or fewer) do not lower it.
        assert_eq!(comparable_neighbours([2, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5].into_iter(), 3), 3);
        assert_eq!(comparable_neighbours(std::iter::empty(), 3), 3);
        assert_eq!(comparable_neighbours([4].into_iter(), 0), 1);
    }
}
