#!/usr/bin/env bash
# The load benchmark, one command: the upstream directly (the floor), ccr and
# claude-code-router 2.x side by side on the same Claude Code-shaped request mix.
#
#   tests/bench/run.sh                       # full run (~3 minutes once built), updates BENCHMARKS.md
#   tests/bench/run.sh --duration-ms 5000    # extra arguments go to loadbench (see --help)
#   BENCH_NO_UPDATE=1 tests/bench/run.sh     # print only, leave BENCHMARKS.md alone
#
# Installs claude-code-router with npm into the git-ignored .tools/ccr (skipped with a message
# if npm or node is missing or the install fails), builds ccr, mock-upstream and loadbench in
# release, runs loadbench, and writes the report to target/loadbench/results.md and into the
# results section of BENCHMARKS.md.
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

loadbench_args=()
step "claude-code-router $CCR_JS_VERSION (npm, into .tools/ccr)"
installed_version() {
  node -p "require('$CCR_JS_DIR/node_modules/@musistudio/claude-code-router/package.json').version" 2>/dev/null || true
}
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "loadbench: node/npm not found: claude-code-router will be skipped" >&2
  loadbench_args+=(--skip-ccr)
elif [ "$(installed_version)" = "$CCR_JS_VERSION" ] && [ -x "$CCR_JS_BIN" ]; then
  echo "already installed: $(installed_version) ($(node --version))" >&2
elif mkdir -p "$CCR_JS_DIR" && npm install --prefix "$CCR_JS_DIR" --no-audit --no-fund \
    "@musistudio/claude-code-router@$CCR_JS_VERSION" >&2; then
  echo "installed: $(installed_version) ($(node --version))" >&2
else
  echo "loadbench: npm could not install @musistudio/claude-code-router@$CCR_JS_VERSION: it will be skipped" >&2
  loadbench_args+=(--skip-ccr)
fi
loadbench_args+=(--claude-code-router "$CCR_JS_BIN")

step "Build (release): ccr, mock-upstream, loadbench"
cargo build --release -p ccr -p ccr-tests --bins

mkdir -p "$TARGET_DIR/loadbench"
loadbench_args+=(
  --ccr-bin "$TARGET_DIR/release/ccr"
  --mock-bin "$TARGET_DIR/release/mock-upstream"
  --out "$TARGET_DIR/loadbench/results.md"
)
if [ -z "${BENCH_NO_UPDATE:-}" ]; then
  loadbench_args+=(--markdown "$ROOT/BENCHMARKS.md")
fi

step "Run"
"$TARGET_DIR/release/loadbench" "${loadbench_args[@]}" "$@"

step "Done in $((SECONDS - started)) s: $TARGET_DIR/loadbench/results.md${BENCH_NO_UPDATE:+ (BENCHMARKS.md left alone)}"
