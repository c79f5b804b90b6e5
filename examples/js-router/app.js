// js-router: a ccr router plugin written in JavaScript (the `router` world of the contract in
// wit/). When the last user message contains the word `#fast`, the request goes to the first
// provider in the config and its first model; otherwise it returns `undefined` (WIT `none`)
// and the host's built-in rules decide. The helpers and the WIT -> JS mapping are in ccr.js.
import { log } from 'ccr:plugin/host@0.1.1';
import { internalError, lastUserText, parseJson } from '../../host/templates/js/ccr.js';

const KEYWORD = '#fast';

/** True when `text` contains `word` as a whole whitespace-separated word. */
const hasWord = (text, word) => text.split(/\s+/).some((w) => w.replace(/[.,;:!?)]+$/, '') === word);

export function metadata() {
  return {
    name: 'js-router',
    version: '0.1.0',
    kind: 'router',
    description: `Sends requests whose last user message says ${KEYWORD} to the first configured provider (JavaScript example)`,
  };
}

export const routerApi = {
  route(ctx, config, body) {
    if (!hasWord(lastUserText(parseJson(body)), KEYWORD)) return undefined;
    let cfg;
    try {
      cfg = JSON.parse(config);
    } catch (e) {
      throw internalError(`config is not JSON: ${e.message}`);
    }
    const first = (cfg.Providers || cfg.providers || [])[0];
    if (!first || !first.name || !Array.isArray(first.models) || first.models.length === 0) {
      log('warn', `${KEYWORD} requested but the config has no provider with models; using built-in rules`);
      return undefined;
    }
    log('info', `${KEYWORD} -> ${first.name},${first.models[0]} (builtin route was ${ctx.builtinRoute}, ${ctx.tokenCount} tokens)`);
    return { provider: first.name, model: first.models[0] };
  },
};
