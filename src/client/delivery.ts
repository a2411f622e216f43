import { attempt } from './attempt';
import { HttpError } from './errors';
import type { IdCaptureEvents } from './events';
import type { Queue, QueueRecord } from './queue';

/** What one `flush()` did. */
export interface FlushResult {
  /** Upserts acknowledged by the endpoint. */
  sent: number;
  /** Upserts still queued afterwards. */
  pending: number;
  /** Upserts the endpoint named invalid, now removed. */
  dropped: number;
}

export interface DeliveryOptions {
  endpoint: string;
  batchSize: number;
  flushInterval: number;
  fetch: typeof fetch;
  queue: Queue;
  emit: <K extends keyof IdCaptureEvents>(type: K, detail: IdCaptureEvents[K]) => void;
  log: (...args: unknown[]) => void;
}

/** Browsers allow 64 KiB of keepalive bodies in flight per page; stay under it with headers to spare. */
const MAX_BODY = 60_000;
const DEBOUNCE = 250;
const AFTER_ONLINE = 1000;
const BACKOFF_BASE = 1000;
const BACKOFF_CAP = 300_000;
/** Without Web Locks, a flushing tab holds a lease in localStorage for this long (a dead tab's lease expires). */
const LEASE = 30_000;

const size = (text: string) => new TextEncoder().encode(text).length;

/** The oldest records whose JSON array stays within `max` bytes (always at least one), and that array. */
const fit = (records: QueueRecord[], max = MAX_BODY): [QueueRecord[], string] => {
  let bytes = 2;
  const parts: string[] = [];
  for (const r of records) {
    const part = JSON.stringify(r.upsert);
    bytes += size(part) + 1;
    if (parts.length && bytes > max) break;
    parts.push(part);
  }
  return [records.slice(0, parts.length), `[${parts.join()}]`];
};

/** `Retry-After` in ms, in either form (delta seconds or HTTP date); 0 when absent. */
const retryAfter = (response?: Response) => {
  const value = response?.headers.get('retry-after');
  return value ? Math.max(0, isNaN(+value) ? Date.parse(value) - Date.now() : +value * 1000) || 0 : 0;
};

/** Thrown for answers that only time can fix: network failure, 408, 429, 5xx. */
class Transient {
  constructor(readonly response?: Response) {}
}

/**
 * Drains the queue to the endpoint: batches in queue order, one flushing tab at a time, deletes only after a 2xx,
 * retries transient failures with exponential backoff and full jitter, and hands the backlog to keepalive requests
 * when the page is hidden.
 */
