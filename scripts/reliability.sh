#!/usr/bin/env bash
# Reliability probe: attack the release server (idle sockets, personal data in every
# field, 60 KB fields, turn-log growth, a same-session flood with a slow back-end,
# SIGTERM under load) and print one table. Exit status 1 when a check fails.
#   ./scripts/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo build --release --quiet --bin bizbot
python3 scripts/reliability.py --bin target/release/bizbot "$@"
