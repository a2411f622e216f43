/** The one request the proxy makes: a fresh POST to the profiles API, with a deadline and at most one retry. */
import { parseRetryAfterMs } from '../http/retry-after';
import { readInvalids } from '../upstream/read-invalids';
import type { Invalid } from './validate';

/** The fetch the proxy calls; any function of this shape will do (tests, instrumentation). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface Forwarded {
  reason: 'accepted' | 'upstream_busy' | 'upstream_error' | 'upstream_invalid' | 'upstream_rejected' | 'upstream_timeout';
  /** Records the upstream refused, by index, with a fixed message (the upstream's own words are not relayed). */
  invalids?: Invalid[];
  /** The last upstream status, when there was one. */
  upstreamStatus?: number;
  retryAfterS?: number;
  attempts?: number;
}

interface ForwardOptions {
  url: string;
  /** Records in `body`, to check the indices an upstream 400 names. */
  records: number;
  apiKey: string;
  timeoutMs: number;
  fetch: FetchLike;
  /** Asked before the retry, so a retry still counts against the global budget. */
  mayRetry: () => Promise<boolean>;
}

/** Retry-After from the upstream is re-issued as whole seconds in this range, never copied. */
const RETRY_AFTER_S = { min: 1, max: 60 };

/** The upstream's wait (`Retry-After` in ms, 0 for none) as the whole seconds the proxy answers with. */
export const retryAfterSeconds = (ms: number): number =>
  Math.min(RETRY_AFTER_S.max, Math.max(RETRY_AFTER_S.min, Math.ceil(ms / 1000)));

/** `Retry-After` in either form (seconds or an HTTP date); absent, past or garbled is the shortest wait. */
const retryAfter = (response: Response) => retryAfterSeconds(parseRetryAfterMs(response.headers.get('retry-after')));

/** What the browser is told of a record the profiles API refused. */
export const REFUSED = 'refused by the profiles API';

/** Full jitter over 100–300 ms, so the retries of many proxies do not arrive together. */
const jitter = () => 100 + Math.random() * 200;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    const stop = () => {
      clearTimeout(timer);
      resolve();
    };
    signal.addEventListener('abort', stop, { once: true });
  });

/**
 * `work`, or a rejection once `signal` aborts: the deadline holds even for a custom fetch (or a body stream) that
 * ignores the signal. What `work` yields later is released, not read.
 */
function withDeadline<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
  return Promise.race([work, aborted]);
}

const classify = (response: Response, attempts: number): Forwarded => {
  const upstreamStatus = response.status;
  if (upstreamStatus >= 200 && upstreamStatus < 300) return { reason: 'accepted', upstreamStatus, attempts };
  // The account-wide budget is spent: retrying here would only spend it further, so the client waits instead.
  if (upstreamStatus == 429) return { reason: 'upstream_busy', upstreamStatus, retryAfterS: retryAfter(response), attempts };
  // 4xx other than 429 (a bad key, a field the account lacks) is our configuration's fault, not the client's.
  if (upstreamStatus >= 400 && upstreamStatus < 500) return { reason: 'upstream_rejected', upstreamStatus, attempts };
  return { reason: 'upstream_error', upstreamStatus, attempts };
};

/**
 * The records an upstream 400 names in `detail.invalids`, as in-range indices with a fixed message: without them the
 * client could not drop the one record the API refuses and would retry its whole batch for ever. The API's own words
 * are not relayed.
 */
async function refusedRecords(response: Response, records: number): Promise<Invalid[]> {
  const named = await readInvalids(response, records);
  return [...named.keys()].map((event) => ({ event, message: REFUSED }));
}

const retryable = ({ reason, upstreamStatus: status }: Forwarded) =>
  reason == 'upstream_error' && (status === undefined || (status >= 502 && status <= 504));

/**
 * Posts `body` to the profiles API. One deadline covers both attempts and the pause between them, so the client
 * waits at most `timeoutMs`. Redirects are not followed: a 307 would resend the key to wherever it points.
 */
export async function forward(body: string, options: ForwardOptions): Promise<Forwarded> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const init: RequestInit = {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': options.apiKey },
    body,
    redirect: 'manual',
    signal,
  };
  const attempt = async (attempts: number): Promise<Forwarded> => {
    const work = (async () => {
      const response = await options.fetch(options.url, init);
      if (response.status == 400) {
        const invalids = await refusedRecords(response, options.records);
        if (invalids.length) return { reason: 'upstream_invalid', invalids, upstreamStatus: 400, attempts } as const;
      }
      // Never read: the upstream body is not relayed, only released.
      response.body?.cancel().catch(() => {});
      return classify(response, attempts);
    })();
    try {
      return await withDeadline(work, signal);
    } catch {
      work.catch(() => {});
      return { reason: signal.aborted ? 'upstream_timeout' : 'upstream_error', attempts };
    }
  };
  const first = await attempt(1);
  if (!retryable(first) || !(await options.mayRetry())) return first;
  await sleep(jitter(), signal);
  return signal.aborted ? { ...first, reason: 'upstream_timeout' } : attempt(2);
}
