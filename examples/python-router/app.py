"""python-router: a ccr router plugin written in Python (the `router` world of the contract
in wit/). When the last user message contains the word `#python`, the request goes to the
first provider in the config and its first model; otherwise it returns None (WIT `none`)
and the host's built-in rules decide. The helpers are in ccr.py.
"""
import json

import wit_world
from wit_world import exports
from wit_world.exports.router_api import RouteDecision
from wit_world.imports import types
from wit_world.imports.host import LogLevel, log

import ccr

KEYWORD = "#python"


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(
            name="python-router",
            version="0.1.0",
            kind=types.PluginKind.ROUTER,
            description=f"Sends requests whose last user message says {KEYWORD} to the first configured provider (Python example)",
        )


class RouterApi(exports.RouterApi):
    def route(self, ctx: types.RouteContext, config: str, body: bytes) -> RouteDecision | None:
        words = (w.rstrip(".,;:!?)") for w in ccr.last_user_text(ccr.parse_json(body)).split())
        if KEYWORD not in words:
            return None
        try:
            cfg = json.loads(config)
        except ValueError as e:
            raise ccr.internal_error(f"config is not JSON: {e}")
        first = (cfg.get("Providers") or cfg.get("providers") or [None])[0]
        models = first.get("models") if isinstance(first, dict) else None
        if not first or not first.get("name") or not models:
            log(LogLevel.WARN, f"{KEYWORD} requested but the config has no provider with models; using built-in rules")
            return None
        log(LogLevel.INFO, f"{KEYWORD} -> {first['name']},{models[0]} (builtin route was {ctx.builtin_route}, {ctx.token_count} tokens)")
        return RouteDecision(provider=first["name"], model=models[0])
