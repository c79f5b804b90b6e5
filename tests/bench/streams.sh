#!/usr/bin/env bash
# The many-streams benchmark, one command: 2000 and 10 000 Claude Code streams opened at
# once against a slow OpenAI-format upstream (50 events 200 ms apart, the way a model
# thinks), and 2000 again with the maxtoken transformer in the chain; ccr and
# claude-code-router 2.x side by side; memory per open stream, time to first byte, failures.
#
#   tests/bench/streams.sh                              # full run, updates BENCHMARKS.md
#   tests/bench/streams.sh --streams 500 --skip-ccr     # extra arguments go to
#                                                       # `loadbench streams` (see --help)
#   BENCH_NO_UPDATE=1 tests/bench/streams.sh            # print only, leave BENCHMARKS.md alone
#
# Installs claude-code-router with npm into the git-ignored .tools/ccr (skipped with a message
# if npm or node is missing or the install fails), builds ccr, mock-upstream and loadbench in
# release, runs `loadbench streams`, and writes the report to target/loadbench/streams.md and
# between the <!-- streams:begin --> / <!-- streams:end --> markers of BENCHMARKS.md.
#
# Takes about 10 minutes once built, most of it claude-code-router (its 10 000-stream run
# ends at the 300 s timeout). Run it on an otherwise idle machine: every figure is CPU-bound
# on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

# The 2.x line is the CCR this project is compatible with (3.x is a different product).
CCR_JS_VERSION="${CCR_JS_VERSION:-2.0.0}"
CCR_JS_DIR="$ROOT/.tools/ccr"
CCR_JS_BIN="$CCR_JS_DIR/node_modules/.bin/ccr"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac

step() { printf '\n==> %s\n' "$*" >&2; }
started=$SECONDS

streams_args=()
step "claude-code-router $CCR_JS_VERSION (npm, into .tools/ccr)"
installed_version() {
  node -p "require('$CCR_JS_DIR/node_modules/@musistudio/claude-code-router/package.json').version" 2>/dev/null || true
}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "streams: node/npm not found: claude-code-router will be skipped" >&2
  streams_args+=(--skip-ccr)
elif [ "$(installed_version)" = "$CCR_JS_VERSION" ] && [ -x "$CCR_JS_BIN" ]; then
  echo "already installed: $(installed_version) ($(node --version))" >&2
elif mkdir -p "$CCR_JS_DIR" && npm install --prefix "$CCR_JS_DIR" --no-audit --no-fund \
    "@musistudio/claude-code-router@$CCR_JS_VERSION" >&2; then
  echo "installed: $(installed_version) ($(node --version))" >&2
else
  echo "streams: npm could not install @musistudio/claude-code-router@$CCR_JS_VERSION: it will be skipped" >&2
  streams_args+=(--skip-ccr)
fi
streams_args+=(--claude-code-router "$CCR_JS_BIN")

step "Build (release): ccr, mock-upstream, loadbench"
cargo build --release -p ccr -p ccr-tests --bins

# loadbench raises its own soft RLIMIT_NOFILE to the hard limit; say here what that is.
echo "RLIMIT_NOFILE: soft $(ulimit -Sn), hard $(ulimit -Hn)" >&2

mkdir -p "$TARGET_DIR/loadbench"
streams_args+=(
  --streams 2000,10000
  --events 50 --interval-ms 200
  --transformer maxtoken
  --ccr-bin "$TARGET_DIR/release/ccr"
  --mock-bin "$TARGET_DIR/release/mock-upstream"
  --out "$TARGET_DIR/loadbench/streams.md"
)
if [ -z "${BENCH_NO_UPDATE:-}" ]; then
  streams_args+=(--markdown "$ROOT/BENCHMARKS.md")
fi

step "Run"
# Later arguments win, so "$@" can override any of the above: --streams 500 (the maxtoken
# run follows the smallest count), --transformer none, --upstream-http 2...
"$TARGET_DIR/release/loadbench" streams "${streams_args[@]}" "$@"

step "Done in $((SECONDS - started)) s: $TARGET_DIR/loadbench/streams.md${BENCH_NO_UPDATE:+ (BENCHMARKS.md left alone)}"
