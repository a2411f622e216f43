/**
 * Capture times in the writer Durable Object's own storage: one entry per identity (attribute → capture ms), so the
 * newest write per attribute survives the object's eviction and restarts. Calls run one after another, each whole, so
 * a record's read and write of the times are one step.
 */
import type { CaptureTimes } from '../proxy/newest-write';

/** The few methods of a Durable Object's `state.storage` this uses. */
export interface DurableStorage {
  get<T>(keys: string[]): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
}

type Times = Record<string, number>;

export function createStorageCaptureTimes(storage: DurableStorage, now: () => number, maxAgeMs: number): CaptureTimes {
  let last: Promise<unknown> = Promise.resolve();
  async function older(identities: readonly string[], names: readonly string[], at: number) {
    const keys = identities.map((identity) => `newest:${identity}`);
    const known = await storage.get<Times>(keys);
    const newest = (name: string) => Math.max(...[...known.values()].map((times) => times[name] ?? -Infinity));
    const stale = names.filter((name) => newest(name) > at);
    const kept = names.filter((name) => !stale.includes(name));
    if (kept.length) {
      // A time older than maxAgeDays can never win again (no older record is accepted): it is dropped as the entry is
      // written.
      const since = now() - maxAgeMs;
      const fresh = (times: Times = {}) => Object.fromEntries(Object.entries(times).filter(([, t]) => t >= since));
      const entries = keys.map((key) => [key, { ...fresh(known.get(key)), ...Object.fromEntries(kept.map((name) => [name, at])) }]);
      await storage.put<Times>(Object.fromEntries(entries));
    }
    return stale;
  }
  return {
    older(identities, names, at) {
      const run = last.then(() => older(identities, names, at));
      last = run.catch(() => {});
      return run;
    },
  };
}
