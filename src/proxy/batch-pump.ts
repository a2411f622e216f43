/**
 * When batches leave: once the oldest waiting request has waited `maxWaitMs` (at once when a full batch waits), at the
 * pace's next slot, so records that arrive meanwhile ride along. A request writing to an identity upstream now stays
 * behind, at the head of its IP's queue, until that batch is answered: last write wins in the browser's order.
 */
import type { Clock } from '../upstream/clock';
import { createFairQueue, type Waiting } from './fair-queue';
import { createInFlight } from './in-flight';

interface PumpOptions<T> {
  /** Resolves when the next upstream request may leave. */
  ready: () => Promise<void>;
  /** Sends a batch; resolves once every request in it has its answer. */
  send: (batch: T[]) => Promise<void>;
  clock: Clock;
  maxWaitMs: number;
  /** Records in one batch (a lone request larger than that goes alone). */
  maxRecords: number;
  /** Bytes of JSON in one batch. */
  maxBytes: number;
  /** Browser requests in one batch. */
  maxRequests: number;
}

export function createBatchPump<T extends Waiting>(options: PumpOptions<T>) {
  const { clock } = options;
  const waiting = createFairQueue<T>(options.maxRecords, options.maxBytes, options.maxRequests);
  const inFlight = createInFlight();
  /** When the wait of the oldest request waiting began. */
  let firstAt = 0;
  /** Ends the batching wait early: a full batch waits. */
  let wake: (() => void) | undefined;
  /** Ends the pump's wait when every waiting request was held back behind a batch in flight. */
  let unblock: (() => void) | undefined;
  let pumping = false;

  async function batchingWait() {
    const wait = firstAt + options.maxWaitMs - clock.now();
    if (waiting.records() < options.maxRecords && wait > 0) {
      // Called off when woken early, so no timer outlives the wait.
      const early = new AbortController();
      await Promise.race([clock.sleep(wait, early.signal), new Promise<void>((resolve) => (wake = resolve))]);
      early.abort();
    }
    wake = undefined;
  }

  function dispatch(batch: T[]) {
    const keys = [...new Set(batch.flatMap((entry) => entry.keys))];
    // Once it is answered (202, refused, 502, deadline), the requests held back behind it may go.
    void inFlight.during(keys, () => options.send(batch)).finally(() => unblock?.());
  }

  async function pump() {
    while (waiting.records() > 0) {
      await batchingWait();
      // The batch is taken when its slot comes, so records that arrive while it waits for the pace ride along.
      await options.ready();
      const batch = waiting.take(inFlight.keys());
      // Records left over start their wait now: a full batch left them behind, so they go at the next slot.
      firstAt = waiting.records() ? clock.now() - options.maxWaitMs : clock.now();
      if (batch.length) dispatch(batch);
      // Everything waiting is held back behind batches in flight: sleep until one is answered or a request arrives.
      else if (waiting.records() > 0) await new Promise<void>((resolve) => (unblock = resolve));
      unblock = undefined;
    }
  }

  /** Starts the pump unless it runs; a request that lands as it stops starts it again. */
  function kick() {
    if (pumping) return;
    pumping = true;
    void pump().finally(() => {
      pumping = false;
      if (waiting.records() > 0) kick();
    });
  }

  return {
    /** Puts a browser request in line for a batch. */
    add(entry: T) {
      if (!waiting.records()) firstAt = clock.now();
      waiting.add(entry);
      if (waiting.records() >= options.maxRecords) wake?.();
      unblock?.();
      kick();
    },
  };
}
