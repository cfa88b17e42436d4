//! The ONNX Runtime encoder: any sentence-embedding model with `input_ids` /
//! `attention_mask` inputs and a `tokenizer.json` beside it.
//!
//! ONNX Runtime is loaded at run time from the configured shared library
//! (`ort` with `load-dynamic`), once per process.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use ndarray::Array2;
use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::TensorRef;
use sha2::{Digest, Sha256};
use tokenizers::{Tokenizer, TruncationParams};

use super::micro_batch::MicroBatcher;
use super::{EmbedConfig, EmbedError, Encoder, normalize_l2};

/// The ONNX Runtime environment of this process: one library, loaded once, kept
/// alive for the life of the process (ONNX Runtime allows one environment).
static RUNTIME: OnceLock<Result<(PathBuf, Environment), String>> = OnceLock::new();

fn runtime(library: &Path) -> Result<&'static Environment, EmbedError> {
    let loaded = RUNTIME.get_or_init(|| {
        if !library.is_file() {
            return Err("not found (run scripts/setup.sh)".to_owned());
        }
        let environment = ort::init_from(library)
            .map_err(|e| e.to_string())?
            .with_name("bizbot")
            .build()
            .map_err(|e| e.to_string())?;
        Ok((library.to_path_buf(), environment))
    });
    match loaded {
        Ok((path, environment)) if path == library => Ok(environment),
        Ok((path, _)) => Err(EmbedError::Load {
            path: library.to_path_buf(),
            reason: format!(
                "this process already runs ONNX Runtime from {}; changing it needs a restart",
                path.display()
            ),
        }),
        Err(reason) => Err(EmbedError::Load { path: library.to_path_buf(), reason: reason.clone() }),
    }
}

/// A sentence-embedding model run by ONNX Runtime.
pub struct OnnxEncoder {
    sessions: Vec<Mutex<Session>>,
    tokenizer: Tokenizer,
    output: String,
    batch_size: usize,
    dim: usize,
    model_id: String,
    /// Single texts of concurrent callers, joined while every session is busy
    /// (`None`: `model.micro_batch` = 1).
    batcher: Option<MicroBatcher>,
}

impl std::fmt::Debug for OnnxEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxEncoder").field("model_id", &self.model_id).field("dim", &self.dim).finish_non_exhaustive()
    }
}

impl OnnxEncoder {
    /// Load the model and tokenizer from `config.model_dir` and ONNX Runtime from
    /// `config.runtime_library`.
    pub fn load(config: &EmbedConfig) -> Result<Self, EmbedError> {
        let model_path = config.model_dir.join("model.onnx");
        let tokenizer_path = config.model_dir.join("tokenizer.json");
        for path in [&model_path, &tokenizer_path] {
            if !path.is_file() {
                return Err(EmbedError::Missing { path: path.clone() });
            }
        }
        let environment = runtime(&config.runtime_library)?;
        let load_err = |path: &Path, e: &dyn std::fmt::Display| EmbedError::Load {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path).map_err(|e| load_err(&tokenizer_path, &e))?;
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: config.max_tokens.max(2), ..Default::default() }))
            .map_err(|e| load_err(&tokenizer_path, &e))?;
        tokenizer.with_padding(None);
        let sessions = (0..2)
            .map(|_| {
                Session::builder(environment)
                    .map_err(|e| load_err(&model_path, &e))?
                    .with_optimization_level(GraphOptimizationLevel::Level3)
                    .map_err(|e| load_err(&model_path, &e))?
                    .with_intra_threads(config.threads.max(1))
                    .map_err(|e| load_err(&model_path, &e))?
                    .commit_from_file(&model_path)
                    .map(Mutex::new)
                    .map_err(|e| load_err(&model_path, &e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let model_id = model_id(&config.model_dir, &[&model_path, &tokenizer_path], config.max_tokens)?;
        let mut encoder = Self {
            sessions,
            tokenizer,
            output: config.output.clone(),
            batch_size: config.batch_size.max(1),
            dim: 0,
            model_id,
            batcher: (config.micro_batch > 1).then(|| MicroBatcher::new(config.micro_batch)),
        };
        encoder.dim = encoder.run_batch(&["维度"])?.first().map_or(0, Vec::len);
        if encoder.dim == 0 {
            return Err(load_err(&model_path, &"the model returned empty vectors"));
        }
        if encoder.batcher.is_some() && !encoder.batch_independent()? {
            tracing::info!(
                model = %encoder.model_id,
                "a text's vector depends on its batch-mates in this model: micro-batching is off"
            );
            encoder.batcher = None;
        }
        Ok(encoder)
    }

    fn session(&self) -> std::sync::MutexGuard<'_, Session> {
        for s in &self.sessions {
            if let Ok(guard) = s.try_lock() {
                return guard;
            }
        }
        // All busy: wait for the first. A poisoned lock only means another thread
        // panicked mid-run; the session itself holds no state between runs.
        self.sessions[0].lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether texts embedded together get the vectors they get alone (cosine
    /// ≥ 0.99999): only then may concurrent turns share a call.
    fn batch_independent(&self) -> Result<bool, EmbedError> {
        let texts = ["宽带", "我上个月的话费怎么多扣了三十块钱"];
        let together = self.run_batch(&texts)?;
        for (text, joined) in texts.iter().zip(&together) {
            let alone = self.run_batch(&[text])?;
            let cosine: f32 = alone.first().map_or(0.0, |a| a.iter().zip(joined).map(|(x, y)| x * y).sum());
            if cosine < 0.99999 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// A free session, if one is.
    fn try_session(&self) -> Option<std::sync::MutexGuard<'_, Session>> {
        self.sessions.iter().find_map(|s| s.try_lock().ok())
    }

    fn run_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.run_on(&mut self.session(), texts)
    }

    fn run_on(&self, session: &mut Session, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let infer = |e: &dyn std::fmt::Display| EmbedError::Inference { reason: e.to_string() };
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| infer(&e))?;
        let seq = encodings.iter().map(|e| e.get_ids().len()).max().unwrap_or(0).max(1);
        let mut ids = Array2::<i64>::zeros((texts.len(), seq));
        let mut mask = Array2::<i64>::zeros((texts.len(), seq));
        for (row, enc) in encodings.iter().enumerate() {
            for (col, &id) in enc.get_ids().iter().enumerate() {
                ids[[row, col]] = i64::from(id);
                mask[[row, col]] = 1;
            }
        }
        let inputs = ort::inputs![
            "input_ids" => TensorRef::from_array_view(&ids).map_err(|e| infer(&e))?,
            "attention_mask" => TensorRef::from_array_view(&mask).map_err(|e| infer(&e))?,
        ];
        let outputs = session.run(inputs).map_err(|e| infer(&e))?;
        let value = outputs
            .get(self.output.as_str())
            .ok_or_else(|| infer(&format!("the model has no output named {:?}", self.output)))?;
        let array = value.try_extract_array::<f32>().map_err(|e| infer(&e))?;
        let array = array.into_dimensionality::<ndarray::Ix2>().map_err(|e| infer(&e))?;
        Ok(array
            .rows()
            .into_iter()
            .map(|row| {
                let mut v = row.to_vec();
                normalize_l2(&mut v);
                v
            })
            .collect())
    }
}

impl Encoder for OnnxEncoder {
    fn dim(&self) -> usize {
        self.dim
    }

    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn encode(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.batch_size) {
            out.extend(self.run_batch(chunk)?);
        }
        Ok(out)
    }

    fn encode_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let Some(batcher) = &self.batcher else {
            let mut v = self.run_batch(&[text])?;
            return v.pop().ok_or_else(|| EmbedError::Inference { reason: "the model returned no vector".into() });
        };
        batcher.encode(text, |texts| self.try_session().map(|mut s| self.run_on(&mut s, texts)))
    }
}

