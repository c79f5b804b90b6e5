"""python-router: a ccr router plugin written in Python (the `router` world of the contract
in wit/). When the last user message contains the word `#python`, the request goes to the
first provider in the config and its first model; otherwise it returns None (WIT `none`)
and the host's built-in rules decide. The helpers are in ccr.py.
"""
from wit_world import exports

import ccr

KEYWORD = "#python"

WitWorld = ccr.plugin_world("router", "python-router", "0.1.0",
                            f"Sends requests whose last user message says {KEYWORD} to the first configured provider (Python example)")


class RouterApi(exports.RouterApi):
    def route(self, ctx, config: str, body: bytes):
        if not ccr.has_word(ccr.last_user_text(ccr.parse_json(body)), KEYWORD):
            return None
        target = ccr.first_model(config)
        if target is None:
            ccr.log("warn", f"{KEYWORD} requested but the config has no provider with models; using built-in rules")
            return None
        ccr.log("info", f"{KEYWORD} -> {target.provider},{target.model} (builtin route was {ctx.builtin_route}, {ctx.token_count} tokens)")
        return target
