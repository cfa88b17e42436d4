//! Accuracy on a labelled query set (`bizbot eval`).
//!
//! Query files are CSV with columns `query,expected_id`; an empty `expected_id`
//! marks an out-of-scope query, which should not be answered. Metrics are pure
//! functions of the ranked results.

pub mod complaints;
pub mod conversations;
pub mod dialogue;

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;

use crate::engine::Engine;
use crate::index::{IndexError, Mode};
use crate::knowledge::table::{self, Columns};
use crate::knowledge::{KnowledgeBase, Problem};

/// Ranks looked at per query (MRR counts 0 beyond).
pub const EVAL_DEPTH: usize = 10;

/// What a labelled message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A question an FAQ entry answers (`expected` is its id).
    Faq,
    /// A request a scenario serves (`expected` is its id).
    Scenario,
    /// Out of scope: should not be answered.
    Oos,
    /// A complaint: should be handed off at once.
    Complaint,
    /// A request for a person: should be handed off at once.
    Human,
}

impl Kind {
    /// Every kind, in report order.
    pub const ALL: [Kind; 5] = [Self::Faq, Self::Scenario, Self::Oos, Self::Complaint, Self::Human];

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The name used in files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Faq => "faq",
            Self::Scenario => "scenario",
            Self::Oos => "oos",
            Self::Complaint => "complaint",
            Self::Human => "human",
        }
    }
}

/// A labelled query.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledQuery {
    /// The customer's text.
    pub text: String,
    /// The expected entry or scenario id; `None` when nothing should be answered.
    pub expected: Option<String>,
    /// What the message is.
    pub kind: Kind,
    /// Line in the query file.
    pub line: usize,
}

const QUERY_COLUMNS: Columns = Columns {
    known: &["query", "expected_id", "text", "expected", "kind"],
    strict: false,
    required: &[],
    variable: None,
};

/// Read a query file: columns `query,expected_id` (an empty id is out of scope), or
/// `text,expected,kind` with kind `faq`, `scenario`, `oos`, `complaint` or `human`.
/// Every bad row and every unknown expected id is a problem.
pub fn load_queries(path: &Path, kb: &KnowledgeBase) -> Result<Vec<LabelledQuery>, Vec<Problem>> {
    let table = table::load(path, QUERY_COLUMNS)?;
    let (text_col, expected_col) = match (table.has("query"), table.has("text")) {
        (true, _) => ("query", "expected_id"),
        (false, true) => ("text", "expected"),
        (false, false) => {
            return Err(vec![Problem::new(
                path,
                1,
                "header",
                "expected columns query,expected_id or text,expected,kind",
            )]);
        }
    };
    let mut problems = Vec::new();
    let mut queries = Vec::new();
    for (line, record) in &table.rows {
        let cells = (table.cell(record, text_col), table.cell(record, expected_col), table.cell(record, "kind"));
        match labelled(cells, *line, kb) {
            Ok(q) => queries.push(q),
            Err((field, message)) => {
                let field = if field == "text" {
                    text_col
                } else if field == "expected" {
                    expected_col
                } else {
                    field
                };
                problems.push(Problem::new(path, *line, field, message));
            }
        }
    }
    if problems.is_empty() { Ok(queries) } else { Err(problems) }
}

/// One labelled message from its `(text, expected, kind)` cells at `line`; the
/// error names the field (`text`, `expected`, `kind`) and what is wrong. An empty
/// kind is `faq` with an expected id, else `oos`.
pub(crate) fn labelled(
    (text, expected, kind): (&str, &str, &str),
    line: usize,
    kb: &KnowledgeBase,
) -> Result<LabelledQuery, (&'static str, String)> {
    let expected = Some(expected).filter(|s| !s.is_empty()).map(str::to_owned);
    let kind = match kind {
        "" if expected.is_some() => Kind::Faq,
        "" => Kind::Oos,
        k => Kind::parse(k)
            .ok_or_else(|| ("kind", format!("unknown kind {k:?}; use faq, scenario, oos, complaint or human")))?,
    };
    if text.is_empty() {
        return Err(("text", "empty query".into()));
    }
    let known = match (kind, expected.as_deref()) {
        (Kind::Faq, Some(id)) => kb.faq(id).is_some(),
        (Kind::Scenario, Some(id)) => kb.scenario(id).is_some(),
        (Kind::Faq | Kind::Scenario, None) => false,
        (_, Some(_)) => false,
        (_, None) => true,
    };
    if !known {
        return Err(("expected", format!("{:?} is not a known {} id", expected.unwrap_or_default(), kind.as_str())));
    }
    Ok(LabelledQuery { text: text.to_owned(), expected, kind, line })
}

