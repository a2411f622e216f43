import { attempt } from './attempt';
import { HttpError, IdCaptureError } from './errors';
import type { IdCaptureEvents } from './events';
import type { Added, Queue, QueueRecord, Upsert } from './queue';
import { createTabLock } from './tab-lock';
import { parseRetryAfterMs } from '../http/retry-after';

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
  /** Upserts on their way into the queue, which a page that leaves now would lose: the unload hand-off sends them first. */
  storing: () => Upsert[];
  /** Whether sending is allowed now (consent). */
  allowed: () => boolean;
  emit: <K extends keyof IdCaptureEvents>(type: K, detail: IdCaptureEvents[K]) => void;
  log: (...args: unknown[]) => void;
}

/** Browsers allow 64 KiB of keepalive bodies in flight per page; stay under it with headers to spare. */
const MAX_BODY = 60_000;
/** A flush follows an enqueue this soon; later enqueues join it rather than postpone it. */
const SOON = 250;
const AFTER_ONLINE = 1000;
const BACKOFF_BASE = 1000;
const BACKOFF_CAP = 300_000;
/** The longest `Retry-After` honoured: a server asking for days is asking for an hour. */
const MAX_RETRY_AFTER = 3_600_000;
/** A request unanswered this long is abandoned, so a hung server cannot hold the queue's lock. */
const REQUEST_TIMEOUT = 30_000;
/** setTimeout fires at once for delays past 2^31 - 1 ms. */
const MAX_TIMER = 2 ** 31 - 1;
/** Network failures in a row, while the browser says it is online, that make a misconfiguration likely. */
const UNREACHABLE_AFTER = 3;

/** A misconfigured endpoint is said on the console once per page, whatever the number of clients or failures. */
let warned = false;

const encoder = new TextEncoder();
const size = (text: string) => encoder.encode(text).length;

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

/** `Retry-After` in ms, in either form, at most an hour; 0 when absent. */
const retryAfter = (response?: Response) => Math.min(MAX_RETRY_AFTER, parseRetryAfterMs(response?.headers.get('retry-after')));

/** A number the origin's tabs share in localStorage; 0 when absent, unreadable or garbled. */
const stored = (key: string) => +(attempt(() => localStorage.getItem(key)) ?? 0) || 0;

/** Thrown for answers that only time can fix: network failure, timeout, 408, 429, 5xx. */
class Transient {
  constructor(readonly response?: Response) {}
}

/**
 * Drains the queue to the endpoint: batches in queue order, one flushing tab at a time, deletes only after a 2xx,
 * retries transient failures with exponential backoff and full jitter, and hands the backlog to keepalive requests
 * when the page is hidden.
 */
