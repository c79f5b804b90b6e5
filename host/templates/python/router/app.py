"""{{name}}: a ccr router plugin (Python, built with componentize-py).

The contract is in wit/ (worlds.wit names the worlds), world `router`. This one always returns None (WIT `none`),
so the built-in rules decide; return RouteDecision(provider=..., model=...) to pick one.
`config` is the whole config as a JSON string (secrets removed); `body` the request bytes.
"""
from wit_world import exports
from wit_world.exports.router_api import RouteDecision
from wit_world.imports import types

import ccr  # more helpers: parse_json, last_user_text, has_word, first_model, invalid_request, ...

WitWorld = ccr.plugin_world("router", "{{name}}", "0.1.0", "A ccr router")


class RouterApi(exports.RouterApi):
    def route(self, ctx: types.RouteContext, config: str, body: bytes) -> RouteDecision | None:
        ccr.log("debug", f"built-in rules would pick {ctx.builtin_route} for {ctx.token_count} tokens")
        return None
