/**
 * Coalescing: validated browser batches wait a few milliseconds to be merged into one upstream request of up to 500
 * records, sent through the same paced, retrying upsert path as `idcapture/server` (one pacer for everything the proxy
 * sends). Each browser request is answered only when the upstream request carrying its records is answered, so the
 * browser keeps its records until they are truly accepted. Waiting records are bounded (records, bytes, and what the
 * pace can send before a browser's deadline) and shared fairly: batches are filled round robin across client IPs.
 *
 * Last write wins in the browser's order: no two upstream requests in flight carry the same identity. Two overlapping
 * requests may be applied in either order (the API is asynchronous; a slow one lands late), so a browser request that
 * shares an identifier with a batch still upstream waits, at the head of its IP's queue, until that batch is answered.
 */
import { HttpError, NetworkError } from '../server/errors';
import { createPacer, systemClock, timer, type Clock } from '../server/pacer';
import { createTransport } from '../server/transport';
import { createUpsertSender, UpsertRefusedError } from '../server/upsert-sender';
import { identityKeys } from './identity-keys';
import type { FetchLike, Forwarded } from './upstream';
import type { Invalid, ProfileRecord } from './validate';

/** How browser batches are merged. */
export interface CoalesceOptions {
  /** Longest a batch waits for others before it goes upstream, in ms. Default 50. */
  maxWaitMs?: number;
  /** Records in one upstream request, at most 500 (the API's cap). Default 500. */
  maxRecords?: number;
  /** Records waiting or in flight at once; past it (or past what the pace sends within `timeoutMs`) 503. Default 20000. */
  maxPendingRecords?: number;
  /** Bytes of records waiting or in flight at once; past it 503. Default 8388608 (8 MiB). */
  maxPendingBytes?: number;
}

export const coalesceDefaults = { maxWaitMs: 50, maxRecords: 500, maxPendingRecords: 20_000, maxPendingBytes: 8 * 1024 * 1024 } as const;

export interface CoalescerOptions extends Required<CoalesceOptions> {
  url: string;
  apiKey: string;
  fetch: FetchLike;
  /** Upstream requests started per second, retries included. */
  upstreamRps: number;
  /** A browser request's deadline, from its arrival, in ms. */
  timeoutMs: number;
  /** Time of the pace, the wait for more records and the deadlines. Default `systemClock`. */
  clock?: Clock;
}

/** What is held in memory: records waiting for a batch plus records in flight. */
export interface Backlog {
  records: number;
  bytes: number;
  /** Browser requests waiting or in flight. */
  requests: number;
}

interface Entry {
  records: ProfileRecord[];
  bytes: number;
  /** The identities its records write to (`identityKeys`). */
  keys: string[];
  ip: string;
  answer: (result: Forwarded) => void;
  answered: boolean;
  /** Stops the deadline's timer. */
  stopTimer: () => void;
}

/** An upstream request body stays well under the API's 1 MiB: a batch stops growing here. */
const MAX_BATCH_BYTES = 900 * 1024;
/** Only 502–504 and network errors are retried inline, once; a 429 holds the pace and is answered 503 + Retry-After. */
const RETRY_STATUS = [502, 503, 504];
const REFUSED: Invalid['message'] = 'refused by the profiles API';

const encoder = new TextEncoder();

/** Checks `coalesce` once at start-up. */
export function resolveCoalesce(option: CoalesceOptions | false | undefined): Required<CoalesceOptions> | false {
  if (option === false) return false;
  if (option !== undefined && (typeof option != 'object' || !option)) {
    throw new TypeError('idcapture/proxy: option coalesce must be { maxWaitMs, maxRecords } or false');
  }
  const o = { ...coalesceDefaults, ...option };
  const check = (name: keyof CoalesceOptions, min: number, max: number) => {
    const value = o[name];
    if (!(Number.isInteger(value) && value >= min && value <= max)) {
      throw new RangeError(`idcapture/proxy: option coalesce.${name} must be a whole number from ${min} to ${max}`);
    }
  };
  check('maxWaitMs', 0, 60_000);
  check('maxRecords', 1, 500);
  check('maxPendingRecords', 1, 2 ** 31);
  check('maxPendingBytes', 1024, 2 ** 40);
  return o;
}

