//! From a ranking to a decision: answer, clarify (top candidates) or no match; and
//! the intent predictor trained on scenario example utterances.
//!
//! `decide` is a pure function of the hits and the thresholds; it knows nothing of
//! sessions or escalation (that is `dialogue`).

mod complaint;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use complaint::ComplaintExamples;

use crate::embed::{EmbeddingCache, Encoder};
use crate::index::{Hit, IndexDoc, IndexError, Mode, RetrievalConfig, Retriever};
use crate::text::Analyzer;

/// Decision thresholds (`[thresholds]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdConfig {
    /// Confidence at or above which the best entry is answered.
    #[serde(default = "default_answer")]
    pub answer: f32,
    /// Confidence at or above which candidates are offered ("您是不是想问").
    #[serde(default = "default_clarify")]
    pub clarify: f32,
    /// When the runner-up is within this margin of an answerable best entry, the
    /// two are too close to tell apart: clarify instead of answering.
    #[serde(default = "default_margin")]
    pub ambiguity_margin: f32,
    /// Candidates offered when clarifying.
    #[serde(default = "default_candidates")]
    pub clarify_candidates: usize,
    /// Confidence at or above which a scenario intent is predicted.
    #[serde(default = "default_intent")]
    pub intent: f32,
}

fn default_answer() -> f32 {
    0.65
}
fn default_clarify() -> f32 {
    0.45
}
fn default_margin() -> f32 {
    0.02
}
fn default_candidates() -> usize {
    3
}
fn default_intent() -> f32 {
    0.6
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        Self {
            answer: default_answer(),
            clarify: default_clarify(),
            ambiguity_margin: default_margin(),
            clarify_candidates: default_candidates(),
            intent: default_intent(),
        }
    }
}

/// What a ranking means for the turn.
#[derive(Debug, Clone, PartialEq)]
pub enum MatchOutcome {
    /// Confident: answer with this entry.
    Answer(Hit),
    /// Unsure: offer these candidates.
    Clarify(Vec<Hit>),
    /// Nothing close enough.
    NoMatch,
}

/// Decide from hits sorted best first.
pub fn decide(hits: &[Hit], thresholds: &ThresholdConfig) -> MatchOutcome {
    let Some(best) = hits.first() else { return MatchOutcome::NoMatch };
    let runner_up = hits.get(1).map_or(0.0, |h| h.score);
    let clear = best.score - runner_up > thresholds.ambiguity_margin || thresholds.ambiguity_margin <= 0.0;
    if best.score >= thresholds.answer && clear {
        return MatchOutcome::Answer(best.clone());
    }
    if best.score >= thresholds.clarify {
        let candidates: Vec<Hit> = hits
            .iter()
            .filter(|h| h.score >= thresholds.clarify)
            .take(thresholds.clarify_candidates.max(1))
            .cloned()
            .collect();
        return MatchOutcome::Clarify(candidates);
    }
    MatchOutcome::NoMatch
}

/// A predicted intent.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentPrediction {
    /// The intent (scenario) id.
    pub intent: String,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// The example utterance that matched best.
    pub example: String,
}

/// Predicts scenario intents from their example utterances: the same hybrid
/// retrieval as FAQs, over one document per intent.
#[derive(Debug)]
pub struct IntentPredictor {
    ids: Vec<String>,
    examples: Vec<Vec<String>>,
    retriever: Option<Retriever>,
    threshold: f32,
}

impl IntentPredictor {
    /// Train on `(intent id, example utterances)` pairs.
    pub fn train(
        analyzer: Arc<Analyzer>,
        intents: &[(String, Vec<String>)],
        encoder: Option<(Arc<dyn Encoder>, &mut EmbeddingCache)>,
        retrieval: RetrievalConfig,
        threshold: f32,
    ) -> Result<Self, IndexError> {
        let ids = intents.iter().map(|(id, _)| id.clone()).collect();
        let examples: Vec<Vec<String>> = intents.iter().map(|(_, ex)| ex.clone()).collect();
        let retriever = if intents.is_empty() {
            None
        } else {
            let docs: Vec<IndexDoc> = examples.iter().map(|ex| IndexDoc { texts: ex.clone(), body: None }).collect();
            Some(Retriever::build(analyzer, &docs, encoder, retrieval)?.0)
        };
        Ok(Self { ids, examples, retriever, threshold })
    }

    /// Number of intents known.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no intents are known.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The most likely intent, or `None` below the threshold.
    pub fn predict(&self, text: &str) -> Result<Option<IntentPrediction>, IndexError> {
        let Some(retriever) = &self.retriever else { return Ok(None) };
        self.predict_with(text, retriever.embed_query(text)?.as_deref())
    }

    /// As [`predict`](Self::predict) with the text's vector computed by the caller
    /// (`None`: lexical only).
    pub fn predict_with(&self, text: &str, vector: Option<&[f32]>) -> Result<Option<IntentPrediction>, IndexError> {
        let Some(retriever) = &self.retriever else { return Ok(None) };
        let hits = retriever.search_with_vector(text, vector, 1, Mode::Hybrid)?;
        Ok(hits.into_iter().next().filter(|h| h.score >= self.threshold).map(|h| IntentPrediction {
            intent: self.ids[h.doc].clone(),
            confidence: h.score,
            example: self.examples[h.doc].get(h.slot).cloned().unwrap_or_default(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(doc: usize, score: f32) -> Hit {
        Hit { doc, score, lexical: score, cosine: None, slot: 0 }
    }

    #[test]
    fn thresholds_pick_the_outcome() {
        let t = ThresholdConfig::default();
        assert_eq!(decide(&[hit(1, 0.9), hit(2, 0.5)], &t), MatchOutcome::Answer(hit(1, 0.9)));
        assert_eq!(
            decide(&[hit(1, 0.5), hit(2, 0.46), hit(3, 0.1)], &t),
            MatchOutcome::Clarify(vec![hit(1, 0.5), hit(2, 0.46)])
        );
        assert_eq!(decide(&[hit(1, 0.2)], &t), MatchOutcome::NoMatch);
        assert_eq!(decide(&[], &t), MatchOutcome::NoMatch);
    }

    #[test]
    fn close_runner_up_clarifies_when_a_margin_is_set() {
        let t = ThresholdConfig { ambiguity_margin: 0.05, ..ThresholdConfig::default() };
        assert!(matches!(decide(&[hit(1, 0.9), hit(2, 0.88)], &t), MatchOutcome::Clarify(c) if c.len() == 2));
        assert!(matches!(decide(&[hit(1, 0.9), hit(2, 0.7)], &t), MatchOutcome::Answer(_)));
    }

    #[test]
    fn intents_are_predicted_from_examples() {
        let intents = vec![
            (
                "order_status".to_owned(),
                vec!["我的订单到哪了".to_owned(), "快递到哪里了".to_owned(), "查一下物流".to_owned()],
            ),
            ("my_services".to_owned(), vec!["我开通了什么业务".to_owned(), "我办了哪些套餐".to_owned()]),
        ];
        let p = IntentPredictor::train(Arc::new(Analyzer::plain()), &intents, None, RetrievalConfig::default(), 0.3)
            .unwrap();
        assert_eq!(p.predict("我的快递到哪了").unwrap().unwrap().intent, "order_status");
        assert_eq!(p.predict("我开通了哪些业务").unwrap().unwrap().intent, "my_services");
        assert_eq!(p.predict("今天天气怎么样").unwrap(), None);
    }
}
