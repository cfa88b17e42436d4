//! Lexical retrieval: BM25 in an in-memory tantivy index whose tokenizer is the
//! bizbot [`Analyzer`], so index and query terms are produced the same way.
//!
//! Every question of a document is its own tantivy document (a short field keeps
//! BM25's length normalisation meaningful); an optional body (the FAQ answer) is one
//! more, scored with a lower weight. Results are grouped per document, best text wins.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, Term, doc};

use super::{BODY_SLOT, Excluded, IndexDoc, IndexError};
use crate::text::Analyzer;

const TOKENIZER: &str = "bizbot";

/// A per-document lexical match.
#[derive(Debug, Clone, PartialEq)]
pub struct LexicalMatch {
    /// Index of the document.
    pub doc: usize,
    /// BM25 score divided by the query's total IDF, clipped to [0, 1]: roughly the
    /// share of the query's information found in the best text.
    pub score: f32,
    /// Raw BM25 score of the best text (weighted if it was the body).
    pub bm25: f32,
    /// Which text matched best (`BODY_SLOT` for the body).
    pub slot: usize,
}

/// The analyser as a tantivy tokenizer.
#[derive(Clone)]
struct AnalyzerTokenizer(Arc<Analyzer>);

struct TermStream {
    tokens: Vec<Token>,
    next: usize,
}

impl Tokenizer for AnalyzerTokenizer {
    type TokenStream<'a> = TermStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> TermStream {
        let tokens = self
            .0
            .terms(text)
            .into_iter()
            .enumerate()
            .map(|(position, term)| Token {
                offset_from: 0,
                offset_to: text.len(),
                position,
                text: term,
                position_length: 1,
            })
            .collect();
        TermStream { tokens, next: 0 }
    }
}

impl TokenStream for TermStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// BM25 over the texts of a set of documents.
pub struct LexicalIndex {
    analyzer: Arc<Analyzer>,
    reader: IndexReader,
    text: Field,
    body_weight: f32,
}

impl std::fmt::Debug for LexicalIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LexicalIndex").field("body_weight", &self.body_weight).finish_non_exhaustive()
    }
}

impl LexicalIndex {
    /// Index `docs` in memory. `body_weight` scales scores of body matches.
    pub fn build(analyzer: Arc<Analyzer>, docs: &[IndexDoc], body_weight: f32) -> Result<Self, IndexError> {
        let mut schema = Schema::builder();
        let indexing =
            TextFieldIndexing::default().set_tokenizer(TOKENIZER).set_index_option(IndexRecordOption::WithFreqs);
        let text = schema.add_text_field("text", TextOptions::default().set_indexing_options(indexing));
        let doc_field = schema.add_u64_field("doc", FAST);
        let slot_field = schema.add_u64_field("slot", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register(TOKENIZER, AnalyzerTokenizer(Arc::clone(&analyzer)));
        let mut writer = index.writer_with_num_threads(1, 64_000_000)?;
        for (i, d) in docs.iter().enumerate() {
            let bodies = d.body.iter().map(|b| (BODY_SLOT, b));
            for (slot, t) in d.texts.iter().enumerate().chain(bodies) {
                writer.add_document(doc!(text => t.as_str(), doc_field => i as u64, slot_field => slot as u64))?;
            }
        }
        writer.commit()?;
        let reader = index.reader()?;
        reader.reload()?;
        Ok(Self { analyzer, reader, text, body_weight })
    }

    /// The best `limit` documents for `query`, best first.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<LexicalMatch>, IndexError> {
        self.search_excluding(query, limit, None)
    }

    /// As [`search`](Self::search), ignoring the text `(doc, slot)` (a question held
    /// out to see how its entry ranks without it).
    pub fn search_excluding(
        &self,
        query: &str,
        limit: usize,
        exclude: Option<Excluded>,
    ) -> Result<Vec<LexicalMatch>, IndexError> {
        self.search_terms(&self.query_terms(query), limit, exclude)
    }

    /// The index terms of `query`, sorted, each once: what
    /// [`search_terms`](Self::search_terms) takes.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let mut terms = self.analyzer.terms(query);
        terms.sort();
        terms.dedup();
        terms
    }

    /// As [`search_excluding`](Self::search_excluding) for a query already turned
    /// into [`query_terms`](Self::query_terms).
    pub fn search_terms(
        &self,
        terms: &[String],
        limit: usize,
        exclude: Option<Excluded>,
    ) -> Result<Vec<LexicalMatch>, IndexError> {
        if terms.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let searcher = self.reader.searcher();
        let n = searcher.num_docs() as f32;
        let mut idf_sum = 0.0;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for t in terms {
            let term = Term::from_field_text(self.text, t);
            let df = searcher.doc_freq(&term)? as f32;
            idf_sum += (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
            clauses.push((Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))));
        }
        let top = searcher.search(&BooleanQuery::new(clauses), &TopDocs::with_limit(limit * 8 + 32))?;
        // Open each segment's `doc` and `slot` columns once, not once per hit.
        let mut columns = HashMap::new();
        let mut best: HashMap<usize, LexicalMatch> = HashMap::new();
        for (score, address) in top {
            let (docs, slots) = match columns.entry(address.segment_ord) {
                std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                std::collections::hash_map::Entry::Vacant(e) => {
                    let fast = searcher.segment_reader(address.segment_ord).fast_fields();
                    e.insert((fast.u64("doc")?, fast.u64("slot")?))
                }
            };
            let doc = docs.first(address.doc_id).unwrap_or(0) as usize;
            let slot = slots.first(address.doc_id).unwrap_or(0) as usize;
            if exclude.is_some_and(|e| e.covers(doc, slot)) {
                continue;
            }
            let bm25 = if slot == BODY_SLOT { score * self.body_weight } else { score };
            let m = LexicalMatch { doc, score: (bm25 / idf_sum.max(1e-6)).clamp(0.0, 1.0), bm25, slot };
            best.entry(doc)
                .and_modify(|b| {
                    if m.bm25 > b.bm25 {
                        *b = m.clone()
                    }
                })
                .or_insert(m);
        }
        let mut out: Vec<LexicalMatch> = best.into_values().collect();
        out.sort_by(|a, b| b.bm25.total_cmp(&a.bm25).then(a.doc.cmp(&b.doc)));
        out.truncate(limit);
        Ok(out)
    }
}
