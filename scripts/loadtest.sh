#!/usr/bin/env bash
# Load test: start the demo back-end and the bot (release build, real model) on
# loopback ports of their own, drive /v1/chat with examples/loadtest.rs, stop both.
#   ./scripts/loadtest.sh                          8 customers, 30 s
#   ./scripts/loadtest.sh --concurrency 2 --duration 10
# Arguments go to the load generator (see `--help` there). The turn log goes to a
# temporary file, so the demo's logs/turns.jsonl is left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo build --release --quiet --bin bizbot --example loadtest
bin=target/release/bizbot
bot_port=${BIZBOT_LOADTEST_PORT:-18080}
backend_port=$((bot_port + 1))
tmp=$(mktemp -d)

"$bin" demo-backend --bind "127.0.0.1:$backend_port" 2>"$tmp/backend.log" &
backend=$!
BIZBOT__BACKENDS__CRM__BASE_URL="http://127.0.0.1:$backend_port" \
BIZBOT__BACKENDS__SHOP__BASE_URL="http://127.0.0.1:$backend_port" \
BIZBOT__LOG__PATH="$tmp/turns.jsonl" \
  "$bin" serve --bind "127.0.0.1:$bot_port" 2>"$tmp/bot.log" &
bot=$!
trap 'kill "$bot" "$backend" 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
target/release/examples/loadtest --url "http://127.0.0.1:$bot_port" "$@"
