/**
 * Rate limiting: the limiter interface (the shape of Cloudflare's rate-limit binding, so `env.MY_LIMITER` can be passed
 * straight in) and the in-memory default.
 */
import { digest64 } from './digest';
import { optionChecks, optionNames } from '../options/checks';
import type { SharedStore } from './shared/store';
import { sharedWindow, type SharedWindow } from './shared/limiter';

/**
 * Decides whether one more request under `key` may go ahead: called once per request and budget, so it counts
 * requests (the in-memory budgets count records). Cloudflare's rate-limit binding has this shape.
 */
export interface RateLimiter {
  limit(options: { key: string }): Promise<{ success: boolean; retryAfterS?: number }>;
}

/** The in-memory limiter also takes the request's records, as `cost` (`PEEK`: only asks). */
type CountingLimiter = { limit(options: { key: string; cost: number }): Promise<{ success: boolean; retryAfterS?: number }> };

/**
 * At most `limit` records per `period` seconds for each key, counted in memory (per process or isolate), or in Redis
 * for every process with the proxy's `shared` option. A request
 * costs its records (at least one, so refused junk pays too); one larger than `limit` costs a whole empty window, so
 * a visitor's backlog is slowed, never stuck.
 */
export interface Limit {
  /** Records allowed per period. */
  limit: number;
  /** Window length in seconds. */
  period: number;
  /**
   * Keys remembered at once; past it the least recently seen key is forgotten. Default 10,000. Keys longer than 96
   * characters are kept as a short digest, so memory is bounded by this count, however long the keys sent.
   */
  maxKeys?: number;
}

/** What each budget is counted with: limits for the in-memory limiter, your own limiter, or `false` for none. */
export interface RateLimits {
  /** Records per client IP. Default `{ limit: 300, period: 60 }`. */
  ip?: Limit | RateLimiter | false;
  /** Records per vuid in the batch. Default `{ limit: 100, period: 60 }`. */
  vuid?: Limit | RateLimiter | false;
  /** Requests across all clients, kept under the profiles API's 10 requests/s. Default `{ limit: 8, period: 1 }`. */
  global?: Limit | RateLimiter | false;
}

export type Scope = keyof RateLimits;
type Limiters = Partial<Record<Scope, RateLimiter>>;

const SCOPES = optionNames<RateLimits>()({}, ['ip', 'vuid', 'global']);
const LIMIT_FIELDS = optionNames<Limit>()({}, ['limit', 'period', 'maxKeys']);

const check = optionChecks('idcapture/proxy');

/** Used when a limiter refuses without saying for how long (Cloudflare's binding never says; its periods are 10 or 60 s). */
const UNKNOWN_RETRY_S = 10;

/** A limiter's wait is re-issued within this range: never 0 (a client would hammer), never days (it would give up). */
const MAX_RETRY_S = 3600;

/** Longest key stored as is. */
const MAX_KEY_LENGTH = 96;

/**
 * `key`, or for a long one its start and a 64-bit FNV-1a digest: a key can come from a trusted header, and a client
 * sending megabyte values must not make each remembered key cost a megabyte. Short keys (IPs, vuids) never change.
 */
function boundedKey(key: string): string {
  return key.length <= MAX_KEY_LENGTH ? key : `${key.slice(0, 32)}#${key.length}#${digest64(key)}`;
}

const isLimiter = (value: unknown): value is RateLimiter =>
  typeof value == 'object' && !!value && typeof (value as RateLimiter).limit == 'function';

/** One key's sliding window: when each admitted request came and what it cost, and their sum. */
interface Window {
  times: number[];
  costs: number[];
  spent: number;
}

/**
 * A sliding-window log: exact (never more than `limit` in any `period`), which the global budget needs to stay under
 * the upstream's ceiling, at the price of one entry per admitted request (so at most `limit` per key). The Map's
 * insertion order doubles as recency order, so the first key is the one to forget when the map is full.
 */
