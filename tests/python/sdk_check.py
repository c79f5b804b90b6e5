#!/usr/bin/env python3
"""The real Anthropic Python SDK against a running ccr proxy (with the test mock upstream
behind it), checking that every answer parses into the SDK's own types.

    python sdk_check.py BASE_URL [--provider mock] [--only NAME[,NAME...]]

BASE_URL is the proxy (``http://127.0.0.1:PORT``, what ``ANTHROPIC_BASE_URL`` would be). Models
are sent as ``<provider>,<mock model>`` (``mock,text``, ``mock,tools``...), which ccr routes to
that provider and model directly, so the mock's behaviour is picked per request (see
tests/src/mock/mod.rs).

Every check runs even when an earlier one failed. The last line on stdout is a JSON summary
``{"sdk": VERSION, "passed": [...], "failed": {"name": "why", ...}}``; the exit status is 0
only when every check passed (2 for a usage error).
"""

from __future__ import annotations

import json
import sys
import time
import traceback

import anthropic

TEXT_ANSWER = "Hello from mock"
REASONING_TEXT = "Let me think about this."

TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
    {
        "name": "get_time",
        "description": "Current time in a time zone.",
        "input_schema": {
            "type": "object",
            "properties": {"tz": {"type": "string"}},
            "required": ["tz"],
        },
    },
]

EXPECTED_TOOL_CALLS = [("get_weather", {"city": "Paris"}), ("get_time", {"tz": "UTC"})]

MESSAGES = [{"role": "user", "content": "Hi there"}]


class CheckFailed(AssertionError):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def dump(value) -> str:
    """A compact, readable rendering of an SDK object for failure messages."""
    try:
        return json.dumps(value.model_dump(mode="json"), separators=(",", ":"))[:2000]
    except Exception:  # noqa: BLE001 - best effort
        return repr(value)[:2000]


def block_types(message) -> list[str]:
    return [block.type for block in message.content]


def check_message_envelope(message, model: str) -> None:
    expect(message.type == "message", f"type {message.type!r}")
    expect(message.role == "assistant", f"role {message.role!r}")
    expect(isinstance(message.id, str) and message.id, f"id {message.id!r}")
    # ccr reports the model it routed to ("text"); echoing the requested "mock,text" is fine too.
    routed = model.split(",", 1)[-1]
    expect(message.model in (model, routed), f"model {message.model!r}, want {routed!r}")
    expect(message.usage.input_tokens > 0, f"usage.input_tokens {message.usage.input_tokens}")
    expect(message.usage.output_tokens > 0, f"usage.output_tokens {message.usage.output_tokens}")


def check_text(message, model: str) -> None:
    check_message_envelope(message, model)
    expect(block_types(message) == ["text"], f"blocks {block_types(message)}: {dump(message)}")
    expect(message.content[0].text == TEXT_ANSWER, f"text {message.content[0].text!r}")
    expect(message.stop_reason == "end_turn", f"stop_reason {message.stop_reason!r}")


def check_tools(message, model: str) -> None:
    check_message_envelope(message, model)
    expect(
        block_types(message) == ["tool_use", "tool_use"],
        f"blocks {block_types(message)}: {dump(message)}",
    )
    calls = [(block.name, block.input) for block in message.content]
    expect(calls == EXPECTED_TOOL_CALLS, f"tool calls {calls!r}")
    for block in message.content:
        expect(isinstance(block.input, dict), f"input is a {type(block.input).__name__}, not a dict")
        expect(isinstance(block.id, str) and block.id, f"tool_use id {block.id!r}")
    ids = [block.id for block in message.content]
    expect(len(set(ids)) == len(ids), f"tool_use ids not unique: {ids}")
    expect(message.stop_reason == "tool_use", f"stop_reason {message.stop_reason!r}")


def check_reasoning(message, model: str) -> None:
    check_message_envelope(message, model)
    expect(
        block_types(message) == ["thinking", "text"],
        f"blocks {block_types(message)}: {dump(message)}",
    )
    thinking, text = message.content
    expect(thinking.thinking == REASONING_TEXT, f"thinking {thinking.thinking!r}")
    expect(
        isinstance(thinking.signature, str) and thinking.signature,
        f"thinking signature {thinking.signature!r}",
    )
    expect(text.text == TEXT_ANSWER, f"text {text.text!r}")
    expect(message.stop_reason == "end_turn", f"stop_reason {message.stop_reason!r}")


