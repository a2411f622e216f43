/** The proxy's options, their defaults, and their one-time check in `createProxy`. */
import { DEFAULT_FIELDS, DEFAULT_IDENTIFIERS, checkField } from '../profile/rules';
import { resolveOrigins } from './cors';
import { resolveLimiters, type RateLimiter, type RateLimits, type Scope } from './rate-limit';
import { defaults as coalesceDefaults, resolveCoalesce, UPSTREAM_MAX_BATCH, type CoalesceOptions } from './coalesce';
import { systemClock, type Clock } from '../upstream/clock';
import type { Reason } from './answers';
import type { FetchLike } from './upstream';
import { createVerifier, type VerifyOptions } from './verify';
import { optionChecks, optionNames } from '../options/checks';
import { resolveServerCookie, type ServerCookieOptions } from './server-cookie';
import { resolveShared, type Connect, type SharedOptions } from './shared/store';
import { createMemoryCaptureTimes } from './newest-write';
import { createSharedCaptureTimes } from './shared/capture-times';

/** What the `log` hook receives for each request: never an email, a body, an IP or the key. */
export interface LogEntry {
  status: number;
  /** The reason code of the answer, e.g. `'accepted'`, `'origin_not_allowed'`, `'upstream_busy'`. */
  reason: Reason;
  /** On `origin_not_allowed`: the refused `Origin` header (`'(none)'` when missing), at most 100 characters. */
  origin?: string;
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
  /**
   * Attribute names taken out of records because a write captured later had already been forwarded for the same
   * identity (names only): the newest write wins by capture time, not arrival.
   */
  stale?: string[];
  /** Bad records in a refused batch. */
  invalidRecords?: number;
  /** Which budget refused a `rate_limited` request. */
  scope?: Scope;
  /** The profiles API's status, when it answered. */
  upstreamStatus?: number;
  /** Upstream requests made for the batch that carried it (1, 2 after a retry), when it was sent. */
  attempts?: number;
  /**
   * With the `shared` option: `'redis'` when pace and budgets were shared, `'fallback'` when Redis was down or slow
   * and this process counted alone (the metric to alert on).
   */
  shared?: 'redis' | 'fallback';
}

