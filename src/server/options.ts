/** Options of `createServerClient`, their defaults, and their one-time check. */
import { systemClock, type Clock } from './pacer';
import type { ServerFetch } from './transport';

/** Options of `createServerClient`. Only `apiKey` is required. */
export interface ServerClientOptions {
  /** Your ODP/Zaius API key, sent as `x-api-key` (reads need the private key). Required. */
  apiKey: string;
  /** Base URL of the API, e.g. a regional `https://api.eu1.odp.optimizely.com/v3`. Default `'https://api.zaius.com/v3'`. */
  baseUrl?: string;
  /** Most records in one upsert request, at most 500 (the API's cap). Default 500. */
  maxBatch?: number;
  /** Largest upsert request body, in bytes. Default 1048576 (the emulator's limit; the API documents none). */
  maxBodyBytes?: number;
  /** Requests this client starts per second, retries included. Default 8, under the API's 10 per account. */
  requestsPerSecond?: number;
  /** Further attempts after 408, 429, 5xx, a network error or a timeout. Default 4. */
  retries?: number;
  /** Deadline of each attempt, in ms. Default 10000. */
  timeoutMs?: number;
  /** The fetch to send with. Default `globalThis.fetch`. */
  fetch?: ServerFetch;
  /** Time source of the pacing. Default `Date.now` and `setTimeout`. */
  clock?: Clock;
  /** Random draw of the retry backoff's full jitter, 0 to 1. Default `Math.random`. */
  random?: () => number;
}

/** Every default, in one place. */
export const defaults = {
  baseUrl: 'https://api.zaius.com/v3',
  maxBatch: 500,
  maxBodyBytes: 1024 * 1024,
  requestsPerSecond: 8,
  retries: 4,
  timeoutMs: 10_000,
} as const;

const MAX_BATCH = 500;

const fail = (name: string, what: string): never => {
  throw new TypeError(`idcapture/server: option ${name} must be ${what}`);
};

const range = (name: string, value: number, min: number, max: number, integer = true) => {
  if (typeof value != 'number' || !(value >= min && value <= max) || (integer && !Number.isInteger(value))) {
    throw new RangeError(`idcapture/server: option ${name} must be a${integer ? ' whole' : ''} number from ${min} to ${max}`);
  }
  return value;
};

const fn = <T>(name: string, value: T | undefined, fallback: T): T => {
  if (value !== undefined && typeof value != 'function') fail(name, 'a function');
  return value ?? fallback;
};

function resolveBase(base: unknown) {
  let url: URL | undefined;
  try {
    url = new URL(String(base));
  } catch {
    // Reported below.
  }
  if (typeof base != 'string' || !url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    return fail('baseUrl', 'an http(s) URL without query, fragment or credentials');
  }
  return base.replace(/\/+$/, '');
}

export type Config = ReturnType<typeof resolveOptions>;

/** Fills in defaults and checks every option once, so a bad configuration fails at start-up. */
export function resolveOptions(options: ServerClientOptions) {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture/server: createServerClient needs { apiKey }');
  // The key's value is never echoed, not even in this message.
  if (typeof options.apiKey != 'string' || !options.apiKey.trim()) fail('apiKey', 'a non-empty string (your API key)');
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now != 'function' || typeof clock.sleep != 'function') fail('clock', '{ now(), sleep(ms) }');
  return {
    apiKey: options.apiKey,
    baseUrl: resolveBase(options.baseUrl ?? defaults.baseUrl),
    maxBatch: range('maxBatch', options.maxBatch ?? defaults.maxBatch, 1, MAX_BATCH),
    maxBodyBytes: range('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes, 1024, 2 ** 30),
    requestsPerSecond: range('requestsPerSecond', options.requestsPerSecond ?? defaults.requestsPerSecond, 0.01, 1000, false),
    retries: range('retries', options.retries ?? defaults.retries, 0, 20),
    timeoutMs: range('timeoutMs', options.timeoutMs ?? defaults.timeoutMs, 1, 2 ** 31 - 1),
    fetch: fn('fetch', options.fetch, (request: Request) => globalThis.fetch(request)),
    clock,
    random: fn('random', options.random, Math.random),
  };
}
