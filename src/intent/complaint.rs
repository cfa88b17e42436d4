//! The complaint model, one half of complaint detection (the other half, phrases,
//! is pure policy in `dialogue::escalation`).
//!
//! A logistic regression learned at load: character n-grams (TF-IDF) and, with a
//! model, the sentence vector, from example complaints against example ordinary
//! messages and the knowledge's own texts. The knowledge's questions teach it
//! that the problems this business answers ("宽带坏了", "退货不给退") are
//! questions, not complaints, so every knowledge base gets its own model.

use std::sync::{Arc, LazyLock};

use super::char_grams::{CharGrams, Sparse};
use super::logistic::{Example, Fit, Logistic};
use crate::embed::{EmbeddingCache, Encoder};
use crate::index::IndexError;
use crate::text::Analyzer;

/// The shipped examples: complaints and ordinary messages across trades (telecom,
/// shops, couriers, food delivery, banking, travel, utilities, education, apps),
/// written as customers type; columns `text,label`.
const BUILTIN_CSV: &str = include_str!("../../config/complaint-examples.csv");

/// The shipped examples as (complaints, ordinary messages).
pub fn builtin_examples() -> &'static (Vec<String>, Vec<String>) {
    static EXAMPLES: LazyLock<(Vec<String>, Vec<String>)> = LazyLock::new(|| {
        let mut reader = csv::Reader::from_reader(BUILTIN_CSV.as_bytes());
        let (mut complaints, mut ordinary) = (Vec::new(), Vec::new());
        for record in reader.records().flatten() {
            match (record.get(0), record.get(1)) {
                (Some(text), Some("complaint")) => complaints.push(text.to_owned()),
                (Some(text), Some("other")) => ordinary.push(text.to_owned()),
                // Checked by a test: every shipped row is one or the other.
                _ => {}
            }
        }
        (complaints, ordinary)
    });
    &EXAMPLES
}

/// The knowledge's texts together weigh this share of all the examples
/// (complaint and ordinary) put together; they join the ordinary side.
const KNOWLEDGE_SHARE: f32 = 0.5;

/// Fitting settings: weak L2, enough steps to converge on a few thousand texts.
const FIT: Fit = Fit { l2: 1e-4, steps: 300 };

/// What the complaint model learns from.
#[derive(Debug, Clone, Copy)]
pub struct ComplaintExamples<'a> {
    /// Example complaints.
    pub complaints: &'a [String],
    /// Example ordinary messages (questions, thanks, praise).
    pub ordinary: &'a [String],
    /// The knowledge's questions and scenario examples, already normalised:
    /// ordinary by definition.
    pub knowledge: &'a [String],
}

/// A learned complaint probability.
pub struct ComplaintModel {
    /// Whether the sentence vector is a feature (an encoder was given).
    dense: bool,
    grams: CharGrams,
    model: Option<Logistic>,
}

impl std::fmt::Debug for ComplaintModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComplaintModel")
            .field("grams", &self.grams.len())
            .field("dense", &self.dense)
            .field("fitted", &self.model.is_some())
            .finish_non_exhaustive()
    }
}

