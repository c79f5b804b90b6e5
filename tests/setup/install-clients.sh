#!/usr/bin/env bash
# Installs the real Anthropic clients the end-to-end tests drive through ccr, into the repo:
#
#   .tools/clients/node   npm prefix with @anthropic-ai/claude-code (the `claude` CLI), used by
#                         tests/e2e/claude_code.rs
#   .tools/venv           Python venv with the `anthropic` SDK, used by tests/e2e/python_sdk.rs
#                         (the same venv tests/setup/install-plugin-tools.sh puts componentize-py
#                         in: it is created if missing and never deleted)
#
# Idempotent: when the pinned versions are already installed it only prints where they are
# (well under a second). Override the location with CCR_TOOLS_DIR=/some/dir. Skip a client
# with CCR_SKIP_CLAUDE=1 or CCR_SKIP_PYTHON=1.
#
# Prints `name=path (version)` lines on stdout; progress goes to stderr. Exits 1 with a clear
# message when npm/node or python3 is missing or an install fails.
set -euo pipefail

# ---- pinned versions ----------------------------------------------------------------------
# Claude Code >= 2.1.1xx ships as a native binary (an optional dependency per platform that
# the package's postinstall links over bin/claude.exe), so it runs whatever the Node version;
# its package.json asks for Node >= 22, which npm only warns about on older Node.
CLAUDE_CODE_VERSION=2.1.332
ANTHROPIC_SDK_VERSION=2.14.0
# -------------------------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${CCR_TOOLS_DIR:-$ROOT/.tools}"
NODE_PREFIX="$TOOLS/clients/node"
VENV="$TOOLS/venv"
CLAUDE="$NODE_PREFIX/node_modules/.bin/claude"
CLAUDE_PKG="$NODE_PREFIX/node_modules/@anthropic-ai/claude-code"

log() { printf '[install-clients] %s\n' "$*" >&2; }
die() { printf '[install-clients] error: %s\n' "$*" >&2; exit 1; }

# The version `claude --version` reports ("2.1.332 (Claude Code)"), or nothing if it does not run.
claude_version() {
  [ -x "$CLAUDE" ] || return 0
  HOME="${TMPDIR:-/tmp}" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
    timeout 60 "$CLAUDE" --version 2>/dev/null </dev/null | awk 'NR==1{print $1}' || true
}

install_claude() {
  command -v node >/dev/null 2>&1 || die "node is not installed (Node.js >= 18 with npm is needed to install Claude Code). Install Node.js, or set CCR_SKIP_CLAUDE=1."
  command -v npm >/dev/null 2>&1 || die "npm is not installed (it ships with Node.js). Install it, or set CCR_SKIP_CLAUDE=1."
  if [ "$(claude_version)" = "$CLAUDE_CODE_VERSION" ]; then
    log "Claude Code $CLAUDE_CODE_VERSION already installed"
    return
  fi
  log "installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION into $NODE_PREFIX (~400 MB native binary)"
  mkdir -p "$NODE_PREFIX"
  # A package.json pins the exact version, so `npm install` stays reproducible.
  cat > "$NODE_PREFIX/package.json" <<JSON
{
  "name": "ccr-test-clients",
  "private": true,
  "description": "Real Anthropic clients for the ccr end-to-end tests (installed by tests/setup/install-clients.sh)",
  "dependencies": {
    "@anthropic-ai/claude-code": "$CLAUDE_CODE_VERSION"
  }
}
JSON
  # --include=optional: the native binary is an optional dependency; --engine-strict=false:
  # the Node >= 22 requirement does not apply to the native binary.
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --loglevel=error \
    --include=optional --engine-strict=false 1>&2 ||
    die "npm install @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION failed in $NODE_PREFIX"
  if [ "$(claude_version)" != "$CLAUDE_CODE_VERSION" ] && [ -f "$CLAUDE_PKG/install.cjs" ]; then
    # npm may have skipped the postinstall (ignore-scripts, allowScripts): run it ourselves.
    log "running Claude Code's postinstall (npm did not)"
    (cd "$CLAUDE_PKG" && node install.cjs 1>&2) || true
  fi
  local got
  got="$(claude_version)"
  [ "$got" = "$CLAUDE_CODE_VERSION" ] ||
    die "$CLAUDE does not run or reports version '${got:-nothing}' instead of $CLAUDE_CODE_VERSION"
}

sdk_version() {
  [ -x "$VENV/bin/python" ] || return 0
  # importlib.metadata: `import anthropic` alone takes over a second.
  "$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("anthropic"))' 2>/dev/null || true
}

install_python() {
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "python3 is not installed (Python >= 3.10 is needed for the anthropic SDK). Install it, or set CCR_SKIP_PYTHON=1."
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
    die "$py is older than 3.10; anthropic $ANTHROPIC_SDK_VERSION needs Python >= 3.10"
  if [ "$(sdk_version)" = "$ANTHROPIC_SDK_VERSION" ]; then
    log "anthropic $ANTHROPIC_SDK_VERSION already installed in $VENV"
    return
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating the venv $VENV"
    "$py" -m venv "$VENV" || die "could not create a venv at $VENV (on Debian/Ubuntu: apt-get install python3-venv)"
  fi
  log "installing anthropic==$ANTHROPIC_SDK_VERSION into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "anthropic==$ANTHROPIC_SDK_VERSION" 1>&2 ||
    die "pip install anthropic==$ANTHROPIC_SDK_VERSION failed"
  "$VENV/bin/python" -c 'import anthropic' ||
    die "anthropic $ANTHROPIC_SDK_VERSION is not importable from $VENV/bin/python after the install"
}

[ "${CCR_SKIP_CLAUDE:-0}" = 1 ] || install_claude
[ "${CCR_SKIP_PYTHON:-0}" = 1 ] || install_python

# Machine-readable summary on stdout (stderr carries the progress lines).
if [ "${CCR_SKIP_CLAUDE:-0}" != 1 ]; then
  echo "claude=$CLAUDE ($CLAUDE_CODE_VERSION)"
fi
if [ "${CCR_SKIP_PYTHON:-0}" != 1 ]; then
  echo "anthropic=$VENV/bin/python ($ANTHROPIC_SDK_VERSION)"
fi
