/**
 * Capture times in Redis, so every process keeps the newest write per identity and attribute: one `NEWEST` call per
 * record. While Redis is down this process's memory answers instead, knowing only what it forwarded meanwhile.
 */
import type { CaptureTimes } from '../newest-write';
import { NEWEST } from './scripts';
import type { SharedStore } from './store';

export function createSharedCaptureTimes(store: SharedStore, maxAgeMs: number, fallback: CaptureTimes): CaptureTimes {
  return {
    async older(identities, names, at) {
      const keys = identities.map((identity) => store.key(`newest:${identity}`));
      const answer = await store.run(NEWEST, keys, [at, Math.ceil(maxAgeMs), ...names]);
      return Array.isArray(answer) ? (answer as string[]) : fallback.older(identities, names, at);
    },
  };
}
