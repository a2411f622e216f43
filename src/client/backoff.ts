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
 * The newest queue id an unload hand-off must skip, shared by the origin's tabs: records that left the queue, and
 * those another tab's flush has on the wire, so a late resend cannot undo a newer update that tab delivers.
 */
export function createWatermark(endpoint: string) {
  const key = `idcapture-acked:${endpoint}`;
  const wire = `idcapture-wire:${endpoint}`;
  /** This tab's flush is on the wire: its own hand-off resends that batch, as the page's leaving aborts the flush. */
  let mine = false;
  return {
    read: () => Math.max(readShared(key), mine ? 0 : readShared(wire)),
    /** Everything up to `id` has left the queue. */
    raise: (id: number) => writeShared(key, Math.max(id, readShared(key))),
    /** This tab's flush has the records up to `id` on the wire; 0 once it has its answer, or none. */
    sending(id: number) {
      mine = !!id;
      writeShared(wire, id);
    },
  };
}
