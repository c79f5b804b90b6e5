"""{{name}}: a ccr provider plugin (Python, built with componentize-py).

The contract is in wit/ (worlds.wit names the worlds), world `provider`. This one talks to an upstream that
already speaks the Anthropic Messages API: it posts the request as-is (with the model
replaced) to the provider's api_base_url and returns the answer as-is.

The `stream-translator` resource lives in provider_api.py: componentize-py looks exported
resources up in a module named after their interface.
"""
from wit_world import exports
from wit_world.exports.provider_api import ProviderTarget
from wit_world.imports import types

import ccr

WitWorld = ccr.plugin_world("provider", "{{name}}", "0.1.0", "A ccr provider")


class ProviderApi(exports.ProviderApi):
    def build_request(self, target: ProviderTarget, body: bytes) -> types.UpstreamRequest:
        request = ccr.parse_json(body, "{{name}}: request")
        request["model"] = target.target.model
        headers = [("content-type", "application/json"), ("anthropic-version", "2023-06-01")]
        if target.api_key:
            headers.append(("x-api-key", target.api_key))
        return types.UpstreamRequest(
            head=types.HttpHead(method="POST", url=target.target.base_url, headers=headers),
            body=ccr.to_json(request),
            framing=types.StreamFraming_Sse(),
        )

    def parse_response(self, target: ProviderTarget, status: int, body: bytes) -> bytes:
        if 200 <= status <= 299:
            return body
        ccr.log("warn", f"upstream answered {status}")
        # The answer's Anthropic-style error type and message (else api_error and the text).
        raise ccr.upstream_error_of(status, body)
