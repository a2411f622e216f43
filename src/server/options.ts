/** Options of `createServerClient`, their defaults, and their one-time check. */
import { systemClock, type Clock } from '../upstream/clock';
import type { ServerFetch } from '../upstream/transport';
import { optionChecks, optionNames } from '../options/checks';

/** Options of `createServerClient`. Only `apiKey` is required. */
export interface ServerClientOptions {
  /** Your ODP/Zaius API key, sent as `x-api-key` (reads need the private key). Required. */
  apiKey: string;
  /**
   * Base URL of the API, e.g. a regional `https://api.eu1.odp.optimizely.com/v3`.
   * @default 'https://api.zaius.com/v3'
   */
  baseUrl?: string;
  /**
   * Most records in one upsert request, at most 500 (the API's cap).
   * @default 500
   */
  maxBatch?: number;
  /**
   * Largest upsert request body, in bytes (the emulator's limit; the API documents none).
   * @default 1048576
   */
  maxBodyBytes?: number;
  /**
   * Requests this client starts per second, retries included; under the API's 10 per account.
   * @default 8
   */
  requestsPerSecond?: number;
  /**
   * Further attempts after 408, 429, 5xx, a network error or a timeout.
   * @default 4
   */
  retries?: number;
  /**
   * Deadline of each attempt, in ms.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * The fetch to send with.
   * @default the global fetch
   */
  fetch?: ServerFetch;
  /**
   * Time source of the pacing.
   * @default Date.now and setTimeout
   */
  clock?: Clock;
  /**
   * Random draw of the retry backoff's full jitter, 0 to 1.
   * @default Math.random
   */
  random?: () => number;
}

/** Every default, in one place (the README's table is checked against it). */
export const defaults = {
  baseUrl: 'https://api.zaius.com/v3',
  maxBatch: 500,
  maxBodyBytes: 1024 * 1024,
  requestsPerSecond: 8,
  retries: 4,
  timeoutMs: 10_000,
  // Called bare: workerd refuses a fetch called as a method of another object.
  fetch: ((request) => globalThis.fetch(request)) as ServerFetch,
  clock: systemClock,
  random: Math.random,
} as const;

/** The API's own cap on records per upsert request. */
const MAX_BATCH = 500;

const check = optionChecks('idcapture/server');
const names = optionNames<ServerClientOptions>()(defaults, ['apiKey']);

function resolveBase(base: unknown) {
  let url: URL | undefined;
  try {
    url = new URL(String(base));
  } catch {
    // Reported below.
  }
  if (typeof base != 'string' || !url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    return check.fail('baseUrl', 'an http(s) URL without query, fragment or credentials');
  }
  return base.replace(/\/+$/, '');
}

/** Fills in defaults and checks every option once, so a bad configuration fails at start-up. */
export function resolveOptions(options: ServerClientOptions) {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture/server: createServerClient needs { apiKey }');
  check.known(options, names);
  // The key's value is never echoed, not even in this message.
  if (typeof options.apiKey != 'string' || !options.apiKey.trim()) check.fail('apiKey', 'a non-empty string (your API key)');
  const clock = options.clock ?? defaults.clock;
  if (typeof clock?.now != 'function' || typeof clock.sleep != 'function') check.fail('clock', '{ now(), sleep(ms) }');
  return {
    apiKey: options.apiKey,
    baseUrl: resolveBase(options.baseUrl ?? defaults.baseUrl),
    maxBatch: check.whole('maxBatch', options.maxBatch ?? defaults.maxBatch, 1, MAX_BATCH),
    maxBodyBytes: check.whole('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes, 1024, 2 ** 30),
    requestsPerSecond: check.range('requestsPerSecond', options.requestsPerSecond ?? defaults.requestsPerSecond, 0.01, 1000),
    retries: check.whole('retries', options.retries ?? defaults.retries, 0, 20),
    timeoutMs: check.whole('timeoutMs', options.timeoutMs ?? defaults.timeoutMs, 1, 2 ** 31 - 1),
    fetch: check.fn('fetch', options.fetch) ?? defaults.fetch,
    clock,
    random: check.fn('random', options.random) ?? defaults.random,
  };
}
