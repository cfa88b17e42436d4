//! A multinomial naive Bayes classifier over index documents: each document (an
//! entry with its similar questions, a scenario with its examples) is a class, its
//! texts the training samples, character unigrams and bigrams of each
//! space-separated chunk (padded with a space at both ends) the features.
//!
//! Where BM25 and the sentence model judge a text against each question on its
//! own, this learns from all of an entry's questions together which characters
//! tell it from its neighbours (详单 → the bill-detail entry, 包裹 → the order
//! entries), and survives typos, fragments and extra words: most of a text's
//! bigrams stay. Its posterior over all documents is one of the calibrator's
//! features. Fitting is counting, so a held-out text is subtracted exactly.

use std::collections::HashMap;

use super::Excluded;

/// A character unigram (`(c, '\0')`) or bigram.
type Gram = (char, char);

/// Additive (Lidstone) smoothing of the gram counts.
const ALPHA: f32 = 0.1;

/// What the classifier says about a text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BayesEvidence {
    /// The probability of each document (all zeros when no gram is known).
    pub posterior: Vec<f32>,
    /// The share of the text's grams the knowledge has (out-of-scope texts name
    /// things it never mentions: 淘宝, 花呗, 航班).
    pub known: f32,
}

/// A fitted classifier.
#[derive(Debug, Clone, Default)]
pub struct NaiveBayes {
    /// For each gram, the documents that have it and how often.
    counts: HashMap<Gram, Vec<(usize, f32)>>,
    /// Grams per document.
    totals: Vec<f32>,
    /// Texts per document.
    texts: Vec<f32>,
    /// Texts of all documents.
    all_texts: f32,
    /// Each document's texts as gram counts (to hold one out).
    samples: Vec<Vec<Vec<(Gram, f32)>>>,
}

/// The gram counts of a normalised text.
fn grams(text: &str) -> Vec<(Gram, f32)> {
    let mut counts: HashMap<Gram, f32> = HashMap::new();
    for chunk in text.split_whitespace() {
        let padded: Vec<char> = std::iter::once(' ').chain(chunk.chars()).chain(std::iter::once(' ')).collect();
        for c in chunk.chars() {
            *counts.entry((c, '\0')).or_default() += 1.0;
        }
        for w in padded.windows(2) {
            *counts.entry((w[0], w[1])).or_default() += 1.0;
        }
    }
    let mut grams: Vec<(Gram, f32)> = counts.into_iter().collect();
    grams.sort_by_key(|a| a.0);
    grams
}

impl NaiveBayes {
    /// Fit on each document's normalised texts.
    pub fn fit(documents: &[Vec<String>]) -> Self {
        let mut model = Self {
            counts: HashMap::new(),
            totals: vec![0.0; documents.len()],
            texts: documents.iter().map(|d| d.len() as f32).collect(),
            all_texts: documents.iter().map(|d| d.len() as f32).sum(),
            samples: Vec::with_capacity(documents.len()),
        };
        for (doc, texts) in documents.iter().enumerate() {
            let samples: Vec<Vec<(Gram, f32)>> = texts.iter().map(|t| grams(t)).collect();
            let mut doc_counts: HashMap<Gram, f32> = HashMap::new();
            for (g, n) in samples.iter().flatten() {
                *doc_counts.entry(*g).or_default() += n;
                model.totals[doc] += n;
            }
            for (g, n) in doc_counts {
                model.counts.entry(g).or_default().push((doc, n));
            }
            model.samples.push(samples);
        }
        model
    }

