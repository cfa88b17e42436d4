#!/usr/bin/env bash
# Install the system packages the tests and the replica demo need, from Debian:
# Chromium (headless) and CJK fonts for the widget's browser test, redis-server for
# shared sessions (the two-replica test and scripts/replicas.sh). Idempotent;
# needs root (or sudo).
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" \
    && command -v redis-server >/dev/null 2>&1; then
  echo "setup-system: chromium, CJK fonts and redis-server are installed"
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "setup-system: installing chromium, fonts-noto-cjk and redis-server with apt-get"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk redis-server >/dev/null
# Debian's package starts a system-wide Redis on 6379; the bot's tests and demo
# start their own on other ports, so the system one is left as the package set it.
