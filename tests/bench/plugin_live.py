#!/usr/bin/env python3
"""Time to live of a new plugin: from the rename of its `.wasm` into the plugin folder of a
running proxy until a request through the proxy shows the plugin's behaviour.

Run by tests/bench/plugin_live.sh (which builds what this needs); see there for usage.

Per plugin (the Rust transformer, the JavaScript router, the Python router), per code cache
(cold: an empty CCR_CACHE_DIR; warm: after `ccr plugin check FILE` with the same cache dir)
and per load (idle, or `wrk` hammering the proxy with Messages requests to the mock
upstream): a fresh HOME and proxy, the file written next to the folder and renamed in, then
a probe request every 10 ms until its answer shows the plugin at work:

- rust-transformer (provider `rt` uses it with max_tokens 77): the upstream body the mock
  echoes has `max_tokens: 77`, not the 5000 sent;
- js-router / python-router: `#fast` / `#python` in the last user message is routed to
  `fast,echo-fast` instead of Router.default `main,static`.

When the proxy reports plugin tiers (`/health/detailed` rows with `tier`), the time until
the row says `optimized` is recorded too. The proxy's pid gets the rest of the machine:
nothing else is started by this script.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

KEY = "sk-bench-live"

PLUGINS = {
    "rust": {
        "name": "rust-transformer",
        "probe": {"model": "rt,echo", "max_tokens": 5000,
                  "messages": [{"role": "user", "content": "hi"}]},
        "live": lambda upstream_body: upstream_body.get("max_tokens") == 77,
    },
    "js": {
        "name": "js-router",
        "probe": {"model": "claude-sonnet-4-5-20250929", "max_tokens": 100,
                  "messages": [{"role": "user", "content": "answer quickly #fast"}]},
        "live": lambda upstream_body: upstream_body.get("model") == "echo-fast",
    },
    "python": {
        "name": "python-router",
        "probe": {"model": "claude-sonnet-4-5-20250929", "max_tokens": 100,
                  "messages": [{"role": "user", "content": "use the snake #python"}]},
        "live": lambda upstream_body: upstream_body.get("model") == "echo-fast",
    },
}

WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-api-key"] = "%s"
wrk.headers["anthropic-version"] = "2023-06-01"
wrk.body = [[%s]]
""" % (KEY, json.dumps({
    "model": "claude-sonnet-4-5-20250929", "max_tokens": 1000,
    "messages": [{"role": "user", "content": "a plain question about the build, no keyword"}],
}))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={
        "content-type": "application/json", "x-api-key": KEY,
        "anthropic-version": "2023-06-01"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout) as e:
        return None, str(e).encode()


class Env:
    """A throwaway HOME with a config pointing at the mock, and its cache dir."""

    def __init__(self, args, mock_url):
        self.args = args
        self.home = tempfile.mkdtemp(prefix="ccr-live-home-")
        self.cache = os.path.join(self.home, "wasm-cache")
        self.plugins = os.path.join(self.home, "plugins")
        os.makedirs(self.plugins)
        cfg_dir = os.path.join(self.home, ".claude-code-router")
        os.makedirs(cfg_dir)

        def provider(name, models):
            return {"name": name, "api_base_url": mock_url, "api_key": "sk-mock", "models": models}
        rt = provider("rt", ["echo"])
        rt["transformer"] = {"use": [["rust-transformer", {"max_tokens": 77}]]}
        config = {
            "LOG": False,
            "APIKEY": KEY,
            "Providers": [provider("fast", ["echo-fast"]), provider("main", ["static", "echo"]), rt],
            "ROUTER_PLUGINS": ["js-router", "python-router"],
            "Router": {"default": "main,static"},
        }
        with open(os.path.join(cfg_dir, "config.json"), "w") as f:
            json.dump(config, f)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.upper().startswith("CCR_") and "PROXY" not in k.upper()}
        self.env.update({"HOME": self.home, "CCR_CACHE_DIR": self.cache, "NO_COLOR": "1",
                         "XDG_CONFIG_HOME": os.path.join(self.home, ".config")})

    def check(self, wasm):
        """`ccr plugin check FILE` with this HOME and cache; seconds taken."""
        start = time.perf_counter()
        out = subprocess.run([self.args.ccr, "plugin", "check", wasm], env=self.env,
                             capture_output=True, text=True)
        took = time.perf_counter() - start
        if out.returncode != 0:
            sys.exit(f"ccr plugin check {wasm} failed:\n{out.stdout}{out.stderr}")
        return took

    def cleanup(self):
        shutil.rmtree(self.home, ignore_errors=True)


