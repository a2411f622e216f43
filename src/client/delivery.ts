import { answerOf, fit, type Answer } from './answer';
import { createBackoff, createWatermark } from './backoff';
import type { PageClock } from './page-clock';
import { HttpError, IdCaptureError } from '../errors';
import type { IdCaptureEvents } from './events';
import { createHandOff } from './hand-off';
import type { Added, Queue, QueueRecord, Upsert } from './queue';
import { createTabLock } from './tab-lock';

/** What one `flush()` did. */
export interface FlushResult {
  /** Upserts acknowledged by the endpoint. */
  sent: number;
  /** Upserts still queued afterwards. */
  pending: number;
  /** Upserts the endpoint named invalid, now removed. */
  dropped: number;
}

interface DeliveryOptions {
  endpoint: string;
  batchSize: number;
  flushInterval: number;
  fetch: typeof fetch;
  queue: Queue;
  /** Upserts on their way into the queue, which a page that leaves now would lose: the unload hand-off sends them first. */
  storing: () => Upsert[];
  /** Whether the visitor consents to sending now. */
  consented: () => boolean;
  emit: <K extends keyof IdCaptureEvents>(type: K, detail: IdCaptureEvents[K]) => void;
  log: (...args: unknown[]) => void;
  clock: PageClock;
}

/** A flush follows an enqueue this soon; later enqueues join it rather than postpone it. */
const SOON_MS = 250;
const AFTER_ONLINE_MS = 1000;
/** A request unanswered this long is abandoned, so a hung server cannot hold the queue's lock. */
const REQUEST_TIMEOUT_MS = 30_000;
/** setTimeout fires at once for delays past 2^31 - 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Network failures in a row, while the browser says it is online, that make a misconfiguration likely. */
const UNREACHABLE_AFTER_FAILURES = 3;

/** A misconfigured endpoint is said on the console once per page, whatever the number of clients or failures. */
let warned = false;

/** A failed batch that only time can fix: no answer (`status` absent), a timeout, 408, 429, 5xx. */
class Transient extends Error {
  constructor(
    readonly status?: number,
    readonly afterMs = 0,
  ) {
    super();
  }
}

/**
 * Drains the queue to the endpoint: batches in queue order, one flushing tab at a time, deletes only after a 2xx,
 * retries transient failures with the backoff the origin's tabs share, and hands the backlog to keepalive requests
 * when the page is hidden. What an answer means is decided in answer.ts; this schedules and acts on it.
 */
