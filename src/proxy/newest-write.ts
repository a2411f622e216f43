/**
 * The newest write wins by capture time, not arrival: a phone that queued an address offline a week ago and comes back
 * online must not overwrite the address the customer has since set on a laptop. Where the proxy keeps state it
 * remembers, per identity and attribute, the capture time of the newest value it forwarded, and takes an older value
 * out of a record that arrives later. Identifiers are never taken out: a record left with only them still links.
 */
import type { Clock } from '../upstream/clock';
import type { CheckedRecord } from '../profile/batch';
import { isIdentifier } from '../profile/rules';
import { identityKeys } from './identity-keys';

/** Where the capture times of forwarded writes are kept: process memory, Redis, or a Durable Object's storage. */
export interface CaptureTimes {
  /**
   * Atomically for one record: the names among `names` whose newest known capture time, under any of `identities`, is
   * later than `at` (ms on the proxy's clock); the others are recorded at `at` under every identity. An equal time (a
   * resend of the same record) is not older. Calls are applied in the order they are made.
   */
  older(identities: readonly string[], names: readonly string[], at: number): Promise<string[]>;
}

/** Identities one process remembers; past it the one written least recently is forgotten. */
const MAX_IDENTITIES = 100_000;

/**
 * Capture times in this process's memory: one Node process, one isolate. Lost on restart, and not seen by another
 * process. A time older than `maxAgeMs` is forgotten: no record that old is accepted, so it could never be newer.
 */
export function createMemoryCaptureTimes(clock: Clock, maxAgeMs: number, maxIdentities = MAX_IDENTITIES): CaptureTimes {
  /** Per identity, per attribute, the newest capture time; in order of last write, the least recent first. */
  const identities = new Map<string, Map<string, number>>();
  const newest = (name: string, known: (Map<string, number> | undefined)[], since: number) =>
    Math.max(...known.map((times) => times?.get(name) ?? -Infinity).filter((at) => at >= since));
  return {
    async older(keys, names, at) {
      const since = clock.now() - maxAgeMs;
      const known = keys.map((key) => identities.get(key));
      const older = names.filter((name) => newest(name, known, since) > at);
      const kept = names.filter((name) => !older.includes(name));
      keys.forEach((key, n) => {
        const times = known[n] ?? new Map<string, number>();
        for (const name of kept) times.set(name, Math.max(at, times.get(name) ?? -Infinity));
        identities.delete(key);
        identities.set(key, times);
      });
      for (const key of identities.keys()) {
        if (identities.size <= maxIdentities) break;
        identities.delete(key);
      }
      return older;
    },
  };
}

/**
 * Takes out of each record the attributes a later capture has already written for one of its identities, and records
 * the capture times of the rest (`capturedAt`, by index). Resolves the names taken out, each once.
 */
export async function keepNewest(records: CheckedRecord[], capturedAt: readonly number[], times: CaptureTimes): Promise<string[]> {
  const taken = await Promise.all(
    records.map(async (record, n) => {
      const names = Object.keys(record.attributes).filter((name) => !isIdentifier(name));
      const keys = identityKeys([record]);
      if (!names.length || !keys.length) return [];
      const older = await times.older(keys, names, capturedAt[n]);
      for (const name of older) delete record.attributes[name];
      return older;
    }),
  );
  return [...new Set(taken.flat())];
}
