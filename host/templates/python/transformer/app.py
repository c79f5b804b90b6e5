"""{{name}}: a ccr transformer plugin (Python, built with componentize-py).

The contract is in wit/ (worlds.wit names the worlds), world `transformer`. This one passes everything through;
edit the hooks you need and switch them on in hooks().

WIT -> Python: snake_case names; records are dataclasses; list<u8> is bytes; option is
None or the value; flags are enum.Flag; result errors are `raise Err(PluginError_...(...))`.
Run `componentize-py -d wit -w transformer bindings .` to get the `wit_world` package
locally for your editor (it is generated again at build time).
"""
import json

import wit_world
from wit_world import exports
from wit_world.exports.transformer_api import HookSet, TransformContext
from wit_world.imports import types
from wit_world.imports.host import LogLevel, log
from componentize_py_types import Err


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(name="{{name}}", version="0.1.0",
                                kind=types.PluginKind.TRANSFORMER, description="A ccr transformer")


class TransformerApi(exports.TransformerApi):
    def hooks(self) -> HookSet:
        return HookSet.REQUEST

    def transform_request(self, ctx: TransformContext, body: bytes) -> bytes:
        # ctx.target.options: this transformer's options from the config, as a JSON string.
        try:
            request = json.loads(body)
        except ValueError as e:
            raise Err(types.PluginError_InvalidRequest(f"{{name}}: body is not JSON: {e}"))
        log(LogLevel.DEBUG, f"request for {ctx.target.provider},{ctx.target.model} ({ctx.route.token_count} tokens)")
        return json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode()

    def transform_upstream(self, ctx: TransformContext, request: types.UpstreamRequest) -> types.UpstreamRequest:
        return request

    def transform_response(self, ctx: TransformContext, body: bytes) -> bytes:
        return body

    def transform_stream_event(self, ctx: TransformContext, event: types.SseEvent) -> list[types.SseEvent]:
        return [event]
