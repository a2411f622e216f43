/**
 * The account's pace across processes: each upstream request reserves its slot in Redis (one `PACE` call), so N
 * processes together start at most `upstreamRps`, and a slot an idle process does not take goes to the next that
 * asks. An upstream Retry-After is written there too, so it holds every process. While Redis is down each process
 * paces alone at `upstreamRps / expectedInstances`.
 */
import { createPacer, type Pacer } from '../../upstream/pacer';
import type { Clock } from '../../upstream/clock';
import type { SharedStore } from './store';
import { PACE } from './scripts';

const wait = (clock: Clock, ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const abort = () => reject(signal!.reason);
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });
    void clock.sleep(ms, signal).then(() => (signal?.removeEventListener('abort', abort), resolve()));
  });

export function createSharedPacer(store: SharedStore, requestsPerSecond: number, clock: Clock): Pacer {
  const local = createPacer(requestsPerSecond / store.expectedInstances, clock);
  const keys = [store.key('pace:next'), store.key('pace:held')];
  const intervalUs = Math.round(1e6 / requestsPerSecond);
  // A hold this process learnt of while its request waited for a reserved slot sends the request back in line, as
  // the local pacer does (a hold from another process pushes only the slots reserved after it).
  let heldUntil = -Infinity;
  return {
    async take(signal) {
      do {
        signal?.throwIfAborted();
        const us = await store.run(PACE, keys, ['take', intervalUs]);
        if (typeof us != 'number') return local.take(signal);
        if (us > 0) await wait(clock, us / 1000, signal);
      } while (heldUntil > clock.now());
    },
    async ready() {
      const us = await store.run(PACE, keys, ['peek', 0]);
      if (typeof us != 'number') return local.ready();
      if (us > 0) await clock.sleep(us / 1000);
    },
    hold(ms) {
      heldUntil = Math.max(heldUntil, clock.now() + ms);
      local.hold(ms);
      void store.run(PACE, keys, ['hold', Math.round(ms * 1000)]);
    },
  };
}
