/**
 * Capture times in the writer Durable Object's own storage: one entry per identity (under a digest of it: no email or
 * phone number is stored), so the newest write per attribute survives the object's eviction and restarts. Calls run
 * one after another, each whole, so a record's read and write of the times are one step.
 */
import { decide, identityDigest, type CaptureTimes, type Known, type Write, type Written } from '../proxy/newest-write';

/** The few methods of a Durable Object's `state.storage` this uses. */
export interface DurableStorage {
  get<T>(keys: string[]): Promise<Map<string, T>>;
  put<T>(entries: Record<string, T>): Promise<void>;
  delete(keys: string[]): Promise<number>;
  list<T>(options: { prefix: string; startAfter?: string; limit: number }): Promise<Map<string, T>>;
  getAlarm(): Promise<number | null>;
  setAlarm(at: number): Promise<void>;
}

const PREFIX = 'newest:';
/** Entries read per page of a sweep. */
const PAGE = 1000;

/** What one identity's entry holds: attribute → [capture ms, value digest, browser digest]. */
type Entry = Record<string, [number, string, string?]>;

export function createStorageCaptureTimes(storage: DurableStorage, now: () => number, maxAgeMs: number): CaptureTimes & { sweep(): Promise<number> } {
  let last: Promise<unknown> = Promise.resolve();
  async function older(identities: readonly string[], written: readonly Written[], write: Write) {
    const keys = await Promise.all(identities.map(async (identity) => PREFIX + (await identityDigest(identity))));
    const stored = await storage.get<Entry>(keys);
    const known = keys.map((key) => new Map(Object.entries(stored.get(key) ?? {}).map(([name, [t, print, by = '']]) => [name, { at: t, print, by } as Known])));
    const decided = decide(known, written, write);
    if (write.keep && decided.kept.length) {
      // A time older than maxAgeDays can never win again (no older record is accepted): dropped as the entry is written.
      const since = now() - maxAgeMs;
      const entries = known.map((times, n) => {
        for (const [name, entry] of decided.kept) times.set(name, entry);
        const fresh = [...times].filter(([, entry]) => entry.at >= since).map(([name, entry]) => [name, [entry.at, entry.print, entry.by]]);
        return [keys[n], Object.fromEntries(fresh)];
      });
      await storage.put<Entry>(Object.fromEntries(entries));
      // The sweep of identities not written since is planned with the first write (storage has no expiry of its own).
      swept ??= storage
        .getAlarm()
        .then((at) => (at === null ? storage.setAlarm(now() + maxAgeMs) : undefined))
        .catch(() => void (swept = undefined));
      await swept;
    }
    return decided.older;
  }
  let swept: Promise<void> | undefined;
  const serial = <T>(work: () => Promise<T>) => {
    const run = last.then(work);
    last = run.catch(() => {});
    return run;
  };
  return {
    older: (identities, written, write) => serial(() => older(identities, written, write)),
    /**
     * Deletes the entries of identities with no write in `maxAgeDays` (the object's alarm), and plans the next sweep
     * while any are left: an entry outlives its last write by at most twice `maxAgeDays`. Resolves how many are left.
     */
    sweep: () =>
      serial(async () => {
        const since = now() - maxAgeMs;
        let left = 0;
        let startAfter: string | undefined;
        for (;;) {
          const page = await storage.list<Entry>({ prefix: PREFIX, startAfter, limit: PAGE });
          const old = [...page].filter(([, entry]) => Object.values(entry).every(([at]) => at < since)).map(([key]) => key);
          if (old.length) await storage.delete(old);
          left += page.size - old.length;
          startAfter = [...page.keys()].at(-1);
          if (page.size < PAGE) break;
        }
        swept = left ? storage.setAlarm(now() + maxAgeMs) : undefined;
        await swept;
        return left;
      }),
  };
}
