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
import { systemClock, timer, type Clock } from '../upstream/clock';
import { createPacer } from '../upstream/pacer';
import { createTransport } from '../upstream/transport';
import { createUpsertSender } from '../upstream/upsert-sender';
import { optionChecks, optionNames } from '../options/checks';
import type { CheckedRecord } from '../profile/batch';
import { createBacklog } from './backlog';
import { createFairQueue } from './fair-queue';
import { answersOf, failureOf } from './batch-answers';
import { identityKeys } from './identity-keys';
import type { FetchLike, Forwarded } from './upstream';

/** How browser batches are merged. */
export interface CoalesceOptions {
  /**
   * Longest a batch waits for others before it goes upstream, in ms.
   * @default 50
   */
  maxWaitMs?: number;
  /**
   * Records in one upstream request, at most 500 (the API's cap).
   * @default 500
   */
  maxRecords?: number;
  /**
   * Records waiting or in flight at once; past it (or past what the pace sends within `timeoutMs`) 503.
   * @default 20000
   */
  maxPendingRecords?: number;
  /**
   * Bytes of records waiting or in flight at once; past it 503.
   * @default 8388608 (8 MiB)
   */
  maxPendingBytes?: number;
}

/** Every default, in one place. */
export const defaults = { maxWaitMs: 50, maxRecords: 500, maxPendingRecords: 20_000, maxPendingBytes: 8 * 1024 * 1024 } as const;

interface CoalescerOptions extends Required<CoalesceOptions> {
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
interface Backlog {
  records: number;
  bytes: number;
  /** Browser requests waiting or in flight. */
  requests: number;
}

interface Entry {
  records: CheckedRecord[];
  bytes: number;
  /** The identities its records write to (`identityKeys`). */
  keys: string[];
  ip: string;
  answer: (result: Forwarded) => void;
  answered: boolean;
  /** Stops the deadline's timer. */
  stopTimer: () => void;
}

/** The API's limit on an upstream request body. */
const UPSTREAM_MAX_BODY_BYTES = 1024 * 1024;
/** An upstream request body stays well under the API's 1 MiB: a batch stops growing here. */
const MAX_BATCH_BYTES = 900 * 1024;
/** Only 502–504 and network errors are retried inline, once; a 429 holds the pace and is answered 503 + Retry-After. */
const RETRY_STATUS = [502, 503, 504];

const encoder = new TextEncoder();

const check = optionChecks('idcapture/proxy');

const names = optionNames<CoalesceOptions>()(defaults, []);

/** Checks `coalesce` once at start-up. */
export function resolveCoalesce(option: CoalesceOptions | false | undefined): Required<CoalesceOptions> | false {
  if (option === false) return false;
  if (option !== undefined && (typeof option != 'object' || !option)) check.fail('coalesce', '{ maxWaitMs, maxRecords } or false');
  if (option) check.known(option, names, 'coalesce');
  const given = { ...defaults, ...option };
  return {
    maxWaitMs: check.whole('coalesce.maxWaitMs', given.maxWaitMs, 0, 60_000),
    maxRecords: check.whole('coalesce.maxRecords', given.maxRecords, 1, 500),
    maxPendingRecords: check.whole('coalesce.maxPendingRecords', given.maxPendingRecords, 1, 2 ** 31),
    maxPendingBytes: check.whole('coalesce.maxPendingBytes', given.maxPendingBytes, 1024, 2 ** 40),
  };
}

/**
 * The paced, retrying upsert path shared with `idcapture/server`: one pacer for everything the proxy sends, retries
 * included. Only 502–504 and network errors are retried inline, once.
 */
function createUpstream(options: CoalescerOptions, clock: Clock) {
  const pacer = createPacer(options.upstreamRps, clock);
  const transport = createTransport({
    apiKey: options.apiKey,
    fetch: async (request) =>
      options.fetch(request.url, {
        method: request.method,
        headers: Object.fromEntries(request.headers),
        body: await request.text(),
        redirect: 'manual',
        signal: request.signal,
      }),
    timeoutMs: options.timeoutMs,
    retries: 1,
    retryStatus: RETRY_STATUS,
    pacer,
    random: Math.random,
  });
  return { pacer, sender: createUpsertSender({ url: options.url, transport, maxBatch: options.maxRecords, maxBodyBytes: UPSTREAM_MAX_BODY_BYTES }) };
}

export function createCoalescer(options: CoalescerOptions) {
  const clock = options.clock ?? systemClock;
  const { pacer, sender } = createUpstream(options, clock);
  // What the pace sends within one browser deadline is the most worth queueing: later records would only time out.
  const recordCap = Math.min(options.maxPendingRecords, Math.max(options.maxRecords, Math.floor((options.upstreamRps * options.timeoutMs * options.maxRecords) / 1000)));
  const backlog = createBacklog(recordCap, options.maxPendingBytes);
  const waiting = createFairQueue<Entry>(options.maxRecords, MAX_BATCH_BYTES);
  let firstAt = 0;
  let wake: (() => void) | undefined;
  /** Identity keys of the batches upstream now, with how many batches carry each. */
  const inFlight = new Map<string, number>();
  /** Resolves the pump's wait when every waiting request was held back behind a batch in flight. */
  let unblock: (() => void) | undefined;
  let pumping = false;

  const settle = (entry: Entry, result: Forwarded) => {
    if (entry.answered) return;
    entry.answered = true;
    entry.stopTimer();
    backlog.release(entry.ip, entry.records.length, entry.bytes);
    entry.answer(result);
  };

  /** Seconds until the backlog ahead would have been sent at the pace. */
  const backlogSeconds = () => Math.max(1, Math.ceil(backlog.held.records / (options.upstreamRps * options.maxRecords)));

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
    const stopTimer = timer(clock, options.timeoutMs, () => controller.abort());
    let answers: Forwarded[];
    try {
      // A browser request is applied whole or not at all: a refused record withdraws its siblings from the resend.
      const sent = await sender.upsert(records, controller.signal, batch.flatMap((e, n) => e.records.map(() => n)));
      answers = answersOf(batch, new Set(sent.invalids.map((r) => r.index)));
    } catch (error) {
      answers = batch.map(() => failureOf(error, controller.signal.aborted));
    } finally {
      stopTimer();
    }
    batch.forEach((entry, n) => settle(entry, answers[n]));
  }

