//! Intents: what a scenario prediction looks like, the complaint examples, and the
//! decision thresholds (`[thresholds]`).
//!
//! Scenario intents are ranked by the engine together with FAQ entries; what a
//! turn does with the ranking is `dialogue`'s.

mod char_grams;
mod complaint;
mod logistic;

use serde::{Deserialize, Serialize};

pub use complaint::{ComplaintExamples, ComplaintModel, builtin_examples};

use crate::knowledge::ScenarioId;

/// Decision thresholds (`[thresholds]` in bizbot.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThresholdConfig {
    /// Confidence at or above which the best entry is answered.
    #[serde(default = "default_answer")]
    pub answer: f32,
    /// Confidence at or above which the best entry is answered when no rival
    /// reaches `clarify_others` (a clarification would offer it alone); `answer`
    /// when lower.
    #[serde(default = "default_answer_alone")]
    pub answer_alone: f32,
    /// Confidence at or above which the best entry is answered when it was also
    /// the first choice of the clarification the customer just wrote past: two
    /// readings in a row agree on it (1 = off; `answer` when lower).
    #[serde(default = "default_answer_confirmed")]
    pub answer_confirmed: f32,
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
    /// Confidence at or above which candidates after the first are offered with it
    /// when clarifying: the right entry is often second or third, a little sure.
    #[serde(default = "default_clarify_others")]
    pub clarify_others: f32,
    /// Confidence at or above which a scenario intent is predicted.
    #[serde(default = "default_intent")]
    pub intent: f32,
}

fn default_answer() -> f32 {
    0.72
}
fn default_answer_alone() -> f32 {
    0.65
}
fn default_answer_confirmed() -> f32 {
    0.5
}
fn default_clarify() -> f32 {
    0.15
}
fn default_margin() -> f32 {
    0.02
}
fn default_candidates() -> usize {
    3
}
fn default_clarify_others() -> f32 {
    0.05
}
fn default_intent() -> f32 {
    0.3
}

impl Default for ThresholdConfig {
    fn default() -> Self {
        Self {
            answer: default_answer(),
            answer_alone: default_answer_alone(),
            answer_confirmed: default_answer_confirmed(),
            clarify: default_clarify(),
            ambiguity_margin: default_margin(),
            clarify_candidates: default_candidates(),
            clarify_others: default_clarify_others(),
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
