//! Shared helpers for the integration tests.

pub(crate) mod redis;
pub(crate) mod server;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use bizbot::embed::{EmbedConfig, Encoder, OnnxEncoder};

/// The repository root.
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The integration tests run on models/use-multilingual, the smaller of the two
/// prepared models (about 1 ms a text against about 15 ms for the default
/// multilingual-e5-small, and every test builds its engines from scratch without
/// an embedding cache); these are its settings that differ from the defaults
/// ([`bizbot_env`] points `model.model_dir` at it with an absolute path).
/// `tests/integration/model.rs` checks the default model itself.
pub(crate) const TEST_MODEL_ENV: [(&str, &str); 4] = [
    ("BIZBOT__RETRIEVAL__SEMANTIC_WEIGHT", "0.6"),
    ("BIZBOT__RETRIEVAL__DENSE_FLOOR", "0.3"),
    ("BIZBOT__RETRIEVAL__DENSE_CEILING", "0.9"),
    ("BIZBOT__ESCALATION__COMPLAINT_THRESHOLD", "0.99"),
];

/// The same settings as config lines, for test servers.
pub(crate) const TEST_MODEL_TOML: &str = "[retrieval]\nsemantic_weight = 0.6\ndense_floor = 0.3\ndense_ceiling = 0.9\n\
                                          [escalation]\ncomplaint_threshold = 0.99\n";

/// The model configuration pointing at the prepared test model in `models/`.
pub(crate) fn model_config() -> EmbedConfig {
    EmbedConfig {
        model_dir: root().join("models/use-multilingual"),
        runtime_library: root().join("models/onnxruntime/libonnxruntime.so"),
        cache_dir: PathBuf::new(),
        ..EmbedConfig::default()
    }
}

/// The real encoder, or `None` (with a note) when models/ is not prepared and
/// BIZBOT_REQUIRE_TEST_DEPS is unset.
pub(crate) fn real_encoder() -> Option<Arc<dyn Encoder>> {
    let config = model_config();
    if !config.model_dir.join("model.onnx").is_file() {
        assert!(
            std::env::var_os("BIZBOT_REQUIRE_TEST_DEPS").is_none(),
            "BIZBOT_REQUIRE_TEST_DEPS is set but models/ is not prepared"
        );
        eprintln!("models/ not prepared: skipping real-model checks (run scripts/setup.sh)");
        return None;
    }
    Some(Arc::new(OnnxEncoder::load(&config).expect("the prepared model loads")))
}

/// Run the bizbot binary in the repository root with `args`.
pub(crate) fn bizbot(args: &[&str]) -> Output {
    bizbot_env(args, &[])
}

/// Run the bizbot binary with extra environment variables.
pub(crate) fn bizbot_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bizbot"))
        .args(args)
        .current_dir(root())
        .env("BIZBOT__MODEL__CACHE_DIR", "")
        .envs(TEST_MODEL_ENV)
        // Absolute: a `--config` elsewhere reads relative paths from its own folder.
        .env("BIZBOT__MODEL__MODEL_DIR", root().join("models/use-multilingual"))
        .env("BIZBOT__MODEL__RUNTIME_LIBRARY", root().join("models/onnxruntime/libonnxruntime.so"))
        .envs(env.iter().copied())
        .output()
        .expect("run bizbot")
}

/// stdout as text.
pub(crate) fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}
