//! Fusion of lexical and dense matches into one confidence in [0, 1].
//!
//! Pure functions over plain data. The lexical part is already in [0, 1] (BM25 over
//! the query's total IDF); the cosine is mapped linearly from
//! `[dense_floor, dense_ceiling]` onto [0, 1]; the confidence is their weighted mean
//! with `semantic_weight` on the dense part.

use std::collections::HashMap;

use super::{DenseMatch, Hit, LexicalMatch, RetrievalConfig};

/// The cosine mapped onto [0, 1]: `dense_floor` and below → 0, `dense_ceiling` and
/// above → 1, linear in between.
pub fn dense_confidence(cosine: f32, config: &RetrievalConfig) -> f32 {
    let span = (config.dense_ceiling - config.dense_floor).max(1e-6);
    ((cosine - config.dense_floor) / span).clamp(0.0, 1.0)
}

/// Fuse per-document matches. A document missing from one list counts 0 there.
/// `weight` is the dense share (0 = lexical only, 1 = dense only). The result is
/// sorted by confidence, ties by document index, so it does not depend on the
/// order of the inputs.
pub fn fuse(lexical: &[LexicalMatch], dense: &[DenseMatch], weight: f32, config: &RetrievalConfig) -> Vec<Hit> {
    let mut by_doc: HashMap<usize, (Option<&LexicalMatch>, Option<&DenseMatch>)> = HashMap::new();
    for l in lexical {
        by_doc.entry(l.doc).or_default().0.get_or_insert(l);
    }
    for d in dense {
        by_doc.entry(d.doc).or_default().1.get_or_insert(d);
    }
    let mut hits: Vec<Hit> = by_doc
        .into_iter()
        .map(|(doc, (l, d))| {
            let lexical_part = (1.0 - weight) * l.map_or(0.0, |l| l.score);
            let dense_part = weight * d.map_or(0.0, |d| dense_confidence(d.cosine, config));
            // Report the text that contributed most to the confidence.
            let slot = match (l, d) {
                (Some(l), Some(d)) => {
                    if dense_part >= lexical_part {
                        d.slot
                    } else {
                        l.slot
                    }
                }
                (Some(l), None) => l.slot,
                (None, Some(d)) => d.slot,
                (None, None) => unreachable!("every entry comes from one of the lists"),
            };
            Hit {
                doc,
                score: lexical_part + dense_part,
                lexical: l.map_or(0.0, |l| l.score),
                cosine: d.map(|d| d.cosine),
                slot,
            }
        })
        .collect();
    hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc)));
    hits
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn config() -> RetrievalConfig {
        RetrievalConfig { dense_floor: 0.2, dense_ceiling: 1.0, ..RetrievalConfig::default() }
    }

    fn lex(doc: usize, score: f32) -> LexicalMatch {
        LexicalMatch { doc, score, bm25: score * 10.0, slot: 0 }
    }

    fn den(doc: usize, cosine: f32) -> DenseMatch {
        DenseMatch { doc, cosine, slot: 1 }
    }

    #[test]
    fn weights_blend_the_two_parts() {
        let hits = fuse(&[lex(0, 1.0), lex(1, 0.5)], &[den(1, 1.0), den(0, 0.2)], 0.5, &config());
        assert_eq!(hits[0].doc, 1);
        assert!((hits[0].score - 0.75).abs() < 1e-6);
        assert!((hits[1].score - 0.5).abs() < 1e-6);
    }

    #[test]
    fn extremes_are_single_modes() {
        let l = [lex(0, 0.9), lex(1, 0.1)];
        let d = [den(1, 0.9), den(0, 0.3)];
        assert_eq!(fuse(&l, &d, 0.0, &config())[0].doc, 0);
        assert_eq!(fuse(&l, &d, 1.0, &config())[0].doc, 1);
    }

    #[test]
    fn dense_confidence_is_clamped() {
        assert_eq!(dense_confidence(-0.5, &config()), 0.0);
        assert_eq!(dense_confidence(1.5, &config()), 1.0);
        assert!((dense_confidence(0.6, &config()) - 0.5).abs() < 1e-6);
    }

    /// Naive reference: a map from doc to (lexical, cosine), scored and sorted.
    fn reference(lexical: &[LexicalMatch], dense: &[DenseMatch], weight: f32) -> Vec<(usize, f32)> {
        let mut docs: Vec<usize> = lexical.iter().map(|l| l.doc).chain(dense.iter().map(|d| d.doc)).collect();
        docs.sort();
        docs.dedup();
        let mut out: Vec<(usize, f32)> = docs
            .into_iter()
            .map(|doc| {
                let l = lexical.iter().find(|l| l.doc == doc).map_or(0.0, |l| l.score);
                let d = dense.iter().find(|d| d.doc == doc).map_or(0.0, |d| dense_confidence(d.cosine, &config()));
                (doc, (1.0 - weight) * l + weight * d)
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        out
    }

    proptest! {
        #[test]
        fn fusion_equals_reference_and_ignores_order(
            l in proptest::collection::btree_map(0usize..20, 0.0f32..1.0, 0..10),
            d in proptest::collection::btree_map(0usize..20, -1.0f32..1.0, 0..10),
            weight in 0.0f32..1.0,
        ) {
            let lexical: Vec<LexicalMatch> = l.iter().map(|(&doc, &s)| lex(doc, s)).collect();
            let dense: Vec<DenseMatch> = d.iter().map(|(&doc, &c)| den(doc, c)).collect();
            let got: Vec<(usize, f32)> = fuse(&lexical, &dense, weight, &config()).iter().map(|h| (h.doc, h.score)).collect();
            prop_assert_eq!(&got, &reference(&lexical, &dense, weight));
            let lr: Vec<LexicalMatch> = lexical.iter().rev().cloned().collect();
            let dr: Vec<DenseMatch> = dense.iter().rev().copied().collect();
            let reversed: Vec<(usize, f32)> = fuse(&lr, &dr, weight, &config()).iter().map(|h| (h.doc, h.score)).collect();
            prop_assert_eq!(got, reversed);
        }
    }
}
