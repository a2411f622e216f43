/**
 * Time on the server side (proxy, emulator, server client): `now()` in ms and `sleep(ms)`. Injected so tests move time
 * instead of waiting for it.
 */
export interface Clock {
  now(): number;
  /**
   * Resolves `ms` from now. When `signal` aborts first it may resolve early and should let go of its timer; a clock
   * that ignores `signal` still works, since callers check the signal when it resolves.
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const stop = () => {
        clearTimeout(timer);
        resolve();
      };
      // Whichever comes first lets go of the other: no timer outlives an abort, no listener a timeout.
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', stop);
        resolve();
      }, ms);
      signal?.addEventListener('abort', stop, { once: true });
    }),
};

/**
 * Calls `fire` `ms` from now on `clock`, unless the returned function is called first: a cancellable timer made of
 * `clock.sleep`, so deadlines follow an injected clock like everything else.
 */
export function timer(clock: Clock, ms: number, fire: () => void): () => void {
  // On real time, a plain timeout: the proxy arms one per browser request, and an AbortController per timer (with the
  // DOMException its abort creates) was a measurable share of the proxy's CPU under load.
  if (clock === systemClock) {
    const id = setTimeout(fire, ms);
    return () => clearTimeout(id);
  }
  const controller = new AbortController();
  void clock.sleep(ms, controller.signal).then(() => {
    if (!controller.signal.aborted) fire();
  });
  return () => controller.abort();
}
