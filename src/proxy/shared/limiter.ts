/**
 * A records budget counted in Redis, exact across processes: one `WINDOW` call per check. Its answer is `undefined`
 * while Redis is down, and the in-memory window of the process counts instead.
 */
import type { SharedStore } from './store';
import { WINDOW } from './scripts';

export type SharedWindow = (key: string, cost: number) => Promise<{ success: boolean; retryAfterS?: number } | undefined>;

/** Distinguishes this process's entries in a window (two processes may spend on one key in the same millisecond). */
let instance: string | undefined;
let entries = 0;

/** `cost` as the in-memory limiter normalized it: 0 only asks, otherwise 1 to `limit`. */
export function sharedWindow(store: SharedStore, limit: number, period: number): SharedWindow {
  return async (key, cost) => {
    // Drawn at the first call, not at load: a Worker may not draw random values at start-up.
    instance ??= crypto.randomUUID();
    const answer = await store.run(WINDOW, [store.key(`budget:${key}`)], [period * 1000, limit, cost, `${instance}:${entries++}`]);
    if (!Array.isArray(answer)) return undefined;
    const [ok, ms] = answer as [number, number];
    return ok ? { success: true } : { success: false, retryAfterS: Math.max(1, Math.ceil(ms / 1000)) };
  };
}
