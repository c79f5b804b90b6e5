// js-transformer: a ccr transformer plugin written in JavaScript.
//
// It implements the `transformer` world of the contract in wit/:
//   - transform-request clamps the Anthropic request's `max_tokens` to the `max_tokens`
//     option (default 4096);
//   - transform-upstream adds the header `x-js-transformer: 1` to the provider's request;
//   - the other two hooks are not enabled, so the host never calls them.
//
// How WIT maps to JavaScript (componentize-js / jco conventions):
//   - names become camelCase: `transform-request` -> transformRequest, `base-url` -> baseUrl;
//   - the exported interface `transformer-api` is an exported object `transformerApi`,
//     the world-level function `metadata` a plain exported function;
//   - list<u8> is a Uint8Array, tuple<string,string> a 2-element array, option<T> is
//     `undefined` (none) or the value, enums are their WIT names as strings ('transformer'),
//     variants are `{ tag: 'wit-case-name', val: payload }`;
//   - flags are an object of booleans keyed by camelCase flag names;
//   - result<T, E>: return T for `ok`; throw to return `err`. The thrown value's `payload`
//     property (or the thrown value itself when it is not an Error) is the `err` payload.
//     An Error without `payload` is NOT converted: it traps, and the host reports an
//     internal plugin error.
import { log } from 'ccr:plugin/host@0.1.1';

const NAME = 'js-transformer';
const DEFAULT_MAX_TOKENS = 4096;

/** An exception that becomes `err(plugin-error)` when thrown from a hook. */
class PluginError extends Error {
  constructor(tag, val) {
    super(typeof val === 'string' ? val : JSON.stringify(val));
    // `payload` (an own property) is what the bindings send back as the error value.
    this.payload = { tag, val };
  }
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function parseOptions(target) {
  if (!target.options) return {};
  try {
    const opts = JSON.parse(target.options);
    return opts && typeof opts === 'object' ? opts : {};
  } catch (e) {
    throw new PluginError('invalid-request', `${NAME}: options are not JSON: ${e.message}`);
  }
}

export function metadata() {
  return {
    name: NAME,
    version: '0.1.0',
    kind: 'transformer',
    description: 'Clamps max_tokens to the max_tokens option and tags upstream requests (JavaScript example)',
  };
}

export const transformerApi = {
  hooks() {
    return { request: true, upstream: true, response: false, streamEvent: false };
  },

  transformRequest(ctx, body) {
    let request;
    try {
      request = JSON.parse(decoder.decode(body));
    } catch (e) {
      throw new PluginError('invalid-request', `${NAME}: request body is not JSON: ${e.message}`);
    }
    const opts = parseOptions(ctx.target);
    const limit = Number.isInteger(opts.max_tokens) && opts.max_tokens > 0 ? opts.max_tokens : DEFAULT_MAX_TOKENS;
    if (typeof request.max_tokens === 'number' && request.max_tokens > limit) {
      log('info', `clamping max_tokens ${request.max_tokens} -> ${limit} for ${ctx.target.provider},${ctx.target.model}`);
      request.max_tokens = limit;
    }
    return encoder.encode(JSON.stringify(request));
  },

  transformUpstream(ctx, request) {
    const headers = request.head.headers.filter(([name]) => name.toLowerCase() !== 'x-js-transformer');
    headers.push(['x-js-transformer', '1']);
    return { ...request, head: { ...request.head, headers } };
  },

  // Not enabled in hooks(), so never called; kept as pass-throughs for completeness.
  transformResponse(ctx, body) {
    return body;
  },

  transformStreamEvent(ctx, event) {
    return [event];
  },
};
