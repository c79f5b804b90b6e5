// js-transformer: a ccr transformer plugin written in JavaScript (the `transformer` world of
// the contract in wit/). It clamps the request's `max_tokens` to the `max_tokens` option
// (default 4096) and adds `x-js-transformer: 1` to the provider's request. The helpers and
// the WIT -> JS mapping are in ccr.js (the file `ccr plugin new` vendors into a project).
import { log } from 'ccr:plugin/host@0.1.1';
import { intOption, parseJson, pluginInfo, toJson, transformer, withHeader } from '../../host/templates/js/ccr.js';

const DEFAULT_MAX_TOKENS = 4096;

export const metadata = pluginInfo('transformer', 'js-transformer', '0.1.0',
  'Clamps max_tokens to the max_tokens option and tags upstream requests (JavaScript example)');

// transformer() enables exactly the hooks defined here (request, upstream).
export const transformerApi = transformer({
  transformRequest(ctx, body) {
    const request = parseJson(body);
    const limit = intOption(ctx.target, 'max_tokens', DEFAULT_MAX_TOKENS);
    if (typeof request.max_tokens === 'number' && request.max_tokens > limit) {
      log('info', `clamping max_tokens ${request.max_tokens} -> ${limit} for ${ctx.target.provider},${ctx.target.model}`);
      request.max_tokens = limit;
    }
    return toJson(request);
  },
  transformUpstream: (ctx, request) => withHeader(request, 'x-js-transformer', '1'),
});
