#!/usr/bin/env bash
# Builds {{name}}.wasm: a wasm32-wasip2 cdylib is already a component (no cargo-component).
# Needs the target once: rustup target add wasm32-wasip2
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
OUT="${1:-{{name}}.wasm}"
cargo build --target wasm32-wasip2 --release
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
NAME="{{name}}"
cp "$TARGET_DIR/wasm32-wasip2/release/${NAME//-/_}.wasm" "$OUT"
echo "built $OUT ($(wc -c < "$OUT") bytes)"
