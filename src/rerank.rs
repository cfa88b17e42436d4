//! Reranking and calibration: the probability that a retrieved candidate is the
//! right one, from what retrieval knows about it *and about its rivals*.
//!
//! A logistic model over a few features per candidate — fused score, lexical part,
//! cosine, each one's margin to the best rival, character-bigram overlap of the text
//! with the candidate's questions (typos, fragments and homophones keep most
//! bigrams), the naive Bayes posterior of the candidate given the text's characters
//! (learned from all of the entry's questions together), the share of the text the
//! knowledge knows at all, query length, rank — learned per knowledge base from the
//! knowledge itself: every similar question held out in turn as a query, as written
//! and as a customer might type it (its entry is right, the rivals are wrong), and
//! generic out-of-scope texts (every candidate is wrong). Its probability is the
//! confidence the thresholds compare — `thresholds.answer = 0.9` means about nine
//! answers in ten are right — and, once learned from enough held-out texts, the
//! order of the candidates.
//!
//! Pure functions over plain data; which texts to hold out and how to retrieve is the
//! engine's.

use std::collections::HashSet;

use serde::Serialize;

/// Features per candidate.
pub const FEATURES: usize = 18;

/// What retrieval says about one candidate.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved {
    /// Fused confidence in [0, 1].
    pub fused: f32,
    /// Lexical part in [0, 1].
    pub lexical: f32,
    /// Best cosine (`None` without a model).
    pub cosine: Option<f32>,
    /// Best character-bigram overlap of the query with the candidate's texts.
    pub overlap: f32,
    /// Share of the query's bigrams found in the candidate's best text.
    pub coverage: f32,
    /// Share of the query's information (IDF-weighted terms) found anywhere in the
    /// candidate's texts together.
    pub terms: f32,
    /// The naive Bayes posterior of the candidate given the query's characters.
    pub bayes: f32,
}

/// The character bigrams of a normalised text (single characters for one-character
/// texts).
pub fn bigrams(text: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.len() == 1 {
        return [(chars[0], ' ')].into();
    }
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// The IDF-weighted share of `query`'s terms (term, idf) that `contains` finds.
pub fn term_coverage(query: &[(String, f32)], contains: impl Fn(&str) -> bool) -> f32 {
    let total: f32 = query.iter().map(|(_, idf)| idf).sum();
    if total <= 0.0 {
        return 0.0;
    }
    query.iter().filter(|(t, _)| contains(t)).map(|(_, idf)| idf).sum::<f32>() / total
}

/// Dice overlap of two bigram sets and the share of `query`'s bigrams in `text`.
pub fn overlap(query: &HashSet<(char, char)>, text: &HashSet<(char, char)>) -> (f32, f32) {
    if query.is_empty() || text.is_empty() {
        return (0.0, 0.0);
    }
    let shared = query.intersection(text).count() as f32;
    (2.0 * shared / (query.len() + text.len()) as f32, shared / query.len() as f32)
}

/// The feature vectors of `candidates` (best fused first) for a query of
/// `query_chars` characters, `known` of whose character grams the knowledge has.
pub fn features(candidates: &[Retrieved], query_chars: usize, known: f32) -> Vec<[f32; FEATURES]> {
    let rival = |i: usize, f: &dyn Fn(&Retrieved) -> f32| -> f32 {
        candidates.iter().enumerate().filter(|(j, _)| *j != i).map(|(_, c)| f(c)).fold(0.0, f32::max)
    };
    candidates
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let cosine = c.cosine.unwrap_or(0.0);
            [
                c.fused,
                c.lexical,
                cosine,
                c.fused - rival(i, &|r| r.fused),
                cosine - rival(i, &|r| r.cosine.unwrap_or(0.0)),
                c.lexical - rival(i, &|r| r.lexical),
                c.overlap,
                c.overlap - rival(i, &|r| r.overlap),
                c.coverage,
                (1.0 + query_chars as f32).ln(),
                1.0 / (1.0 + i as f32),
                // Agreement: a full lexical match with a weak cosine (a fragment
                // sharing one word) is not a full match.
                c.lexical.min(cosine),
                // Lexical ties: a one-word query several entries contain equally.
                (1.0 + candidates.iter().filter(|r| r.lexical >= c.lexical - 0.05).count() as f32).ln(),
                c.terms,
                c.terms - rival(i, &|r| r.terms),
                c.bayes,
                c.bayes - rival(i, &|r| r.bayes),
                known,
            ]
        })
        .collect()
}

/// A customer-like variant `i` of a knowledge text, for calibration: customers
/// wrap a question in context, drop characters, add words that say nothing about
/// the entry. `context` holds generic texts of no entry (the out-of-scope
/// examples).
pub fn customer_variant(text: &str, i: usize, context: &[String]) -> String {
    let chars: Vec<char> = text.chars().collect();
    let other = context.get((i * 7 + 3) % context.len().max(1)).map_or("", String::as_str);
    match i % 3 {
        0 => format!("{other}，{text}"),
        1 if chars.len() >= 4 => {
            let drop = (i * 31) % chars.len();
            chars.iter().enumerate().filter(|(k, _)| *k != drop).map(|(_, c)| c).collect()
        }
        _ => format!("{text} {other}"),
    }
}

