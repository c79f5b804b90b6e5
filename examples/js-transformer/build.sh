#!/usr/bin/env bash
# Builds js-transformer.wasm from app.js with componentize-js.
# Tools: $CCR_TOOLS_DIR, the repo's .tools/ (tests/setup/install-plugin-tools.sh), or PATH.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TOOLS="${CCR_TOOLS_DIR:-$ROOT/.tools}"
CJS="$TOOLS/node/node_modules/.bin/componentize-js"
[ -x "$CJS" ] || CJS="$(command -v componentize-js || true)"
[ -n "$CJS" ] || { echo "componentize-js not found: run tests/setup/install-plugin-tools.sh" >&2; exit 1; }
OUT="${1:-$HERE/js-transformer.wasm}"
# -d http/fetch-event: the host links WASI p2 but not wasi:http, so the component must not
# import it. stdio, random and clocks stay (the host grants nothing but links them).
"$CJS" "$HERE/app.js" --wit "$ROOT/wit" --world-name transformer \
  -d http fetch-event -o "$OUT"
echo "built $OUT ($(wc -c < "$OUT") bytes)"