function memoryLimiter({ limit, period, maxKeys = 10_000 }: Limit, now = Date.now, shared?: SharedWindow): RateLimiter {
  const windowMs = period * 1000;
  const windows = new Map<string, Window>();
  const limiter: CountingLimiter = {
    async limit(options) {
      const key = boundedKey(options.key);
      // 0 only asks (see `PEEK`); more than the budget costs the whole budget, so it passes once the window is empty.
      const cost = options.cost === PEEK ? 0 : Math.min(limit, Math.max(1, Math.ceil(Number(options.cost) || 1)));
      // Counted in Redis when it answers; this process's window only while it does not.
      const answer = shared && (await shared(key, cost));
      if (answer) return answer;
      const t = now();
      let w = windows.get(key);
      if (w) windows.delete(key);
      else {
        w = { times: [], costs: [], spent: 0 };
        for (const oldest of windows.keys()) {
          if (windows.size < maxKeys) break;
          windows.delete(oldest);
        }
      }
      windows.set(key, w);
      while (w.times.length && w.times[0] <= t - windowMs) {
        w.times.shift();
        w.spent -= w.costs.shift()!;
      }
      const over = w.spent + Math.max(1, cost) - limit;
      if (over > 0) {
        // The wait is until the entry that frees enough of the window for this cost leaves it.
        let freed = 0;
        let i = 0;
        while (freed < over) freed += w.costs[i++];
        return { success: false, retryAfterS: Math.max(1, Math.ceil((w.times[i - 1] + windowMs - t) / 1000)) };
      }
      if (cost) {
        w.times.push(t);
        w.costs.push(cost);
        w.spent += cost;
      }
      return { success: true };
    },
  };
  counting.add(limiter);
  return limiter as RateLimiter;
}

/**
 * The cost that asks whether a key has any budget left without spending it: the per-IP check made before a body is
 * read, of the in-memory limiters only (any other limiter is called once per request, with the body's verdict).
 */
export const PEEK = 0;

/** The in-memory limiters: a `RateLimiter` of the site's own is given `{ key }` alone (Cloudflare's binding refuses more). */
const counting = new WeakSet<object>();

const checkLimit = (name: string, value: Limit): Limit => {
  check.known(value, LIMIT_FIELDS, `rateLimit.${name}`);
  for (const field of LIMIT_FIELDS) {
    const n = value[field];
    if (n !== undefined && !(Number.isFinite(n) && n > 0)) {
      throw new RangeError(`idcapture/proxy: option rateLimit.${name}.${field} must be a positive number`);
    }
  }
  if (value.limit === undefined || value.period === undefined) {
    throw new TypeError(`idcapture/proxy: option rateLimit.${name} needs limit and period, or a RateLimiter, or false`);
  }
  return value;
};

/**
 * Turns the `rateLimit` option into one limiter per budget, once, so the request path only calls them. The in-memory
 * limiters count time with `now`, and with a `shared` store count in Redis first.
 */
export function resolveLimiters(option: RateLimits | RateLimiter | false | undefined, defaults: RateLimits, now = Date.now, shared?: SharedStore): Limiters {
  if (option === false) return {};
  // One limiter for everything: the scopes stay apart through the key prefixes.
  if (isLimiter(option)) return { ip: option, vuid: option, global: option };
  if (option !== undefined && (typeof option != 'object' || !option)) {
    throw new TypeError('idcapture/proxy: option rateLimit must be limits, a RateLimiter or false');
  }
  if (option) check.known(option, SCOPES, 'rateLimit');
  const merged = { ...defaults, ...option };
  const limiters: Limiters = {};
  for (const scope of SCOPES) {
    const value = merged[scope];
    if (value === false) continue;
    if (isLimiter(value)) limiters[scope] = value;
    else if (typeof value == 'object' && value) {
      const limit = checkLimit(scope, value);
      limiters[scope] = memoryLimiter(limit, now, shared && sharedWindow(shared, limit.limit, limit.period));
    }
    else throw new TypeError(`idcapture/proxy: option rateLimit.${scope} must be limits, a RateLimiter or false`);
  }
  return limiters;
}

/** Seconds to wait when `cost` more under `key` would pass its budget, or undefined when the request may go ahead. */
export async function overLimit(limiter: RateLimiter | undefined, key: string, cost?: number): Promise<number | undefined> {
  const ours = !!limiter && counting.has(limiter);
  if (!limiter || (cost === PEEK && !ours)) return;
  const { success, retryAfterS } = await (ours && cost !== undefined ? (limiter as unknown as CountingLimiter).limit({ key, cost }) : limiter.limit({ key }));
  if (success) return;
  return retryAfterS && retryAfterS > 0 ? Math.min(MAX_RETRY_S, Math.ceil(retryAfterS)) : UNKNOWN_RETRY_S;
}
