/**
 * Time and chance as delivery sees them. Internal: the browser tests pass a clock they advance themselves, so backoff
 * and retry are tested without waiting for the wall clock. Callers take the functions out before calling them: the
 * browser's timers throw "Illegal invocation" when called as methods of another object. Not the server side's
 * `Clock` (`{ now, sleep }`, src/upstream/clock.ts): a page has timers, not a sleep.
 */
export interface PageClock {
  now(): number;
  /** A number in [0, 1), as Math.random. */
  random(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
}

export const pageClock: PageClock = { now: Date.now, random: Math.random, setTimeout, clearTimeout };
