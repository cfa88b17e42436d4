#!/usr/bin/env bash
# Two replicas sharing sessions in Redis: a private redis-server (Debian's package,
# installed by scripts/setup-system.sh), the demo back-end, and two bots on two
# ports over the demo knowledge, all on loopback.
#   ./scripts/replicas.sh                 serve until Ctrl-C (bots on :18180 and :18181)
#   ./scripts/replicas.sh --demo          one conversation alternating replicas, then stop
#   ./scripts/replicas.sh --load [ARGS]   the load test round-robin over both, then stop
#                                         (ARGS go to examples/loadtest.rs, e.g. --duration 20)
# BIZBOT_REPLICAS_PORT moves the ports (bots at PORT and PORT+1, back-end PORT+2,
# Redis PORT+3). Turn logs go to a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=serve
case "${1:-}" in
  --demo) mode=demo; shift ;;
  --load) mode=load; shift ;;
esac

./scripts/setup.sh
./scripts/setup-system.sh
cargo build --release --quiet --bin bizbot --example loadtest
bin=target/release/bizbot
port=${BIZBOT_REPLICAS_PORT:-18180}
a=$port b=$((port + 1)) backend=$((port + 2)) redis=$((port + 3))
tmp=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

redis-server --port "$redis" --bind 127.0.0.1 --save "" --appendonly no --daemonize no \
  >"$tmp/redis.log" 2>&1 &
pids+=($!)
"$bin" demo-backend --bind "127.0.0.1:$backend" 2>"$tmp/backend.log" &
pids+=($!)
for p in "$a" "$b"; do
  BIZBOT__SESSION__STORE=redis \
  BIZBOT__SESSION__REDIS_URL="redis://127.0.0.1:$redis/0" \
  BIZBOT__BACKENDS__CRM__BASE_URL="http://127.0.0.1:$backend" \
  BIZBOT__BACKENDS__SHOP__BASE_URL="http://127.0.0.1:$backend" \
  BIZBOT__LOG__PATH="$tmp/turns-$p.jsonl" \
    "$bin" serve --bind "127.0.0.1:$p" 2>"$tmp/bot-$p.log" &
  pids+=($!)
done
for p in "$a" "$b"; do
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$p/healthz" >/dev/null && break
    sleep 0.2
  done
  echo "replica http://127.0.0.1:$p: $(curl -s "http://127.0.0.1:$p/healthz")"
done

chat() { # port session text
  curl -s "http://127.0.0.1:$1/v1/chat" -H 'content-type: application/json' \
    -d "{\"session_id\":\"$2\",\"text\":\"$3\"}"
}

case "$mode" in
  serve)
    echo "Redis on 127.0.0.1:$redis; send turns of one session to either replica, e.g."
    echo "  curl -s localhost:$a/v1/chat -H 'content-type: application/json' -d '{\"session_id\":\"s1\",\"text\":\"我的订单到哪了\"}'"
    echo "  curl -s localhost:$b/v1/chat -H 'content-type: application/json' -d '{\"session_id\":\"s1\",\"text\":\"123456789012\"}'"
    wait
    ;;
  demo)
    s="demo-$$"
    for step in "$a 我的订单到哪了" "$b 123456789012" "$a 量子纠缠是什么" "$b 量子纠缠是什么" "$a 量子纠缠是什么"; do
      p=${step%% *} text=${step#* }
      echo "→ replica :$p  $text"
      chat "$p" "$s" "$text" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("  turn", r["turn"], r["action"], "|", r["text"][:60].replace("\n"," "))'
    done
    ;;
  load)
    target/release/examples/loadtest --url "http://127.0.0.1:$a" --url "http://127.0.0.1:$b" "$@"
    ;;
esac
