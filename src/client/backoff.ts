import { readLocal, writeLocal } from './attempt';
import type { PageClock } from './page-clock';

/** The first retry waits up to this long; each failure in a row doubles it. */
const BACKOFF_BASE_MS = 1000;
const BACKOFF_CAP_MS = 300_000;

/** A number the origin's tabs share in localStorage; 0 when absent (+null), unreadable (+undefined) or garbled. */
const readShared = (key: string) => +readLocal(key)! || 0;
const writeShared = (key: string, value: number) => writeLocal(key, `${value}`);

/**
 * The backoff of `endpoint`, shared by the origin's tabs and pages through localStorage, so a busy API is not hit
 * again on every page view: exponential with full jitter, the n-th failure in a row waiting a random time below
 * base × 2^(n-1), capped, and never less than what the server asked for.
 */
export function createBackoff(endpoint: string, { now, random }: Pick<PageClock, 'now' | 'random'>) {
  const key = `idcapture-retry:${endpoint}`;
  let failures = 0;
  let endsAt = 0;
  return {
    /** When the running backoff ends, this tab's or another's (epoch ms; in the past when none runs). */
    endsAt: () => (endsAt = Math.max(endsAt, readShared(key))),
    /** Starts the next, longer backoff, at least `minMs` long; returns its length in ms. */
    fail(minMs = 0) {
      const delayMs = Math.max(minMs, random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** failures++));
      writeShared(key, (endsAt = now() + delayMs));
      return delayMs;
    },
    /** Ends the backoff here and for the other tabs: the endpoint answered, or the network came back. */
    clear() {
      failures = endsAt = 0;
      writeLocal(key, null);
    },
  };
}

/**
 * The newest queue id known to have left the queue, shared by the origin's tabs: an unload hand-off skips records
 * up to it, so a late resend cannot undo a newer update another tab delivered.
 */
export function createWatermark(endpoint: string) {
  const key = `idcapture-acked:${endpoint}`;
  return {
    read: () => readShared(key),
    /** Everything up to `id` has left the queue. */
    raise: (id: number) => writeShared(key, Math.max(id, readShared(key))),
  };
}
