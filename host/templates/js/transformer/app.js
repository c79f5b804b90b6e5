// {{name}}: a ccr transformer plugin (JavaScript, built with componentize-js).
// The contract is in wit/ (worlds.wit names the worlds), world `transformer`; ccr.js has
// the helpers and the WIT -> JS mapping. This one passes everything through: define the
// hooks you need; `transformer()` switches on exactly those and passes the rest through.
import { log } from 'ccr:plugin/host@{{contract}}';
import { parseJson, pluginInfo, toJson, transformer } from './ccr.js';

export const metadata = pluginInfo('transformer', '{{name}}', '0.1.0', 'A ccr transformer');

export const transformerApi = transformer({
  // The Anthropic Messages request (JSON bytes). options(ctx.target) (from ./ccr.js) is
  // this transformer's options from the config's `use` chain.
  transformRequest(ctx, body) {
    const request = parseJson(body);
    log('debug', `request for ${ctx.target.provider},${ctx.target.model} (${ctx.route.tokenCount} tokens)`);
    return toJson(request);
  },
  // Also available: transformUpstream(ctx, request) (the provider's wire request),
  // transformResponse(ctx, body), transformStreamEvent(ctx, event) -> [events].
});
