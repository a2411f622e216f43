import { attempt, readLocal, writeLocal } from './attempt';
import type { Capture } from './queue';

/**
 * Captures a page leaves while their IndexedDB write is still under way. The browser aborts that write with the page,
 * and the keepalive hand-off may be skipped (network known down) or fail, so at `pagehide` they are also written to
 * localStorage, which is synchronous, and the next page queues them (a duplicate is harmless: upserts are idempotent).
 * Watches until `signal` aborts.
 */
export function keepUnstored(key: string, unstored: () => Capture[], signal: AbortSignal) {
  const onPageHide = () => {
    const list = unstored();
    if (list.length) writeLocal(key, JSON.stringify([...readUnstored(key), ...list]));
  };
  addEventListener('pagehide', onPageHide, { signal });
}

const readUnstored = (key: string): Capture[] => {
  // Absent, the key parses as null; unreadable storage (undefined) and garbled text throw: no list, either way.
  const list: unknown = attempt(() => JSON.parse(readLocal(key)!));
  return Array.isArray(list) ? list.filter((c) => typeof c?.upsert?.attributes == 'object' && c.upsert.attributes && c.at > 0) : [];
};

/** The captures earlier pages left unstored, with their capture times, oldest first, taken out of localStorage. */
export function takeUnstored(key: string): Capture[] {
  const list = readUnstored(key);
  writeLocal(key, null);
  return list;
}
