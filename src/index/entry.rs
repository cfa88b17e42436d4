//! Entry-level BM25: every document's texts (an entry's questions, a scenario's
//! examples) counted together as one bag of terms.
//!
//! Per-text BM25 rewards the one question that happens to share a rare word with
//! the query — often a colloquial verb (咋查, 能不能退) written once by an editor —
//! over the entry whose questions keep coming back to the query's topic word. Counted
//! over all of an entry's texts, a term that many of its questions share weighs more
//! (term frequency, saturated by BM25's `k1`) and IDF is over entries, not texts.
//! A held-out text's terms are subtracted, so calibration sees an entry without it.
//!
//! Pure data and arithmetic; the analyser that makes the terms is the caller's.

use std::collections::HashMap;

use super::Excluded;

const K1: f32 = 1.2;
const B: f32 = 0.75;

/// Term counts per document and per text, and the IDF over documents.
#[derive(Debug, Default)]
pub struct EntryTerms {
    /// Per document: term → count over all its texts.
    counts: Vec<HashMap<String, u32>>,
    /// Per document, per text: its terms (with repeats).
    texts: Vec<Vec<Vec<String>>>,
    /// Per document: number of terms over all its texts.
    lengths: Vec<u32>,
    average_length: f32,
    idf: HashMap<String, f32>,
}

impl EntryTerms {
    /// Count the terms of each document's texts (`terms[doc][slot]`).
    pub fn new(terms: Vec<Vec<Vec<String>>>) -> Self {
        let mut counts = Vec::with_capacity(terms.len());
        let mut lengths = Vec::with_capacity(terms.len());
        let mut df: HashMap<&str, f32> = HashMap::new();
        for doc in &terms {
            let mut c: HashMap<String, u32> = HashMap::new();
            for t in doc.iter().flatten() {
                *c.entry(t.clone()).or_default() += 1;
            }
            lengths.push(c.values().sum());
            counts.push(c);
        }
        for c in &counts {
            for t in c.keys() {
                *df.entry(t.as_str()).or_default() += 1.0;
            }
        }
        let n = counts.len() as f32;
        let idf = df.into_iter().map(|(t, d)| (t.to_owned(), (1.0 + (n - d + 0.5) / (d + 0.5)).ln())).collect();
        let average_length = if lengths.is_empty() { 1.0 } else { lengths.iter().sum::<u32>() as f32 / n };
        Self { counts, texts: terms, lengths, average_length: average_length.max(1.0), idf }
    }

    /// BM25 of document `doc`'s texts together for the (deduplicated) query
    /// `terms`, divided by the query's total IDF and clipped to [0, 1]; the texts
    /// `exclude` covers are left out. Terms unknown to the knowledge count in the
    /// total with the largest IDF.
    pub fn score(&self, terms: &[String], doc: usize, exclude: Option<Excluded>) -> f32 {
        let Some(counts) = self.counts.get(doc) else { return 0.0 };
        let unknown = (1.0 + (self.counts.len() as f32 + 0.5) / 0.5).ln();
        let mut removed: HashMap<&str, u32> = HashMap::new();
        let mut length = self.lengths[doc];
        if let Some(e) = exclude.filter(|e| e.doc() == doc) {
            for (slot, text) in self.texts[doc].iter().enumerate() {
                if e.covers(doc, slot) {
                    for t in text {
                        *removed.entry(t.as_str()).or_default() += 1;
                    }
                    length -= text.len() as u32;
                }
            }
        }
        let norm = K1 * (1.0 - B + B * length as f32 / self.average_length);
        let (mut score, mut total) = (0.0, 0.0);
        for t in terms {
            let idf = self.idf.get(t).copied().unwrap_or(unknown);
            total += idf;
            let tf = counts.get(t).copied().unwrap_or(0).saturating_sub(removed.get(t.as_str()).copied().unwrap_or(0));
            if tf > 0 {
                let tf = tf as f32;
                score += idf * tf * (K1 + 1.0) / (tf + norm);
            }
        }
        if total <= 0.0 { 0.0 } else { (score / total).clamp(0.0, 1.0) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(texts: &[&[&str]]) -> Vec<Vec<String>> {
        texts.iter().map(|t| t.iter().map(|s| s.to_string()).collect()).collect()
    }

    fn q(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_topic_many_questions_share_beats_a_word_one_question_has() {
        let index = EntryTerms::new(vec![
            // bill-balance: one question with the colloquial 咋查
            terms(&[&["话费", "余额", "咋查"], &["余额", "查询"], &["话费", "余额"], &["余额"]]),
            // bill-detail: 详单 in three questions
            terms(&[&["详单", "查"], &["通话", "详单"], &["流量", "详单"], &["账单", "明细"]]),
            terms(&[&["宽带", "报修"], &["宽带", "断网"]]),
        ]);
        let query = q(&["详单", "咋查"]);
        assert!(index.score(&query, 1, None) > index.score(&query, 0, None));
    }

    #[test]
    fn held_out_texts_are_left_out_and_scores_are_shares() {
        let index = EntryTerms::new(vec![terms(&[&["挂失"], &["补卡"]]), terms(&[&["宽带"]])]);
        let query = q(&["挂失"]);
        let full = index.score(&query, 0, None);
        assert!(full > 0.0 && full <= 1.0);
        assert_eq!(index.score(&query, 0, Some(Excluded::text(0, 0))), 0.0);
        assert_eq!(index.score(&query, 0, Some(Excluded::text(1, 0))), full, "another document's exclusion");
        assert_eq!(index.score(&q(&[]), 0, None), 0.0);
        assert_eq!(index.score(&query, 7, None), 0.0, "no such document");
        assert_eq!(index.score(&q(&["火星"]), 0, None), 0.0, "unknown terms find nothing");
    }
}