/// One query's outcome: the expected document and the ranking (doc, confidence).
#[derive(Debug, Clone, PartialEq)]
pub struct QueryResult {
    /// Index of the expected document; `None` when out of scope.
    pub expected: Option<usize>,
    /// Ranked documents with their confidence, best first.
    pub ranked: Vec<(usize, f32)>,
}

/// Precision and coverage when answering only at or above `threshold`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThresholdPoint {
    /// The answer threshold.
    pub threshold: f32,
    /// Share of all queries answered.
    pub coverage: f32,
    /// Share of answered queries answered with the expected entry (an answered
    /// out-of-scope query is an error).
    pub precision: f32,
    /// Share of out-of-scope queries that were (wrongly) answered.
    pub out_of_scope_answered: f32,
}

/// What ranked the queries: one of bizbot's retrieval modes, or the embedding
/// model used plainly (the baseline the dense and hybrid modes are compared with).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ranking {
    /// BM25 only.
    Lexical,
    /// bizbot's dense retrieval.
    Dense,
    /// bizbot's hybrid retrieval with calibrated confidences, as a chat turn ranks.
    Hybrid,
    /// The same model used plainly: each entry by its best question's cosine.
    Plain,
}

impl From<Mode> for Ranking {
    fn from(mode: Mode) -> Self {
        match mode {
            Mode::Lexical => Self::Lexical,
            Mode::Dense => Self::Dense,
            Mode::Hybrid => Self::Hybrid,
        }
    }
}

/// Accuracy figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metrics {
    /// What ranked the queries.
    pub mode: Ranking,
    /// Queries evaluated.
    pub queries: usize,
    /// Queries with an expected entry.
    pub in_scope: usize,
    /// Queries without.
    pub out_of_scope: usize,
    /// In-scope queries whose expected entry ranks first.
    pub recall_at_1: f32,
    /// … ranks in the top 3.
    pub recall_at_3: f32,
    /// Mean reciprocal rank over in-scope queries (0 beyond rank 10).
    pub mrr: f32,
    /// Precision and coverage at thresholds 0.00, 0.05, …, 0.95.
    pub thresholds: Vec<ThresholdPoint>,
}

/// Compute the figures for `results`.
pub fn metrics(mode: Ranking, results: &[QueryResult]) -> Metrics {
    let in_scope: Vec<&QueryResult> = results.iter().filter(|r| r.expected.is_some()).collect();
    let rank = |r: &QueryResult| r.ranked.iter().position(|(d, _)| Some(*d) == r.expected);
    let share = |n: usize, of: usize| if of == 0 { 0.0 } else { n as f32 / of as f32 };
    let at = |k: usize| share(in_scope.iter().filter(|r| rank(r).is_some_and(|p| p < k)).count(), in_scope.len());
    let mrr = if in_scope.is_empty() {
        0.0
    } else {
        in_scope.iter().filter_map(|r| rank(r)).map(|p| 1.0 / (p + 1) as f32).sum::<f32>() / in_scope.len() as f32
    };
    let out_of_scope = results.len() - in_scope.len();
    let thresholds = (0..20)
        .map(|i| {
            let threshold = i as f32 * 0.05;
            let answered: Vec<&QueryResult> =
                results.iter().filter(|r| r.ranked.first().is_some_and(|(_, s)| *s >= threshold)).collect();
            let correct = answered
                .iter()
                .filter(|r| r.expected.is_some() && r.ranked[0].0 == r.expected.unwrap_or(usize::MAX))
                .count();
            let oos = answered.iter().filter(|r| r.expected.is_none()).count();
            ThresholdPoint {
                threshold,
                coverage: share(answered.len(), results.len()),
                precision: share(correct, answered.len()),
                out_of_scope_answered: share(oos, out_of_scope),
            }
        })
        .collect();
    Metrics {
        mode,
        queries: results.len(),
        in_scope: in_scope.len(),
        out_of_scope,
        recall_at_1: at(1),
        recall_at_3: at(3),
        mrr,
        thresholds,
    }
}

