/**
 * Capture times in Redis, so every process keeps the newest write per identity and attribute: one `NEWEST` call per
 * record, under digests of the identities (no email or phone number is written to Redis in the clear). While Redis is down this
 * process's memory answers instead, knowing only what this process forwarded meanwhile.
 */
import { identityDigest, type CaptureTimes } from '../newest-write';
import { NEWEST } from './scripts';
import type { SharedStore } from './store';

export function createSharedCaptureTimes(store: SharedStore, maxAgeMs: number, fallback: CaptureTimes): CaptureTimes {
  return {
    async older(identities, written, write) {
      const keys = identities.map(async (identity) => store.key(`newest:${await identityDigest(identity)}`));
      const { at, keep, by } = write;
      const args = [Math.round(at), keep ? Math.ceil(maxAgeMs) : 0, by, ...written.flatMap(({ name, print }) => [name, print])];
      const answer = await store.run(NEWEST, await Promise.all(keys), args);
      return Array.isArray(answer) ? (answer as string[]) : fallback.older(identities, written, write);
    },
  };
}
