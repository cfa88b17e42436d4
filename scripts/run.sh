#!/usr/bin/env bash
# Set up the model and run bizbot on the demo knowledge (knowledge/).
#   ./scripts/run.sh                 ask a few demo questions
#   ./scripts/run.sh ask "WIFI免费吗"  any bizbot command
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo build --release --quiet
bin=target/release/bizbot
if [[ $# -gt 0 ]]; then
  exec "$bin" "$@"
fi
"$bin" check
for q in "WIFI免费吗" "請問怎麼退貨" "宽带断网了怎么办" "今天天气怎么样"; do
  echo
  "$bin" ask -k 3 "$q"
done