/// `<folder name>-<16 hex of SHA-256 over the model files and settings>`.
fn model_id(dir: &Path, files: &[&PathBuf], max_tokens: usize) -> Result<String, EmbedError> {
    let mut hasher = Sha256::new();
    for file in files {
        let bytes =
            std::fs::read(file).map_err(|e| EmbedError::Load { path: (*file).clone(), reason: e.to_string() })?;
        hasher.update(&bytes);
    }
    hasher.update(max_tokens.to_le_bytes());
    let hex: String = hasher.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
    let name = dir.file_name().map_or_else(|| "model".into(), |n| n.to_string_lossy().into_owned());
    Ok(format!("{name}-{hex}"))
}

#[cfg(test)]
mod tests {
    /// The real model, when scripts/setup.sh has prepared it (the README's test
    /// command always does); `None` otherwise so plain `cargo test` still runs.
    pub(crate) fn real_encoder() -> Option<super::OnnxEncoder> {
        prepared("use-multilingual")
    }

    /// The prepared model in `models/<folder>`, or `None` when set-up has not run.
    fn prepared(folder: &str) -> Option<super::OnnxEncoder> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let config = super::EmbedConfig {
            model_dir: root.join("models").join(folder),
            runtime_library: root.join("models/onnxruntime/libonnxruntime.so"),
            ..Default::default()
        };
        if !config.model_dir.join("model.onnx").is_file() {
            assert!(
                std::env::var_os("BIZBOT_REQUIRE_TEST_DEPS").is_none(),
                "BIZBOT_REQUIRE_TEST_DEPS is set but models/ is not prepared"
            );
            eprintln!("models/ not prepared: skipping real-model checks (run scripts/setup.sh)");
            return None;
        }
        Some(super::OnnxEncoder::load(&config).expect("the prepared model loads"))
    }

    crate::encoder_conformance!(onnx_conformance, super::real_encoder());

    #[test]
    fn concurrent_texts_share_calls_and_keep_their_own_vectors() {
        let Some(encoder) = prepared("e5-small") else { return };
        let encoder = std::sync::Arc::new(encoder);
        assert!(encoder.batcher.is_some(), "the default model's vectors do not depend on their batch-mates");
        let texts = [
            "退货",
            "宽带多少钱一年",
            "我的话费怎么扣了这么多",
            "手机丢了",
            "怎么开发票",
            "5G套餐",
            "流量还剩多少",
            "人工",
        ];
        let alone: Vec<Vec<f32>> =
            texts.iter().map(|t| super::Encoder::encode(&*encoder, &[t]).unwrap().remove(0)).collect();
        let handles: Vec<_> = (0..4)
            .flat_map(|_| texts.iter().enumerate())
            .map(|(i, t)| {
                let (encoder, t) = (encoder.clone(), t.to_string());
                std::thread::spawn(move || (i, super::Encoder::encode_one(&*encoder, &t).unwrap()))
            })
            .collect();
        for h in handles {
            let (i, v) = h.join().unwrap();
            let cosine: f32 = v.iter().zip(&alone[i]).map(|(a, b)| a * b).sum();
            assert!(cosine > 0.99999, "{}: {cosine}", texts[i]);
        }
        // USE quantises activations per batch: its vectors depend on batch-mates, so
        // its texts are never joined.
        if let Some(use_model) = real_encoder() {
            assert!(use_model.batcher.is_none());
        }
    }
}
