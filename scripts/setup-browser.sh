#!/usr/bin/env bash
# Install what the widget's browser test needs from Debian: Chromium (headless)
# and CJK fonts for readable screenshots. Idempotent; needs root (or sudo).
set -euo pipefail

if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi "Noto Sans CJK"; then
  echo "setup-browser: chromium and CJK fonts are installed"
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  sudo="sudo"
fi
echo "setup-browser: installing chromium and fonts-noto-cjk with apt-get"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
