"""{{name}}: a ccr transformer plugin (Python, built with componentize-py).

The contract is in wit/ (worlds.wit names the worlds), world `transformer`; ccr.py has the
helpers and the WIT -> Python mapping. This one passes everything through: define the hooks
you need; `ccr.Transformer` switches on exactly those and passes the rest through.
Run `componentize-py -d wit -w transformer bindings .` to get the `wit_world` package
locally for your editor (it is generated again at build time).
"""
from wit_world import exports

import ccr

WitWorld = ccr.plugin_world("transformer", "{{name}}", "0.1.0", "A ccr transformer")


class TransformerApi(ccr.Transformer, exports.TransformerApi):
    # Also available: transform_upstream(ctx, request), transform_response(ctx, body),
    # transform_stream_event(ctx, event) -> [events].
    def transform_request(self, ctx, body: bytes) -> bytes:
        # ccr.options(ctx.target): this transformer's options from the config.
        request = ccr.parse_json(body)
        ccr.log("debug", f"request for {ctx.target.provider},{ctx.target.model} ({ctx.route.token_count} tokens)")
        return ccr.to_json(request)