export function createDelivery(o: DeliveryOptions) {
  const lockName = `idcapture:${o.endpoint}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = Infinity;
  let notBefore = 0;
  let failures = 0;
  let running: Promise<FlushResult> | undefined;
  let snapshot: QueueRecord[] = [];

  /** Asks for a flush in `ms`, never before a running backoff ends, and never later than one already planned. */
  const schedule = (ms: number) => {
    const at = Math.max(Date.now() + ms, notBefore);
    if (at >= due) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(() => {
      due = Infinity;
      // A backoff that began after this timer was set still holds.
      if (Date.now() < notBefore) schedule(0);
      else flush().catch((error) => o.emit('error', { error }));
    }, at - Date.now());
  };

  /** Deletes acknowledged or refused records, from the queue and from what an unload would resend. */
  const forget = (ids: number[]) => {
    snapshot = snapshot.filter((r) => !ids.includes(r.id));
    return o.queue.remove(ids);
  };

  const post = (body: string, keepalive = false) =>
    o.fetch(o.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, keepalive });

  /** Settles one answer for `batch`; resolves with a smaller batch size to try next, or throws Transient/HttpError. */
  async function settle(response: Response, batch: QueueRecord[], result: FlushResult): Promise<number | void> {
    const { status } = response;
    if (response.ok) {
      await forget(batch.map((r) => r.id));
      result.sent += batch.length;
      failures = 0;
      o.log('sent', batch.length);
      return o.emit('sent', { count: batch.length });
    }
    if (status == 408 || status == 429 || status >= 500) throw new Transient(response);
    if (status == 413 && batch.length > 1) return Math.ceil(batch.length / 2);
    // 400 names the bad records by index; only those leave the queue, and the rest is sent again.
    const invalid: [QueueRecord, string][] =
      status == 413
        ? [[batch[0], 'too large for the endpoint']]
        : ((await response.json().catch(() => 0))?.detail?.invalids ?? [])
            .filter((i: { event: number }) => batch[i?.event])
            .map((i: { event: number; message: string }) => [batch[i.event], String(i.message)]);
    if (!invalid.length) {
      throw new HttpError(status, `idcapture: ${o.endpoint} answered ${status}; check the endpoint URL and the proxy's allowedOrigins`);
    }
    await forget(invalid.map(([r]) => r.id));
    result.dropped += invalid.length;
    invalid.forEach(([r, reason]) => {
      o.log('drop', reason, r.upsert);
      o.emit('drop', { upsert: r.upsert, reason });
    });
  }

  async function drain(result: FlushResult) {
    let limit = o.batchSize;
    while (navigator.onLine !== false) {
      const [batch, body] = fit(await o.queue.oldest(limit));
      if (!batch.length) return;
      try {
        limit = (await settle(await post(body), batch, result)) || limit;
      } catch (error) {
        await o.queue.retried(batch.map((r) => r.id));
        // Anything but a refusal (a network error, a failing custom fetch) is worth retrying.
        throw error instanceof HttpError || error instanceof Transient ? error : new Transient();
      }
    }
  }

  /** Runs `fn` in the one tab that holds the queue's lock; other tabs skip, the holder drains for them. */
  const exclusively = (fn: () => Promise<void>): Promise<unknown> => {
    if (navigator.locks) return navigator.locks.request(lockName, { ifAvailable: true }, (lock) => lock && fn());
    const key = `idcapture-lease:${o.endpoint}`;
    if (+(attempt(() => localStorage.getItem(key)) ?? 0) > Date.now()) return Promise.resolve();
    attempt(() => localStorage.setItem(key, `${Date.now() + LEASE}`));
    return fn().finally(() => attempt(() => localStorage.removeItem(key)));
  };

  async function flushOnce(): Promise<FlushResult> {
    const result = { sent: 0, pending: 0, dropped: 0 };
    let next = o.flushInterval;
    try {
      await exclusively(() => drain(result));
    } catch (error) {
      failures++;
      const response = (error as Transient).response;
      const status = response?.status ?? (error as HttpError).status;
      const delay = Math.max(retryAfter(response), Math.random() * Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** failures));
      notBefore = Date.now() + delay;
      next = 0;
      o.log('retry in', Math.round(delay), 'ms', status ?? 'network error');
      o.emit('retry', { delay, status });
      if (error instanceof HttpError) o.emit('error', { error });
    }
    result.pending = await o.queue.size();
    // Unload handlers cannot wait for IndexedDB, so keep what a keepalive hand-off would send at hand.
    snapshot = result.pending ? await o.queue.oldest(o.batchSize * 10) : [];
    // Items left: another tab holds the lock (look again later) or a backoff runs (retry when it ends).
    if (result.pending) schedule(next);
    return result;
  }

  /** Sends what is queued now; a flush already under way in this tab is finished first. */
  const flush = async (): Promise<FlushResult> => {
    await running;
    return (running ??= flushOnce().finally(() => (running = undefined)));
  };

  /**
   * The page may be going away: hand the oldest records known at the last flush to keepalive requests, which outlive
   * the page. They stay queued; an answer that arrives while the page lives settles them as usual.
   */
  // Fired as visibilitychange (hidden) and again as pagehide when a tab closes: one hand-off per hiding.
  let handedOff = false;
  const onHidden = (e: Event) => {
    if (e.type != 'pagehide' && document.visibilityState != 'hidden') return (handedOff = false);
    // Offline, a keepalive request could only fail, or be replayed by the browser later beside a normal flush.
    if (handedOff || navigator.onLine === false) return;
    handedOff = true;
    let records = snapshot;
    let budget = MAX_BODY;
    while (records.length) {
      const [batch, body] = fit(records.slice(0, o.batchSize), budget);
      if ((budget -= size(body)) < 0) return;
      records = records.slice(batch.length);
      post(body, true)
        .then((response) => settle(response, batch, { sent: 0, pending: 0, dropped: 0 }))
        .catch(() => {});
    }
  };

  const onOnline = () => {
    failures = notBefore = 0;
    schedule(AFTER_ONLINE);
  };
  const onPageShow = (e: PageTransitionEvent) => {
    handedOff = false;
    if (e.persisted) schedule(DEBOUNCE);
  };
  addEventListener('online', onOnline);
  addEventListener('pageshow', onPageShow);
  addEventListener('pagehide', onHidden);
  document.addEventListener('visibilitychange', onHidden);
  schedule(DEBOUNCE);

  return {
    flush,
    /** A new upsert is queued. */
    queued: () => schedule(DEBOUNCE),
    stop() {
      clearTimeout(timer);
      due = Infinity;
      removeEventListener('online', onOnline);
      removeEventListener('pageshow', onPageShow);
      removeEventListener('pagehide', onHidden);
      document.removeEventListener('visibilitychange', onHidden);
    },
  };
}
