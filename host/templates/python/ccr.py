"""ccr.py: helpers for ccr plugins written in Python. `ccr plugin new` writes this file into
every Python project; edit it freely.

How WIT maps to Python (componentize-py): snake_case names; records are dataclasses;
list<u8> is bytes; option<T> is None or the value; enums are enum.Enum, flags enum.Flag;
a `result` error is raised as `Err(...)` (the helpers below build them). Any other exception
traps, and the host reports an internal plugin error.
"""
import json

from componentize_py_types import Err
from wit_world.imports import types


def invalid_request(message: str) -> Err:
    """`raise invalid_request(...)`: the client sees 400 `invalid_request_error`."""
    return Err(types.PluginError_InvalidRequest(message))


def internal_error(message: str) -> Err:
    """`raise internal_error(...)`: the client sees 500 `api_error` naming the plugin."""
    return Err(types.PluginError_Internal(message))


def upstream_error(status: int, error_type: str, message: str) -> Err:
    """`raise upstream_error(429, "rate_limit_error", ...)`: passed on to the client as it is."""
    return Err(types.PluginError_Upstream(types.ApiError(status=status, error_type=error_type, message=message)))


def parse_json(data: bytes, what: str = "request body"):
    """Parses JSON bytes (a request or response body); bad JSON is an invalid request."""
    try:
        return json.loads(data)
    except ValueError as e:
        raise invalid_request(f"{what} is not JSON: {e}")


def to_json(value) -> bytes:
    """Compact JSON bytes of `value` (non-ASCII kept as is)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def options(target: types.Target) -> dict:
    """This plugin's options from `config.json` (`target.options`) as a dict ({} when unset)."""
    opts = parse_json((target.options or "{}").encode(), "options")
    return opts if isinstance(opts, dict) else {}


def int_option(target: types.Target, name: str, fallback: int) -> int:
    """A positive integer option, or `fallback`."""
    value = options(target).get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else fallback


def with_header(request: types.UpstreamRequest, name: str, value: str) -> types.UpstreamRequest:
    """`request` (an upstream-request) with header `name` set to `value`, replacing any."""
    headers = [(k, v) for (k, v) in request.head.headers if k.lower() != name.lower()]
    headers.append((name, value))
    request.head.headers = headers
    return request


def last_user_text(request: dict) -> str:
    """The text of the last `user` message of an Anthropic request (its `text` blocks joined)."""
    messages = request.get("messages") if isinstance(request, dict) else None
    for message in reversed(messages if isinstance(messages, list) else []):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if not isinstance(content, list):
            return ""
        return "\n".join(
            b["text"] for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
    return ""


class Transformer:
    """Base for a transformer's `TransformerApi` (list it before `exports.TransformerApi`):
    every hook passes its input through, and `hooks()` lists the hooks the subclass
    overrides (the host calls only those)."""

    def hooks(self):
        # Imported here: only the transformer world's bindings have this module.
        from wit_world.exports.transformer_api import HookSet

        enabled = HookSet(0)
        for flag, method in [
            (HookSet.REQUEST, "transform_request"),
            (HookSet.UPSTREAM, "transform_upstream"),
            (HookSet.RESPONSE, "transform_response"),
            (HookSet.STREAM_EVENT, "transform_stream_event"),
        ]:
            if getattr(type(self), method) is not getattr(Transformer, method):
                enabled |= flag
        return enabled

    def transform_request(self, ctx, body: bytes) -> bytes:
        return body

    def transform_upstream(self, ctx, request):
        return request

    def transform_response(self, ctx, body: bytes) -> bytes:
        return body

    def transform_stream_event(self, ctx, event):
        return [event]