/** Options of `createProxy`. `apiKey` and `allowedOrigins` are required. */
export interface ProxyOptions {
  /** The ODP/Zaius API key sent upstream as `x-api-key`. Required. Never appears in an answer or a log entry. */
  apiKey: string;
  /**
   * Base URL of the profiles API; the proxy posts to `{upstream}/profiles`.
   * @default 'https://api.zaius.com/v3'
   */
  upstream?: string;
  /**
   * The one path served (exact match).
   * @default '/api/profiles'
   */
  path?: string;
  /** Origins allowed to post, each exactly `scheme://host[:port]`, or `'*'` for any. Required. */
  allowedOrigins: readonly string[] | '*';
  /**
   * Attribute names a record may carry; any other name is removed from its record (and named in the answer and the
   * log), never a reason to refuse the record.
   * @default the default customer fields plus `vuid`, `email` and `phone`
   */
  allowedAttributes?: readonly string[];
  /**
   * Largest body accepted, in bytes.
   * @default 65536 (64 KiB)
   */
  maxBodyBytes?: number;
  /**
   * Most records in one request, at most 500 (the API's own cap).
   * @default 100
   */
  maxBatch?: number;
  /**
   * Budgets of records per client IP and per vuid, and of requests globally, or one `RateLimiter` for all three
   * (keys `ip:…`, `vuid:…`, `global`), or `false` for none. Omitted budgets keep their defaults, counted in memory.
   * @default { ip: { limit: 300, period: 60 }, vuid: { limit: 100, period: 60 }, global: { limit: 8, period: 1 } }
   */
  rateLimit?: RateLimits | RateLimiter | false;
  /**
   * A browser request's deadline, in milliseconds: its wait for a batch, the upstream call and its retry.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * The fetch used for the upstream call.
   * @default the global fetch
   */
  fetch?: FetchLike;
  /**
   * Called once per request with what happened (no PII).
   * @default undefined (nothing is logged)
   */
  log?: (entry: LogEntry) => void;
  /**
   * Merges concurrent browser batches into upstream requests of up to `maxRecords` records, waiting at most
   * `maxWaitMs` (see `CoalesceOptions` for the backlog caps), or `false` to send each batch as its own upstream
   * request, at once, under the `global` budget and the same pace.
   * @default { maxWaitMs: 50, maxRecords: 500, maxPendingRecords: 20000, maxPendingBytes: 8388608 }
   */
  coalesce?: CoalesceOptions | false;
  /**
   * Upstream requests started per second, evenly spaced, retries included (the API allows 10).
   * @default 8
   */
  upstreamRps?: number;
  /**
   * A request header to take the client IP from, for a proxy in front of this one that sets it (e.g. `'x-real-ip'`;
   * for `'x-forwarded-for'` the last entry is used). `false`: only the adapter's `ctx.clientIp` is believed.
   * @default false
   */
  trustProxyHeader?: string | false;
  /**
   * Verified identity: `{ secret, unverified? }`. Records carrying a token from `signIdentity` may do what
   * `allowedAttributes` allows for the identity it names; others are reduced by the `unverified` policy. Omitted,
   * every record is reduced by the default policy. `false` lets every record write everything (a start-up warning
   * says so): anyone who can reach the proxy could then overwrite, clear or merge any profile by naming its email.
   * @default undefined (every record reduced by the default unverified policy)
   */
  verify?: VerifyOptions | false;
  /**
   * Oldest record accepted, in days from its capture (the client's `age` on it, corrected for the browser's clock):
   * an older one is refused as invalid (`record expired`), and the client drops it. Capture times are remembered this
   * long to keep the newest write per attribute (see docs/links-and-order.md).
   * @default 30
   */
  maxAgeDays?: number;
  /**
   * Time of the in-memory budgets, the coalescing wait, the pace and the deadlines (`timeoutMs`), and the proxy's
   * receive time that capture times are reckoned from, as
   * `{ now(), sleep(ms, signal?) }`, for tests that move time themselves.
   * @default `Date.now` and `setTimeout`
   */
  clock?: Clock;
  /**
   * The HttpOnly server twin of the vuid cookie, which survives Safari's 7-day limit on script-writable storage:
   * `true` (or options) sets it on accepted upserts of a consenting visitor, restores the script-readable cookie from
   * it on every answer, and serves `DELETE {path}` to clear it (the client's call on a denial and on `reset()`). Only
   * for a proxy on the page's own origin: the browser sends no cookie to another.
   * @default false
   */
  serverCookie?: ServerCookieOptions | boolean;
  /**
   * One pace and one set of budgets for every process of the account, through Redis: `{ redis: url | client,
   * expectedInstances?, timeoutMs?, retryMs?, prefix? }` (see `SharedOptions`). Node only (not in a Worker: use the
   * Durable Object there).
   * @default undefined (each process paces and counts alone)
   */
  shared?: SharedOptions;
}

/** Every default, in one place (the README's table is checked against it). */
export const defaults = {
  upstream: 'https://api.zaius.com/v3',
  path: '/api/profiles',
  allowedAttributes: [...new Set([...DEFAULT_FIELDS, ...DEFAULT_IDENTIFIERS])],
  maxBodyBytes: 64 * 1024,
  maxBatch: 100,
  // Records a minute. A visitor sends a few records a page; 100 is one full client batch (a backlog flushed at once)
  // for one vuid, 300 three of them for one address (a shared NAT's many visitors). One address is then at most
  // 5 records/s, 0.125% of the account's 4,000 (8 requests/s of 500): 800 addresses to fill it, not one.
  rateLimit: { ip: { limit: 300, period: 60 }, vuid: { limit: 100, period: 60 }, global: { limit: 8, period: 1 } },
  timeoutMs: 10_000,
  // Looked up per call and called bare: workerd refuses a fetch called as a method of another object.
  fetch: ((url, init) => globalThis.fetch(url, init)) as FetchLike,
  trustProxyHeader: false,
  coalesce: coalesceDefaults,
  upstreamRps: 8,
  maxAgeDays: 30,
  clock: systemClock,
  serverCookie: false,
} as const;

/** Every option's name: a misspelt one would otherwise leave its option at the default without a word. */
export const proxyOptionNames = optionNames<ProxyOptions>()(defaults, ['apiKey', 'allowedOrigins', 'log', 'verify', 'shared']);

/** Longest `maxAgeDays` (ten years): capture times are remembered this long. */
const MAX_AGE_DAYS = 3650;
const DAY_MS = 86_400_000;

/** Most upstream requests per second a proxy may be told to start. */
const MAX_UPSTREAM_RPS = 1000;

