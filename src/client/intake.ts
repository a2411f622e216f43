import type { Consent } from './consent';
import type { IdCaptureEvents } from './events';
import type { Added, Queue, Upsert } from './queue';
import { keepUnstored, takeUnstored } from './unstored';
import { VERBOSE } from '../verbose';
import type { VisitorId } from './visitor-id';

interface IntakeOptions {
  endpoint: string;
  maxQueueSize: number;
  queue: Queue;
  consent: Consent;
  /**
   * Captures on their way into IndexedDB, which this fills and empties. A form that submits for real leaves the page a
   * few ms after the capture, and the browser aborts the unfinished transaction with the page: delivery's unload
   * hand-off sends these first, and the page's unload keeps them for the next page (should the transaction have
   * finished after all, the upsert is sent again, which is harmless).
   */
  storing: Set<Upsert>;
  emit: <K extends keyof IdCaptureEvents>(type: K, detail: IdCaptureEvents[K]) => void;
  log: (...args: unknown[]) => void;
  report: (error: unknown) => void;
  /** Aborts when the client is destroyed. */
  signal: AbortSignal;
}

/**
 * Where upserts enter the queue, as consent allows: queued at once while it is granted, held in memory while it is
 * pending (queued in order on a grant), discarded when it is denied. Captures a page left unstored (see unstored.ts)
 * are queued first by the next page that has consent.
 */
export function createIntake(options: IntakeOptions, visitor: VisitorId, queued: (added: Added) => void) {
  const { queue, consent, storing, emit, log, report, signal } = options;
  const unstoredKey = `idcapture-unstored:${options.endpoint}`;
  let held: Upsert[] = [];
  /** The vuid the held upserts were made with: this page's, which had none stored. */
  let heldVuid = '';
  /** Moves away from 'granted' so far: held upserts still on their way into the queue stop when it changes. */
  let withdrawals = 0;

  const enqueue = async (upsert: Upsert) => {
    const added = await queue.add(upsert, options.maxQueueSize);
    // The identity token is a bearer credential: it stays in the queue for delivery, out of events and the console.
    const { token, ...shown } = upsert;
    if (VERBOSE) log('queued', shown);
    emit('queued', { upsert: shown });
    queued(added);
    added.dropped.forEach((r) => emit('drop', { upsert: r.upsert, reason: 'maxQueueSize' }));
  };

  /** Queues `list` one after another, stopping should consent be withdrawn meanwhile. */
  const enqueueInOrder = (list: Upsert[]) => {
    const now = withdrawals;
    list.reduce((done, u) => done.then(() => (now == withdrawals ? enqueue(u) : undefined)), Promise.resolve()).catch(report);
  };

  /** Queues `upsert`, holds it in memory while consent is pending, or drops it; settles once that is done. */
  const accept = async (upsert: Upsert) => {
    if (consent.state == 'granted') return enqueue(upsert);
    if (consent.state == 'pending') {
      held.push(upsert);
      heldVuid = visitor.vuid;
    }
    if (VERBOSE) log(`consent ${consent.state}: not queued`, upsert);
  };

  consent.on((state) => {
    // A grant queues what an earlier page left unstored, then what waited in memory; a denial purges both, and the
    // queue.
    if (state == 'granted') {
      // The visitor id, now stored, may be one another tab stored meanwhile.
      held.forEach((u) => u.attributes.vuid == heldVuid && (u.attributes.vuid = visitor.vuid));
      enqueueInOrder([...takeUnstored(unstoredKey), ...held]);
      held = [];
    } else {
      withdrawals++;
      if (state == 'denied') {
        held = [];
        takeUnstored(unstoredKey);
        queue.clear().catch(report);
      }
    }
  });
  keepUnstored(unstoredKey, () => (consent.state == 'granted' ? [...storing] : []), signal);
  // What an earlier page left unstored is queued first.
  if (consent.state == 'granted') enqueueInOrder(takeUnstored(unstoredKey));

  return {
    /** For `identify()`: settles once `upsert` is queued (or held, or discarded, as consent says). */
    accept,
    /**
     * For auto-capture: says so (a 'capture' event, unless consent is denied) and queues or holds `upsert`; false when
     * it is discarded. Until it is stored it counts as unstored, which the page's unload keeps.
     */
    capture(upsert: Upsert, form: HTMLFormElement | null): boolean {
      if (consent.state == 'denied') {
        if (VERBOSE) log('consent denied: not queued', upsert);
        return false;
      }
      emit('capture', { upsert, form });
      storing.add(upsert);
      accept(upsert).catch(report).finally(() => storing.delete(upsert));
      return true;
    },
    /** How many upserts wait in memory for consent. */
    held: () => held.length,
    /** Forgets the held upserts: they belong to the visitor who leaves (`reset()`). */
    reset: () => void (held = []),
  };
}
