#!/usr/bin/env bash
# The soak test, one command: does ccr leak? 100 000 Claude Code-shaped requests (streamed and
# not) after 5000 of warm-up, with a hot reload every 5000 (config and plugin in turn) while
# the load goes on; ccr's RSS must end within 10 % of where it settled after the warm-up,
# and its open file descriptors back to idle.
#
#   tests/bench/soak.sh                                    # full run, updates BENCHMARKS.md
#   tests/bench/soak.sh --requests 3000 --warmup-requests 500 --reload-every 500
#                                                          # extra arguments go to
#                                                          # `loadbench soak` (see --help)
#   BENCH_NO_UPDATE=1 tests/bench/soak.sh                  # print only, leave BENCHMARKS.md alone
#
# Builds ccr, mock-upstream and loadbench in release (building ccr also builds the bundled
# plugins into target/wasm-plugins, whose maxtoken is the plugin the reloads drop in), runs
# `loadbench soak --check`, and writes the report to target/loadbench/soak.md, every RSS and
# descriptor sample to target/loadbench/soak-samples.csv, and the report between the
# <!-- soak:begin --> / <!-- soak:end --> markers of BENCHMARKS.md. Exits 2 when the verdict
# is FAIL (the report is written first).
#
# The full run takes a few minutes once built (about 100 000 / the req/s of the machine).
# Run it on an otherwise idle machine: other work moves RSS as well as time.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac

step() { printf '\n==> %s\n' "$*" >&2; }
started=$SECONDS

step "Build (release): ccr, mock-upstream, loadbench"
cargo build --release -p ccr -p ccr-tests --bins

mkdir -p "$TARGET_DIR/loadbench"
soak_args=(
  --requests 100000 --warmup-requests 5000 --reload-every 5000
  --concurrency 8 --sizes 20000,80000
  --ccr-bin "$TARGET_DIR/release/ccr"
  --mock-bin "$TARGET_DIR/release/mock-upstream"
  --out "$TARGET_DIR/loadbench/soak.md"
  --samples "$TARGET_DIR/loadbench/soak-samples.csv"
  --check
)
if [ -z "${BENCH_NO_UPDATE:-}" ]; then
  soak_args+=(--markdown "$ROOT/BENCHMARKS.md")
fi

step "Run"
# Later arguments win, so "$@" can override any of the above.
status=0
"$TARGET_DIR/release/loadbench" soak "${soak_args[@]}" "$@" || status=$?

step "Done in $((SECONDS - started)) s: $TARGET_DIR/loadbench/soak.md${BENCH_NO_UPDATE:+ (BENCHMARKS.md left alone)}"
exit "$status"