const check = optionChecks('idcapture/proxy');

function resolveUpstream(upstream: unknown) {
  let url: URL | undefined;
  try {
    url = new URL(String(upstream));
  } catch {
    // Reported below.
  }
  if (typeof upstream != 'string' || !url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username || url.password) {
    return check.fail('upstream', 'an http(s) base URL without query, fragment or credentials');
  }
  return `${upstream.replace(/\/+$/, '')}/profiles`;
}

/** A field name the profiles API accepts (the profile rules refuse `constructor`, `prototype` and `__proto__`). */
const isAcceptedName = (name: unknown): name is string => typeof name == 'string' && !checkField(name, null);

function resolveAttributes(names: unknown) {
  if (!Array.isArray(names) || !names.length) return check.fail('allowedAttributes', 'a non-empty list of field names');
  const bad = names.find((name) => !isAcceptedName(name));
  if (bad !== undefined) {
    check.fail('allowedAttributes', `a list of lower snake_case field names the profiles API accepts, not ${JSON.stringify(bad)}`);
  }
  return new Set<string>(names);
}

function resolveTrustProxyHeader(header: unknown) {
  if (header === false) return undefined;
  if (typeof header != 'string' || !/^[a-z0-9-]+$/i.test(header)) return check.fail('trustProxyHeader', 'a header name or false');
  return header.toLowerCase();
}

/** The proxy's options as checked, with every default filled in. */
export type ProxyConfig = ReturnType<typeof resolveOptions>;

/** Fills in defaults and checks every option once, so a bad configuration fails at start-up, not at the first visitor. */
export function resolveOptions(options: ProxyOptions, connect?: Connect) {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture/proxy: createProxy needs { apiKey, allowedOrigins }');
  check.known(options, proxyOptionNames);
  // The key's value is never echoed, not even in this message.
  if (typeof options.apiKey != 'string' || !options.apiKey.trim()) check.fail('apiKey', 'a non-empty string (your API key)');
  const path = options.path ?? defaults.path;
  if (typeof path != 'string' || !path.startsWith('/')) check.fail('path', "a path starting with '/'");
  const allowed = resolveAttributes(options.allowedAttributes ?? defaults.allowedAttributes);
  const clock = options.clock ?? defaults.clock;
  if (typeof clock?.now != 'function' || typeof clock.sleep != 'function') check.fail('clock', '{ now(), sleep(ms) }');
  const shared = resolveShared(options.shared, clock, connect);
  const maxAgeMs = check.above('maxAgeDays', options.maxAgeDays ?? defaults.maxAgeDays, 0, MAX_AGE_DAYS) * DAY_MS;
  const local = createMemoryCaptureTimes(clock, maxAgeMs);
  return {
    apiKey: options.apiKey,
    url: resolveUpstream(options.upstream ?? defaults.upstream),
    path,
    origins: resolveOrigins(options.allowedOrigins),
    allowed,
    verify: createVerifier(options.verify, allowed),
    maxBodyBytes: check.whole('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes),
    maxBatch: check.whole('maxBatch', options.maxBatch ?? defaults.maxBatch, 1, UPSTREAM_MAX_BATCH),
    limiters: resolveLimiters(options.rateLimit, defaults.rateLimit, () => clock.now(), shared),
    timeoutMs: check.whole('timeoutMs', options.timeoutMs ?? defaults.timeoutMs),
    fetch: check.fn('fetch', options.fetch) ?? defaults.fetch,
    log: check.fn('log', options.log),
    trustProxyHeader: resolveTrustProxyHeader(options.trustProxyHeader ?? defaults.trustProxyHeader),
    coalesce: resolveCoalesce(options.coalesce ?? defaults.coalesce),
    upstreamRps: check.above('upstreamRps', options.upstreamRps ?? defaults.upstreamRps, 0, MAX_UPSTREAM_RPS),
    maxAgeMs,
    /**
     * The newest capture time per identity and attribute: Redis with `shared` (this process's memory while it is down).
     * None without a `verify` secret: only a record a token vouches for records its time, so every check would be a
     * lookup (a Redis round trip per record) that can find nothing.
     */
    captureTimes: options.verify === undefined ? undefined : shared ? createSharedCaptureTimes(shared, maxAgeMs, local) : local,
    clock,
    serverCookie: resolveServerCookie(options.serverCookie ?? defaults.serverCookie, 'idcapture/proxy'),
    shared,
  };
}
