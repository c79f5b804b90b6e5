#!/usr/bin/env bash
# Builds the plugin and checks the output is a WebAssembly component exporting the
# ccr:plugin provider world (the export check runs only when `jco` is available).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
OUT="$TMP/{{name}}.wasm"
bash build.sh "$OUT"
[ -s "$OUT" ] || { echo "FAIL: $OUT was not written" >&2; exit 1; }
# A component starts with "\0asm" then version 0x0d, layer 0x01 (a core module has 01 00 00 00).
HEADER="$(od -An -tx1 -N8 "$OUT" | tr -d ' \n')"
[ "$HEADER" = "0061736d0d000100" ] || { echo "FAIL: not a component (header $HEADER)" >&2; exit 1; }
JCO=""
for c in "${CCR_TOOLS_DIR:+$CCR_TOOLS_DIR/node/node_modules/.bin/jco}" ./node_modules/.bin/jco; do
  if [ -n "$c" ] && [ -x "$c" ]; then JCO="$c"; break; fi
done
[ -n "$JCO" ] || JCO="$(command -v jco || true)"
if [ -n "$JCO" ]; then
  WIT="$("$JCO" wit "$OUT")"
  for want in "export metadata: func() -> plugin-info" "export ccr:plugin/provider-api@{{contract}}" "import ccr:plugin/host@{{contract}}"; do
    grep -qF "$want" <<<"$WIT" || { echo "FAIL: component lacks '$want'" >&2; exit 1; }
  done
  echo "exports checked with $JCO"
fi
echo "ok: {{name}} builds to a ccr provider component"
