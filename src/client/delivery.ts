import type { Failure } from './answer';
import { createBackoff } from './backoff';
import type { Consent } from './consent';
import { createDiagnosis } from './diagnosis';
import type { IdCaptureEvents } from './events';
import { createSnapshot, watchPage } from './hand-off';
import type { PageClock } from './page-clock';
import { createPlanner } from './planner';
import type { Added, Capture, Queue } from './queue';
import { createSender } from './send';
import { withTabLock } from './tab-lock';

/** What one `flush()` did. */
export interface FlushResult {
  /** Upserts acknowledged by the endpoint. */
  sent: number;
  /** Upserts still queued afterwards. */
  pending: number;
  /** Upserts removed unsent: named invalid by the endpoint, or older than `maxAgeDays`. */
  dropped: number;
}

interface DeliveryOptions {
  endpoint: string;
  batchSize: number;
  maxAgeDays: number;
  flushInterval: number;
  fetch: typeof fetch;
  queue: Queue;
  consent: Consent;
  /** Upserts on their way into the queue, which a page that leaves now would lose: the unload hand-off sends them first. */
  storing: Set<Capture>;
  emit: <K extends keyof IdCaptureEvents>(type: K, detail: IdCaptureEvents[K]) => void;
  log: (...args: unknown[]) => void;
  clock: PageClock;
  /** Aborts when the client is destroyed: nothing is sent or planned any more. */
  signal: AbortSignal;
}

/** A flush follows an enqueue this soon; later enqueues join it rather than postpone it. */
const SOON_MS = 250;
const AFTER_ONLINE_MS = 1000;

/**
 * Drains the queue to the endpoint while consent is granted: batches in queue order, one flushing tab at a time,
 * retries failures with the backoff the origin's tabs share, and hands the backlog to keepalive requests when the
 * page is hidden. Sending and acting on answers is send.ts's; this plans when.
 */
export function createDelivery(options: DeliveryOptions) {
  const { endpoint, batchSize, queue, consent, emit, clock, signal } = options;
  const backoff = createBackoff(endpoint, clock);
  const raise = (error: unknown) => emit('error', { error });
  const diagnosis = createDiagnosis(endpoint, raise);
  const snapshot = createSnapshot();
  const sender = createSender(options, snapshot, backoff, diagnosis);
  let flushing: Promise<[FlushResult, number]> | undefined;
  const sending = () => !signal.aborted && consent.state == 'granted';
  const plan = createPlanner(clock, backoff.endsAt, sending, raise, signal);

  /**
   * One flush: `wait` for the lock (explicit flush) or skip when another tab holds it (planned flush). Resolves with
   * what it did and when to look again should records be left.
   */
  async function flushOnce(wait: boolean): Promise<[FlushResult, number]> {
    const result = { sent: 0, pending: 0, dropped: 0 };
    let failure: Failure | undefined;
    let failed = false;
    try {
      if (sending()) await withTabLock(endpoint, wait, async () => void (failure = await sender.drain(result, sending)));
    } catch {
      // Storage or the lock failed, not the endpoint: tried again after a backoff all the same.
      failed = true;
    }
    if (failure || failed) {
      const delay = backoff.fail(failure?.kind == 'retry' ? failure.afterMs : 0);
      emit('retry', { delay, status: failure?.status });
      diagnosis.failed(failure);
    }
    // Unload handlers cannot wait for IndexedDB, so keep what a keepalive hand-off would send at hand.
    await snapshot.refresh(async () => {
      result.pending = await queue.size();
      return result.pending ? queue.oldest(batchSize * 10) : [];
    });
    return [result, failure || failed ? 0 : options.flushInterval];
  }

  /**
   * Runs a flush after this tab's flush under way, if any. Records left mean another tab holds the lock (look again
   * later) or a backoff runs (retry when it ends).
   */
  async function flush(wait: boolean): Promise<FlushResult> {
    while (flushing) await flushing.catch(() => {});
    flushing = flushOnce(wait).finally(() => {
      flushing = undefined;
    });
    const [result, nextMs] = await flushing;
    if (result.pending) plan(nextMs, () => flush(false));
    return result;
  }

  const soon = (ms: number) => plan(ms, () => flush(false));
  consent.on((state) => (state == 'granted' ? soon(SOON_MS) : state == 'denied' && snapshot.cleared()));
  watchPage(
    signal,
    // With the network known down (the browser says so, or this page's last request got no answer), a keepalive
    // request could only fail, or be replayed by the browser later beside a normal flush.
    () => sending() && navigator.onLine !== false && !diagnosis.down() && (sender.handOff([...options.storing]), true),
    () => soon(SOON_MS),
    () => {
      diagnosis.answered();
      backoff.clear();
      soon(AFTER_ONLINE_MS);
    },
  );
  soon(SOON_MS);

  return {
    /** Sends what is queued now, waiting for another tab's flush to finish first. */
    flush: () => flush(true),
    /** A new upsert is queued: send it soon, and on unload if it comes to that. */
    queued(added: Added) {
      snapshot.queued(added);
      soon(SOON_MS);
    },
  };
}
