//! Hubness reduction: some texts sit near many others (a generic "花呗怎么用" among
//! specific 花呗 questions) and so come close to every query a little. Each text's
//! hubness is its mean cosine to its nearest texts of other documents; a dense
//! match's cosine is lowered by `penalty` × (the text's hubness − the knowledge's
//! average), so a specific text that matches wins over a generic one that matches
//! everything about as well (cross-domain similarity local scaling, CSLS, with the
//! knowledge standing for the queries).
//!
//! A pure function over a cosine of two texts (the vector index passes its int8
//! dot product); done once when the vector index is built.

use serde::{Deserialize, Serialize};

/// Texts each text is compared with at most: above this, an evenly spread sample
/// (and proportionally fewer neighbours) stands for the rest.
const MAX_SAMPLE: usize = 2000;

/// `[retrieval]` keys of the hubness reduction.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct HubConfig {
    /// How much of a text's hubness above the average is taken off its cosines
    /// (0 = off).
    pub penalty: f32,
    /// Nearest texts of other documents a text's hubness is the mean cosine of.
    pub neighbours: usize,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self { penalty: 0.35, neighbours: 10 }
    }
}

/// Per text, what to take off its cosine: `penalty` × (its mean cosine to its
/// `neighbours` nearest texts of other documents − the mean of that over all
/// texts). `owners[i]` is the document of text `i`, `cosine(i, j)` the cosine of
/// texts `i` and `j`. All zeros when the penalty is 0 or no text has a neighbour
/// in another document.
pub fn hub_offsets(owners: &[usize], config: HubConfig, cosine: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let n = owners.len();
    if config.penalty <= 0.0 || config.neighbours == 0 || n < 2 {
        return vec![0.0; n];
    }
    let stride = n.div_ceil(MAX_SAMPLE).max(1);
    let sample: Vec<usize> = (0..n).step_by(stride).collect();
    let k = (config.neighbours * sample.len()).div_ceil(n).max(1);
    let mut hubness: Vec<Option<f32>> = Vec::with_capacity(n);
    let mut near: Vec<f32> = Vec::with_capacity(sample.len());
    for i in 0..n {
        near.clear();
        near.extend(sample.iter().filter(|&&j| owners[j] != owners[i]).map(|&j| cosine(i, j)));
        let k = k.min(near.len());
        hubness.push((k > 0).then(|| {
            near.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
            near[..k].iter().sum::<f32>() / k as f32
        }));
    }
    let known: Vec<f32> = hubness.iter().flatten().copied().collect();
    if known.is_empty() {
        return vec![0.0; n];
    }
    let mean = known.iter().sum::<f32>() / known.len() as f32;
    hubness.into_iter().map(|h| h.map_or(0.0, |h| config.penalty * (h - mean))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(vectors: &[Vec<f32>], owners: &[usize], config: HubConfig) -> Vec<f32> {
        hub_offsets(owners, config, |i, j| vectors[i].iter().zip(&vectors[j]).map(|(a, b)| a * b).sum())
    }

    fn unit(v: &[f32]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    #[test]
    fn a_text_near_many_others_is_lowered_and_an_isolated_one_raised() {
        // Texts 0-2 crowd together (documents 0, 1, 2); text 3 stands apart.
        let vectors = [[1.0, 0.1, 0.0], [1.0, 0.0, 0.1], [1.0, 0.1, 0.1], [0.0, 0.0, 1.0]].map(|v| unit(&v)).to_vec();
        let offsets = offsets(&vectors, &[0, 1, 2, 3], HubConfig { penalty: 0.5, neighbours: 1 });
        assert!(offsets[0] > 0.0 && offsets[1] > 0.0 && offsets[2] > 0.0, "{offsets:?}");
        assert!(offsets[3] < 0.0, "{offsets:?}");
        assert!(offsets.iter().sum::<f32>().abs() < 1e-5, "centred: {offsets:?}");
    }

    #[test]
    fn texts_of_the_same_document_are_not_neighbours() {
        // Texts 0 and 1 are paraphrases of one document: no hubness between them.
        let vectors = [[1.0, 0.0], [0.99, 0.1], [0.0, 1.0]].map(|v| unit(&v)).to_vec();
        let same = offsets(&vectors, &[0, 0, 1], HubConfig { penalty: 1.0, neighbours: 1 });
        let apart = offsets(&vectors, &[0, 1, 2], HubConfig { penalty: 1.0, neighbours: 1 });
        assert!(same[0] < apart[0], "{same:?} vs {apart:?}");
    }

    #[test]
    fn above_the_sample_size_a_sample_stands_for_the_rest() {
        // Even texts are near each other, odd ones near nothing.
        let n = MAX_SAMPLE + 500;
        let owners: Vec<usize> = (0..n).collect();
        let cosine = |i: usize, j: usize| if i.is_multiple_of(2) && j.is_multiple_of(2) { 0.9 } else { 0.1 };
        let offsets = hub_offsets(&owners, HubConfig { penalty: 0.5, neighbours: 10 }, cosine);
        assert_eq!(offsets.len(), n);
        assert!(offsets[0] > 0.0 && offsets[2] > 0.0, "{:?}", &offsets[..4]);
        assert!(offsets[1] < 0.0 && offsets[3] < 0.0, "{:?}", &offsets[..4]);
    }

    #[test]
    fn off_or_alone_gives_zeros() {
        let vectors = vec![unit(&[1.0, 0.0]), unit(&[0.0, 1.0])];
        assert_eq!(offsets(&vectors, &[0, 1], HubConfig { penalty: 0.0, neighbours: 10 }), vec![0.0; 2]);
        assert_eq!(offsets(&vectors, &[0, 0], HubConfig::default()), vec![0.0; 2]);
        assert_eq!(offsets(&vectors[..1], &[0], HubConfig::default()), vec![0.0]);
    }
}
