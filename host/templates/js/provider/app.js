// {{name}}: a ccr provider plugin (JavaScript, built with componentize-js).
// The contract is in wit/ (worlds.wit names the worlds), world `provider`. This one talks to an upstream that
// already speaks the Anthropic Messages API: it posts the request as-is (with the model
// replaced) to the provider's api_base_url and returns the answer as-is. Translate the
// body in buildRequest / parseResponse / StreamTranslator to support another wire format.
import { log } from 'ccr:plugin/host@{{contract}}';
import { parseJson, pluginInfo, toJson, upstreamErrorOf } from './ccr.js';

export const metadata = pluginInfo('provider', '{{name}}', '0.1.0', 'A ccr provider');

/** Translates one streamed answer; the host feeds it every upstream event in order. */
class StreamTranslator {
  constructor(target) {
    this.target = target; // { target: { provider, baseUrl, model, options }, apiKey }
  }
  // event: { event?: string, data: Uint8Array } -> [{ event: string, data: Uint8Array }]
  feed(event) {
    return [{ event: event.event ?? 'message', data: event.data }];
  }
  // The upstream ended; an Anthropic upstream already sent message_stop.
  finish() {
    return [];
  }
}

export const providerApi = {
  buildRequest(target, body) {
    const request = parseJson(body, 'request');
    request.model = target.target.model;
    const headers = [
      ['content-type', 'application/json'],
      ['anthropic-version', '2023-06-01'],
    ];
    if (target.apiKey) headers.push(['x-api-key', target.apiKey]);
    return {
      head: { method: 'POST', url: target.target.baseUrl, headers },
      body: toJson(request),
      framing: { tag: 'sse' },
    };
  },

  parseResponse(target, status, body) {
    if (status < 200 || status > 299) {
      log('warn', `upstream answered ${status}`);
      // The answer's Anthropic-style error type and message (else api_error and the text).
      throw upstreamErrorOf(status, body);
    }
    return body;
  },

  StreamTranslator,
};
