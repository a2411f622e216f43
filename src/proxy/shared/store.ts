/**
 * The connection to Redis that makes several proxy processes one: each call runs one Lua script atomically (so
 * processes never race on a budget), within `timeoutMs`. A call that fails or is late marks Redis down for `retryMs`:
 * meanwhile every call answers `undefined` at once and the caller uses its own local fallback; the first call after
 * that tries Redis again. One warning per outage, one line when it is over.
 */
import { timer, type Clock } from '../../upstream/clock';
import { optionChecks, optionNames } from '../../options/checks';

/** What the proxy needs of a Redis client: `evalsha` and `eval` as ioredis has them. */
export interface RedisLike {
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** Pace and budgets shared by every proxy process through one Redis. */
export interface SharedOptions {
  /**
   * A `redis://` URL (the proxy then loads the optional peer dependency `ioredis`), or a client you created (ioredis,
   * or anything with its `evalsha` and `eval`). Required.
   */
  redis: string | RedisLike;
  /**
   * Processes sharing the account: while Redis is unreachable each paces alone at `upstreamRps / expectedInstances`.
   * @default 2
   */
  expectedInstances?: number;
  /**
   * A Redis call slower than this counts as Redis down, in ms.
   * @default 250
   */
  timeoutMs?: number;
  /**
   * While Redis is down, how often it is tried again, in ms.
   * @default 1000
   */
  retryMs?: number;
  /**
   * Start of every key the proxy writes: one prefix per API key (account) sharing a Redis.
   * @default 'idcapture'
   */
  prefix?: string;
}

/** Every default, in one place. */
export const defaults = { expectedInstances: 2, timeoutMs: 250, retryMs: 1000, prefix: 'idcapture' } as const;

const names = optionNames<SharedOptions>()(defaults, ['redis']);
const check = optionChecks('idcapture/proxy');

/** A Lua script, called by its SHA-1 so it is sent whole only once per Redis (after a restart, once again). */
export interface Script {
  source: string;
  /** Worked out at the first call, not at load: a Worker may not use crypto at start-up, and only Node calls it. */
  sha?: Promise<string>;
}

export interface SharedStore {
  /** The script's answer, or `undefined` when Redis is down or slow (use the local fallback). Never rejects. */
  run(script: Script, keys: string[], args: (string | number)[]): Promise<unknown>;
  /** True while Redis is taken as down: the `shared: 'fallback'` of the log. */
  readonly down: boolean;
  /** `upstreamRps` is divided by this while down. */
  readonly expectedInstances: number;
  /** `name` under the prefix. */
  key(name: string): string;
}

export const script = (source: string): Script => ({ source });

/** The script's SHA-1 in hex, from Web Crypto (no Node module: this file is bundled wherever the proxy is). */
function shaOf(s: Script): Promise<string> {
  s.sha ??= crypto.subtle
    .digest('SHA-1', new TextEncoder().encode(s.source))
    .then((digest) => [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join(''));
  return s.sha;
}

const timeout = (clock: Clock, ms: number) => {
  let stop = () => {};
  const late = new Promise<never>((_, reject) => (stop = timer(clock, ms, () => reject(new Error(`no answer within ${ms} ms`)))));
  return { late, stop };
};

/** Opens a client for a `redis://` URL (src/proxy/shared/connect.ts: Node's entry only, never a Worker's). */
export type Connect = (url: string, retryMs: number) => Promise<RedisLike>;

export function resolveShared(option: SharedOptions | undefined, clock: Clock, connect?: Connect, warn = console.warn): SharedStore | undefined {
  if (option === undefined) return;
  if (typeof option != 'object' || !option) return check.fail('shared', '{ redis, expectedInstances?, timeoutMs?, retryMs?, prefix? }');
  check.known(option, names, 'shared');
  const { redis } = option;
  const isClient = typeof redis == 'object' && !!redis && typeof redis.evalsha == 'function' && typeof redis.eval == 'function';
  if (!isClient && !(typeof redis == 'string' && /^rediss?:\/\//.test(redis))) check.fail('shared.redis', 'a redis:// URL or a Redis client');
  const given = { ...defaults, ...option };
  const expectedInstances = check.whole('shared.expectedInstances', given.expectedInstances);
  const timeoutMs = check.whole('shared.timeoutMs', given.timeoutMs);
  const retryMs = check.whole('shared.retryMs', given.retryMs);
  if (typeof given.prefix != 'string' || !given.prefix) check.fail('shared.prefix', 'a non-empty string');
  if (!isClient && !connect) check.fail('shared.redis', 'a Redis client here (a URL is opened by idcapture/proxy)');
  const client = isClient ? Promise.resolve(redis as RedisLike) : connect!(redis as string, retryMs);
  return createStore(client, { expectedInstances, timeoutMs, retryMs, prefix: given.prefix }, clock, warn);
}

function createStore(client: Promise<RedisLike>, settings: Required<Omit<SharedOptions, 'redis'>>, clock: Clock, warn: (message: string) => void): SharedStore {
  let down = false;
  let retryAt = -Infinity;
  // Only a call started since the last change of state may change it: calls still in flight when Redis went away (or
  // came back) would otherwise flip it back and forth, a warning each time.
  let epoch = 0;
  client.catch(() => {});
  const fail = (error: unknown, since: number) => {
    if (since != epoch) return undefined;
    retryAt = clock.now() + settings.retryMs;
    if (down) return undefined;
    down = true;
    epoch++;
    const rps = `upstreamRps / ${settings.expectedInstances}`;
    warn(`idcapture/proxy: Redis unavailable (${error instanceof Error ? error.message : String(error)}): pacing at ${rps} and counting budgets in this process until it answers again`);
    return undefined;
  };
  const call = async (c: RedisLike, s: Script, keys: string[], args: (string | number)[]) => {
    try {
      return await c.evalsha(await shaOf(s), keys.length, ...keys, ...args);
    } catch (error) {
      // A Redis that restarted has forgotten its scripts: send this one whole, once.
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return c.eval(s.source, keys.length, ...keys, ...args);
    }
  };
  return {
    get down() {
      return down;
    },
    expectedInstances: settings.expectedInstances,
    key: (name) => `${settings.prefix}:${name}`,
    async run(s, keys, args) {
      if (down && clock.now() < retryAt) return undefined;
      const since = epoch;
      const { late, stop } = timeout(clock, settings.timeoutMs);
      try {
        const answer = await Promise.race([client.then((c) => call(c, s, keys, args)), late]);
        if (down && since == epoch) {
          down = false;
          epoch++;
          warn('idcapture/proxy: Redis answers again: pace and budgets are shared again');
        }
        return answer;
      } catch (error) {
        return fail(error, since);
      } finally {
        stop();
      }
    },
  };
}
