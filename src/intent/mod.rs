//! Intents: the scenario intent predictor trained on example utterances, the
//! complaint examples, and the decision thresholds (`[thresholds]`).
//!
//! This module ranks intents; what a turn does with the ranking is `dialogue`'s.

mod complaint;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use complaint::ComplaintExamples;

use crate::embed::{EmbeddingCache, Encoder};
use crate::index::{Hit, IndexDoc, IndexError, Mode, RetrievalConfig, Retriever};
use crate::knowledge::ScenarioId;
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
    0.6
}
fn default_clarify() -> f32 {
    0.2
}
fn default_margin() -> f32 {
    0.02
}
fn default_candidates() -> usize {
    3
}
fn default_intent() -> f32 {
    0.5
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

/// A predicted intent.
#[derive(Debug, Clone, PartialEq)]
pub struct IntentPrediction {
    /// The intent (scenario) id.
    pub intent: ScenarioId,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// The example utterance that matched best.
    pub example: String,
}

/// Predicts scenario intents from their example utterances: the same hybrid
/// retrieval as FAQs, over one document per intent.
#[derive(Debug)]
pub struct IntentPredictor {
    ids: Vec<ScenarioId>,
    examples: Vec<Vec<String>>,
    retriever: Option<Retriever>,
}

impl IntentPredictor {
    /// Train on `(intent id, example utterances)` pairs.
    pub fn train(
        analyzer: Arc<Analyzer>,
        intents: &[(ScenarioId, Vec<String>)],
        encoder: Option<(Arc<dyn Encoder>, &mut EmbeddingCache)>,
        retrieval: RetrievalConfig,
    ) -> Result<Self, IndexError> {
        let ids = intents.iter().map(|(id, _)| id.clone()).collect();
        let examples: Vec<Vec<String>> = intents.iter().map(|(_, ex)| ex.clone()).collect();
        let retriever = if intents.is_empty() {
            None
        } else {
            let docs: Vec<IndexDoc> = examples.iter().map(|ex| IndexDoc { texts: ex.clone(), body: None }).collect();
            Some(Retriever::build(analyzer, &docs, encoder, retrieval)?.0)
        };
        Ok(Self { ids, examples, retriever })
    }

    /// The `k` most likely intents for `text`, best first, with the text's vector
    /// computed by the caller (`None`: lexical only).
    /// The retrieval hits come along (document = scenario order), for calibration.
    pub fn rank(
        &self,
        text: &str,
        vector: Option<&[f32]>,
        k: usize,
    ) -> Result<(Vec<Hit>, Vec<IntentPrediction>), IndexError> {
        let Some(retriever) = &self.retriever else { return Ok((Vec::new(), Vec::new())) };
        let hits = retriever.search_with_vector(text, vector, k, Mode::Hybrid)?;
        let predictions = hits
            .iter()
            .map(|h| IntentPrediction {
                intent: self.ids[h.doc].clone(),
                confidence: h.score,
                example: self.examples[h.doc].get(h.slot).cloned().unwrap_or_default(),
            })
            .collect();
        Ok((hits, predictions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_are_predicted_from_examples() {
        let intents = vec![
            (
                ScenarioId::from("order_status"),
                vec!["我的订单到哪了".to_owned(), "快递到哪里了".to_owned(), "查一下物流".to_owned()],
            ),
            (ScenarioId::from("my_services"), vec!["我开通了什么业务".to_owned(), "我办了哪些套餐".to_owned()]),
        ];
        let p =
            IntentPredictor::train(Arc::new(Analyzer::plain()), &intents, None, RetrievalConfig::default()).unwrap();
        let best = |text: &str| p.rank(text, None, 1).unwrap().1.into_iter().next();
        assert_eq!(best("我的快递到哪了").unwrap().intent, "order_status");
        assert_eq!(best("我开通了哪些业务").unwrap().intent, "my_services");
        assert!(best("今天天气怎么样").is_none_or(|p| p.confidence < 0.3));
    }
}
