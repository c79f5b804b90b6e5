"""python-transformer: a ccr transformer plugin written in Python.

It implements the `transformer` world of the contract in wit/:
  - transform-request clamps the Anthropic request's `max_tokens` to the `max_tokens`
    option (default 4096);
  - transform-upstream adds the header `x-python-transformer: 1` to the provider's request;
  - the other two hooks are not enabled, so the host never calls them.

How WIT maps to Python (componentize-py 0.25; `componentize-py -d ../../wit -w transformer
bindings .` writes the `wit_world` package so an editor can see the types):
  - the world's own exports (`metadata`) are methods of a class named `WitWorld`, an exported
    interface (`transformer-api`) is a class named after it (`TransformerApi`);
  - names become snake_case (`transform_request`, `base_url`); records are dataclasses;
    list<u8> is `bytes`; option<T> is `None` or the value; enums are `enum.Enum`s;
    flags are `enum.Flag`s (combine with `|`); variant cases are one dataclass each
    (`PluginError_InvalidRequest(value)`);
  - result<T, E>: return T for `ok`; `raise Err(E)` (componentize_py_types.Err) for `err`.
    Any other exception traps, and the host reports an internal plugin error.
"""
import json

import wit_world
from wit_world import exports
from wit_world.exports.transformer_api import HookSet, TransformContext
from wit_world.imports import types
from wit_world.imports.host import LogLevel, log
from componentize_py_types import Err

NAME = "python-transformer"
DEFAULT_MAX_TOKENS = 4096
HEADER = "x-python-transformer"


def _options(target: types.Target) -> dict:
    try:
        opts = json.loads(target.options or "{}")
    except ValueError as e:
        raise Err(types.PluginError_InvalidRequest(f"{NAME}: options are not JSON: {e}"))
    return opts if isinstance(opts, dict) else {}


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(
            name=NAME,
            version="0.1.0",
            kind=types.PluginKind.TRANSFORMER,
            description="Clamps max_tokens to the max_tokens option and tags upstream requests (Python example)",
        )


class TransformerApi(exports.TransformerApi):
    def hooks(self) -> HookSet:
        return HookSet.REQUEST | HookSet.UPSTREAM

    def transform_request(self, ctx: TransformContext, body: bytes) -> bytes:
        try:
            request = json.loads(body)
        except ValueError as e:
            raise Err(types.PluginError_InvalidRequest(f"{NAME}: request body is not JSON: {e}"))
        limit = _options(ctx.target).get("max_tokens")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
            limit = DEFAULT_MAX_TOKENS
        current = request.get("max_tokens")
        if isinstance(current, (int, float)) and current > limit:
            log(LogLevel.INFO, f"clamping max_tokens {current} -> {limit} for {ctx.target.provider},{ctx.target.model}")
            request["max_tokens"] = limit
        return json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()

    def transform_upstream(self, ctx: TransformContext, request: types.UpstreamRequest) -> types.UpstreamRequest:
        headers = [(k, v) for (k, v) in request.head.headers if k.lower() != HEADER]
        headers.append((HEADER, "1"))
        request.head.headers = headers
        return request

    # Not enabled in hooks(), so never called; pass-throughs for completeness.
    def transform_response(self, ctx: TransformContext, body: bytes) -> bytes:
        return body

    def transform_stream_event(self, ctx: TransformContext, event: types.SseEvent) -> list[types.SseEvent]:
        return [event]
