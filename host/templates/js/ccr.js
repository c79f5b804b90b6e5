// ccr.js: helpers for ccr plugins written in JavaScript. `ccr plugin new` writes this file
// into every JavaScript project; it is plain JavaScript with no imports, so edit it freely.
//
// How WIT maps to JavaScript (componentize-js / jco): names become camelCase
// (`transform-request` -> transformRequest), list<u8> is a Uint8Array, option<T> is
// `undefined` or the value, variants are `{ tag, val }`, flags an object of booleans, and a
// `result` error is thrown: an exception's `payload` property is the `err` value (an Error
// without one traps, which the host reports as an internal plugin error).

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * The `metadata` export: `export const metadata = pluginInfo('transformer', 'my-plugin',
 * '0.1.0', 'What it does')` (kind: `provider`, `transformer` or `router`).
 */
export const pluginInfo = (kind, name, version, description) => () => ({ name, version, kind, description });

/** An exception that becomes `err(plugin-error)` when thrown from a hook. */
export class PluginError extends Error {
  constructor(tag, val) {
    super(typeof val === 'string' ? val : JSON.stringify(val));
    // `payload` (an own property) is what the bindings send back as the error value.
    this.payload = { tag, val };
  }
}

/** The request cannot be served as asked (the client sees 400 `invalid_request_error`). */
export const invalidRequest = (message) => new PluginError('invalid-request', message);

/** The plugin failed on its own (the client sees 500 `api_error` naming the plugin). */
export const internalError = (message) => new PluginError('internal', message);

/** Pass an upstream error on as it is (status and Anthropic error type, e.g. 429 `rate_limit_error`). */
export const upstreamError = (status, errorType, message) =>
  new PluginError('upstream', { status, errorType, message });

/**
 * The `upstream` error for a non-2xx answer: the body's Anthropic-style `error.type` and
 * `error.message` when it has them, else `api_error` and the body as text.
 */
export function upstreamErrorOf(status, body) {
  let errorType = 'api_error';
  let message = decoder.decode(body);
  try {
    const parsed = JSON.parse(message);
    if (parsed && parsed.error) {
      errorType = parsed.error.type || errorType;
      message = parsed.error.message || message;
    }
  } catch (_) {
    // not JSON: keep the raw text as the message
  }
  return upstreamError(status, errorType, message);
}

/** Parses JSON bytes (a request or response body); bad JSON is an invalid request. */
export function parseJson(bytes, what = 'request body') {
  try {
    return JSON.parse(decoder.decode(bytes));
  } catch (e) {
    throw invalidRequest(`${what} is not JSON: ${e.message}`);
  }
}

/** JSON bytes of `value`. */
export const toJson = (value) => encoder.encode(JSON.stringify(value));

/** This plugin's options from `config.json` (`target.options`) as an object (`{}` when unset). */
export function options(target) {
  if (!target.options) return {};
  let opts;
  try {
    opts = JSON.parse(target.options);
  } catch (e) {
    throw invalidRequest(`options are not JSON: ${e.message}`);
  }
  return opts && typeof opts === 'object' ? opts : {};
}

/** A positive integer option, or `fallback`. */
export function intOption(target, name, fallback) {
  const value = options(target)[name];
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** A copy of `request` (an upstream-request) with header `name` set to `value`, replacing any. */
export function withHeader(request, name, value) {
  const lower = name.toLowerCase();
  const headers = request.head.headers.filter(([n]) => n.toLowerCase() !== lower);
  headers.push([name, value]);
  return { ...request, head: { ...request.head, headers } };
}

/** The text of the last `user` message of an Anthropic request (its `text` blocks joined). */
export function lastUserText(request) {
  const messages = Array.isArray(request.messages) ? request.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (!m || m.role !== 'user') continue;
    if (typeof m.content === 'string') return m.content;
    if (!Array.isArray(m.content)) return '';
    return m.content
      .filter((b) => b && b.type === 'text' && typeof b.text === 'string')
      .map((b) => b.text)
      .join('\n');
  }
  return '';
}

/** True when `text` contains `word` as a whole whitespace-separated word (trailing punctuation aside). */
export const hasWord = (text, word) => text.split(/\s+/).some((w) => w.replace(/[.,;:!?)]+$/, '') === word);

/**
 * The first provider's first model in a router's `config` (the JSON string it is given),
 * as a route decision `{ provider, model }`; `undefined` when that provider has no models.
 */
export function firstModel(config) {
  let cfg;
  try {
    cfg = JSON.parse(config);
  } catch (e) {
    throw internalError(`config is not JSON: ${e.message}`);
  }
  const first = (cfg.Providers || cfg.providers || [])[0];
  if (!first || !first.name || !Array.isArray(first.models) || first.models.length === 0) return undefined;
  return { provider: first.name, model: first.models[0] };
}

/** The transformer hooks: WIT name in `hook-set` -> method name. */
const HOOKS = {
  request: 'transformRequest',
  upstream: 'transformUpstream',
  response: 'transformResponse',
  streamEvent: 'transformStreamEvent',
};

/**
 * The `transformerApi` export for an object with some of `transformRequest`,
 * `transformUpstream`, `transformResponse` and `transformStreamEvent`: `hooks()` lists the
 * ones it defines (the host calls only those) and the others pass their input through.
 */
export function transformer(impl) {
  const enabled = Object.fromEntries(
    Object.entries(HOOKS).map(([flag, method]) => [flag, typeof impl[method] === 'function']),
  );
  return {
    transformRequest: (ctx, body) => body,
    transformUpstream: (ctx, request) => request,
    transformResponse: (ctx, body) => body,
    transformStreamEvent: (ctx, event) => [event],
    ...impl,
    hooks: () => enabled,
  };
}
