#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (the wasm32-wasip2
# Rust target, the JavaScript/Python plugin toolchains, the Claude Code CLI and the
# Anthropic Python SDK, all into the repo's git-ignored .tools/), builds the binary and runs
# every test.
#
#   tests/run.sh              # everything
#   tests/run.sh -p ccr       # extra arguments go to `cargo test`
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

step() { printf '\n==> %s\n' "$*"; }

step "Rust target wasm32-wasip2"
if ! rustup target list --installed | grep -qx wasm32-wasip2; then
  rustup target add wasm32-wasip2
fi

step "Plugin toolchains (componentize-js, componentize-py)"
tests/setup/install-plugin-tools.sh

step "Example plugins in JavaScript and Python (built from source)"
tests/setup/build-example-plugins.sh

step "Real clients (Claude Code CLI, Anthropic Python SDK)"
tests/setup/install-clients.sh

step "Build"
cargo build --workspace --bins

step "Test"
# The end-to-end tests start real servers and compile plugins: keep parallelism modest on
# small machines.
export RUST_TEST_THREADS="${RUST_TEST_THREADS:-2}"
cargo test --workspace "$@"