export function createDelivery(o: DeliveryOptions) {
  const lock = createTabLock(o.endpoint);
  // Shared by the origin's tabs: when the last backoff ends, and the newest id known to have left the queue.
  const retryKey = `idcapture-retry:${o.endpoint}`;
  const ackedKey = `idcapture-acked:${o.endpoint}`;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let due = Infinity;
  let notBefore = 0;
  let failures = 0;
  /** Requests in a row that got no answer at all: the endpoint, or the network, is down. */
  let unanswered = 0;
  let stopped = false;
  let running: Promise<FlushResult> | undefined;
  /** What a keepalive hand-off would send: the oldest records at the last flush, plus those queued since. */
  let snapshot: QueueRecord[] = [];
  /** Times the queue was emptied (consent withdrawn): a snapshot read before that is not kept. */
  let clears = 0;

  /** Asks for a flush in `ms`, never before a running backoff ends, and never later than one already planned. */
  const schedule = (ms: number) => {
    notBefore = Math.max(notBefore, stored(retryKey));
    const at = Math.max(Date.now() + ms, notBefore);
    if (stopped || !o.allowed() || at >= due) return;
    clearTimeout(timer);
    due = at;
    timer = setTimeout(
      () => {
        due = Infinity;
        // A backoff that began after this timer was set still holds, this tab's or another's; so does a wait longer
        // than one timer.
        notBefore = Math.max(notBefore, stored(retryKey));
        if (Date.now() < Math.max(notBefore, at)) schedule(at - Date.now());
        else run(false).catch((error) => o.emit('error', { error }));
      },
      Math.min(MAX_TIMER, at - Date.now()),
    );
  };

  /** Ends the backoff here and for the other tabs: the endpoint answered, or the network came back. */
  const clearBackoff = () => {
    failures = notBefore = 0;
    attempt(() => localStorage.removeItem(retryKey));
  };

  /** Deletes acknowledged or refused records, from the queue and from what an unload would resend. */
  const forget = (ids: number[]) => {
    snapshot = snapshot.filter((r) => !ids.includes(r.id));
    return o.queue.remove(ids);
  };

  const post = (body: string, keepalive = false) => {
    // AbortSignal.timeout is missing from Safari 15, which has Web Locks: a hung request would hold them for good.
    const abort = new AbortController();
    if (!keepalive) setTimeout(() => abort.abort(), REQUEST_TIMEOUT);
    return o.fetch(o.endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      keepalive,
      signal: abort.signal,
    });
  };

  /**
   * Settles one answer for `batch`; resolves with a smaller batch size to try next, or throws Transient/HttpError.
   * `drained`: the batch was the oldest of the queue, sent under the lock (not a keepalive hand-off).
   */
  async function settle(response: Response, batch: QueueRecord[], result: FlushResult, drained = true): Promise<number | void> {
    const { status } = response;
    unanswered = 0;
    if (response.ok) {
      await forget(batch.map((r) => r.id));
      // Everything up to the newest id of a drained batch has left the queue: later hand-offs may skip it. Hand-off
      // answers arrive in any order and do not count; a watermark left low only costs a harmless resend.
      if (drained && !o.queue.inMemory()) {
        const newest = Math.max(batch[batch.length - 1].id, stored(ackedKey));
        attempt(() => localStorage.setItem(ackedKey, `${newest}`));
      }
      result.sent += batch.length;
      clearBackoff();
      o.log('sent', batch.length);
      return o.emit('sent', { count: batch.length });
    }
    if (status == 408 || status == 429 || status >= 500) throw new Transient(response);
    if (status == 413 && batch.length > 1) return Math.ceil(batch.length / 2);
    // 400 names the bad records by index; only those leave the queue, and the rest is sent again.
    const invalid = new Map<QueueRecord, string>(
      status == 413
        ? [[batch[0], 'too large for the endpoint']]
        : ((await response.json().catch(() => 0))?.detail?.invalids ?? [])
            .filter((i: { event: unknown }) => Number.isInteger(i?.event) && batch[i.event as number])
            .map((i: { event: number; message: unknown }) => [batch[i.event], String(i.message)]),
    );
    if (!invalid.size) {
      throw new HttpError(status, `idcapture: ${o.endpoint} answered ${status}; check the endpoint URL and the proxy's allowedOrigins`);
    }
    await forget([...invalid.keys()].map((r) => r.id));
    result.dropped += invalid.size;
    invalid.forEach((reason, r) => {
      o.log('drop', reason, r.upsert);
      o.emit('drop', { upsert: r.upsert, reason });
    });
  }

  async function drain(result: FlushResult) {
    let limit = o.batchSize;
    // Consent can be withdrawn between batches.
    while (!stopped && o.allowed()) {
      if (navigator.onLine === false) return o.log('offline: sending waits for the network');
      const [batch, body] = fit(await o.queue.oldest(limit));
      if (!batch.length) return;
      try {
        limit = (await settle(await post(body), batch, result)) || limit;
      } catch (error) {
        // Anything but a refusal (a network error, a timeout, a failing custom fetch) is worth retrying.
        throw error instanceof HttpError || error instanceof Transient ? error : new Transient();
      }
    }
  }

  /** One flush: `wait` for the lock (explicit flush) or skip when another tab holds it (scheduled flush). */
  async function flushOnce(wait: boolean): Promise<FlushResult> {
    const result = { sent: 0, pending: 0, dropped: 0 };
    let next = o.flushInterval;
    try {
      if (o.allowed()) await lock(() => drain(result), wait);
    } catch (error) {
      failures++;
      const response = (error as Transient).response;
      const status = response?.status ?? (error as HttpError).status;
      if (error instanceof Transient && !response) unanswered++;
      const delay = Math.max(retryAfter(response), Math.random() * Math.min(BACKOFF_CAP, BACKOFF_BASE * 2 ** failures));
      notBefore = Date.now() + delay;
      attempt(() => localStorage.setItem(retryKey, `${notBefore}`));
      next = 0;
      o.log('retry in', Math.round(delay), 'ms', status ?? 'network error');
      o.emit('retry', { delay, status });
      if (error instanceof HttpError) misconfigured(error);
      else if (unanswered >= UNREACHABLE_AFTER) {
        // The browser shows only its own network or CORS error, which names neither cause nor cure.
        misconfigured(
          new IdCaptureError(
            `idcapture: ${o.endpoint} did not answer ${unanswered} times in a row; check the endpoint URL, that the proxy is running, and that its allowedOrigins lists ${location.origin}`,
          ),
        );
      }
    }
    const mark = clears;
    result.pending = await o.queue.size();
    // Unload handlers cannot wait for IndexedDB, so keep what a keepalive hand-off would send at hand.
    const oldest = result.pending ? await o.queue.oldest(o.batchSize * 10) : [];
    if (mark == clears) snapshot = oldest;
    // Items left: another tab holds the lock (look again later) or a backoff runs (retry when it ends).
    if (result.pending) schedule(next);
    return result;
  }

  /** Reports a delivery that cannot succeed as configured: an 'error' event each time, the console once per page. */
  const misconfigured = (error: IdCaptureError) => {
    o.emit('error', { error });
    if (!warned) console.warn(`${error.message} (still retrying, with backoff)`);
    warned = true;
  };

  /** Runs a flush after the one under way in this tab, if any. */
  const run = async (wait: boolean): Promise<FlushResult> => {
    while (running) await running.catch(() => {});
    return (running = flushOnce(wait).finally(() => (running = undefined)));
  };

  // Fired as visibilitychange (hidden) and again as pagehide when a tab closes: one hand-off per hiding.
  let handedOff = false;
  /**
   * The page may be going away: hand the captures not yet stored, then the oldest records this tab knows of, to
   * keepalive requests, which outlive the
   * page. They stay queued; an answer that arrives while the page lives settles them as usual. Records another tab
   * has since delivered are left out, so a late resend cannot undo a newer update of the same profile.
   */
  const onHidden = (e: Event) => {
    if (e.type != 'pagehide' && document.visibilityState != 'hidden') return (handedOff = false);
    // With the network known down (the browser says so, or this page's last request got no answer), a keepalive
    // request could only fail, or be replayed by the browser later beside a normal flush.
    if (handedOff || stopped || navigator.onLine === false || unanswered || !o.allowed()) return;
    handedOff = true;
    // In memory the hand-off is the only way out, and ids restart with the page: no watermark applies.
    const delivered = o.queue.inMemory() ? 0 : stored(ackedKey);
    // Id 0 matches no queued record, so an answer to these removes nothing.
    let records = [
      ...o.storing().map((upsert) => ({ id: 0, upsert, at: 0 })),
      ...snapshot.filter((r) => r.id > delivered),
    ];
    let budget = MAX_BODY;
    while (records.length) {
      const [batch, body] = fit(records.slice(0, o.batchSize), budget);
      if ((budget -= size(body)) < 0) return;
      records = records.slice(batch.length);
      post(body, true)
        .then((response) => settle(response, batch, { sent: 0, pending: 0, dropped: 0 }, false))
        .catch(() => {});
    }
  };

  const onOnline = () => {
    unanswered = 0;
    clearBackoff();
    schedule(AFTER_ONLINE);
  };
  const onPageShow = (e: PageTransitionEvent) => {
    handedOff = false;
    if (e.persisted) schedule(SOON);
  };
  addEventListener('online', onOnline);
  addEventListener('pageshow', onPageShow);
  addEventListener('pagehide', onHidden);
  document.addEventListener('visibilitychange', onHidden);
  schedule(SOON);

  return {
    /** Sends what is queued now, waiting for another tab's flush to finish first. */
    flush: () => run(true),
    /** A new upsert is queued: send it soon, and on unload if it comes to that. */
    queued({ record, replaced, dropped, size }: Added) {
      const gone = [replaced, ...dropped.map((r) => r.id)];
      // Copied only when a record left: a burst of thousands of adds then costs no copy of the snapshot each.
      const next = replaced || dropped.length ? snapshot.filter((r) => !gone.includes(r.id)) : snapshot;
      // Appended only while the snapshot still holds the whole queue: a gap (another tab's records, a queue longer
      // than the snapshot) would let a hand-off send newer updates before older ones.
      if (next.length + 1 == size) {
        snapshot = next;
        snapshot.push(record);
      }
      schedule(SOON);
    },
    /** The queue was emptied (consent withdrawn): nothing read from it before may be handed off. */
    cleared() {
      clears++;
      snapshot = [];
    },
    /** Sending became allowed (consent granted). */
    resume: () => schedule(SOON),
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
