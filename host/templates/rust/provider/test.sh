#!/usr/bin/env bash
# Runs the plugin's unit tests natively, then builds it and checks the output is a
# WebAssembly component.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
cargo test --quiet
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
OUT="$TMP/{{name}}.wasm"
bash build.sh "$OUT"
# A component starts with "\0asm" then version 0x0d, layer 0x01 (a core module has 01 00 00 00).
HEADER="$(od -An -tx1 -N8 "$OUT" | tr -d ' \n')"
[ "$HEADER" = "0061736d0d000100" ] || { echo "FAIL: not a component (header $HEADER)" >&2; exit 1; }
echo "ok: {{name}} builds to a ccr provider component"
