#!/usr/bin/env bash
# Builds {{name}}.wasm from app.js with componentize-js (pinned in package.json).
# Finds componentize-js in $CCR_TOOLS_DIR/node, ./node_modules (`npm install`), or PATH.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
OUT="${1:-{{name}}.wasm}"
CJS=""
for c in "${CCR_TOOLS_DIR:+$CCR_TOOLS_DIR/node/node_modules/.bin/componentize-js}" ./node_modules/.bin/componentize-js; do
  if [ -n "$c" ] && [ -x "$c" ]; then CJS="$c"; break; fi
done
[ -n "$CJS" ] || CJS="$(command -v componentize-js || true)"
[ -n "$CJS" ] || { echo "componentize-js not found: run 'npm install' here (or install the ccr plugin tools)" >&2; exit 1; }
# The host links WASI p2 but not wasi:http, so http and fetch-event are disabled.
"$CJS" app.js --wit wit --world-name transformer -d http fetch-event -o "$OUT"
echo "built $OUT ($(wc -c < "$OUT") bytes)"