class Checks:
    def __init__(self, client: anthropic.Anthropic, provider: str):
        self.client = client
        self.provider = provider

    def model(self, name: str) -> str:
        return f"{self.provider},{name}"

    def create(self, name: str, **extra):
        return self.client.messages.create(
            model=self.model(name), max_tokens=256, messages=MESSAGES, **extra
        )

    # ---- non-streamed ----------------------------------------------------------------------

    def create_text(self):
        message = self.create("text")
        expect(isinstance(message, anthropic.types.Message), f"got a {type(message).__name__}")
        check_text(message, self.model("text"))

    def create_tools(self):
        check_tools(self.create("tools", tools=TOOLS), self.model("tools"))

    def create_reasoning(self):
        message = self.create("reasoning", thinking={"type": "enabled", "budget_tokens": 1024})
        check_reasoning(message, self.model("reasoning"))

    def create_with_raw_response(self):
        raw = self.client.messages.with_raw_response.create(
            model=self.model("text"), max_tokens=64, messages=MESSAGES
        )
        expect(raw.status_code == 200, f"status {raw.status_code}")
        content_type = raw.headers.get("content-type", "")
        expect(content_type.startswith("application/json"), f"content-type {content_type!r}")
        check_text(raw.parse(), self.model("text"))

    # ---- streamed --------------------------------------------------------------------------

    def stream_text(self):
        with self.client.messages.stream(
            model=self.model("text"), max_tokens=256, messages=MESSAGES
        ) as stream:
            pieces = list(stream.text_stream)
            message = stream.get_final_message()
        expect("".join(pieces) == TEXT_ANSWER, f"text_stream gave {pieces!r}")
        expect(len(pieces) >= 2, f"text_stream gave one piece only: {pieces!r} (not streamed?)")
        check_text(message, self.model("text"))

    def stream_tools(self):
        with self.client.messages.stream(
            model=self.model("tools"), max_tokens=256, messages=MESSAGES, tools=TOOLS
        ) as stream:
            events = [event.type for event in stream]
            message = stream.get_final_message()
        check_tools(message, self.model("tools"))
        expect("input_json" in events, f"no input_json events: {events}")
        expect(events.count("content_block_stop") == 2, f"events {events}")

    def stream_reasoning(self):
        with self.client.messages.stream(
            model=self.model("reasoning"),
            max_tokens=2048,
            messages=MESSAGES,
            thinking={"type": "enabled", "budget_tokens": 1024},
        ) as stream:
            events = [event.type for event in stream]
            message = stream.get_final_message()
        check_reasoning(message, self.model("reasoning"))
        expect("thinking" in events, f"no thinking events: {events}")
        expect("signature" in events, f"no signature event: {events}")

    def stream_raw_events(self):
        """`stream=True` on create: the raw event sequence of the Anthropic protocol."""
        stream = self.client.messages.create(
            model=self.model("text"), max_tokens=64, messages=MESSAGES, stream=True
        )
        types = [event.type for event in stream]
        expect(types[0] == "message_start", f"first event {types[:1]}")
        expect(types[-2:] == ["message_delta", "message_stop"], f"last events {types[-2:]}")
        expect(types.count("content_block_start") == 1, f"events {types}")
        expect(types.count("content_block_stop") == 1, f"events {types}")

    # ---- errors ----------------------------------------------------------------------------

    def expect_status_error(self, model: str, cls, status: int, stream: bool):
        try:
            if stream:
                with self.client.messages.stream(
                    model=self.model(model), max_tokens=64, messages=MESSAGES
                ) as s:
                    s.until_done()
            else:
                self.create(model)
        except cls as err:
            expect(err.status_code == status, f"status {err.status_code}, want {status}")
            body = err.body
            expect(isinstance(body, dict), f"error body {body!r}")
            expect(body.get("type") == "error", f"error body {body!r}")
            expect(isinstance(body.get("error"), dict), f"error body {body!r}")
            expect(bool(body["error"].get("message")), f"no error message: {body!r}")
            return err
        except Exception as err:  # noqa: BLE001
            raise CheckFailed(f"raised {type(err).__name__} ({err}), want {cls.__name__}") from err
        raise CheckFailed(f"no exception, want {cls.__name__}")

    def error_429(self):
        err = self.expect_status_error("error-429", anthropic.RateLimitError, 429, stream=False)
        expect(err.body["error"].get("type") == "rate_limit_error", f"error body {err.body!r}")

    def error_429_stream(self):
        self.expect_status_error("error-429", anthropic.RateLimitError, 429, stream=True)

    def error_500(self):
        err = self.expect_status_error("error-500", anthropic.InternalServerError, 500, stream=False)
        expect(err.body["error"].get("type") == "api_error", f"error body {err.body!r}")

    def error_500_stream(self):
        self.expect_status_error("error-500", anthropic.InternalServerError, 500, stream=True)

    def error_400(self):
        err = self.expect_status_error("error-400", anthropic.BadRequestError, 400, stream=False)
        expect(err.body["error"].get("type") == "invalid_request_error", f"error body {err.body!r}")

    def midstream_error(self):
        pieces = []
        try:
            with self.client.messages.stream(
                model=self.model("midstream-error"), max_tokens=64, messages=MESSAGES
            ) as stream:
                for text in stream.text_stream:
                    pieces.append(text)
        except anthropic.APIError as err:
            expect(
                "Hello" in "".join(pieces),
                f"the text before the error should arrive first, got {pieces!r}",
            )
            expect(str(err), "empty error message")
            # An `event: error` in the stream: the SDK raises it with the event as the body.
            body = getattr(err, "body", None)
            expect(
                isinstance(body, dict) and body.get("type") == "error",
                f"{type(err).__name__} body {body!r}, want the Anthropic error event",
            )
            return
        except Exception as err:  # noqa: BLE001
            raise CheckFailed(
                f"raised {type(err).__name__} ({err}), want an anthropic.APIError"
            ) from err
        raise CheckFailed(f"the stream ended without an error; text {pieces!r}")

    def midstream_error_non_stream(self):
        """The non-streamed `midstream-error` is a 200 whose body is an OpenAI error object."""
        self.expect_status_error("midstream-error", anthropic.InternalServerError, 500, stream=False)

    # ---- count_tokens ----------------------------------------------------------------------

    def count_tokens(self):
        small = self.client.messages.count_tokens(model=self.model("text"), messages=MESSAGES)
        expect(isinstance(small.input_tokens, int), f"input_tokens {small.input_tokens!r}")
        expect(small.input_tokens > 0, f"input_tokens {small.input_tokens}")
        big = self.client.messages.count_tokens(
            model=self.model("text"),
            system="You are a helpful assistant. " * 50,
            messages=MESSAGES,
            tools=TOOLS,
        )
        expect(
            big.input_tokens > small.input_tokens,
            f"a request with a long system prompt and tools counts {big.input_tokens}, "
            f"not more than the bare one ({small.input_tokens})",
        )