/// A fitted logistic model over standardised features.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibrator {
    mean: [f32; FEATURES],
    scale: [f32; FEATURES],
    weights: [f32; FEATURES],
    bias: f32,
}

impl Calibrator {
    /// Fit on labelled feature vectors (`true`: the right candidate) by gradient
    /// descent with a little L2; deterministic. `None` when a class is missing.
    pub fn fit(examples: &[([f32; FEATURES], bool)]) -> Option<Self> {
        let positives = examples.iter().filter(|(_, y)| *y).count();
        if positives == 0 || positives == examples.len() {
            return None;
        }
        let n = examples.len() as f32;
        let mut mean = [0.0; FEATURES];
        let mut scale = [0.0; FEATURES];
        for (x, _) in examples {
            for (m, v) in mean.iter_mut().zip(x) {
                *m += v / n;
            }
        }
        for (x, _) in examples {
            for ((s, v), m) in scale.iter_mut().zip(x).zip(&mean) {
                *s += (v - m).powi(2) / n;
            }
        }
        for s in &mut scale {
            *s = s.sqrt().max(1e-4);
        }
        let standard: Vec<([f32; FEATURES], f32)> = examples
            .iter()
            .map(|(x, y)| (std::array::from_fn(|k| (x[k] - mean[k]) / scale[k]), if *y { 1.0 } else { 0.0 }))
            .collect();
        let mut model = Self { mean, scale, weights: [0.0; FEATURES], bias: 0.0 };
        let (rate, l2) = (0.5, 1e-3);
        for _ in 0..400 {
            let mut grad = [0.0f32; FEATURES];
            let mut grad_bias = 0.0;
            for (x, y) in &standard {
                let err = model.logistic(x) - y;
                for (g, v) in grad.iter_mut().zip(x) {
                    *g += err * v / n;
                }
                grad_bias += err / n;
            }
            for (w, g) in model.weights.iter_mut().zip(grad) {
                *w -= rate * (g + l2 * *w);
            }
            model.bias -= rate * grad_bias;
        }
        Some(model)
    }

    fn logistic(&self, standard: &[f32; FEATURES]) -> f32 {
        let z: f32 = self.bias + standard.iter().zip(&self.weights).map(|(x, w)| x * w).sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// The probability that the candidate with features `x` is right.
    pub fn probability(&self, x: &[f32; FEATURES]) -> f32 {
        let standard = std::array::from_fn(|k| (x[k] - self.mean[k]) / self.scale[k]);
        self.logistic(&standard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retrieved(fused: f32, overlap: f32) -> Retrieved {
        Retrieved {
            fused,
            lexical: fused,
            cosine: Some(fused),
            overlap,
            coverage: overlap,
            terms: overlap,
            bayes: overlap,
        }
    }

    #[test]
    fn bigram_overlap() {
        let (dice, coverage) = overlap(&bigrams("话费余额"), &bigrams("查话费余额"));
        assert!((dice - 6.0 / 7.0).abs() < 1e-6, "{dice}");
        assert_eq!(coverage, 1.0);
        assert_eq!(overlap(&bigrams(""), &bigrams("x")), (0.0, 0.0));
        assert_eq!(bigrams("退").len(), 1);
    }

    #[test]
    fn customer_variants_wrap_or_drop_and_keep_the_question() {
        let context = vec!["今天天气怎么样".to_string(), "哈哈".to_string()];
        let variants: Vec<String> = (0..6).map(|i| customer_variant("怎么查话费余额", i, &context)).collect();
        assert!(variants[0].ends_with("，怎么查话费余额") && variants[0].len() > "，怎么查话费余额".len());
        assert_eq!(variants[1].chars().count(), 6, "{}", variants[1]);
        assert!(variants[2].starts_with("怎么查话费余额 "));
        assert_ne!(variants[0], variants[3], "another context");
        assert_eq!(customer_variant("退货", 1, &[]), "退货 ", "too short to drop from; no context");
    }

    #[test]
    fn margins_are_to_the_best_rival() {
        let f = features(&[retrieved(0.9, 0.5), retrieved(0.6, 0.8)], 4, 1.0);
        assert!((f[0][3] - 0.3).abs() < 1e-6);
        assert!((f[1][3] + 0.3).abs() < 1e-6);
        assert!((f[1][7] - 0.3).abs() < 1e-6);
    }

    #[test]
    fn a_fitted_model_ranks_the_separable_class_higher() {
        let mut examples = Vec::new();
        for i in 0..50 {
            let s = i as f32 / 50.0;
            let f = features(&[retrieved(0.5 + s / 2.0, 0.9), retrieved(0.4, 0.1)], 5, 1.0);
            examples.push((f[0], true));
            examples.push((f[1], false));
        }
        let model = Calibrator::fit(&examples).unwrap();
        let f = features(&[retrieved(0.8, 0.9), retrieved(0.4, 0.1)], 5, 1.0);
        assert!(model.probability(&f[0]) > 0.8);
        assert!(model.probability(&f[1]) < 0.2);
        assert!(Calibrator::fit(&examples[..1]).is_none());
    }
}
