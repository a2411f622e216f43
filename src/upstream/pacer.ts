/**
 * The pace of everything one API key sends: the profiles API allows 10 requests/s per account, so requests leave one
 * at a time, evenly spaced, retries included, and an upstream `Retry-After` holds them all back, not just the request
 * that got it.
 */
import type { Clock } from './clock';

export interface Pacer {
  /**
   * Resolves when the next request may leave: in the order asked, at most `requestsPerSecond`, never in a burst.
   * Rejects with the signal's reason as soon as `signal` aborts.
   */
  take(signal?: AbortSignal): Promise<void>;
  /** Resolves when a `take` would not wait, without taking: a caller can fill a request until its slot comes. */
  ready(): Promise<void>;
  /** The upstream asked to wait (429/503 `Retry-After`): nothing leaves for `ms` from now. */
  hold(ms: number): void;
}

/** The part of an interval a slot may be taken late without moving the slots after it. */
const LATE_SLACK = 0.1;

export function createPacer(requestsPerSecond: number, clock: Clock): Pacer {
  // Evenly spaced slots rather than a bucket of tokens: a burst of 10 at once is how a 10/s budget is overrun at the
  // edge of a second on the upstream's side of the clock.
  const interval = 1000 / requestsPerSecond;
  // Slots stay on their grid: a request that takes its slot a little late (a timer's granularity, a busy event loop,
  // the work before it leaves) does not push every later slot back by as much, which cost the proxy 2–5% of its
  // pace under load. Later than that, the grid starts again from now. So two requests are never closer than
  // (1 − LATE_SLACK) intervals, and never more than `requestsPerSecond` leave on average.
  const slack = interval * LATE_SLACK;
  let next = -Infinity;
  let heldUntil = -Infinity;
  return {
    async take(signal) {
      const aborted = new Promise<never>((_, reject) => {
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
      aborted.catch(() => {});
      // A hold that began while this request waited for its slot sends it to the back of the line.
      do {
        signal?.throwIfAborted();
        const now = clock.now();
        const at = Math.max(now, next);
        next = (now - next <= slack ? next : at) + interval;
        if (at > now) await Promise.race([clock.sleep(at - now, signal), aborted]);
      } while (heldUntil > clock.now());
    },
    async ready() {
      for (let at = Math.max(next, heldUntil); at > clock.now(); at = Math.max(next, heldUntil)) await clock.sleep(at - clock.now());
    },
    hold(ms) {
      heldUntil = Math.max(heldUntil, clock.now() + ms);
      next = Math.max(next, heldUntil);
    },
  };
}
