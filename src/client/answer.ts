import type { QueueRecord } from './queue';
import { parseRetryAfterMs } from '../http/retry-after';
import { VERBOSE } from '../verbose';

/** Browsers allow 64 KiB of keepalive bodies in flight per page; stay under it with headers to spare. */
export const MAX_BODY_BYTES = 60_000;
/** The longest `Retry-After` honoured: a server asking for days is asking for an hour. */
const MAX_RETRY_AFTER_MS = 3_600_000;

/** What an answer to one batch asks of delivery. */
export type Answer =
  /** Acknowledged: the batch leaves the queue. */
  | { kind: 'sent' }
  /** Too large: send the oldest `size` records instead. */
  | { kind: 'split'; size: number }
  /** These records are refused for good, each for its reason; the rest of the batch is sent again. */
  | { kind: 'drop'; reasons: Map<QueueRecord, string> }
  | Failure;

/** An answer that stops a flush. */
export type Failure =
  /** Only time can help: try again, no sooner than `afterMs` (`status` absent when nothing answered). */
  | { kind: 'retry'; afterMs: number; status?: number }
  /** The endpoint refuses the page itself (a wrong URL, an origin the proxy does not allow). */
  | { kind: 'refused'; status: number };

const encoder = new TextEncoder();
export const byteLength = (text: string) => encoder.encode(text).length;

/**
 * The oldest records whose JSON array stays within `maxBytes` (always at least one), and that array, each upsert with
 * its `age` at `now`: the ms since its capture by the same clock, never below 0 (a clock set back). The proxy dates the
 * capture as its own receive time less the age, so the browser clock's skew cancels out.
 */
export function fit(records: QueueRecord[], now: number, maxBytes = MAX_BODY_BYTES): [QueueRecord[], string] {
  let bytes = 2;
  const parts: string[] = [];
  for (const record of records) {
    const part = JSON.stringify({ ...record.upsert, age: Math.max(0, now - record.at) });
    bytes += byteLength(part) + 1;
    if (parts.length && bytes > maxBytes) break;
    parts.push(part);
  }
  return [records.slice(0, parts.length), `[${parts.join()}]`];
}

/**
 * What the endpoint's answer to `batch` means (`response` undefined: a network error or a timeout). Decides only:
 * it reads nothing but its arguments (the body of a 400 included) and changes nothing. `now` dates `Retry-After`.
 */
export async function answerOf(response: Response | undefined, batch: QueueRecord[], now: number): Promise<Answer> {
  if (!response) return { kind: 'retry', afterMs: 0 };
  const { status } = response;
  if (response.ok) return { kind: 'sent' };
  if (status == 408 || status == 429 || status >= 500) {
    const afterMs = Math.min(MAX_RETRY_AFTER_MS, parseRetryAfterMs(response.headers.get('retry-after'), now));
    return { kind: 'retry', afterMs, status };
  }
  if (status == 413) {
    return batch.length > 1
      ? { kind: 'split', size: Math.ceil(batch.length / 2) }
      : { kind: 'drop', reasons: new Map([[batch[0], VERBOSE ? 'too large for the endpoint' : 'too large']]) };
  }
  // A 400 names the bad records by index; only integer, in-range indices are trusted.
  const reasons = new Map<QueueRecord, string>(
    ((await response.json().catch(() => 0))?.detail?.invalids ?? [])
      .filter((i: { event: unknown }) => Number.isInteger(i?.event) && batch[i.event as number])
      .map((i: { event: number; message: unknown }) => [batch[i.event], String(i.message)]),
  );
  return reasons.size ? { kind: 'drop', reasons } : { kind: 'refused', status };
}
