//! Character n-grams weighted by TF-IDF: the lexical features of the complaint
//! model. Pure: a vocabulary learned from texts, and sparse unit vectors.
//!
//! Every run of 1 to `MAX_GRAM` consecutive characters (whitespace runs count as
//! one space) is a feature; its weight is `(1 + ln tf) · idf` with the smoothed
//! `idf = ln((1 + n) / (1 + df)) + 1`, and each text's vector has length 1. Grams
//! not seen while learning are ignored.

use std::collections::HashMap;

/// Longest n-gram, in characters.
const MAX_GRAM: usize = 3;

/// A sparse vector: (feature index, weight), sorted by index.
pub(super) type Sparse = Vec<(u32, f32)>;

/// The n-gram vocabulary and its IDF weights.
#[derive(Debug, Clone, Default)]
pub(super) struct CharGrams {
    index: HashMap<String, u32>,
    idf: Vec<f32>,
}

/// The n-grams of `text` with their counts (whitespace runs as one space).
fn counts(text: &str) -> HashMap<String, u32> {
    let mut chars: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_whitespace() { ' ' } else { c };
        if !(c == ' ' && chars.last() == Some(&' ')) {
            chars.push(c);
        }
    }
    let mut out: HashMap<String, u32> = HashMap::new();
    for n in 1..=MAX_GRAM {
        for w in chars.windows(n) {
            if n == 1 && w[0] == ' ' {
                continue;
            }
            *out.entry(w.iter().collect()).or_default() += 1;
        }
    }
    out
}

impl CharGrams {
    /// Learn the vocabulary and document frequencies from `texts`.
    pub(super) fn learn<'a>(texts: impl IntoIterator<Item = &'a str>) -> Self {
        let mut df: HashMap<String, u32> = HashMap::new();
        let mut n = 0u32;
        for t in texts {
            n += 1;
            for gram in counts(t).into_keys() {
                *df.entry(gram).or_default() += 1;
            }
        }
        // Sorted, so feature indices do not depend on hash order.
        let mut grams: Vec<(String, u32)> = df.into_iter().collect();
        grams.sort();
        let idf = grams.iter().map(|(_, d)| ((1.0 + n as f32) / (1.0 + *d as f32)).ln() + 1.0).collect();
        let index = grams.into_iter().enumerate().map(|(i, (g, _))| (g, i as u32)).collect();
        Self { index, idf }
    }

    /// Number of features.
    pub(super) fn len(&self) -> usize {
        self.idf.len()
    }

    /// The unit TF-IDF vector of `text` (empty when no gram is known).
    pub(super) fn vector(&self, text: &str) -> Sparse {
        let mut v: Sparse = counts(text)
            .into_iter()
            .filter_map(|(g, tf)| {
                let i = *self.index.get(&g)?;
                Some((i, (1.0 + (tf as f32).ln()) * self.idf[i as usize]))
            })
            .collect();
        v.sort_by_key(|(i, _)| *i);
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut v {
                *w /= norm;
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_up_to_three_characters_with_spaces_collapsed() {
        let c = counts("太慢  了");
        for g in ["太", "慢", "了", "太慢", "慢 ", " 了", "太慢 ", "慢 了"] {
            assert!(c.contains_key(g), "{g}");
        }
        assert!(!c.contains_key(" "), "a lone space is no feature");
        assert!(!c.contains_key("慢  "), "whitespace runs are one space");
        assert_eq!(counts("哈哈哈")["哈"], 3);
    }

    #[test]
    fn vectors_are_unit_and_rare_grams_weigh_more() {
        let grams = CharGrams::learn(["太慢了", "太贵了", "怎么查"]);
        let v = grams.vector("太慢");
        let norm: f32 = v.iter().map(|(_, w)| w * w).sum();
        assert!((norm - 1.0).abs() < 1e-5);
        let weight = |g: &str| v.iter().find(|(i, _)| *i == grams.index[g]).map(|(_, w)| *w).unwrap();
        assert!(weight("慢") > weight("太"), "慢 is in one text, 太 in two");
        assert!(grams.vector("完全没见过").is_empty());
        assert!(v.windows(2).all(|w| w[0].0 < w[1].0), "sorted by index");
    }
}
