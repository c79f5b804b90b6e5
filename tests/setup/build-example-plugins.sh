#!/usr/bin/env bash
# Builds the JavaScript and Python example plugins (examples/{js,python}-{transformer,router})
# for the end-to-end tests, installing the toolchains first (tests/setup/install-plugin-tools.sh).
# A .wasm newer than its sources and the WIT (wit/*.wit) is kept, so a second run is instant.
# Prints one line per plugin: `<name>=<absolute path to .wasm>`.
#
#   tests/setup/build-example-plugins.sh              # all four
#   tests/setup/build-example-plugins.sh js-router    # just these
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ALL=(js-transformer js-router python-transformer python-router)
[ "$#" -gt 0 ] && ALL=("$@")

need_js=0 need_py=0
for p in "${ALL[@]}"; do
  case "$p" in js-*) need_js=1 ;; python-*) need_py=1 ;; *) echo "unknown example plugin: $p" >&2; exit 2 ;; esac
done
CCR_SKIP_JS=$((1 - need_js)) CCR_SKIP_PYTHON=$((1 - need_py)) "$ROOT/tests/setup/install-plugin-tools.sh" >/dev/null

# Parallel tests build the same examples: one build at a time, and each .wasm appears
# whole (written to a temporary name, then renamed), so a reader never sees half a file.
TOOLS="${CCR_TOOLS_DIR:-$ROOT/.tools}"
mkdir -p "$TOOLS"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS/.build-examples.lock"
  flock 9
fi

for p in "${ALL[@]}"; do
  dir="$ROOT/examples/$p" wasm="$ROOT/examples/$p/$p.wasm"
  stale=1
  if [ -s "$wasm" ]; then
    stale=0
    for src in "$dir"/*.js "$dir"/*.py "$dir/build.sh" "$ROOT"/wit/*.wit "$ROOT"/host/templates/js/ccr.js "$ROOT"/host/templates/python/ccr.py; do
      [ -e "$src" ] && [ "$src" -nt "$wasm" ] && stale=1
    done
  fi
  if [ "$stale" = 1 ]; then
    "$dir/build.sh" "$dir/$p.partial.wasm" >&2
    mv -f "$dir/$p.partial.wasm" "$wasm"
  fi
  echo "$p=$wasm"
done
