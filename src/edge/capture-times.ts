/**
 * Capture times in the writer Durable Object's own storage: one entry per identity (under a digest of it: no email or
 * phone number is stored), so the newest write per attribute survives the object's eviction and restarts. Calls run
 * one after another, each whole, so a record's read and write of the times are one step.
 */
import { decide, identityDigest, type CaptureTimes, type Known, type Written } from '../proxy/newest-write';

/** The few methods of a Durable Object's `state.storage` this uses. */
export interface DurableStorage {
  get<T>(keys: string[]): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
}

/** What one identity's entry holds: attribute → [capture ms, value digest]. */
type Entry = Record<string, [number, string]>;

export function createStorageCaptureTimes(storage: DurableStorage, now: () => number, maxAgeMs: number): CaptureTimes {
  let last: Promise<unknown> = Promise.resolve();
  async function older(identities: readonly string[], written: readonly Written[], at: number) {
    const keys = await Promise.all(identities.map(async (identity) => `newest:${await identityDigest(identity)}`));
    const stored = await storage.get<Entry>(keys);
    const known = keys.map((key) => new Map(Object.entries(stored.get(key) ?? {}).map(([name, [t, print]]) => [name, { at: t, print } as Known])));
    const decided = decide(known, written, at);
    if (decided.kept.length) {
      // A time older than maxAgeDays can never win again (no older record is accepted): dropped as the entry is written.
      const since = now() - maxAgeMs;
      const entries = known.map((times, n) => {
        for (const [name, entry] of decided.kept) times.set(name, entry);
        const fresh = [...times].filter(([, entry]) => entry.at >= since).map(([name, entry]) => [name, [entry.at, entry.print]]);
        return [keys[n], Object.fromEntries(fresh)];
      });
      await storage.put<Entry>(Object.fromEntries(entries));
    }
    return decided.older;
  }
  return {
    older(identities, written, at) {
      const run = last.then(() => older(identities, written, at));
      last = run.catch(() => {});
      return run;
    },
  };
}
