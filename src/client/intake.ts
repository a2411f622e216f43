import type { Consent } from './consent';
import type { IdCaptureEvents } from './events';
import type { PageClock } from './page-clock';
import type { Added, Capture, Queue, Upsert } from './queue';
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
  storing: Set<Capture>;
  emit: <K extends keyof IdCaptureEvents>(type: K, detail: IdCaptureEvents[K]) => void;
  log: (...args: unknown[]) => void;
  report: (error: unknown) => void;
  /** Dates each upsert as it is captured. */
  clock: PageClock;
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
  let held: Capture[] = [];
  /** The vuid the held upserts were made with: this page's, which had none stored. */
  let heldVuid = '';
  /** Moves away from 'granted' so far: held upserts still on their way into the queue stop when it changes. */
  let withdrawals = 0;

  const enqueue = async ({ upsert, at }: Capture) => {
    const added = await queue.add(upsert, options.maxQueueSize, at);
    // The identity token is a bearer credential: it stays in the queue for delivery, out of events and the console.
    const { token, ...shown } = upsert;
    if (VERBOSE) log('queued', shown);
    emit('queued', { upsert: shown });
    queued(added);
    added.dropped.forEach((r) => emit('drop', { upsert: r.upsert, reason: 'maxQueueSize' }));
  };

  /** Queues `list` one after another, stopping should consent be withdrawn meanwhile. */
  const enqueueInOrder = (list: Capture[]) => {
    const now = withdrawals;
    list.reduce((done, u) => done.then(() => (now == withdrawals ? enqueue(u) : undefined)), Promise.resolve()).catch(report);
  };

  /** Queues `capture`, holds it in memory while consent is pending, or drops it; settles once that is done. */
  const take = async (capture: Capture) => {
    if (consent.state == 'granted') return enqueue(capture);
    if (consent.state == 'pending') {
      held.push(capture);
      heldVuid = visitor.vuid;
    }
    if (VERBOSE) log(`consent ${consent.state}: not queued`, capture.upsert);
  };
  // Dated as it is made, not as it is stored: one held for consent, or left unstored by a page, keeps its age.
  const stamp = (upsert: Upsert): Capture => ({ id: 0, upsert, at: options.clock.now() });

  consent.on((state) => {
    // A grant queues what an earlier page left unstored, then what waited in memory; a denial purges both, and the
    // queue.
    if (state == 'granted') {
      // The visitor id, now stored, may be one another tab stored meanwhile.
      held.forEach(({ upsert: { attributes } }) => attributes.vuid == heldVuid && (attributes.vuid = visitor.vuid));
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
    accept: (upsert: Upsert) => take(stamp(upsert)),
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
      const capture = stamp(upsert);
      storing.add(capture);
      take(capture).catch(report).finally(() => storing.delete(capture));
      return true;
    },
    /** How many upserts wait in memory for consent. */
    held: () => held.length,
    /** Forgets the held upserts: they belong to the visitor who leaves (`reset()`). */
    reset: () => void (held = []),
  };
}
