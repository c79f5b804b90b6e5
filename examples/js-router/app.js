// js-router: a ccr router plugin written in JavaScript (the `router` world of the contract in
// wit/). When the last user message contains the word `#fast`, the request goes to the first
// provider in the config and its first model; otherwise it returns `undefined` (WIT `none`)
// and the host's built-in rules decide. The helpers and the WIT -> JS mapping are in ccr.js.
import { log } from 'ccr:plugin/host@0.1.1';
import { firstModel, hasWord, lastUserText, parseJson, pluginInfo } from '../../host/templates/js/ccr.js';

const KEYWORD = '#fast';

export const metadata = pluginInfo('router', 'js-router', '0.1.0',
  `Sends requests whose last user message says ${KEYWORD} to the first configured provider (JavaScript example)`);

export const routerApi = {
  route(ctx, config, body) {
    if (!hasWord(lastUserText(parseJson(body)), KEYWORD)) return undefined;
    const target = firstModel(config);
    if (!target) {
      log('warn', `${KEYWORD} requested but the config has no provider with models; using built-in rules`);
      return undefined;
    }
    log('info', `${KEYWORD} -> ${target.provider},${target.model} (builtin route was ${ctx.builtinRoute}, ${ctx.tokenCount} tokens)`);
    return target;
  },
};
