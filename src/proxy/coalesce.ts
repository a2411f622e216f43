/**
 * The way upstream for every checked browser batch. Coalescing, batches wait a few milliseconds to be merged into one
 * upstream request of up to 500 records; with `coalesce: false` each goes as its own request, at once. Either way it is
 * sent through the proxy's one paced, retrying upstream path (`upstream.ts`), and each browser request is answered only
 * when the upstream request carrying its records is answered, so the browser keeps its records until they are truly
 * accepted. What waits is bounded (records, bytes, and what the pace can send before a browser's deadline) and shared
 * fairly: batches are filled round robin across client IPs, and no two upstream requests in flight carry one identity.
 */
import { systemClock, timer, type Clock } from '../upstream/clock';
import { optionChecks, optionNames } from '../options/checks';
import type { CheckedRecord } from '../profile/batch';
import { createBacklog } from './backlog';
import { createBatchPump } from './batch-pump';
import { retryAfterSeconds, type Forwarded } from './batch-answers';
import { identityKeys } from './identity-keys';
import { createUpstream, type FetchLike } from './upstream';
import type { SharedStore } from './shared/store';

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

/** The API's own cap on records per request. */
export const UPSTREAM_MAX_BATCH = 500;

/** `coalesce` as checked: `merge` false for `coalesce: false`, each browser request its own upstream request. */
export interface CoalesceSettings extends Required<CoalesceOptions> {
  merge: boolean;
}

interface CoalescerOptions extends CoalesceSettings {
  url: string;
  apiKey: string;
  fetch: FetchLike;
  /** Upstream requests started per second, retries included. */
  upstreamRps: number;
  /** A browser request's deadline, from its arrival, in ms. */
  timeoutMs: number;
  /** Time of the pace, the wait for more records and the deadlines. Default `systemClock`. */
  clock?: Clock;
  /** Redis, for one pace across processes. */
  shared?: SharedStore;
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
  /** Each record's capture time, by index: the upstream request carries its records in capture order. */
  capturedAt: readonly number[];
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

const encoder = new TextEncoder();

const check = optionChecks('idcapture/proxy');

const names = optionNames<CoalesceOptions>()(defaults, []);

/**
 * Checks `coalesce` once at start-up. `false` is the same path without the merge: no wait, one browser request per
 * upstream request (of up to the API's 500 records, more than any browser request may carry).
 */
export function resolveCoalesce(option: CoalesceOptions | false | undefined): CoalesceSettings {
  if (option === false) return { ...defaults, maxWaitMs: 0, maxRecords: UPSTREAM_MAX_BATCH, merge: false };
  if (option !== undefined && (typeof option != 'object' || !option)) check.fail('coalesce', '{ maxWaitMs, maxRecords } or false');
  if (option) check.known(option, names, 'coalesce');
  const given = { ...defaults, ...option };
  return {
    merge: true,
    maxWaitMs: check.whole('coalesce.maxWaitMs', given.maxWaitMs, 0, 60_000),
    maxRecords: check.whole('coalesce.maxRecords', given.maxRecords, 1, UPSTREAM_MAX_BATCH),
    maxPendingRecords: check.whole('coalesce.maxPendingRecords', given.maxPendingRecords, 1, 2 ** 31),
    maxPendingBytes: check.whole('coalesce.maxPendingBytes', given.maxPendingBytes, 1024, 2 ** 40),
  };
}

/**
 * What is worth holding: what the pace sends within one browser deadline (later requests would only time out), in
 * records when merging, in requests when each goes on its own.
 */
function backlogCaps(options: CoalescerOptions) {
  const perDeadline = (perSlot: number) => Math.max(perSlot, Math.floor((options.upstreamRps * options.timeoutMs * perSlot) / 1000));
  return options.merge
    ? { records: Math.min(options.maxPendingRecords, perDeadline(options.maxRecords)), requests: Infinity }
    : { records: options.maxPendingRecords, requests: perDeadline(1) };
}

export function createCoalescer(options: CoalescerOptions) {
  const clock = options.clock ?? systemClock;
  const upstream = createUpstream({ ...options, clock });
  const caps = backlogCaps(options);
  const backlog = createBacklog(caps.records, options.maxPendingBytes, caps.requests);

  const settle = (entry: Entry, result: Forwarded) => {
    if (entry.answered) return;
    entry.answered = true;
    entry.stopTimer();
    backlog.release(entry.ip, entry.records.length, entry.bytes);
    entry.answer(result);
  };

  const pump = createBatchPump<Entry>({
    ready: upstream.ready,
    send: async (batch) => {
      const answers = await upstream.send(batch);
      batch.forEach((entry, n) => settle(entry, answers[n]));
    },
    clock,
    maxWaitMs: options.maxWaitMs,
    maxRecords: options.maxRecords,
    maxBytes: MAX_BATCH_BYTES,
    maxRequests: options.merge ? Infinity : 1,
  });

  /** Seconds until the backlog ahead would have been sent at the pace. */
  const backlogSeconds = () => {
    const slots = options.merge ? backlog.held.records / options.maxRecords : backlog.held.requests;
    return retryAfterSeconds((slots / options.upstreamRps) * 1000);
  };

  return {
    /**
     * Queues a validated browser batch and resolves with its answer once the upstream request carrying it is
     * answered, or `upstream_busy` at once when the backlog is full (for everyone, or for this IP's fair share).
     * `bodyBytes`, the size of the body the records came in, bounds what they take upstream (the records are the
     * body's, checked, some attributes perhaps removed), so they need not be serialized again to be measured.
     * `capturedAt`: each record's capture time on the proxy's clock (default: now, as for a record without an age).
     */
    submit(records: CheckedRecord[], ip = '', bodyBytes?: number, capturedAt = records.map(() => clock.now())): Promise<Forwarded> {
      const bytes = bodyBytes ?? records.reduce((sum, r) => sum + encoder.encode(JSON.stringify(r)).length + 1, 0);
      if (!backlog.admit(ip, records.length, bytes)) return Promise.resolve({ reason: 'upstream_busy', retryAfterS: backlogSeconds() });
      return new Promise((answer) => {
        const entry: Entry = { records, capturedAt, bytes, keys: identityKeys(records), ip, answer, answered: false, stopTimer: () => {} };
        // A browser is answered 504 at its deadline even if its records still wait: its memory goes with the answer.
        entry.stopTimer = timer(clock, options.timeoutMs, () => settle(entry, { reason: 'upstream_timeout' }));
        pump.add(entry);
      });
    },
    /** What is held in memory now. */
    backlog(): Backlog {
      return { ...backlog.held };
    },
  };
}

export type Coalescer = ReturnType<typeof createCoalescer>;
