import { readLocal, writeLocal } from './attempt';
import type { PageClock } from './page-clock';

/** Without Web Locks, the flushing tab holds a lease in localStorage this long, renewed while it works. */
const LEASE_MS = 30_000;
/** How often a tab waiting for another tab's lease looks again. */
const LEASE_POLL_MS = 1000;

/**
 * Makes the tabs of an origin take turns: `lock(fn, wait)` runs `fn` only while this tab holds the lock `name`, and
 * resolves false without running it when another tab holds it and `wait` is false. Web Locks are released by the
 * browser when a tab dies, so another tab takes over at once. Where they are missing or refused (opaque-origin
 * frames), a lease in localStorage that expires stands in: at-least-once still holds, exclusivity is best effort.
 */
export function createTabLock(name: string, { now, setTimeout, clearTimeout }: PageClock) {
  const key = `idcapture-lease:${name}`;
  // Not the clock's random: two tabs of a test sharing one clock must still tell their leases apart.
  const token = Math.random().toString(36).slice(2);
  /** The lease as `[owner, expiry]`; an expired or unreadable one is nobody's. */
  const holder = () => {
    const [owner, until] = (readLocal(key) ?? '').split(' ');
    return +until > now() ? owner : undefined;
  };

  const lease = async (fn: () => Promise<void>, wait: boolean) => {
    while (holder() && holder() != token) {
      if (!wait) return false;
      await new Promise<void>((resolve) => setTimeout(resolve, LEASE_POLL_MS));
    }
    let renewal: unknown;
    // Renewed only while still ours: a throttled tab whose lease ran out must not take it back from its successor.
    const renew = () => {
      if ((holder() ?? token) == token) writeLocal(key, `${token} ${now() + LEASE_MS}`);
      renewal = setTimeout(renew, LEASE_MS / 3);
    };
    renew();
    try {
      await fn();
      return true;
    } finally {
      clearTimeout(renewal);
      if (holder() == token) writeLocal(key, null);
    }
  };

  return async (fn: () => Promise<void>, wait: boolean): Promise<boolean> => {
    let started = false;
    try {
      if (navigator.locks) {
        return await navigator.locks.request(`idcapture:${name}`, { ifAvailable: !wait }, async (lock) => {
          if (!lock) return false;
          started = true;
          await fn();
          return true;
        });
      }
    } catch (error) {
      if (started || (error as Error)?.name != 'SecurityError') throw error;
    }
    return lease(fn, wait);
  };
}
