//! Complaint detection measured on a labelled set (`bizbot eval-complaints`): CSV
//! with columns `text,label`, label `complaint` or `other`.

use std::path::Path;

use serde::Serialize;

use crate::dialogue::escalation::{EscalationConfig, is_complaint};
use crate::engine::Engine;
use crate::index::IndexError;
use crate::knowledge::Problem;
use crate::knowledge::table::{self, Columns};

/// A labelled text.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledText {
    /// The customer's text.
    pub text: String,
    /// Whether it is a complaint.
    pub complaint: bool,
}

const COLUMNS: Columns =
    Columns { known: &["text", "label"], strict: false, required: &["text", "label"], variable: None };

/// Read a `text,label` file; every bad row is a problem.
pub fn load_labelled(path: &Path) -> Result<Vec<LabelledText>, Vec<Problem>> {
    let table = table::load(path, COLUMNS)?;
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for (line, r) in &table.rows {
        let text = table.cell(r, "text").to_owned();
        match table.cell(r, "label") {
            "complaint" => rows.push(LabelledText { text, complaint: true }),
            "other" => rows.push(LabelledText { text, complaint: false }),
            other => problems.push(Problem::new(path, *line, "label", format!("{other:?}: use complaint or other"))),
        }
    }
    if problems.is_empty() { Ok(rows) } else { Err(problems) }
}

/// Precision, recall and F1 of one detector.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DetectorFigures {
    /// Which detector: `phrases`, `model`, `combined`, or `combined@0.90`
    /// (another probability threshold).
    pub detector: String,
    /// Flagged texts that are complaints.
    pub precision: f32,
    /// Complaints flagged.
    pub recall: f32,
    /// Harmonic mean.
    pub f1: f32,
    /// Ordinary texts wrongly flagged, as a share of all ordinary texts.
    pub false_alarm_rate: f32,
}

/// Figures from predictions and truths.
pub fn figures(detector: &str, predicted: &[bool], truth: &[bool]) -> DetectorFigures {
    let tp = predicted.iter().zip(truth).filter(|(p, t)| **p && **t).count() as f32;
    let fp = predicted.iter().zip(truth).filter(|(p, t)| **p && !**t).count() as f32;
    let fneg = predicted.iter().zip(truth).filter(|(p, t)| !**p && **t).count() as f32;
    let negatives = truth.iter().filter(|t| !**t).count() as f32;
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
    let recall = if tp + fneg > 0.0 { tp / (tp + fneg) } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    let false_alarm_rate = if negatives > 0.0 { fp / negatives } else { 0.0 };
    DetectorFigures { detector: detector.to_owned(), precision, recall, f1, false_alarm_rate }
}

/// Run the configured detector, its two halves, and the combination at other
/// probability thresholds.
pub fn run(
    engine: &Engine,
    config: &EscalationConfig,
    rows: &[LabelledText],
) -> Result<Vec<DetectorFigures>, IndexError> {
    let analyzer = engine.retriever().analyzer();
    let truth: Vec<bool> = rows.iter().map(|r| r.complaint).collect();
    let mut normalized = Vec::with_capacity(rows.len());
    let mut scores = Vec::with_capacity(rows.len());
    for r in rows {
        normalized.push(analyzer.normalize(&r.text));
        scores.push(engine.complaint_score(&r.text)?);
    }
    let phrases_only = EscalationConfig { complaint_threshold: f32::INFINITY, ..config.clone() };
    let model_only = EscalationConfig { complaint_phrases: Vec::new(), ..config.clone() };
    let predict = |c: &EscalationConfig| -> Vec<bool> {
        normalized.iter().zip(&scores).map(|(n, s)| is_complaint(n, *s, c)).collect()
    };
    let mut out = vec![
        figures("phrases", &predict(&phrases_only), &truth),
        figures("model", &predict(&model_only), &truth),
        figures("combined", &predict(config), &truth),
    ];
    if scores.iter().any(Option::is_some) {
        for t in [0.5, 0.8, 0.9, 0.95, 0.98, 0.99] {
            let c = EscalationConfig { complaint_threshold: t, ..config.clone() };
            out.push(figures(&format!("combined@{t:.2}"), &predict(&c), &truth));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_count_right() {
        let f = figures("x", &[true, true, false, false], &[true, false, true, false]);
        assert_eq!((f.precision, f.recall, f.false_alarm_rate), (0.5, 0.5, 0.5));
        assert!((f.f1 - 0.5).abs() < 1e-6);
    }
}
