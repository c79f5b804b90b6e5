"""{{name}}: a ccr provider plugin (Python, built with componentize-py).

The contract is in wit/ (worlds.wit names the worlds), world `provider`. This one talks to an upstream that
already speaks the Anthropic Messages API: it posts the request as-is (with the model
replaced) to the provider's api_base_url and returns the answer as-is.

The `stream-translator` resource lives in provider_api.py: componentize-py looks exported
resources up in a module named after their interface.
"""
import json

import wit_world
from wit_world import exports
from wit_world.exports.provider_api import ProviderTarget
from wit_world.imports import types
from wit_world.imports.host import LogLevel, log
from componentize_py_types import Err


class WitWorld(wit_world.WitWorld):
    def metadata(self) -> types.PluginInfo:
        return types.PluginInfo(name="{{name}}", version="0.1.0",
                                kind=types.PluginKind.PROVIDER, description="A ccr provider")


class ProviderApi(exports.ProviderApi):
    def build_request(self, target: ProviderTarget, body: bytes) -> types.UpstreamRequest:
        try:
            request = json.loads(body)
        except ValueError as e:
            raise Err(types.PluginError_InvalidRequest(f"{{name}}: request is not JSON: {e}"))
        request["model"] = target.target.model
        headers = [("content-type", "application/json"), ("anthropic-version", "2023-06-01")]
        if target.api_key:
            headers.append(("x-api-key", target.api_key))
        return types.UpstreamRequest(
            head=types.HttpHead(method="POST", url=target.target.base_url, headers=headers),
            body=json.dumps(request, separators=(",", ":"), ensure_ascii=False).encode(),
            framing=types.StreamFraming_Sse(),
        )

    def parse_response(self, target: ProviderTarget, status: int, body: bytes) -> bytes:
        if 200 <= status <= 299:
            return body
        error_type, message = "api_error", body.decode(errors="replace")
        try:
            error = json.loads(body).get("error") or {}
            error_type = error.get("type") or error_type
            message = error.get("message") or message
        except (ValueError, AttributeError):
            pass  # not JSON: keep the raw text as the message
        log(LogLevel.WARN, f"upstream answered {status}")
        raise Err(types.PluginError_Upstream(types.ApiError(status=status, error_type=error_type, message=message)))
