// js-router: a ccr router plugin written in JavaScript.
//
// It implements the `router` world of the contract in wit/. When the
// text of the last user message contains the word `#fast`, the request goes to the first
// provider in the config and that provider's first model; otherwise the router returns
// `none` and the host falls back to its built-in rules (default / background / think /
// longContext / webSearch / image).
//
// WIT -> JavaScript (componentize-js): `route-context` arrives as an object with camelCase
// fields (ctx.tokenCount, ctx.toolNames, ctx.sessionId is `undefined` when none), `body` is a
// Uint8Array, `option<route-decision>` is returned as the record or `undefined` (none), and an
// `err(plugin-error)` is returned by throwing a value whose `payload` is the variant
// `{ tag: 'invalid-request' | 'upstream' | 'internal', val }`.
import { log } from 'ccr:plugin/host@0.1.1';

const NAME = 'js-router';
const KEYWORD = '#fast';

class PluginError extends Error {
  constructor(tag, val) {
    super(typeof val === 'string' ? val : JSON.stringify(val));
    this.payload = { tag, val };
  }
}

/** The text of the last `user` message: a string, or its `text` blocks joined. */
function lastUserText(request) {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m || m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (Array.isArray(m.content)) {
      return m.content
        .filter((b) => b && b.type === 'text' && typeof b.text === 'string')
        .map((b) => b.text)
        .join('\n');
    }
    return '';
  }
  return '';
}

/** True when `text` contains `word` as a whole whitespace-separated word. */
function hasWord(text, word) {
  return text.split(/\s+/).some((w) => w.replace(/[.,;:!?)]+$/, '') === word);
}

export function metadata() {
  return {
    name: NAME,
    version: '0.1.0',
    kind: 'router',
    description: `Sends requests whose last user message says ${KEYWORD} to the first configured provider (JavaScript example)`,
  };
}

export const routerApi = {
  route(ctx, config, body) {
    let request;
    try {
      request = JSON.parse(new TextDecoder().decode(body));
    } catch (e) {
      throw new PluginError('invalid-request', `${NAME}: request body is not JSON: ${e.message}`);
    }
    if (!hasWord(lastUserText(request), KEYWORD)) return undefined; // none: built-in rules

    let cfg;
    try {
      cfg = JSON.parse(config);
    } catch (e) {
      throw new PluginError('internal', `${NAME}: config is not JSON: ${e.message}`);
    }
    const providers = cfg.Providers || cfg.providers || [];
    const first = providers[0];
    if (!first || !first.name || !Array.isArray(first.models) || first.models.length === 0) {
      log('warn', `${KEYWORD} requested but the config has no provider with models; using built-in rules`);
      return undefined;
    }
    log('info', `${KEYWORD} -> ${first.name},${first.models[0]} (builtin route was ${ctx.builtinRoute}, ${ctx.tokenCount} tokens)`);
    return { provider: first.name, model: first.models[0] };
  },
};
