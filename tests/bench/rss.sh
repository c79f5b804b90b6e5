#!/usr/bin/env bash
# Resident memory of an idle ccr, the way a new user meets it: the very first start (empty
# compiled-code cache: the bundled plugins are compiled), a warm start (cache filled), and
# after Claude Code's first contact (HEAD /, which loads the tokenizer, then one
# 80 KB-class request through the mock upstream). Release build, throwaway HOME, loopback.
#
#   tests/bench/rss.sh            # prints a markdown table
#
# Each figure is VmRSS of the ccr process 2 s after the event, median of 3 runs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$TARGET_DIR" in /*) ;; *) TARGET_DIR="$ROOT/$TARGET_DIR" ;; esac

cargo build --release -p ccr -p ccr-tests --bins >&2
CCR="$TARGET_DIR/release/ccr"
MOCK="$TARGET_DIR/release/mock-upstream"

rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { # port
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$1/health" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "ccr did not come up on port $1" >&2; return 1
}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "${dump:-}"; }
trap cleanup EXIT

mock_port=$(free_port)
"$MOCK" --port "$mock_port" >/dev/null 2>&1 &
pids+=($!)

# The load harness's Claude Code-shaped 80 KB request (24 tools, varied text), model
# routed to the mock.
dump=$(mktemp -d)
"$TARGET_DIR/release/loadbench" --dump-requests "$dump" --sizes 80000 >/dev/null
request_file="$dump/80-kb-json.anthropic.json"

# One run: prints "first warm after_request" in MB.
one_run() {
  local home cache port pid first warm after code
  home=$(mktemp -d) cache=$(mktemp -d)
  mkdir -p "$home/.claude-code-router"
  cat > "$home/.claude-code-router/config.json" <<JSON
{"LOG": false, "Providers": [{"name": "mock", "api_base_url": "http://127.0.0.1:$mock_port/v1/chat/completions",
  "api_key": "sk-mock", "models": ["text"]}], "Router": {"default": "mock,text", "longContext": "mock,text"}}
JSON
  for phase in first warm; do
    port=$(free_port)
    HOME="$home" XDG_CACHE_HOME="$cache" "$CCR" start --port "$port" >/dev/null 2>&1 &
    pid=$!; pids+=("$pid")
    wait_up "$port"; sleep 2
    if [ "$phase" = first ]; then
      first=$(rss_mb "$pid")
      kill "$pid"; wait "$pid" 2>/dev/null || true
    else
      warm=$(rss_mb "$pid")
      curl -s -I "http://127.0.0.1:$port/" >/dev/null
      code=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
        --data-binary "@$request_file" "http://127.0.0.1:$port/v1/messages")
      [ "$code" = 200 ] || { echo "the request got HTTP $code" >&2; exit 1; }
      sleep 2
      after=$(rss_mb "$pid")
      kill "$pid"; wait "$pid" 2>/dev/null || true
    fi
  done
  rm -rf "$home" "$cache"
  echo "$first $warm $after"
}

runs=()
for _ in 1 2 3; do runs+=("$(one_run)"); done
median() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
col() { for r in "${runs[@]}"; do echo "$r" | awk -v c="$1" '{print $c}'; done; }
echo "| idle ccr ($(date -u +%F), $(nproc) cores) | RSS MB (median of 3) |"
echo "|---|--:|"
echo "| first start (empty code cache: bundled plugins compiled) | $(median $(col 1)) |"
echo "| warm start (code cache filled) | $(median $(col 2)) |"
echo "| after HEAD / and one 80 KB request (tokenizer loaded) | $(median $(col 3)) |"
