//! The converted ONNX model with tokenizer.json reproduces the original model.

use crate::common::{real_encoder, root};

/// Reference vectors written by scripts/setup.sh from the *original* graph (with the
/// SentencePiece custom op), one string per run.
#[test]
fn converted_model_gives_the_original_vectors() {
    let Some(encoder) = real_encoder() else { return };
    let golden = std::fs::read_to_string(root().join("models/use-multilingual/golden.jsonl")).expect("golden.jsonl");
    let mut worst = (1.0f32, String::new());
    let mut count = 0;
    for line in golden.lines() {
        let row: serde_json::Value = serde_json::from_str(line).expect("golden row");
        let text = row["text"].as_str().expect("text");
        let want: Vec<f32> =
            row["vector"].as_array().expect("vector").iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let got = encoder.encode_one(text).expect("encode");
        assert_eq!(got.len(), want.len());
        let dot: f32 = got.iter().zip(&want).map(|(a, b)| a * b).sum();
        let norm = want.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cosine = dot / norm;
        if cosine < worst.0 {
            worst = (cosine, text.to_owned());
        }
        count += 1;
    }
    assert!(count >= 300, "only {count} golden strings");
    assert!(worst.0 > 0.9999, "cosine {} for {:?}", worst.0, worst.1);
}

/// The quality probe of the embedding guide (shared/docs/embedding.md, beside the
/// repository): paraphrases are close, chit-chat is far.
#[test]
fn paraphrases_are_closer_than_unrelated_text() {
    let Some(encoder) = real_encoder() else { return };
    let cos = |a: &str, b: &str| -> f32 {
        let (x, y) = (encoder.encode_one(a).unwrap(), encoder.encode_one(b).unwrap());
        x.iter().zip(&y).map(|(p, q)| p * q).sum()
    };
    assert!(cos("怎么退货", "如何申请退款") > 0.6);
    assert!(cos("今天天气怎么样", "怎么退货") < 0.4);
}
