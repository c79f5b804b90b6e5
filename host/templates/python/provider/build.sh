#!/usr/bin/env bash
# Builds {{name}}.wasm from app.py with componentize-py.
# Finds componentize-py in $CCR_TOOLS_DIR/venv, ./.venv, or PATH
# (install it with `pip install componentize-py==0.25.1`).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
OUT="${1:-{{name}}.wasm}"
CPY=""
for c in "${CCR_TOOLS_DIR:+$CCR_TOOLS_DIR/venv/bin/componentize-py}" ./.venv/bin/componentize-py; do
  if [ -n "$c" ] && [ -x "$c" ]; then CPY="$c"; break; fi
done
[ -n "$CPY" ] || CPY="$(command -v componentize-py || true)"
[ -n "$CPY" ] || { echo "componentize-py not found: pip install componentize-py==0.25.1 (or install the ccr plugin tools)" >&2; exit 1; }
"$CPY" -d wit -w provider componentize app -p . -o "$OUT"
echo "built $OUT ($(wc -c < "$OUT") bytes)"
