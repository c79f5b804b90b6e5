"""python-transformer: a ccr transformer plugin written in Python (the `transformer` world of
the contract in wit/). It clamps the request's `max_tokens` to the `max_tokens` option
(default 4096) and adds `x-python-transformer: 1` to the provider's request. The helpers and
the WIT -> Python mapping are in ccr.py (the file `ccr plugin new` vendors into a project).
"""
import wit_world
from wit_world import exports
from wit_world.imports import types
from wit_world.imports.host import LogLevel, log

import ccr

DEFAULT_MAX_TOKENS = 4096


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(
            name="python-transformer",
            version="0.1.0",
            kind=types.PluginKind.TRANSFORMER,
            description="Clamps max_tokens to the max_tokens option and tags upstream requests (Python example)",
        )


class TransformerApi(ccr.Transformer, exports.TransformerApi):
    """ccr.Transformer enables exactly the hooks defined here (request, upstream)."""

    def transform_request(self, ctx, body: bytes) -> bytes:
        request = ccr.parse_json(body)
        limit = ccr.int_option(ctx.target, "max_tokens", DEFAULT_MAX_TOKENS)
        current = request.get("max_tokens")
        if isinstance(current, (int, float)) and current > limit:
            log(LogLevel.INFO, f"clamping max_tokens {current} -> {limit} for {ctx.target.provider},{ctx.target.model}")
            request["max_tokens"] = limit
        return ccr.to_json(request)

    def transform_upstream(self, ctx, request: types.UpstreamRequest) -> types.UpstreamRequest:
        return ccr.with_header(request, "x-python-transformer", "1")
