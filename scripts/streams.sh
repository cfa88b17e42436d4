#!/usr/bin/env bash
# Live-agent event streams under load: 100 customers follow their conversations
# while agents write to all of them; losses, order, delivery p50/p99, resume after
# a drop, memory. Exit status 1 when a message is lost, reordered or doubled.
#   ./scripts/streams.sh             in-memory sessions, one replica
#   ./scripts/streams.sh --redis     two replicas sharing a redis-server
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo build --release --quiet --bin bizbot
python3 scripts/streams.py --bin target/release/bizbot "$@"
