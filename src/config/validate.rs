//! Range and cross-field checks; every violation is reported.

use super::Config;

/// Every violation in `config`, one line each naming the key.
pub fn validate(config: &Config) -> Vec<String> {
    let Config { knowledge: _, text: _, model, retrieval, thresholds } = config;
    let mut problems = Vec::new();
    let mut unit = |key: &str, v: f32| {
        if !(0.0..=1.0).contains(&v) {
            problems.push(format!("{key} = {v}: must be between 0 and 1"));
        }
    };
    unit("retrieval.semantic_weight", retrieval.semantic_weight);
    unit("retrieval.answer_weight", retrieval.answer_weight);
    unit("thresholds.answer", thresholds.answer);
    unit("thresholds.clarify", thresholds.clarify);
    unit("thresholds.ambiguity_margin", thresholds.ambiguity_margin);
    unit("thresholds.intent", thresholds.intent);
    if thresholds.clarify > thresholds.answer {
        problems.push(format!(
            "thresholds.clarify = {} is above thresholds.answer = {}: clarify must be ≤ answer",
            thresholds.clarify, thresholds.answer
        ));
    }
    if retrieval.dense_floor >= retrieval.dense_ceiling {
        problems.push(format!(
            "retrieval.dense_floor = {} must be below retrieval.dense_ceiling = {}",
            retrieval.dense_floor, retrieval.dense_ceiling
        ));
    }
    for (key, v) in [
        ("retrieval.top_k", retrieval.top_k),
        ("retrieval.candidates", retrieval.candidates),
        ("thresholds.clarify_candidates", thresholds.clarify_candidates),
        ("model.batch_size", model.batch_size),
        ("model.threads", model.threads),
    ] {
        if v == 0 {
            problems.push(format!("{key} must be at least 1"));
        }
    }
    if model.max_tokens < 8 {
        problems.push(format!("model.max_tokens = {} must be at least 8", model.max_tokens));
    }
    problems
}
