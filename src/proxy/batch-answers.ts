/** Each browser request's answer from what became of the upstream request that carried its records. */
import { HttpError, NetworkError } from '../errors';
import { retryAfterMs } from '../upstream/transport';
import type { Invalid } from './validate';

/** What a browser request's trip upstream came to. */
export interface Forwarded {
  reason: 'accepted' | 'upstream_busy' | 'upstream_error' | 'upstream_invalid' | 'upstream_rejected' | 'upstream_timeout';
  /** Records the upstream refused, by index, with a fixed message (the upstream's own words are not relayed). */
  invalids?: Invalid[];
  /** The last upstream status, when there was one. */
  upstreamStatus?: number;
  retryAfterS?: number;
  /** Upstream requests made for the batch that carried it, retries and resends included. */
  attempts?: number;
}

/** What the browser is told of a record the profiles API refused. */
const REFUSED = 'refused by the profiles API';

/** A wait the proxy asks of browsers is re-issued as whole seconds in this range, never copied. */
const RETRY_AFTER_S = { min: 1, max: 60 };

/** A wait in ms (0 for none) as the whole seconds the proxy answers with. */
export const retryAfterSeconds = (ms: number): number =>
  Math.min(RETRY_AFTER_S.max, Math.max(RETRY_AFTER_S.min, Math.ceil(ms / 1000)));

/**
 * The answer for every browser request of a batch whose upstream request failed as a whole. A refusal carries the
 * upstream's last answer as its `cause`, so a 429 or 503 passes its `Retry-After` on.
 */
export function failureOf(error: unknown, timedOut: boolean, attempts: number): Forwarded {
  if (timedOut) return { reason: 'upstream_timeout', attempts };
  if (!(error instanceof HttpError)) return { reason: error instanceof NetworkError ? 'upstream_error' : 'upstream_timeout', attempts };
  const { status: upstreamStatus, cause } = error;
  if (upstreamStatus == 429 || upstreamStatus == 503) {
    const waitMs = cause instanceof Response ? retryAfterMs(cause) : 0;
    return { reason: 'upstream_busy', upstreamStatus, retryAfterS: retryAfterSeconds(waitMs), attempts };
  }
  // 4xx other than 429 (a bad key, a field the account lacks) is our configuration's fault, not the browser's.
  if (upstreamStatus >= 400 && upstreamStatus < 500) return { reason: 'upstream_rejected', upstreamStatus, attempts };
  return { reason: 'upstream_error', upstreamStatus, attempts };
}

/**
 * Each browser request's answer once the batch was sent: invalids come back by index in the merged batch, and each
 * goes to the request that sent it, by its own index.
 */
export function answersOf(batch: readonly { records: readonly unknown[] }[], refused: ReadonlySet<number>, attempts: number): Forwarded[] {
  let offset = 0;
  return batch.map((entry) => {
    const invalids: Invalid[] = [];
    entry.records.forEach((_, event) => {
      if (refused.has(offset + event)) invalids.push({ event, message: REFUSED });
    });
    offset += entry.records.length;
    return invalids.length ? { reason: 'upstream_invalid', invalids, upstreamStatus: 400, attempts } : { reason: 'accepted', upstreamStatus: 202, attempts };
  });
}
