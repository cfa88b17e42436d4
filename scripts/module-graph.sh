#!/usr/bin/env bash
# Print the crate's module graph (which top-level module uses which, read from the
# `crate::…` paths in src/) and fail when it has a cycle. Run by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

edges=""
for path in src/*; do
  name=$(basename "$path" .rs)
  case "$name" in lib|main|cli) continue ;; esac
  deps=$(grep -rhoE 'crate::[a-z_]+' "$path" | sed 's/crate:://' | sort -u |
    while read -r d; do [ -e "src/$d" ] || [ -e "src/$d.rs" ] && [ "$d" != "$name" ] && echo "$d"; done || true)
  echo "$name -> ${deps//$'\n'/ }"
  for d in $deps; do edges+="$name $d"$'\n'; done
done
if ! order=$(printf '%s' "$edges" | tsort 2>&1 >/dev/null) || [ -n "$order" ]; then
  echo "module graph has a cycle:" >&2
  printf '%s' "$edges" | tsort 2>&1 >/dev/null | sed 's/^/  /' >&2
  exit 1
fi
echo "no cycle"
