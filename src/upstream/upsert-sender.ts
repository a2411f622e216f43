/**
 * The upsert path: records split into requests the API takes (at most `maxBatch` records and `maxBodyBytes`), sent
 * one after another through the paced, retrying transport, and a 400 that names records by index answered by
 * resending the rest without them. It knows nothing of where the records came from, so any caller that holds checked
 * records (this package's server client, a proxy merging browser batches) can share one sender and one pace. A
 * caller that builds its own batches of at most `maxBatch` gets one request per call, and invalids by its own indices.
 */
import { HttpError } from '../errors';
import { readInvalids } from './read-invalids';
import type { Transport } from './transport';

/** One upsert as the API takes it. */
export interface ProfileRecord {
  attributes: Record<string, unknown>;
}

/** A record the API refused: its index in the list given, and the API's own message. */
export interface Refused {
  index: number;
  message: string;
}

export interface Sent {
  /** Records the API accepted (202). */
  accepted: number;
  /** Records it refused, by index in the list given. */
  invalids: Refused[];
  /** Requests made, not counting ky's retries of one request. */
  requests: number;
}

/** What a caller that merged other callers' records tells the sender about them. */
export interface UpsertCall {
  /**
   * One number per record tying records together: when the API refuses one, the resend leaves out its whole group, so
   * a group is applied whole or not at all (a proxy's browser batches).
   */
  groups?: readonly number[];
  /** Called as each attempt leaves, ky's retries and resends without refused records included. */
  onAttempt?: () => void;
}

interface SenderOptions {
  /** `{baseUrl}/profiles`. */
  url: string;
  transport: Transport;
  maxBatch: number;
  maxBodyBytes: number;
}

const encoder = new TextEncoder();

/** Splits `parts` (serialised records) into runs of at most `max` records and `bytes` bytes of JSON array. */
function chunk(parts: string[], max: number, bytes: number): number[][] {
  const chunks: number[][] = [];
  let current: number[] = [];
  let size = 2;
  parts.forEach((part, index) => {
    const length = encoder.encode(part).length + 1;
    if (current.length && (current.length == max || size + length > bytes)) {
      chunks.push(current);
      current = [];
      size = 2;
    }
    current.push(index);
    size += length;
  });
  if (current.length) chunks.push(current);
  return chunks;
}

export function createUpsertSender(options: SenderOptions) {
  /**
   * Sends one request's worth of records (at most `maxBatch`), resending without the records a 400 names (and the
   * rest of their groups) until the rest is accepted. Rejects with HttpError (any other refusal, or retries spent;
   * `cause`: the answer) or NetworkError.
   */
  async function send(parts: string[], signal: AbortSignal | undefined, { groups, onAttempt }: UpsertCall): Promise<Sent> {
    let pending = parts.map((part, index) => ({ part, index, group: groups?.[index] ?? index }));
    const invalids: Refused[] = [];
    let requests = 0;
    while (pending.length) {
      requests++;
      const response = await options.transport(options.url, { method: 'post', body: `[${pending.map((p) => p.part).join()}]`, signal, onAttempt });
      if (response.ok) {
        response.body?.cancel().catch(() => {});
        return { accepted: pending.length, invalids, requests };
      }
      const named = response.status == 400 ? await readInvalids(response, pending.length) : new Map<number, string>();
      if (!named.size) {
        response.body?.cancel().catch(() => {});
        // The answer is the cause, as for a refusal ky retried: whoever must wait reads its `Retry-After` there.
        throw new HttpError(response.status, `idcapture: the profiles API refused the upsert with ${response.status}`, { cause: response });
      }
      invalids.push(...[...named].map(([i, message]) => ({ index: pending[i].index, message })));
      const dropped = new Set([...named.keys()].map((i) => pending[i].group));
      pending = pending.filter((p) => !dropped.has(p.group));
    }
    return { accepted: 0, invalids, requests };
  }

  return {
    /**
     * Sends any number of records in order, one request after another, so a later update of a profile never lands
     * before an earlier one. Stops at the first request that fails for good; the requests before it stay applied.
     */
    async upsert(records: readonly ProfileRecord[], signal?: AbortSignal, call: UpsertCall = {}): Promise<Sent> {
      const parts = records.map((r) => JSON.stringify(r));
      const total: Sent = { accepted: 0, invalids: [], requests: 0 };
      const { groups } = call;
      for (const indices of chunk(parts, options.maxBatch, options.maxBodyBytes)) {
        const sent = await send(indices.map((i) => parts[i]), signal, { ...call, groups: groups && indices.map((i) => groups[i]) });
        total.accepted += sent.accepted;
        total.requests += sent.requests;
        total.invalids.push(...sent.invalids.map((r) => ({ ...r, index: indices[r.index] })));
      }
      return total;
    },
  };
}
