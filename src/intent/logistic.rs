//! Binary logistic regression over a sparse part (n-gram weights) and a dense part
//! (a sentence vector), fitted by accelerated full-batch gradient descent. Pure and
//! deterministic: the same examples give the same model.

use super::char_grams::Sparse;

/// One training example.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Example {
    /// Sparse features (index, value), indices below the model's sparse size.
    pub(super) sparse: Sparse,
    /// Dense features, all of the same length.
    pub(super) dense: Vec<f32>,
    /// The class.
    pub(super) positive: bool,
    /// How much the example counts (> 0).
    pub(super) weight: f32,
}

/// Fitting settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Fit {
    /// L2 penalty on the weights (not the bias), relative to the mean loss.
    pub l2: f32,
    /// Gradient steps.
    pub(super) steps: usize,
}

/// A fitted model.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Logistic {
    sparse: Vec<f32>,
    dense: Vec<f32>,
    bias: f32,
}

impl Logistic {
    /// The log-odds of the positive class.
    pub(super) fn log_odds(&self, sparse: &[(u32, f32)], dense: &[f32]) -> f32 {
        let s: f32 = sparse.iter().filter_map(|(i, v)| self.sparse.get(*i as usize).map(|w| w * v)).sum();
        let d: f32 = self.dense.iter().zip(dense).map(|(w, v)| w * v).sum();
        self.bias + s + d
    }

    /// The probability of the positive class.
    pub(super) fn probability(&self, sparse: &[(u32, f32)], dense: &[f32]) -> f32 {
        1.0 / (1.0 + (-self.log_odds(sparse, dense)).exp())
    }

    /// Fit on `examples` with `sparse_len` sparse features. Each class's weights
    /// are rescaled to half the total, so the classes count equally whatever their
    /// sizes. `None` when a class is missing.
    pub(super) fn fit(examples: &[Example], sparse_len: usize, fit: Fit) -> Option<Self> {
        let class_total = |p: bool| examples.iter().filter(|e| e.positive == p).map(|e| e.weight).sum::<f32>();
        let (pos, neg) = (class_total(true), class_total(false));
        if pos <= 0.0 || neg <= 0.0 {
            return None;
        }
        let weights: Vec<f32> = examples.iter().map(|e| e.weight * 0.5 / if e.positive { pos } else { neg }).collect();
        let dim = examples.iter().map(|e| e.dense.len()).max().unwrap_or(0);
        // Step 1/L for the mean logistic loss: L ≤ max‖x‖²/4 (+1 for the bias) + l2.
        let max_norm = examples
            .iter()
            .map(|e| {
                1.0 + e.sparse.iter().map(|(_, v)| v * v).sum::<f32>() + e.dense.iter().map(|v| v * v).sum::<f32>()
            })
            .fold(0.0f32, f32::max);
        let step = 1.0 / (max_norm / 4.0 + fit.l2);
        let mut model = Self { sparse: vec![0.0; sparse_len], dense: vec![0.0; dim], bias: 0.0 };
        let mut look = model.clone();
        for k in 0..fit.steps {
            // Gradient at the look-ahead point (Nesterov).
            let mut grad = Self { sparse: vec![0.0; sparse_len], dense: vec![0.0; dim], bias: 0.0 };
            for (e, w) in examples.iter().zip(&weights) {
                let err = w * (look.probability(&e.sparse, &e.dense) - if e.positive { 1.0 } else { 0.0 });
                for (i, v) in &e.sparse {
                    if let Some(g) = grad.sparse.get_mut(*i as usize) {
                        *g += err * v;
                    }
                }
                for (g, v) in grad.dense.iter_mut().zip(&e.dense) {
                    *g += err * v;
                }
                grad.bias += err;
            }
            let next = Self {
                sparse: look.sparse.iter().zip(&grad.sparse).map(|(w, g)| w - step * (g + fit.l2 * w)).collect(),
                dense: look.dense.iter().zip(&grad.dense).map(|(w, g)| w - step * (g + fit.l2 * w)).collect(),
                bias: look.bias - step * grad.bias,
            };
            let momentum = k as f32 / (k as f32 + 3.0);
            let extrapolate = |now: &[f32], before: &[f32]| -> Vec<f32> {
                now.iter().zip(before).map(|(n, b)| n + momentum * (n - b)).collect()
            };
            look = Self {
                sparse: extrapolate(&next.sparse, &model.sparse),
                dense: extrapolate(&next.dense, &model.dense),
                bias: next.bias + momentum * (next.bias - model.bias),
            };
            model = next;
        }
        Some(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example(sparse: Sparse, dense: Vec<f32>, positive: bool) -> Example {
        Example { sparse, dense, positive, weight: 1.0 }
    }

    const FIT: Fit = Fit { l2: 1e-3, steps: 300 };

    #[test]
    fn separates_by_a_sparse_feature_and_by_the_dense_part() {
        let mut examples = Vec::new();
        for i in 0..20 {
            let noise = (i % 5) as f32 / 10.0;
            examples.push(example(vec![(0, 1.0), (2, noise)], vec![0.8, 0.1], true));
            examples.push(example(vec![(1, 1.0), (2, noise)], vec![0.1, 0.8], false));
        }
        let model = Logistic::fit(&examples, 3, FIT).unwrap();
        assert!(model.probability(&[(0, 1.0)], &[0.0, 0.0]) > 0.8);
        assert!(model.probability(&[(1, 1.0)], &[0.0, 0.0]) < 0.2);
        assert!(model.probability(&[], &[0.8, 0.1]) > model.probability(&[], &[0.1, 0.8]));
        assert!(model.probability(&[(9, 1.0)], &[]) > 0.0, "unknown features are ignored");
    }

    #[test]
    fn classes_count_equally_and_weights_matter() {
        // Three times as many negatives with the same feature: balanced, it is even.
        let mut examples = vec![example(vec![(0, 1.0)], vec![], true)];
        examples.extend((0..3).map(|_| example(vec![(0, 1.0)], vec![], false)));
        let model = Logistic::fit(&examples, 1, FIT).unwrap();
        assert!((model.probability(&[(0, 1.0)], &[]) - 0.5).abs() < 0.01);
        // A light negative with its own feature barely pulls that feature down.
        examples.push(Example { weight: 0.01, ..example(vec![(1, 1.0)], vec![], false) });
        examples.push(example(vec![(2, 1.0)], vec![], false));
        let model = Logistic::fit(&examples, 3, FIT).unwrap();
        assert!(model.log_odds(&[(1, 1.0)], &[]) > model.log_odds(&[(2, 1.0)], &[]));
    }

    #[test]
    fn a_missing_class_fits_nothing() {
        assert!(Logistic::fit(&[example(vec![(0, 1.0)], vec![], true)], 1, FIT).is_none());
        assert!(Logistic::fit(&[], 1, FIT).is_none());
    }
}
