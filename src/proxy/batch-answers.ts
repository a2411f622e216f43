/** Each browser request's answer from what became of the merged upstream request that carried its records. */
import { HttpError, NetworkError } from '../errors';
import { UpsertRefusedError } from '../upstream/upsert-sender';
import { REFUSED, retryAfterSeconds, type Forwarded } from './upstream';
import type { Invalid } from './validate';

/** The answer for every browser request of a batch whose upstream request failed as a whole. */
export function failureOf(error: unknown, timedOut: boolean): Forwarded {
  if (timedOut) return { reason: 'upstream_timeout' };
  if (!(error instanceof HttpError)) return { reason: error instanceof NetworkError ? 'upstream_error' : 'upstream_timeout' };
  const { status } = error;
  const retryAfterMs = error instanceof UpsertRefusedError ? error.retryAfterMs : 0;
  if (status == 429 || status == 503) return { reason: 'upstream_busy', upstreamStatus: status, retryAfterS: retryAfterSeconds(retryAfterMs) };
  if (status >= 400 && status < 500) return { reason: 'upstream_rejected', upstreamStatus: status };
  return { reason: 'upstream_error', upstreamStatus: status };
}

/**
 * Each browser request's answer once the batch was sent: invalids come back by index in the merged batch, and each
 * goes to the request that sent it, by its own index.
 */
export function answersOf(batch: readonly { records: readonly unknown[] }[], refused: ReadonlySet<number>): Forwarded[] {
  let offset = 0;
  return batch.map((entry) => {
    const invalids: Invalid[] = [];
    entry.records.forEach((_, event) => {
      if (refused.has(offset + event)) invalids.push({ event, message: REFUSED });
    });
    offset += entry.records.length;
    return invalids.length ? { reason: 'upstream_invalid', invalids, upstreamStatus: 400 } : { reason: 'accepted', upstreamStatus: 202 };
  });
}
