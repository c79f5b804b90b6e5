"""ccr.py: helpers for ccr plugins written in Python. `ccr plugin new` writes this file into
every Python project; edit it freely.

How WIT maps to Python (componentize-py): snake_case names; records are dataclasses;
list<u8> is bytes; option<T> is None or the value; enums are enum.Enum, flags enum.Flag;
a `result` error is raised as `Err(...)` (the helpers below build them). Any other exception
traps, and the host reports an internal plugin error.
"""
import json

import wit_world
from componentize_py_types import Err
from wit_world.imports import host, types


def plugin_world(kind: str, name: str, version: str, description: str) -> type:
    """The `WitWorld` class (the world's `metadata` export):
    `WitWorld = ccr.plugin_world("transformer", "my-plugin", "0.1.0", "What it does")`
    (kind: "provider", "transformer" or "router")."""

    class WitWorld(wit_world.WitWorld):
        def metadata(self) -> types.PluginInfo:
            return types.PluginInfo(name=name, version=version, kind=types.PluginKind[kind.upper()],
                                    description=description)

    return WitWorld


def log(level: str, message: str) -> None:
    """`ccr.log("info", ...)`: a line in the host's log (trace, debug, info, warn, error)."""
    host.log(host.LogLevel[level.upper()], message)


def invalid_request(message: str) -> Err:
    """`raise invalid_request(...)`: the client sees 400 `invalid_request_error`."""
    return Err(types.PluginError_InvalidRequest(message))


def internal_error(message: str) -> Err:
    """`raise internal_error(...)`: the client sees 500 `api_error` naming the plugin."""
    return Err(types.PluginError_Internal(message))


def upstream_error(status: int, error_type: str, message: str) -> Err:
    """`raise upstream_error(429, "rate_limit_error", ...)`: passed on to the client as it is."""
    return Err(types.PluginError_Upstream(types.ApiError(status=status, error_type=error_type, message=message)))


def upstream_error_of(status: int, body: bytes) -> Err:
    """`raise upstream_error_of(status, body)` for a non-2xx answer: the body's Anthropic-style
    `error.type` and `error.message` when it has them, else `api_error` and the body as text."""
    error_type, message = "api_error", body.decode(errors="replace")
    try:
        error = json.loads(body).get("error") or {}
        error_type = error.get("type") or error_type
        message = error.get("message") or message
    except (ValueError, AttributeError):
        pass  # not JSON: keep the raw text as the message
    return upstream_error(status, error_type, message)


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


def has_word(text: str, word: str) -> bool:
    """True when `text` contains `word` as a whole whitespace-separated word (trailing punctuation aside)."""
    return word in (w.rstrip(".,;:!?)") for w in text.split())


def first_model(config: str):
    """The first provider's first model in a router's `config` (the JSON string it is given),
    as a `RouteDecision`; None when that provider has no models."""
    # Imported here: only the router world's bindings have this module.
    from wit_world.exports.router_api import RouteDecision

    try:
        cfg = json.loads(config)
    except ValueError as e:
        raise internal_error(f"config is not JSON: {e}")
    first = (cfg.get("Providers") or cfg.get("providers") or [None])[0]
    models = first.get("models") if isinstance(first, dict) else None
    if not first or not first.get("name") or not models:
        return None
    return RouteDecision(provider=first["name"], model=models[0])


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
