// {{name}}: a ccr transformer plugin (JavaScript, built with componentize-js).
// The contract is in wit/ (worlds.wit names the worlds), world `transformer`. This one passes everything through;
// edit the hooks you need and switch them on in hooks().
//
// WIT -> JS: camelCase names; list<u8> = Uint8Array; option = value or undefined;
// variants = { tag, val }; flags = object of booleans; to return err(plugin-error), throw a
// value whose `payload` is { tag: 'invalid-request' | 'upstream' | 'internal', val }.
import { log } from 'ccr:plugin/host@{{contract}}';

class PluginError extends Error {
  constructor(tag, val) {
    super(typeof val === 'string' ? val : JSON.stringify(val));
    this.payload = { tag, val };
  }
}

export function metadata() {
  return { name: '{{name}}', version: '0.1.0', kind: 'transformer', description: 'A ccr transformer' };
}

export const transformerApi = {
  hooks() {
    return { request: true, upstream: false, response: false, streamEvent: false };
  },

  // The Anthropic Messages request (JSON bytes). ctx.target.options is this transformer's
  // options from the config's `use` chain, as a JSON string.
  transformRequest(ctx, body) {
    let request;
    try {
      request = JSON.parse(new TextDecoder().decode(body));
    } catch (e) {
      throw new PluginError('invalid-request', `{{name}}: body is not JSON: ${e.message}`);
    }
    log('debug', `request for ${ctx.target.provider},${ctx.target.model} (${ctx.route.tokenCount} tokens)`);
    return new TextEncoder().encode(JSON.stringify(request));
  },

  // The provider's wire request: { head: { method, url, headers: [[name, value]] }, body, framing }.
  transformUpstream(ctx, request) {
    return request;
  },

  transformResponse(ctx, body) {
    return body;
  },

  // One Anthropic SSE event { event, data } in, zero or more out.
  transformStreamEvent(ctx, event) {
    return [event];
  },
};