/// Rank every query in every mode; one query embedding serves all modes.
pub fn run(engine: &Engine, queries: &[LabelledQuery], modes: &[Mode]) -> Result<Vec<Metrics>, IndexError> {
    let index: HashMap<&str, usize> =
        engine.knowledge().faqs.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
    let retriever = engine.retriever();
    let mut results: Vec<Vec<QueryResult>> = vec![Vec::with_capacity(queries.len()); modes.len()];
    // Scenario requests are not FAQ questions: the ranking figures leave them out
    // (the dialogue figures count them).
    for q in queries.iter().filter(|q| q.kind != Kind::Scenario) {
        let expected = q.expected.as_deref().filter(|_| q.kind == Kind::Faq).and_then(|id| index.get(id).copied());
        let needs_vector = modes.iter().any(|m| *m != Mode::Lexical);
        let vector = if needs_vector { retriever.embed_query(&q.text)? } else { None };
        for (m, mode) in modes.iter().enumerate() {
            // Hybrid is ranked as a chat turn ranks, with calibrated confidences; the
            // single modes rank scenarios too (one index), which are left out here.
            let ranked = if *mode == Mode::Hybrid {
                engine
                    .rank_faqs(&q.text, vector.as_deref(), EVAL_DEPTH)?
                    .iter()
                    .map(|m| (m.hit.doc, m.confidence))
                    .collect()
            } else {
                let depth = EVAL_DEPTH + engine.knowledge().scenarios.len();
                let hits = retriever.search_with_vector(&q.text, vector.as_deref(), depth, *mode)?;
                let faqs = hits.iter().filter(|h| h.doc < index.len());
                faqs.take(EVAL_DEPTH).map(|h| (h.doc, h.score)).collect()
            };
            results[m].push(QueryResult { expected, ranked });
        }
    }
    Ok(modes.iter().zip(&results).map(|(mode, r)| metrics((*mode).into(), r)).collect())
}

/// The same model used plainly, the baseline of the dense and hybrid modes: every
/// entry ranked by its best question's cosine to the query (full-precision vectors;
/// no hubness reduction, averaging, lexical part or calibration). `None` without a
/// model.
pub fn run_plain(engine: &Engine, queries: &[LabelledQuery]) -> Result<Option<Metrics>, IndexError> {
    let kb = engine.knowledge();
    let index: HashMap<&str, usize> = kb.faqs.iter().enumerate().map(|(i, f)| (f.id.as_str(), i)).collect();
    let mut questions: Vec<(usize, Vec<f32>)> = Vec::new();
    for (doc, faq) in kb.faqs.iter().enumerate() {
        for question in faq.questions() {
            let Some(v) = engine.embed_query(question)? else { return Ok(None) };
            questions.push((doc, v));
        }
    }
    let mut results = Vec::with_capacity(queries.len());
    for q in queries.iter().filter(|q| q.kind != Kind::Scenario) {
        let expected = q.expected.as_deref().filter(|_| q.kind == Kind::Faq).and_then(|id| index.get(id).copied());
        let Some(v) = engine.embed_query(&q.text)? else { return Ok(None) };
        let mut best = vec![f32::NEG_INFINITY; kb.faqs.len()];
        for (doc, u) in &questions {
            best[*doc] = best[*doc].max(cosine(&v, u));
        }
        let mut ranked: Vec<(usize, f32)> = best.into_iter().enumerate().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked.truncate(EVAL_DEPTH);
        results.push(QueryResult { expected, ranked });
    }
    Ok(Some(metrics(Ranking::Plain, &results)))
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b)).max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_on_a_small_set() {
        let results = vec![
            QueryResult { expected: Some(1), ranked: vec![(1, 0.9), (2, 0.1)] },
            QueryResult { expected: Some(2), ranked: vec![(1, 0.4), (3, 0.3), (2, 0.2)] },
            QueryResult { expected: Some(3), ranked: vec![(1, 0.5)] },
            QueryResult { expected: None, ranked: vec![(4, 0.6)] },
        ];
        let m = metrics(Ranking::Hybrid, &results);
        assert_eq!((m.in_scope, m.out_of_scope), (3, 1));
        assert!((m.recall_at_1 - 1.0 / 3.0).abs() < 1e-6);
        assert!((m.recall_at_3 - 2.0 / 3.0).abs() < 1e-6);
        assert!((m.mrr - (1.0 + 1.0 / 3.0) / 3.0).abs() < 1e-6);
        let at_half = &m.thresholds[10];
        assert!((at_half.threshold - 0.5).abs() < 1e-6);
        assert!((at_half.coverage - 0.75).abs() < 1e-6); // 0.9, 0.5, 0.6
        assert!((at_half.precision - 1.0 / 3.0).abs() < 1e-6);
        assert!((at_half.out_of_scope_answered - 1.0).abs() < 1e-6);
    }
}
