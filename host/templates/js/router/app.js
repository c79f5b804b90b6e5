// {{name}}: a ccr router plugin (JavaScript, built with componentize-js).
// The contract is in wit/ (worlds.wit names the worlds), world `router`. This one always returns `undefined`
// (WIT `none`), so the built-in rules decide; return { provider, model } to pick a target.
//
// ctx: { model, tokenCount, thinking, stream, toolNames, hasWebSearch, hasImages,
//        messageCount, sessionId?, previousInputTokens?, builtinRoute }
// config: the whole config as a JSON string (secrets removed); body: the request bytes.
import { log } from 'ccr:plugin/host@{{contract}}';
// ./ccr.js has more helpers: parseJson, lastUserText, hasWord, firstModel, invalidRequest, ...
import { pluginInfo } from './ccr.js';

export const metadata = pluginInfo('router', '{{name}}', '0.1.0', 'A ccr router');

export const routerApi = {
  route(ctx, config, body) {
    log('debug', `built-in rules would pick ${ctx.builtinRoute} for ${ctx.tokenCount} tokens`);
    return undefined;
  },
};