export function createCoalescer(o: CoalescerOptions) {
  const clock = o.clock ?? systemClock;
  const pacer = createPacer(o.upstreamRps, clock);
  const transport = createTransport({
    apiKey: o.apiKey,
    fetch: async (request) =>
      o.fetch(request.url, {
        method: request.method,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
        redirect: 'manual',
        signal: request.signal,
      }),
    timeoutMs: o.timeoutMs,
    retries: 1,
    retryStatus: RETRY_STATUS,
    pacer,
    random: Math.random,
  });
  const sender = createUpsertSender({ url: o.url, transport, maxBatch: o.maxRecords, maxBodyBytes: 1024 * 1024 });
  // What the pace sends within one browser deadline is the most worth queueing: later records would only time out.
  const recordCap = Math.min(o.maxPendingRecords, Math.max(o.maxRecords, Math.floor((o.upstreamRps * o.timeoutMs * o.maxRecords) / 1000)));
  /** Waiting entries per client IP; the Map's order is the round robin's. */
  const queues = new Map<string, Entry[]>();
  const held = { records: 0, bytes: 0, requests: 0 };
  const perIp = new Map<string, number>();
  let queued = 0;
  let firstAt = 0;
  let wake: (() => void) | undefined;
  /** Identity keys of the batches upstream now, with how many batches carry each. */
  const inFlight = new Map<string, number>();
  /** Resolves the pump's wait when every waiting request was held back behind a batch in flight. */
  let unblock: (() => void) | undefined;
  let pumping = false;

  const release = (entry: Entry) => {
    held.records -= entry.records.length;
    held.bytes -= entry.bytes;
    held.requests--;
    const left = (perIp.get(entry.ip) ?? 0) - entry.records.length;
    if (left > 0) perIp.set(entry.ip, left);
    else perIp.delete(entry.ip);
  };

  const settle = (entry: Entry, result: Forwarded) => {
    if (entry.answered) return;
    entry.answered = true;
    entry.stopTimer();
    release(entry);
    entry.answer(result);
  };

  /** Seconds until the backlog ahead would have been sent at the pace. */
  const backlogSeconds = () => Math.max(1, Math.ceil(held.records / (o.upstreamRps * o.maxRecords)));

  /** Takes up to `maxRecords` records, one browser request per IP in turn, so a flooding IP cannot starve the others. */
  function takeBatch(): Entry[] {
    const batch: Entry[] = [];
    let records = 0;
    let bytes = 2;
    // Identities this batch may not carry: those upstream now and those of requests held back in this pass (a later
    // request of the same identity from another IP must not overtake one held back).
    const blocked = new Set(inFlight.keys());
    for (let progress = true; progress && queues.size; ) {
      progress = false;
      for (const [ip, queue] of [...queues]) {
        // Requests answered already (their deadline passed while they waited) are dropped, never sent.
        while (queue[0]?.answered) queued -= queue.shift()!.records.length;
        if (!queue.length) {
          queues.delete(ip);
          continue;
        }
        const entry = queue[0];
        // Held back whole (a browser request is applied whole or not at all), and the IP's later requests behind it.
        if (entry.keys.some((key) => blocked.has(key))) {
          entry.keys.forEach((key) => blocked.add(key));
          continue;
        }
        if (records + entry.records.length > o.maxRecords || bytes + entry.bytes > MAX_BATCH_BYTES) {
          if (batch.length) return batch;
        }
        queue.shift();
        // Moved to the back of the round robin: the next batch starts with the IP after it.
        queues.delete(ip);
        if (queue.length) queues.set(ip, queue);
        queued -= entry.records.length;
        batch.push(entry);
        records += entry.records.length;
        bytes += entry.bytes;
        progress = true;
      }
    }
    return batch;
  }

  async function send(batch: Entry[]) {
    const keys = [...new Set(batch.flatMap((e) => e.keys))];
    keys.forEach((key) => inFlight.set(key, (inFlight.get(key) ?? 0) + 1));
    try {
      await deliver(batch);
    } finally {
      // Answered (202, refused, 502, deadline): requests held back behind it may go.
      for (const key of keys) {
        const left = inFlight.get(key)! - 1;
        if (left) inFlight.set(key, left);
        else inFlight.delete(key);
      }
      unblock?.();
    }
  }

  async function deliver(batch: Entry[]) {
    const records = batch.flatMap((e) => e.records);
    // The batch is dropped from memory when its last browser has been answered or given up on.
    const controller = new AbortController();
    const stopTimer = timer(clock, o.timeoutMs, () => controller.abort());
    let result: Forwarded | undefined;
    let sent: Awaited<ReturnType<typeof sender.upsert>> | undefined;
    try {
      // A browser request is applied whole or not at all: a refused record withdraws its siblings from the resend.
      sent = await sender.upsert(records, controller.signal, batch.flatMap((e, n) => e.records.map(() => n)));
    } catch (error) {
      if (controller.signal.aborted) result = { reason: 'upstream_timeout' };
      else if (error instanceof HttpError) {
        const { status } = error;
        const retryAfterMs = error instanceof UpsertRefusedError ? error.retryAfterMs : 0;
        if (status == 429 || status == 503) result = { reason: 'upstream_busy', upstreamStatus: status, retryAfterS: Math.min(60, Math.max(1, Math.ceil(retryAfterMs / 1000))) };
        else if (status >= 400 && status < 500) result = { reason: 'upstream_rejected', upstreamStatus: status };
        else result = { reason: 'upstream_error', upstreamStatus: status };
      } else result = { reason: error instanceof NetworkError ? 'upstream_error' : 'upstream_timeout' };
    } finally {
      stopTimer();
    }
    if (result) return batch.forEach((entry) => settle(entry, result));
    // Invalids come back by index in the merged batch: each goes to the browser request that sent it, by its own index.
    const refused = new Set(sent!.invalids.map((r) => r.index));
    let offset = 0;
    for (const entry of batch) {
      const invalids: Invalid[] = [];
      entry.records.forEach((_, i) => refused.has(offset + i) && invalids.push({ event: i, message: REFUSED }));
      offset += entry.records.length;
      settle(entry, invalids.length ? { reason: 'upstream_invalid', invalids, upstreamStatus: 400 } : { reason: 'accepted', upstreamStatus: 202 });
    }
  }

  async function pump() {
    while (queued > 0) {
      if (queued < o.maxRecords) {
        const wait = firstAt + o.maxWaitMs - clock.now();
        if (wait > 0) {
          // Called off when woken early, so no timer outlives the wait.
          const waiting = new AbortController();
          await Promise.race([clock.sleep(wait, waiting.signal), new Promise<void>((resolve) => (wake = resolve))]);
          waiting.abort();
        }
        wake = undefined;
      }
      // The batch is taken when its slot comes, so records that arrive while it waits for the pace ride along.
      await pacer.ready();
      const batch = takeBatch();
      // Records left over start their wait now: a full batch left them behind, so they go at the next slot.
      firstAt = queued ? clock.now() - o.maxWaitMs : clock.now();
      if (batch.length) void send(batch);
      // Everything waiting is held back behind batches in flight: sleep until one is answered or a request arrives.
      else if (queued > 0) await new Promise<void>((resolve) => (unblock = resolve));
      unblock = undefined;
    }
  }

  /** Starts the pump unless it runs; a submit that lands as it stops starts it again. */
  function kick() {
    if (pumping) return;
    pumping = true;
    void pump().finally(() => {
      pumping = false;
      if (queued > 0) kick();
    });
  }

  return {
    /**
     * Queues a validated browser batch and resolves with its answer once the upstream request carrying it is
     * answered, or `upstream_busy` at once when the backlog is full (for everyone, or for this IP's fair share).
     */
    submit(records: ProfileRecord[], ip = ''): Promise<Forwarded> {
      const bytes = records.reduce((sum, r) => sum + encoder.encode(JSON.stringify(r)).length + 1, 0);
      const mine = perIp.get(ip) ?? 0;
      const activeIps = perIp.size + (mine ? 0 : 1);
      const full = held.records + records.length > recordCap || held.bytes + bytes > o.maxPendingBytes;
      // Past half the cap an IP may hold only its share of that half, so a few IPs cannot fill it for everyone.
      const unfair = held.records + records.length > recordCap / 2 && mine + records.length > recordCap / 2 / activeIps;
      if (full || unfair) return Promise.resolve({ reason: 'upstream_busy', retryAfterS: backlogSeconds() });
      return new Promise((answer) => {
        const entry: Entry = { records, bytes, keys: identityKeys(records), ip, answer, answered: false, stopTimer: () => {} };
        // A browser is answered 504 at its deadline even if its records still wait: its memory goes with the answer.
        entry.stopTimer = timer(clock, o.timeoutMs, () => settle(entry, { reason: 'upstream_timeout' }));
        held.records += records.length;
        held.bytes += bytes;
        held.requests++;
        perIp.set(ip, mine + records.length);
        if (!queued) firstAt = clock.now();
        queued += records.length;
        const queue = queues.get(ip);
        if (queue) queue.push(entry);
        else queues.set(ip, [entry]);
        if (queued >= o.maxRecords) wake?.();
        unblock?.();
        kick();
      });
    },
    /** What is held in memory now. */
    backlog(): Backlog {
      return { ...held };
    },
  };
}

export type Coalescer = ReturnType<typeof createCoalescer>;