impl ComplaintModel {
    /// Learn from `examples` (normalised like queries). Without an encoder the model
    /// has n-grams only; without complaint or ordinary examples it is inactive and
    /// only phrases detect complaints.
    pub fn build(
        analyzer: &Analyzer,
        examples: ComplaintExamples<'_>,
        encoder: Option<(Arc<dyn Encoder>, &mut EmbeddingCache)>,
    ) -> Result<Self, IndexError> {
        let normalize = |texts: &[String]| -> Vec<String> {
            texts.iter().map(|e| analyzer.normalize(e)).filter(|e| !e.is_empty()).collect()
        };
        let complaints = normalize(examples.complaints);
        let ordinary = normalize(examples.ordinary);
        let knowledge: Vec<String> = examples.knowledge.iter().filter(|t| !t.is_empty()).cloned().collect();
        let knowledge_weight =
            KNOWLEDGE_SHARE * (complaints.len() + ordinary.len()) as f32 / knowledge.len().max(1) as f32;
        let labelled: Vec<(&str, bool, f32)> = complaints
            .iter()
            .map(|t| (t.as_str(), true, 1.0))
            .chain(ordinary.iter().map(|t| (t.as_str(), false, 1.0)))
            .chain(knowledge.iter().map(|t| (t.as_str(), false, knowledge_weight)))
            .collect();
        let grams = CharGrams::learn(labelled.iter().map(|(t, _, _)| *t));
        let (dense, vectors) = match encoder {
            Some((encoder, cache)) => {
                let texts: Vec<&str> = labelled.iter().map(|(t, _, _)| *t).collect();
                let vectors = cache.embed_all(encoder.as_ref(), &texts)?.0;
                (true, vectors)
            }
            None => (false, vec![Vec::new(); labelled.len()]),
        };
        let training: Vec<Example> = labelled
            .iter()
            .zip(vectors)
            .map(|((text, positive, weight), dense)| Example {
                sparse: grams.vector(text),
                dense,
                positive: *positive,
                weight: *weight,
            })
            .collect();
        let model = if complaints.is_empty() || ordinary.is_empty() {
            None
        } else {
            Logistic::fit(&training, grams.len(), FIT)
        };
        Ok(Self { dense, grams, model })
    }

    /// Whether the model was learned (complaint and ordinary examples were given).
    pub fn is_active(&self) -> bool {
        self.model.is_some()
    }

    /// Whether the model uses sentence vectors, so a caller should pass one.
    pub fn uses_vectors(&self) -> bool {
        self.dense
    }

    /// The probability that `normalized` text, with sentence vector `v` (empty
    /// without a model), is a complaint; `None` when the model is inactive.
    pub fn probability(&self, normalized: &str, v: &[f32]) -> Option<f32> {
        let model = self.model.as_ref()?;
        let sparse: Sparse = self.grams.vector(normalized);
        let dense = if self.dense { v } else { &[] };
        Some(model.probability(&sparse, dense))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::NormalizeConfig;

    fn strings(texts: &[&str]) -> Vec<String> {
        texts.iter().map(|t| t.to_string()).collect()
    }

    #[test]
    fn the_shipped_examples_load_with_both_labels() {
        let (complaints, ordinary) = builtin_examples();
        assert!(complaints.len() >= 500, "{}", complaints.len());
        assert!(ordinary.len() >= 500, "{}", ordinary.len());
        assert!(complaints.iter().chain(ordinary).all(|t| !t.trim().is_empty()));
        let rows = BUILTIN_CSV.lines().skip(1).filter(|l| !l.trim().is_empty()).count();
        assert_eq!(complaints.len() + ordinary.len(), rows, "every row is labelled complaint or other");
    }

    #[test]
    fn learns_complaints_from_grams_and_the_knowledge_stays_ordinary() {
        let analyzer = Analyzer::new(NormalizeConfig::default(), &Default::default());
        let (complaints, ordinary) = builtin_examples();
        let knowledge = strings(&["宽带坏了怎么报修", "网速太慢怎么办", "退货申请被驳回怎么办"]);
        let model =
            ComplaintModel::build(&analyzer, ComplaintExamples { complaints, ordinary, knowledge: &knowledge }, None)
                .unwrap();
        assert!(model.is_active() && !model.uses_vectors());
        let p = |t: &str| model.probability(&analyzer.normalize(t), &[]).unwrap();
        assert!(p("什么破服务 太差劲了") > 0.9, "{}", p("什么破服务 太差劲了"));
        assert!(p("话费怎么查") < 0.5, "{}", p("话费怎么查"));
        assert!(p("网速太慢怎么办") < 0.5, "a knowledge question: {}", p("网速太慢怎么办"));
        let none = ComplaintModel::build(
            &analyzer,
            ComplaintExamples { complaints: &[], ordinary, knowledge: &knowledge },
            None,
        )
        .unwrap();
        assert!(!none.is_active() && none.probability("太差了", &[]).is_none());
    }
}
