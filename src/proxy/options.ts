/** The proxy's options, their defaults, and their one-time check in `createProxy`. */
import { DEFAULT_FIELDS, DEFAULT_IDENTIFIERS, checkField } from '../profile/rules';
import { resolveOrigins } from './cors';
import { resolveLimiters, type RateLimiter, type RateLimits, type Scope } from './rate-limit';
import { resolveCoalesce, type CoalesceOptions } from './coalesce';
import { systemClock, type Clock } from '../server/pacer';
import type { Reason } from './answers';
import type { FetchLike } from './upstream';
import { createVerifier, type VerifyOptions } from './verify';

/** What the `log` hook receives for each request: never an email, a body, an IP or the key. */
export interface LogEntry {
  status: number;
  /** The reason code of the answer, e.g. `'accepted'`, `'origin_not_allowed'`, `'upstream_busy'`. */
  reason: Reason;
  latencyMs: number;
  /** Attribute names of a valid batch. */
  attributes?: string[];
  /** Records in a valid batch. */
  records?: number;
  /**
   * Attribute names removed from the batch because `allowedAttributes` does not list them (names only); a name that
   * is not lower snake_case is never echoed and shows as `'<not lower snake_case>'`.
   */
  removed?: string[];
  /** Attribute names removed from records by the `verify.unverified` policy (names only). */
  reduced?: string[];
  /** Records that carried a valid identity token. */
  verified?: number;
  /** Bad records in a refused batch. */
  invalidRecords?: number;
  /** Which budget refused a `rate_limited` request. */
  scope?: Scope;
  /** The profiles API's status, when it answered. */
  upstreamStatus?: number;
  /** Upstream attempts made (1, or 2 after a retry), when sent on its own (`coalesce: false`). */
  attempts?: number;
}

/** Options of `createProxy`. `apiKey` and `allowedOrigins` are required. */
export interface ProxyOptions {
  /** The ODP/Zaius API key sent upstream as `x-api-key`. Required. Never appears in an answer or a log entry. */
  apiKey: string;
  /** Base URL of the profiles API; the proxy posts to `{upstream}/profiles`. Default `'https://api.zaius.com/v3'`. */
  upstream?: string;
  /** The one path served (exact match). Default `'/api/profiles'`. */
  path?: string;
  /** Origins allowed to post, each exactly `scheme://host[:port]`, or `'*'` for any. Required. */
  allowedOrigins: readonly string[] | '*';
  /**
   * Attribute names a record may carry; any other name is removed from its record (and named in the answer and the
   * log), never a reason to refuse the record. Default: the default customer fields plus `vuid`, `email` and `phone`.
   */
  allowedAttributes?: readonly string[];
  /** Largest body accepted, in bytes. Default 65536 (64 KiB). */
  maxBodyBytes?: number;
  /** Most records in one request, at most 500 (the API's own cap). Default 100. */
  maxBatch?: number;
  /**
   * Budgets per client IP, per vuid and global, or one `RateLimiter` for all three (keys `ip:…`, `vuid:…`,
   * `global`), or `false` for none. Omitted budgets keep their defaults: `{ ip: { limit: 60, period: 60 },
   * vuid: { limit: 30, period: 60 }, global: { limit: 8, period: 1 } }`, counted in memory.
   */
  rateLimit?: RateLimits | RateLimiter | false;
  /** Deadline for the upstream call, retry included, in milliseconds. Default 10000. */
  timeoutMs?: number;
  /** The fetch used for the upstream call. Default `globalThis.fetch`. */
  fetch?: FetchLike;
  /** Called once per request with what happened (no PII). Default: nothing is logged. */
  log?: (entry: LogEntry) => void;
  /**
   * Merges concurrent browser batches into upstream requests of up to `maxRecords` records, waiting at most
   * `maxWaitMs` (see `CoalesceOptions` for the backlog caps), or `false` to send each batch on its own under the
   * `global` budget. Default `{ maxWaitMs: 50, maxRecords: 500 }`.
   */
  coalesce?: CoalesceOptions | false;
  /** Upstream requests started per second when coalescing, evenly spaced, retries included. Default 8 (the API allows 10). */
  upstreamRps?: number;
  /**
   * A request header to take the client IP from, for a proxy in front of this one that sets it (e.g. `'x-real-ip'`;
   * for `'x-forwarded-for'` the last entry is used). Default `false`: only the adapter's `ctx.clientIp` is believed.
   */
  trustProxyHeader?: string | false;
  /**
   * Verified identity: `{ secret, unverified? }`. Records carrying a token from `signIdentity` may do what
   * `allowedAttributes` allows for the identity it names; others are reduced by the `unverified` policy. Default:
   * none, and then anyone who can reach the proxy can overwrite, clear or merge any profile by naming its email.
   */
  verify?: VerifyOptions;
  /**
   * Time of the in-memory budgets, the coalescing wait, the pace and the coalesced deadlines (`timeoutMs`), as
   * `{ now(), sleep(ms, signal?) }`, for tests that move time themselves.
   * @default `Date.now` and `setTimeout`
   */
  clock?: Clock;
}

