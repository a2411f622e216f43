/**
 * The proxy's one way to the profiles API, coalescing or not: the paced, retrying upsert path shared with
 * `idcapture/server` (its pacer, ky transport and upsert sender), so everything the proxy sends keeps one pace and
 * every upstream answer is read the same way.
 */
import { timer, type Clock } from '../upstream/clock';
import { createPacer } from '../upstream/pacer';
import { createSharedPacer } from './shared/pacer';
import type { SharedStore } from './shared/store';
import { createTransport } from '../upstream/transport';
import { createUpsertSender } from '../upstream/upsert-sender';
import { answersOf, failureOf, type Forwarded } from './batch-answers';
import { inCaptureOrder, type Captured } from './capture-order';

/** The fetch the proxy calls; any function of this shape will do (tests, instrumentation). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

interface UpstreamOptions {
  /** `{upstream}/profiles`. */
  url: string;
  apiKey: string;
  fetch: FetchLike;
  /** Upstream requests started per second, retries included. */
  upstreamRps: number;
  /** Longest a batch is given, from when it is sent, in ms. */
  timeoutMs: number;
  /** Records in one upstream request. */
  maxRecords: number;
  clock: Clock;
  /** Redis, for one pace across processes. */
  shared?: SharedStore;
}

/** Only 502–504 and network errors are retried inline, once; a 429 holds the pace and is answered 503 + Retry-After. */
const RETRY_STATUS = [502, 503, 504];
/** The API's limit on an upstream request body. */
const UPSTREAM_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Rejects with the signal's reason once it aborts: the deadline holds even for a custom fetch, or an answer's body
 * stream, that ignores the signal, so a batch always ends and the identities it carries are free again.
 */
const aborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));

export function createUpstream(options: UpstreamOptions) {
  const { shared, upstreamRps, clock } = options;
  const pacer = shared ? createSharedPacer(shared, upstreamRps, clock) : createPacer(upstreamRps, clock);
  const transport = createTransport({
    apiKey: options.apiKey,
    // The proxy's `fetch` takes a URL and an init, the transport's a Request: rebuilt with only what ky set.
    // Redirects are not followed: a 307 would resend the key to wherever it points.
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
  const sender = createUpsertSender({ url: options.url, transport, maxBatch: options.maxRecords, maxBodyBytes: UPSTREAM_MAX_BODY_BYTES });

  return {
    /** Resolves when a batch sent now would leave at once: a caller can fill its batch until its slot comes. */
    ready: () => pacer.ready(),
    /**
     * Sends the records of a batch of browser requests and resolves with each request's answer, in order, within
     * `timeoutMs`. A browser request is applied whole or not at all: a refused record withdraws its siblings from the
     * resend. Records go in capture order.
     */
    async send(batch: readonly Captured[]): Promise<Forwarded[]> {
      const controller = new AbortController();
      const stopTimer = timer(options.clock, options.timeoutMs, () => controller.abort());
      let attempts = 0;
      try {
        const { records, groups, given } = inCaptureOrder(batch);
        const call = { groups, onAttempt: () => attempts++ };
        const upsert = sender.upsert(records, controller.signal, call);
        // What it yields after the deadline is released, not read.
        upsert.catch(() => {});
        const sent = await Promise.race([upsert, aborted(controller.signal)]);
        return answersOf(batch, new Set(sent.invalids.map((r) => given(r.index))), attempts);
      } catch (error) {
        return batch.map(() => failureOf(error, controller.signal.aborted, attempts));
      } finally {
        stopTimer();
      }
    },
  };
}

export type Upstream = ReturnType<typeof createUpstream>;