class Proxy:
    def __init__(self, env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(env.home, "ccr.log"), "w")
        self.proc = subprocess.Popen(
            [env.args.ccr, "start", "--port", str(self.port), "--plugins-dir", env.plugins],
            env=env.env, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while http("GET", self.base + "/health", timeout=2)[0] != 200:
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit(f"ccr did not start; see {self.log.name}")
            time.sleep(0.02)

    def health(self):
        status, body = http("GET", self.base + "/health/detailed", timeout=10)
        return json.loads(body) if status == 200 else {}

    def probe(self, plugin):
        """The upstream body the mock echoed for the plugin's probe, or {} if not an echo."""
        status, body = http("POST", self.base + "/v1/messages", plugin["probe"], timeout=30)
        if status != 200:
            return {}
        try:
            text = json.loads(body)["content"][0]["text"]
            return json.loads(text)
        except (ValueError, KeyError, IndexError, TypeError):
            return {}

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class Load:
    """wrk on the proxy for at most `seconds` (stopped earlier by `stop`)."""

    def __init__(self, env, proxy, seconds):
        self.script = os.path.join(env.home, "load.lua")
        with open(self.script, "w") as f:
            f.write(WRK_SCRIPT)
        self.out = os.path.join(env.home, "wrk.out")
        self.proc = subprocess.Popen(
            ["wrk", "-t1", f"-c{env.args.connections}", f"-d{seconds}s", "-s", self.script,
             proxy.base + "/v1/messages"],
            stdout=open(self.out, "w"), stderr=subprocess.STDOUT)
        time.sleep(1.0)  # let it reach its steady rate before the plugin arrives

    def stop(self):
        """Stops wrk; returns its requests per second."""
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        with open(self.out) as f:
            for line in f:
                if line.startswith("Requests/sec:"):
                    return float(line.split()[1])
        return None


def tier_of(health, name):
    for row in health.get("plugins", []):
        if row.get("name") == name and row.get("source") == "folder":
            return row.get("tier") or "-"
    return None


def run_once(args, lang, wasm, warm, loaded, mock_url):
    plugin = PLUGINS[lang]
    env = Env(args, mock_url)
    result = {"lang": lang, "cache": "warm" if warm else "cold",
              "load": "load" if loaded else "idle"}
    try:
        if warm:
            result["check_cold_s"] = env.check(wasm)
            result["check_warm_s"] = env.check(wasm)
        proxy = Proxy(env)
        try:
            assert not plugin["live"](proxy.probe(plugin)), "plugin behaviour before the drop"
            load = Load(env, proxy, 600) if loaded else None
            staged = os.path.join(env.plugins, f".{plugin['name']}.wasm.partial")
            shutil.copyfile(wasm, staged)
            target = os.path.join(env.plugins, f"{plugin['name']}.wasm")
            start = time.perf_counter()
            os.rename(staged, target)
            live = optimized = None
            deadline = start + args.timeout
            while time.perf_counter() < deadline:
                now = time.perf_counter() - start
                if live is None and plugin["live"](proxy.probe(plugin)):
                    live = time.perf_counter() - start
                    result["tier_at_live"] = tier_of(proxy.health(), plugin["name"])
                if live is not None:
                    tier = tier_of(proxy.health(), plugin["name"])
                    if tier in ("optimized", "-"):
                        optimized = time.perf_counter() - start if tier == "optimized" else None
                        break
                time.sleep(0.01 if now < 5 else 0.05)
            if load is not None:
                result["load_rps"] = load.stop()
            result["live_s"] = live
            result["optimized_s"] = optimized
        finally:
            proxy.stop()
        # The proxy's own account: how long the load and the background compile took.
        with open(proxy.log.name, errors="replace") as f:
            for line in f:
                for message, key in (("plugin loaded", "load_ms"), ("plugin optimized", "optimize_ms")):
                    m = re.search(r"ms=(\d+)", line)
                    if message in line and plugin["name"] in line and m:
                        result[key] = int(m.group(1))
    finally:
        env.cleanup()
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ccr", required=True)
    p.add_argument("--mock", required=True)
    p.add_argument("--wasm", action="append", required=True, help="LANG=PATH")
    p.add_argument("--runs", type=int, default=1)
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--timeout", type=float, default=300)
    p.add_argument("--only", default="", help="comma-separated langs/cache/load to keep")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    wasms = dict(w.split("=", 1) for w in args.wasm)
    only = set(filter(None, args.only.split(",")))
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install -y wrk)")

    mock = subprocess.Popen([args.mock, "--print-port"], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    mock_url = f"http://127.0.0.1:{mock.stdout.readline().strip()}/v1/chat/completions"
    results = []
    try:
        for lang in ("rust", "js", "python"):
            if lang not in wasms or (only & set(PLUGINS) and lang not in only):
                continue
            for warm in (False, True):
                if only & {"cold", "warm"} and ("warm" if warm else "cold") not in only:
                    continue
                for loaded in (False, True):
                    if only & {"idle", "load"} and ("load" if loaded else "idle") not in only:
                        continue
                    for _ in range(args.runs):
                        r = run_once(args, lang, wasms[lang], warm, loaded, mock_url)
                        r["loadavg"] = os.getloadavg()[0]
                        print(json.dumps(r), flush=True)
                        results.append(r)
    finally:
        mock.terminate()
        mock.wait()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