ALL_CHECKS = [
    "create_text",
    "create_tools",
    "create_reasoning",
    "create_with_raw_response",
    "stream_text",
    "stream_tools",
    "stream_reasoning",
    "stream_raw_events",
    "error_429",
    "error_429_stream",
    "error_500",
    "error_500_stream",
    "error_400",
    "midstream_error",
    "midstream_error_non_stream",
    "count_tokens",
]


def main(argv: list[str]) -> int:
    args = argv[1:]
    provider = "mock"
    only = None
    base_url = None
    while args:
        arg = args.pop(0)
        if arg == "--provider" and args:
            provider = args.pop(0)
        elif arg == "--only" and args:
            only = args.pop(0).split(",")
        elif base_url is None and not arg.startswith("-"):
            base_url = arg
        else:
            print(__doc__, file=sys.stderr)
            return 2
    if base_url is None:
        print(__doc__, file=sys.stderr)
        return 2

    client = anthropic.Anthropic(base_url=base_url, api_key="x", max_retries=0, timeout=30.0)
    checks = Checks(client, provider)
    names = only or ALL_CHECKS
    passed: list[str] = []
    failed: dict[str, str] = {}
    for name in names:
        started = time.monotonic()
        try:
            getattr(checks, name)()
        except Exception as err:  # noqa: BLE001 - report and go on
            failed[name] = f"{type(err).__name__}: {err}"
            print(f"FAIL {name}: {type(err).__name__}: {err}", flush=True)
            if not isinstance(err, CheckFailed):
                traceback.print_exc()
            continue
        passed.append(name)
        print(f"ok   {name} ({(time.monotonic() - started) * 1000:.0f} ms)", flush=True)
    summary = {"sdk": anthropic.__version__, "passed": passed, "failed": failed}
    print(json.dumps(summary), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