export function createDelivery(options: DeliveryOptions) {
  const { endpoint, batchSize, queue, consented, emit, log, clock } = options;
  const { now, setTimeout, clearTimeout } = clock;
  const lock = createTabLock(endpoint, clock);
  const backoff = createBackoff(endpoint, clock);
  const watermark = createWatermark(endpoint);
  let timer: unknown;
  /** When the planned flush runs (epoch ms), Infinity when none is planned. */
  let due = Infinity;
  /** Requests in a row that got no answer at all: the endpoint, or the network, is down. */
  let unanswered = 0;
  let stopped = false;
  let flushing: Promise<FlushResult> | undefined;

  /** Asks for a flush in `ms`, never before a running backoff ends, and never later than one already planned. */
  const schedule = (ms: number) => {
    const at = Math.max(now() + ms, backoff.endsAt());
    if (stopped || !consented() || at >= due) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(
      () => {
        due = Infinity;
        // A backoff that began after this timer was set still holds, this tab's or another's; so does a wait longer
        // than one timer.
        if (now() < Math.max(backoff.endsAt(), at)) schedule(at - now());
        else flush(false).catch((error) => emit('error', { error }));
      },
      Math.min(MAX_TIMER_MS, at - now()),
    );
  };

  /** Posts `batch` and reads what its answer means, abandoning both after REQUEST_TIMEOUT_MS unless `keepalive`. */
  const post = async (batch: QueueRecord[], body: string, keepalive = false) => {
    // AbortSignal.timeout is missing from Safari 15, which has Web Locks: a hung request would hold them for good.
    const abort = new AbortController();
    const timeout = keepalive ? 0 : setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
    let response: Response | undefined;
    try {
      response = await options.fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        keepalive,
        signal: abort.signal,
      });
      unanswered = 0;
    } catch {
      // A network error, a timeout, a failing custom fetch: no answer, worth retrying.
    }
    try {
      return await answerOf(response, batch, now());
    } finally {
      clearTimeout(timeout);
    }
  };

  // The records stay queued; an answer that arrives while the page lives settles them as usual.
  const handOff = createHandOff(batchSize, (batch, body) =>
    post(batch, body, true)
      .then((answer) => settle(answer, batch))
      .catch(() => {}),
  );

  /** Deletes acknowledged or refused records, from the queue and from what an unload would resend. */
  const forget = (ids: number[]) => {
    handOff.forget(ids);
    return queue.remove(ids);
  };

  /**
   * Acts on `answer` to `batch`: resolves with a smaller batch size to try next, or throws Transient/HttpError.
   * `result` is given when the batch was the oldest of the queue, sent under the lock (not a keepalive hand-off).
   */
  async function settle(answer: Answer, batch: QueueRecord[], result?: FlushResult): Promise<number | void> {
    // `detail` is what the kind carries (see Answer): a batch size, a wait, a status or the refused records.
    const [kind, detail, status] = answer;
    if (kind == 'split') return detail;
    if (kind == 'retry') throw new Transient(status, detail);
    if (kind == 'refused') {
      throw new HttpError(detail, `idcapture: ${endpoint} answered ${detail}; check the endpoint URL and the proxy's allowedOrigins`);
    }
    if (kind == 'sent') {
      await forget(batch.map((r) => r.id));
      // Everything up to the newest id of a drained batch has left the queue: later hand-offs may skip it. Hand-off
      // answers arrive in any order and do not count; a watermark left low only costs a harmless resend.
      if (result) {
        if (!queue.inMemory()) watermark.raise(batch[batch.length - 1].id);
        result.sent += batch.length;
      }
      backoff.clear();
      log('sent', batch.length);
      return emit('sent', { count: batch.length });
    }
    // Only the named records leave the queue; the rest is sent again.
    await forget([...detail.keys()].map((r) => r.id));
    if (result) result.dropped += detail.size;
    detail.forEach((reason, record) => {
      log('drop', reason, record.upsert);
      emit('drop', { upsert: record.upsert, reason });
    });
  }

  async function drain(result: FlushResult) {
    let limit = batchSize;
    // Consent can be withdrawn between batches.
    while (!stopped && consented()) {
      if (navigator.onLine === false) return log('offline: sending waits for the network');
      const [batch, body] = fit(await queue.oldest(limit));
      if (!batch.length) return;
      limit = (await settle(await post(batch, body), batch, result)) || limit;
    }
  }

  /** Starts the next backoff, for this tab and the others, after a flush that failed with `error`, and says why. */
  const backOff = (error: unknown) => {
    const { status, afterMs } = error as Partial<Transient>;
    if (error instanceof Transient && !status) unanswered++;
    const delay = backoff.fail(afterMs);
    emit('retry', { delay, status });
    if (error instanceof HttpError) misconfigured(error);
    else if (unanswered >= UNREACHABLE_AFTER_FAILURES) {
      // The browser shows only its own network or CORS error, which names neither cause nor cure.
      misconfigured(
        new IdCaptureError(
          `idcapture: ${endpoint} did not answer ${unanswered} times in a row; check the endpoint URL, that the proxy is running, and that its allowedOrigins lists ${location.origin}`,
        ),
      );
    }
  };

  /** Reports a delivery that cannot succeed as configured: an 'error' event each time, the console once per page. */
  const misconfigured = (error: IdCaptureError) => {
    emit('error', { error });
    if (!warned) console.warn(`${error.message} (still retrying, with backoff)`);
    warned = true;
  };

  /** One flush: `wait` for the lock (explicit flush) or skip when another tab holds it (scheduled flush). */
  async function flushOnce(wait: boolean): Promise<FlushResult> {
    const result = { sent: 0, pending: 0, dropped: 0 };
    let nextMs = options.flushInterval;
    try {
      if (consented()) await lock(() => drain(result), wait);
    } catch (error) {
      backOff(error);
      nextMs = 0;
    }
    // Unload handlers cannot wait for IndexedDB, so keep what a keepalive hand-off would send at hand.
    await handOff.refresh(async () => {
      result.pending = await queue.size();
      return result.pending ? queue.oldest(batchSize * 10) : [];
    });
    // Items left: another tab holds the lock (look again later) or a backoff runs (retry when it ends).
    if (result.pending) schedule(nextMs);
    return result;
  }

  /** Runs a flush after the one under way in this tab, if any. */
  const flush = async (wait: boolean): Promise<FlushResult> => {
    while (flushing) await flushing.catch(() => {});
    flushing = flushOnce(wait).finally(() => {
      flushing = undefined;
    });
    return flushing;
  };

  // Fired as visibilitychange (hidden) and again as pagehide when a tab closes: one hand-off per hiding.
  let handedOff = false;
  /**
   * The page may be going away: hand what it holds to keepalive requests, which outlive it. Records another tab has
   * since delivered are left out, so a late resend cannot undo a newer update of the same profile.
   */
  const onHidden = (e: Event) => {
    if (e.type != 'pagehide' && document.visibilityState != 'hidden') {
      handedOff = false;
      return;
    }
    // With the network known down (the browser says so, or this page's last request got no answer), a keepalive
    // request could only fail, or be replayed by the browser later beside a normal flush.
    if (handedOff || stopped || navigator.onLine === false || unanswered || !consented()) return;
    handedOff = true;
    // In memory, ids restart with the page: no watermark applies.
    handOff.send(options.storing(), queue.inMemory() ? 0 : watermark.read());
  };
  const onOnline = () => {
    unanswered = 0;
    backoff.clear();
    schedule(AFTER_ONLINE_MS);
  };
  const onPageShow = (e: PageTransitionEvent) => {
    handedOff = false;
    if (e.persisted) schedule(SOON_MS);
  };
  addEventListener('online', onOnline);
  addEventListener('pageshow', onPageShow);
  addEventListener('pagehide', onHidden);
  document.addEventListener('visibilitychange', onHidden);
  schedule(SOON_MS);

  return {
    /** Sends what is queued now, waiting for another tab's flush to finish first. */
    flush: () => flush(true),
    /** A new upsert is queued: send it soon, and on unload if it comes to that. */
    queued(added: Added) {
      handOff.queued(added);
      schedule(SOON_MS);
    },
    /** The queue was emptied (consent withdrawn): nothing read from it before may be handed off. */
    cleared: handOff.cleared,
    /** Sending became allowed (consent granted). */
    resume: () => schedule(SOON_MS),
    stop() {
      stopped = true;
      clearTimeout(timer);
      removeEventListener('online', onOnline);
      removeEventListener('pageshow', onPageShow);
      removeEventListener('pagehide', onHidden);
      document.removeEventListener('visibilitychange', onHidden);
    },
  };
}
