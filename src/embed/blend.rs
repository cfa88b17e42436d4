//! Two (or more) models as one: each text's unit vectors from every model, scaled
//! by the square root of the model's weight and joined end to end. The result is a
//! unit vector whose dot product with another is the weighted mean of the models'
//! cosines, so everything downstream (index, cache, complaint model) works on it
//! unchanged.

use std::sync::Arc;

use super::{EmbedError, Encoder};

/// Encoders joined with weights that add up to 1.
pub struct BlendEncoder {
    parts: Vec<(Arc<dyn Encoder>, f32)>,
    dim: usize,
    model_id: String,
}

impl std::fmt::Debug for BlendEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlendEncoder").field("model_id", &self.model_id).field("dim", &self.dim).finish()
    }
}

impl BlendEncoder {
    /// Join `parts` (encoder, weight); weights must be positive and are scaled to
    /// add up to 1.
    ///
    /// # Panics
    /// When `parts` is empty or a weight is not positive (config validation
    /// rules both out).
    pub fn new(parts: Vec<(Arc<dyn Encoder>, f32)>) -> Self {
        assert!(!parts.is_empty() && parts.iter().all(|(_, w)| *w > 0.0), "blend weights must be positive");
        let total: f32 = parts.iter().map(|(_, w)| w).sum();
        let parts: Vec<_> = parts.into_iter().map(|(e, w)| (e, w / total)).collect();
        let dim = parts.iter().map(|(e, _)| e.dim()).sum();
        let model_id = parts.iter().map(|(e, w)| format!("{}*{w:.3}", e.model_id())).collect::<Vec<_>>().join("+");
        Self { parts, dim, model_id }
    }
}

impl Encoder for BlendEncoder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out: Vec<Vec<f32>> = texts.iter().map(|_| Vec::with_capacity(self.dim)).collect();
        for (encoder, weight) in &self.parts {
            let scale = weight.sqrt();
            for (joined, part) in out.iter_mut().zip(encoder.encode(texts)?) {
                joined.extend(part.iter().map(|x| x * scale));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::FakeEncoder;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn the_joined_cosine_is_the_weighted_mean_of_the_models_cosines() {
        let a: Arc<dyn Encoder> = Arc::new(FakeEncoder::new(16));
        let b: Arc<dyn Encoder> = Arc::new(FakeEncoder::new(24));
        let blend = BlendEncoder::new(vec![(Arc::clone(&a), 3.0), (Arc::clone(&b), 1.0)]);
        assert_eq!(blend.dim(), 40);
        let texts = ["怎么退货", "如何申请退款"];
        let joined = blend.encode(&texts).unwrap();
        let (va, vb) = (a.encode(&texts).unwrap(), b.encode(&texts).unwrap());
        let want = 0.75 * cos(&va[0], &va[1]) + 0.25 * cos(&vb[0], &vb[1]);
        assert!((cos(&joined[0], &joined[1]) - want).abs() < 1e-5);
        assert!((cos(&joined[0], &joined[0]) - 1.0).abs() < 1e-5, "unit length");
        assert!(blend.model_id().contains('+'));
    }
}
