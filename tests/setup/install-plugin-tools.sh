#!/usr/bin/env bash
# Installs the toolchains that build JavaScript and Python plugins for ccr, into the repo:
#
#   .tools/node   npm prefix with @bytecodealliance/componentize-js (+ the preview2-shim it
#                 needs) and @bytecodealliance/jco (for `jco wit`, to inspect components)
#   .tools/venv   Python venv with componentize-py
#
# Idempotent: when the pinned versions are already installed it only prints where they are.
# Override the location with CCR_TOOLS_DIR=/some/dir. Skip a language with
# CCR_SKIP_JS=1 or CCR_SKIP_PYTHON=1.
#
# Everything that builds plugins (examples/*/build.sh, `ccr plugin build`, the tests) looks
# for the tools here first, then on PATH.
set -euo pipefail

# ---- pinned versions (keep in sync with docs/plugins.md) ---------------------------------
COMPONENTIZE_JS_VERSION=0.23.0
# componentize-js 0.23 reads files through preview2-shim; only the 0.17 line works with it
# (newer shims break its file access), so it is pinned beside it at the top level.
PREVIEW2_SHIM_VERSION=0.17.9
JCO_VERSION=1.35.0
COMPONENTIZE_PY_VERSION=0.25.1
# -------------------------------------------------------------------------------------------

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="${CCR_TOOLS_DIR:-$ROOT/.tools}"
NODE_PREFIX="$TOOLS/node"
VENV="$TOOLS/venv"

log() { printf '[install-plugin-tools] %s\n' "$*" >&2; }

# Concurrent runs (parallel tests) must not npm-install into the same folder at once.
mkdir -p "$TOOLS"
if command -v flock >/dev/null 2>&1; then
  exec 8>"$TOOLS/.install.lock"
  flock 8
fi
die() { printf '[install-plugin-tools] error: %s\n' "$*" >&2; exit 1; }

installed_npm_version() { # $1 = package name; prints the installed version or nothing
  local pj="$NODE_PREFIX/node_modules/$1/package.json"
  [ -f "$pj" ] && node -e 'process.stdout.write(require(process.argv[1]).version)' "$pj" 2>/dev/null || true
}

install_js() {
  command -v node >/dev/null 2>&1 || die "node is not installed (Node.js >= 18 is needed to build JavaScript plugins). Install Node.js, or set CCR_SKIP_JS=1."
  command -v npm >/dev/null 2>&1 || die "npm is not installed (it ships with Node.js). Install it, or set CCR_SKIP_JS=1."
  local want_cjs="$COMPONENTIZE_JS_VERSION" want_shim="$PREVIEW2_SHIM_VERSION" want_jco="$JCO_VERSION"
  if [ "$(installed_npm_version @bytecodealliance/componentize-js)" = "$want_cjs" ] &&
     [ "$(installed_npm_version @bytecodealliance/preview2-shim)" = "$want_shim" ] &&
     [ "$(installed_npm_version @bytecodealliance/jco)" = "$want_jco" ] &&
     [ -x "$NODE_PREFIX/node_modules/.bin/componentize-js" ]; then
    log "JS toolchain already installed (componentize-js $want_cjs, preview2-shim $want_shim, jco $want_jco)"
    return
  fi
  log "installing JS toolchain into $NODE_PREFIX (this takes a minute)"
  mkdir -p "$NODE_PREFIX"
  # A package.json pins the exact versions, so `npm install` stays reproducible.
  cat > "$NODE_PREFIX/package.json" <<JSON
{
  "name": "ccr-plugin-tools",
  "private": true,
  "description": "Toolchain that builds ccr plugins written in JavaScript (installed by tests/setup/install-plugin-tools.sh)",
  "dependencies": {
    "@bytecodealliance/componentize-js": "$want_cjs",
    "@bytecodealliance/preview2-shim": "$want_shim",
    "@bytecodealliance/jco": "$want_jco"
  }
}
JSON
  (cd "$NODE_PREFIX" && npm install --no-audit --no-fund --loglevel=error 1>&2) ||
    die "npm install failed in $NODE_PREFIX"
  [ "$(installed_npm_version @bytecodealliance/preview2-shim)" = "$want_shim" ] ||
    die "preview2-shim $want_shim did not end up at the top level of $NODE_PREFIX/node_modules"
}

install_python() {
  local py="${PYTHON:-python3}"
  command -v "$py" >/dev/null 2>&1 || die "python3 is not installed (Python >= 3.10 is needed to build Python plugins). Install it, or set CCR_SKIP_PYTHON=1."
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' ||
    die "$py is older than 3.10; componentize-py needs Python >= 3.10"
  if [ -x "$VENV/bin/componentize-py" ] &&
     [ "$("$VENV/bin/componentize-py" --version 2>/dev/null | awk '{print $2}')" = "$COMPONENTIZE_PY_VERSION" ]; then
    log "Python toolchain already installed (componentize-py $COMPONENTIZE_PY_VERSION)"
    return
  fi
  log "installing componentize-py $COMPONENTIZE_PY_VERSION into $VENV"
  if [ ! -x "$VENV/bin/python" ]; then
    "$py" -m venv "$VENV" || die "could not create a venv at $VENV (on Debian/Ubuntu: apt-get install python3-venv)"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION" ||
    die "pip install componentize-py==$COMPONENTIZE_PY_VERSION failed"
}

[ "${CCR_SKIP_JS:-0}" = 1 ] || install_js
[ "${CCR_SKIP_PYTHON:-0}" = 1 ] || install_python

# Machine-readable summary on stdout (stderr carries the progress lines).
if [ "${CCR_SKIP_JS:-0}" != 1 ]; then
  echo "componentize-js=$NODE_PREFIX/node_modules/.bin/componentize-js ($COMPONENTIZE_JS_VERSION)"
  echo "jco=$NODE_PREFIX/node_modules/.bin/jco ($JCO_VERSION)"
fi
if [ "${CCR_SKIP_PYTHON:-0}" != 1 ]; then
  echo "componentize-py=$VENV/bin/componentize-py ($COMPONENTIZE_PY_VERSION)"
fi
