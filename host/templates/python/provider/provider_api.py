"""The `stream-translator` resource of {{name}} (componentize-py finds it here by name)."""
from wit_world.exports import provider_api
from wit_world.imports import types


class StreamTranslator(provider_api.StreamTranslator):
    """Translates one streamed answer; the host feeds it every upstream event in order."""

    def __init__(self, target: provider_api.ProviderTarget) -> None:
        self.target = target

    def feed(self, event: types.UpstreamEvent) -> list[types.SseEvent]:
        return [types.SseEvent(event=event.event or "message", data=event.data)]

    def finish(self) -> list[types.SseEvent]:
        return []  # an Anthropic upstream already sent message_stop