/** Every default, in one place. */
export const defaults = {
  upstream: 'https://api.zaius.com/v3',
  path: '/api/profiles',
  allowedAttributes: [...new Set([...DEFAULT_FIELDS, ...DEFAULT_IDENTIFIERS])],
  maxBodyBytes: 64 * 1024,
  maxBatch: 100,
  rateLimit: { ip: { limit: 60, period: 60 }, vuid: { limit: 30, period: 60 }, global: { limit: 8, period: 1 } },
  timeoutMs: 10_000,
  trustProxyHeader: false,
  upstreamRps: 8,
  clock: systemClock,
} as const;

/** The upstream's own cap on records per request. */
const UPSTREAM_MAX_BATCH = 500;

const fail = (name: string, what: string): never => {
  throw new TypeError(`idcapture/proxy: option ${name} must be ${what}`);
};

const count = (name: string, value: number, max = Number.MAX_SAFE_INTEGER) => {
  if (!(Number.isInteger(value) && value > 0 && value <= max)) {
    throw new RangeError(`idcapture/proxy: option ${name} must be a whole number from 1 to ${max}`);
  }
  return value;
};

const rate = (value: number) => {
  if (!(typeof value == 'number' && value > 0 && value <= 1000)) throw new RangeError('idcapture/proxy: option upstreamRps must be a number above 0, at most 1000');
  return value;
};

function resolveUpstream(upstream: string) {
  let url: URL | undefined;
  try {
    url = new URL(upstream);
  } catch {
    // Reported below.
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    fail('upstream', 'an http(s) base URL without query, fragment or credentials');
  }
  return `${upstream.replace(/\/+$/, '')}/profiles`;
}

function resolveAttributes(names: unknown) {
  if (!Array.isArray(names) || !names.length) return fail('allowedAttributes', 'a non-empty list of field names');
  for (const name of names) {
    if (typeof name != 'string' || checkField(name, null) || name == 'constructor' || name == 'prototype') {
      fail('allowedAttributes', `a list of lower snake_case field names the profiles API accepts, not ${JSON.stringify(name)}`);
    }
  }
  return new Set<string>(names);
}

export type Config = ReturnType<typeof resolveOptions>;

/** Fills in defaults and checks every option once, so a bad configuration fails at start-up, not at the first visitor. */
export function resolveOptions(options: ProxyOptions) {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture/proxy: createProxy needs { apiKey, allowedOrigins }');
  // The key's value is never echoed, not even in this message.
  if (typeof options.apiKey != 'string' || !options.apiKey.trim()) fail('apiKey', 'a non-empty string (your API key)');
  const path = options.path ?? defaults.path;
  if (typeof path != 'string' || !path.startsWith('/')) fail('path', "a path starting with '/'");
  const trust = options.trustProxyHeader ?? defaults.trustProxyHeader;
  if (trust !== false && (typeof trust != 'string' || !/^[a-z0-9-]+$/i.test(trust))) fail('trustProxyHeader', 'a header name or false');
  if (options.fetch !== undefined && typeof options.fetch != 'function') fail('fetch', 'a function');
  if (options.log !== undefined && typeof options.log != 'function') fail('log', 'a function');
  const userFetch = options.fetch;
  const allowed = resolveAttributes(options.allowedAttributes ?? defaults.allowedAttributes);
  const clock = options.clock ?? defaults.clock;
  if (typeof clock?.now != 'function' || typeof clock.sleep != 'function') fail('clock', '{ now(), sleep(ms) }');
  return {
    apiKey: options.apiKey,
    url: resolveUpstream(options.upstream ?? defaults.upstream),
    path,
    origins: resolveOrigins(options.allowedOrigins),
    allowed,
    verify: createVerifier(options.verify, allowed),
    maxBodyBytes: count('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes),
    maxBatch: count('maxBatch', options.maxBatch ?? defaults.maxBatch, UPSTREAM_MAX_BATCH),
    limiters: resolveLimiters(options.rateLimit, defaults.rateLimit, () => clock.now()),
    timeoutMs: count('timeoutMs', options.timeoutMs ?? defaults.timeoutMs),
    // Looked up per call and called bare: workerd refuses a fetch called as a method of another object.
    fetch: userFetch ?? ((url: string, init: RequestInit) => globalThis.fetch(url, init)),
    log: options.log,
    trustProxyHeader: trust ? trust.toLowerCase() : undefined,
    coalesce: resolveCoalesce(options.coalesce),
    upstreamRps: rate(options.upstreamRps ?? defaults.upstreamRps),
    clock,
  };
}
