import type { PageClock } from './page-clock';

/** setTimeout fires at once for delays past 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * At most one planned run, at the earliest time asked for: `plan(ms, fn)` runs `fn` in `ms`, never before
 * `notBefore()` (epoch ms: a running backoff, this tab's or another's), and never later than a run already planned;
 * nothing is planned while `may()` is false. A rejection of `fn` goes to `failed`. `signal` aborting drops the planned run.
 */
export function createPlanner(
  { now, setTimeout, clearTimeout }: PageClock,
  notBefore: () => number,
  may: () => boolean,
  failed: (error: unknown) => void,
  signal: AbortSignal,
) {
  let timer: unknown;
  /** When the planned run starts (epoch ms), Infinity when none is planned. */
  let due = Infinity;
  const plan = (ms: number, fn: () => Promise<unknown>) => {
    const at = Math.max(now() + ms, notBefore());
    if (!may() || at >= due) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(
      () => {
        due = Infinity;
        // A backoff that began after this timer was set still holds; so does a wait longer than one timer.
        if (now() < Math.max(notBefore(), at)) plan(at - now(), fn);
        else fn().catch(failed);
      },
      Math.min(MAX_TIMER_MS, at - now()),
    );
  };
  signal.addEventListener('abort', () => clearTimeout(timer));
  return plan;
}
