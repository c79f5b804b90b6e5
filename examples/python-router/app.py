"""python-router: a ccr router plugin written in Python.

It implements the `router` world of the contract in wit/. When the
text of the last user message contains the word `#python`, the request goes to the first
provider in the config and that provider's first model; otherwise the router returns `None`
(WIT `none`) and the host falls back to its built-in rules.

WIT -> Python (componentize-py 0.25): `route-context` is a dataclass with snake_case fields
(ctx.token_count, ctx.tool_names, ctx.session_id is None when absent), `body` is `bytes`,
`option<route-decision>` is a `RouteDecision` or `None`, and `err(plugin-error)` is
`raise Err(PluginError_...(...))`.
"""
import json

import wit_world
from wit_world import exports
from wit_world.exports.router_api import RouteDecision
from wit_world.imports import types
from wit_world.imports.host import LogLevel, log
from componentize_py_types import Err

NAME = "python-router"
KEYWORD = "#python"


def _last_user_text(request: dict) -> str:
    """The text of the last `user` message: a string, or its `text` blocks joined."""
    messages = request.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "\n".join(
                b["text"] for b in content
                if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
            )
        return ""
    return ""


def _has_word(text: str, word: str) -> bool:
    return any(w.rstrip(".,;:!?)") == word for w in text.split())


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(
            name=NAME,
            version="0.1.0",
            kind=types.PluginKind.ROUTER,
            description=f"Sends requests whose last user message says {KEYWORD} to the first configured provider (Python example)",
        )


class RouterApi(exports.RouterApi):
    def route(self, ctx: types.RouteContext, config: str, body: bytes) -> RouteDecision | None:
        try:
            request = json.loads(body)
        except ValueError as e:
            raise Err(types.PluginError_InvalidRequest(f"{NAME}: request body is not JSON: {e}"))
        if not isinstance(request, dict) or not _has_word(_last_user_text(request), KEYWORD):
            return None  # none: the built-in rules decide

        try:
            cfg = json.loads(config)
        except ValueError as e:
            raise Err(types.PluginError_Internal(f"{NAME}: config is not JSON: {e}"))
        providers = cfg.get("Providers") or cfg.get("providers") or []
        first = providers[0] if providers else None
        models = first.get("models") if isinstance(first, dict) else None
        if not first or not first.get("name") or not models:
            log(LogLevel.WARN, f"{KEYWORD} requested but the config has no provider with models; using built-in rules")
            return None
        log(LogLevel.INFO, f"{KEYWORD} -> {first['name']},{models[0]} (builtin route was {ctx.builtin_route}, {ctx.token_count} tokens)")
        return RouteDecision(provider=first["name"], model=models[0])
