#!/usr/bin/env bash
# Set up the model, build, and serve the demo bot over HTTP.
#   ./scripts/run.sh                 demo back-end on 127.0.0.1:8081 + bizbot serve on 127.0.0.1:8080
#   ./scripts/run.sh ask "WIFI免费吗"  any other bizbot command on the demo knowledge
# Ctrl-C stops both processes.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup.sh
cargo build --release --quiet
bin=target/release/bizbot
if [[ $# -gt 0 ]]; then
  exec "$bin" "$@"
fi

"$bin" check
"$bin" demo-backend --bind 127.0.0.1:8081 &
backend=$!
trap 'kill "$backend" 2>/dev/null || true' EXIT INT TERM
echo "demo back-end (crm, shop) on http://127.0.0.1:8081; bot on http://127.0.0.1:8080"
echo "chat widget demo page: http://127.0.0.1:8080/   (OpenAPI: http://127.0.0.1:8080/openapi.json)"
echo "agents' workspace: http://127.0.0.1:8080/agent   (any name, token demo-agent; say 转人工 in the widget)"
echo "try: curl -s localhost:8080/v1/chat -H 'content-type: application/json' \\"
echo "       -d '{\"session_id\":\"s1\",\"user\":{\"id\":\"u1001\"},\"text\":\"我开通了什么业务\"}'"
"$bin" serve
