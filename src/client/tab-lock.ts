import { attempt } from './attempt';

/** Without Web Locks, the flushing tab holds a lease in localStorage this long, renewed while it works. */
const LEASE = 30_000;

/**
 * Makes the tabs of an origin take turns: `run(fn, wait)` runs `fn` only while this tab holds the lock `name`, and
 * resolves false without running it when another tab holds it and `wait` is false. Web Locks are released by the
 * browser when a tab dies, so another tab takes over at once. Where they are missing or refused (opaque-origin
 * frames), a lease in localStorage that expires stands in: at-least-once still holds, exclusivity is best effort.
 */
export function createTabLock(name: string) {
  const key = `idcapture-lease:${name}`;
  const token = Math.random().toString(36).slice(2);
  /** The lease as `[owner, expiry]`; an expired or unreadable one is nobody's. */
  const holder = () => {
    const [owner, until] = (attempt(() => localStorage.getItem(key)) ?? '').split(' ');
    return +until > Date.now() ? owner : undefined;
  };

  const lease = async (fn: () => Promise<void>, wait: boolean) => {
    while (holder() && holder() != token) {
      if (!wait) return false;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    // Renewed only while still ours: a throttled tab whose lease ran out must not take it back from its successor.
    const renew = () => (holder() ?? token) == token && attempt(() => localStorage.setItem(key, `${token} ${Date.now() + LEASE}`));
    renew();
    const renewing = setInterval(renew, LEASE / 3);
    try {
      await fn();
      return true;
    } finally {
      clearInterval(renewing);
      if (holder() == token) attempt(() => localStorage.removeItem(key));
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
