#!/usr/bin/env bash
# Time to live of a new plugin, per language: from the rename of its .wasm into a running
# proxy's plugin folder until a request answered through the proxy shows the plugin's
# behaviour. Cold code cache and warm (after `ccr plugin check FILE` with the same cache
# dir), idle and under load (wrk on the proxy, Messages requests to the mock upstream).
# Each case gets a fresh HOME, CCR_CACHE_DIR and proxy. Also records `ccr plugin check`
# cold and warm, and, when the proxy reports plugin tiers, when the optimized tier is live.
#
#   tests/bench/plugin_live.sh                     # all 12 cases, once each (~5 minutes)
#   tests/bench/plugin_live.sh --runs 3            # arguments go to plugin_live.py
#   tests/bench/plugin_live.sh --only js,cold      # a subset (langs rust/js/python,
#                                                  # cold/warm, idle/load)
#   CCR_BIN=path/to/ccr tests/bench/plugin_live.sh # another build of ccr (e.g. a baseline)
#
# Needs: wrk (apt-get install -y wrk), python3, the wasm32-wasip2 Rust target, and for the
# JavaScript and Python examples the toolchains tests/setup/build-example-plugins.sh
# installs (a prebuilt examples/*/*.wasm newer than its sources is used as is).
# Results: one JSON line per case on stdout, all of them in target/plugin-live/results.json.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac
step() { printf '\n==> %s\n' "$*" >&2; }

command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

if [ -z "${CCR_BIN:-}" ]; then
  step "Build (release): ccr, mock-upstream"
  cargo build --release -p ccr --bin ccr -p ccr-tests --bin mock-upstream >&2
fi
CCR_BIN="${CCR_BIN:-$TARGET_DIR/release/ccr}"
MOCK_BIN="${MOCK_BIN:-$TARGET_DIR/release/mock-upstream}"
[ -x "$MOCK_BIN" ] || cargo build --release -p ccr-tests --bin mock-upstream >&2

step "Example plugins"
PLUGINS_TARGET="$TARGET_DIR/bench-plugins"
cargo build --quiet -p rust-transformer --target wasm32-wasip2 --profile plugin \
  --target-dir "$PLUGINS_TARGET" >&2
RUST_WASM="$PLUGINS_TARGET/wasm32-wasip2/plugin/rust_transformer.wasm"
declare -A BUILT=()
while IFS='=' read -r name path; do BUILT[$name]="$path"; done \
  < <(tests/setup/build-example-plugins.sh js-router python-router)
for f in "$RUST_WASM" "${BUILT[js-router]}" "${BUILT[python-router]}"; do
  echo "  $(wc -c < "$f") bytes  $f" >&2
done

step "Measure (ccr: $CCR_BIN; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
mkdir -p "$TARGET_DIR/plugin-live"
python3 tests/bench/plugin_live.py --ccr "$CCR_BIN" --mock "$MOCK_BIN" \
  --wasm "rust=$RUST_WASM" --wasm "js=${BUILT[js-router]}" --wasm "python=${BUILT[python-router]}" \
  --json "$TARGET_DIR/plugin-live/results.json" "$@"