  async function pump() {
    while (waiting.records() > 0) {
      if (waiting.records() < options.maxRecords) {
        const wait = firstAt + options.maxWaitMs - clock.now();
        if (wait > 0) {
          // Called off when woken early, so no timer outlives the wait.
          const early = new AbortController();
          await Promise.race([clock.sleep(wait, early.signal), new Promise<void>((resolve) => (wake = resolve))]);
          early.abort();
        }
        wake = undefined;
      }
      // The batch is taken when its slot comes, so records that arrive while it waits for the pace ride along.
      await pacer.ready();
      const batch = waiting.take(inFlight.keys());
      // Records left over start their wait now: a full batch left them behind, so they go at the next slot.
      firstAt = waiting.records() ? clock.now() - options.maxWaitMs : clock.now();
      if (batch.length) void send(batch);
      // Everything waiting is held back behind batches in flight: sleep until one is answered or a request arrives.
      else if (waiting.records() > 0) await new Promise<void>((resolve) => (unblock = resolve));
      unblock = undefined;
    }
  }

  /** Starts the pump unless it runs; a submit that lands as it stops starts it again. */
  function kick() {
    if (pumping) return;
    pumping = true;
    void pump().finally(() => {
      pumping = false;
      if (waiting.records() > 0) kick();
    });
  }

  return {
    /**
     * Queues a validated browser batch and resolves with its answer once the upstream request carrying it is
     * answered, or `upstream_busy` at once when the backlog is full (for everyone, or for this IP's fair share).
     */
    submit(records: CheckedRecord[], ip = ''): Promise<Forwarded> {
      const bytes = records.reduce((sum, r) => sum + encoder.encode(JSON.stringify(r)).length + 1, 0);
      if (!backlog.admit(ip, records.length, bytes)) return Promise.resolve({ reason: 'upstream_busy', retryAfterS: backlogSeconds() });
      return new Promise((answer) => {
        const entry: Entry = { records, bytes, keys: identityKeys(records), ip, answer, answered: false, stopTimer: () => {} };
        // A browser is answered 504 at its deadline even if its records still wait: its memory goes with the answer.
        entry.stopTimer = timer(clock, options.timeoutMs, () => settle(entry, { reason: 'upstream_timeout' }));
        if (!waiting.records()) firstAt = clock.now();
        waiting.add(entry);
        if (waiting.records() >= options.maxRecords) wake?.();
        unblock?.();
        kick();
      });
    },
    /** What is held in memory now. */
    backlog(): Backlog {
      return { ...backlog.held };
    },
  };
}

export type Coalescer = ReturnType<typeof createCoalescer>;