    /// The probability of each document given `text` (normalised), as if the
    /// held-out text `exclude` had never been seen (all zeros for a text with no
    /// known gram or a classifier without documents), and the share of the text's
    /// grams the knowledge knows.
    pub fn evidence(&self, text: &str, exclude: Option<Excluded>) -> BayesEvidence {
        let n = self.totals.len();
        let held: &[(Gram, f32)] =
            exclude.and_then(|e| self.samples.get(e.doc)?.get(e.slot)).map(Vec::as_slice).unwrap_or_default();
        let held_doc = exclude.map(|e| e.doc).filter(|_| !held.is_empty());
        let held_count = |g: &Gram| held.binary_search_by(|(h, _)| h.cmp(g)).map_or(0.0, |i| held[i].1);
        let held_total: f32 = held.iter().map(|(_, c)| c).sum();
        // Grams only the held-out text had leave the vocabulary.
        let only_held =
            |(g, c): &&(Gram, f32)| self.counts.get(g).is_some_and(|d| d.iter().map(|x| x.1).sum::<f32>() <= *c);
        let vocabulary = self.counts.len() as f32 - held.iter().filter(only_held).count() as f32;
        // A document's texts and grams, the held-out text taken away.
        let sizes = |doc: usize| match Some(doc) == held_doc {
            true => (self.texts[doc] - 1.0, self.totals[doc] - held_total),
            false => (self.texts[doc], self.totals[doc]),
        };
        let all_texts = self.all_texts - if held_doc.is_some() { 1.0 } else { 0.0 };
        let mut score = vec![0.0f32; n];
        let mut length = 0.0;
        let grams = grams(text);
        let all_grams: f32 = grams.iter().map(|(_, q)| q).sum();
        for (g, q) in grams {
            let Some(docs) = self.counts.get(&g) else { continue };
            let minus = |doc: usize| if Some(doc) == held_doc { held_count(&g) } else { 0.0 };
            if docs.iter().all(|&(doc, c)| c - minus(doc) <= 0.0) {
                continue; // only the held-out text had it: unknown
            }
            length += q;
            for &(doc, c) in docs {
                let c = c - minus(doc);
                if c > 0.0 {
                    score[doc] += q * ((c + ALPHA).ln() - ALPHA.ln());
                }
            }
        }
        let known = if all_grams > 0.0 { length / all_grams } else { 0.0 };
        if length == 0.0 || all_texts <= 0.0 {
            return BayesEvidence { posterior: vec![0.0; n], known };
        }
        for (doc, s) in score.iter_mut().enumerate() {
            let (texts, total) = sizes(doc);
            *s += (texts / all_texts).ln() + length * (ALPHA.ln() - (total + ALPHA * vocabulary).ln());
        }
        let best = score.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        if !best.is_finite() {
            return BayesEvidence { posterior: vec![0.0; n], known };
        }
        let mut sum = 0.0;
        for s in &mut score {
            *s = (*s - best).exp();
            sum += *s;
        }
        BayesEvidence { posterior: score.iter().map(|s| s / sum).collect(), known }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posterior(nb: &NaiveBayes, text: &str, exclude: Option<Excluded>) -> Vec<f32> {
        nb.evidence(text, exclude).posterior
    }

    fn docs() -> Vec<Vec<String>> {
        let d = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        vec![
            d(&["查话费余额", "话费还剩多少", "余额查询"]),
            d(&["查看账单明细", "通话详单怎么查", "详单在哪看"]),
            d(&["退货"]),
        ]
    }

    #[test]
    fn the_entry_whose_questions_share_the_characters_wins() {
        let nb = NaiveBayes::fit(&docs());
        let p = posterior(&nb, "详单咋查", None);
        assert!(p[1] > 0.8, "{p:?}");
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-4);
        let p = posterior(&nb, "我话费还剩几块", None);
        assert!(p[0] > p[1] && p[0] > p[2], "{p:?}");
    }

    #[test]
    fn a_held_out_text_is_forgotten_exactly() {
        let nb = NaiveBayes::fit(&docs());
        // 退货 is only in document 2's one text: held out, nothing knows it.
        assert_eq!(posterior(&nb, "退货", Some(Excluded::text(2, 0))), vec![0.0; 3]);
        assert!(posterior(&nb, "退货", None)[2] > 0.9);
        assert_eq!(nb.evidence("退货", None).known, 1.0);
        assert_eq!(nb.evidence("退货", Some(Excluded::text(2, 0))).known, 0.0);
        let half = nb.evidence("余额☃", None).known;
        assert!(half > 0.3 && half < 0.7, "{half}");
        // Holding out a text equals fitting without it.
        let mut without = docs();
        without[1].remove(2);
        let refit = posterior(&NaiveBayes::fit(&without), "详单在哪看", None);
        let held = posterior(&nb, "详单在哪看", Some(Excluded::text(1, 2)));
        for (a, b) in refit.iter().zip(&held) {
            assert!((a - b).abs() < 1e-4, "{refit:?} {held:?}");
        }
    }

    #[test]
    fn unknown_or_empty_texts_give_no_evidence() {
        let nb = NaiveBayes::fit(&docs());
        assert_eq!(posterior(&nb, "", None), vec![0.0; 3]);
        assert_eq!(posterior(&nb, "☃☃", None), vec![0.0; 3]);
        assert!(NaiveBayes::fit(&[]).evidence("余额", None).posterior.is_empty());
    }
}
