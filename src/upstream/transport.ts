/**
 * Every request to the profiles API, the server client's and the proxy's, through ky: ky owns the retries (which
 * statuses, how many, exponential backoff with full jitter) and the per-attempt timeout; the pacer spaces the attempts
 * and holds them all back for an upstream `Retry-After`.
 */
import ky, { HTTPError, TimeoutError } from 'ky';
import { HttpError, NetworkError } from '../errors';
import type { Pacer } from './pacer';
import { parseRetryAfterMs } from '../http/retry-after';

/** The fetch the server client sends with; called with one `Request`. */
export type ServerFetch = (request: Request) => Promise<Response>;

interface TransportOptions {
  apiKey: string;
  fetch: ServerFetch;
  timeoutMs: number;
  retries: number;
  pacer: Pacer;
  /** Full jitter's random draw, 0 to 1. */
  random: () => number;
  /** Statuses worth another attempt. Default 408, 429, 500, 502, 503, 504. */
  retryStatus?: readonly number[];
}

/** Answers worth another attempt. Upserts are idempotent, so a POST is retried like a GET. */
const RETRY_STATUS = [408, 429, 500, 502, 503, 504];
/** The longest upstream `Retry-After` honoured; the API asking for longer is asking for a minute. */
const MAX_RETRY_AFTER_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;

/** `Retry-After` in ms, as seconds or an HTTP date, at most a minute; 0 when absent or garbled. */
export const retryAfterMs = (response: Response, now = Date.now()): number =>
  Math.min(MAX_RETRY_AFTER_MS, parseRetryAfterMs(response.headers.get('retry-after'), now));

/** One call of the transport. */
export interface TransportCall {
  method: 'get' | 'post';
  body?: string;
  signal?: AbortSignal;
  /** Called as each attempt leaves, after its slot of the pace, retries included. */
  onAttempt?: () => void;
}

/** A request maker: resolves with any answer that is not worth retrying, after the retries of those that are. */
export function createTransport(options: TransportOptions) {
  const retryStatus = [...(options.retryStatus ?? RETRY_STATUS)];
  const api = ky.create({
    headers: { 'x-api-key': options.apiKey, accept: 'application/json' },
    timeout: options.timeoutMs,
    // A redirect would carry the key wherever it points.
    redirect: 'manual',
    // Called bare: workerd refuses a fetch called as a method of another object.
    fetch: (input) => options.fetch(input as Request),
    // Only answers worth retrying are thrown (which is what makes ky retry them); 400 and 404 are read by the caller.
    throwHttpErrors: (status) => retryStatus.includes(status),
    retry: {
      limit: options.retries,
      methods: ['get', 'post'],
      statusCodes: retryStatus,
      // ky does not read `Retry-After` itself: the pace's hold below keeps every request back until it has passed, the
      // retry included, on the injected clock, so the upstream's wait is read and capped in one place.
      afterStatusCodes: [],
      backoffLimit: MAX_BACKOFF_MS,
      retryOnTimeout: true,
      jitter: (delay) => delay * options.random(),
    },
    hooks: {
      beforeRequest: [
        async (request, { context }) => {
          await options.pacer.take(request.signal);
          (context.onAttempt as TransportCall['onAttempt'])?.();
        },
      ],
      afterResponse: [
        (_request, _options, response) => {
          // The budget is the account's: every request of this client waits, not only the one that was told to.
          if (response.status == 429 || response.status == 503) options.pacer.hold(retryAfterMs(response));
        },
      ],
    },
  });

  return async (url: string, { onAttempt, ...init }: TransportCall): Promise<Response> => {
    try {
      return await api(url, { ...init, context: { onAttempt }, ...(init.body ? { headers: { 'content-type': 'application/json' } } : {}) });
    } catch (error) {
      if (error instanceof HTTPError) {
        error.response.body?.cancel().catch(() => {});
        throw new HttpError(error.response.status, `idcapture: the profiles API answered ${error.response.status} after ${options.retries + 1} attempts`, {
          // The answer, not ky's error: that one holds the request, whose headers carry the key.
          cause: error.response,
        });
      }
      if (init.signal?.aborted) throw error;
      const what = error instanceof TimeoutError ? `did not answer within ${options.timeoutMs} ms` : 'could not be reached';
      // ky's TimeoutError holds the request, whose headers carry the key: only its message is kept.
      const cause = error instanceof TimeoutError ? new Error(error.message) : error;
      throw new NetworkError(`idcapture: the profiles API ${what} after ${options.retries + 1} attempts`, { cause });
    }
  };
}

export type Transport = ReturnType<typeof createTransport>;
