#!/usr/bin/env bash
# Builds python-transformer.wasm from app.py with componentize-py.
# Tools: $CCR_TOOLS_DIR, the repo's .tools/ (tests/setup/install-plugin-tools.sh), or PATH.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TOOLS="${CCR_TOOLS_DIR:-$ROOT/.tools}"
CPY="$TOOLS/venv/bin/componentize-py"
[ -x "$CPY" ] || CPY="$(command -v componentize-py || true)"
[ -n "$CPY" ] || { echo "componentize-py not found: run tests/setup/install-plugin-tools.sh" >&2; exit 1; }
OUT="${1:-$HERE/python-transformer.wasm}"
# The bindings (wit_world/) are generated into the component; -p . finds app.py.
cd "$HERE"
"$CPY" -d "$ROOT/wit" -w transformer componentize app -p "$HERE" -p "$ROOT/host/templates/python" -o "$OUT"
echo "built $OUT ($(wc -c < "$OUT") bytes)"
