"""python-transformer: a ccr transformer plugin written in Python (the `transformer` world of
the contract in wit/). It clamps the request's `max_tokens` to the `max_tokens` option
(default 4096) and adds `x-python-transformer: 1` to the provider's request. The helpers and
the WIT -> Python mapping are in ccr.py (the file `ccr plugin new` vendors into a project).
"""
from wit_world import exports

import ccr

DEFAULT_MAX_TOKENS = 4096

WitWorld = ccr.plugin_world("transformer", "python-transformer", "0.1.0",
                            "Clamps max_tokens to the max_tokens option and tags upstream requests (Python example)")


# ccr.Transformer enables exactly the hooks defined here (request, upstream).
class TransformerApi(ccr.Transformer, exports.TransformerApi):
    def transform_request(self, ctx, body: bytes) -> bytes:
        request = ccr.parse_json(body)
        limit = ccr.int_option(ctx.target, "max_tokens", DEFAULT_MAX_TOKENS)
        current = request.get("max_tokens")
        if isinstance(current, (int, float)) and current > limit:
            ccr.log("info", f"clamping max_tokens {current} -> {limit} for {ctx.target.provider},{ctx.target.model}")
            request["max_tokens"] = limit
        return ccr.to_json(request)

    def transform_upstream(self, ctx, request):
        return ccr.with_header(request, "x-python-transformer", "1")
