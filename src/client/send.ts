import { answerOf, fit, type Answer, type Failure } from './answer';
import { createWatermark, type createBackoff } from './backoff';
import type { FlushResult } from './delivery';
import type { createDiagnosis } from './diagnosis';
import type { IdCaptureEvents } from './events';
import type { createSnapshot } from './hand-off';
import type { PageClock } from './page-clock';
import type { Capture, Queue, QueueRecord } from './queue';
import { VERBOSE } from '../verbose';

/** A request unanswered this long is abandoned, so a hung server cannot hold the queue's lock. */
const REQUEST_TIMEOUT_MS = 30_000;

interface SenderOptions {
  endpoint: string;
  batchSize: number;
  maxAgeDays: number;
  fetch: typeof fetch;
  queue: Queue;
  emit: <K extends keyof IdCaptureEvents>(type: K, detail: IdCaptureEvents[K]) => void;
  log: (...args: unknown[]) => void;
  clock: PageClock;
}

/**
 * POSTs `batch` as `body` and reads what the answer means, abandoning both after REQUEST_TIMEOUT_MS unless `keepalive`
 * (the page may be gone by then); calls `answered` when the endpoint answers at all.
 */
async function post({ endpoint, fetch, clock }: SenderOptions, batch: QueueRecord[], body: string, keepalive: boolean, answered: () => void) {
  const { now, setTimeout, clearTimeout } = clock;
  // AbortSignal.timeout is missing from Safari 15, which has Web Locks: a hung request would hold them for good.
  const abort = new AbortController();
  const timeout = keepalive ? 0 : setTimeout(() => abort.abort(), REQUEST_TIMEOUT_MS);
  let response: Response | undefined;
  try {
    response = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, keepalive, signal: abort.signal });
    answered();
  } catch {
    // A network error, a timeout, a failing custom fetch: no answer, worth retrying.
  }
  try {
    return await answerOf(response, batch, now());
  } finally {
    clearTimeout(timeout);
  }
}

/**
 * Sends queued records to the endpoint and acts on each answer (what an answer means is decided in answer.ts):
 * records leave the queue, and what an unload would hand off, only when acknowledged or refused by name.
 */
export function createSender(
  options: SenderOptions,
  snapshot: ReturnType<typeof createSnapshot>,
  backoff: ReturnType<typeof createBackoff>,
  diagnosis: ReturnType<typeof createDiagnosis>,
) {
  const { endpoint, batchSize, queue, emit, log } = options;
  const { now } = options.clock;
  const watermark = createWatermark(endpoint);
  /** Whether `record` was captured more than maxAgeDays ago: sent now, it could undo what was written since elsewhere. */
  const expired = (record: QueueRecord) => record.at < now() - options.maxAgeDays * 864e5;

  /**
   * Deletes what `answer` acknowledges ('sent') or refuses by name ('drop'), and says so; other answers change nothing.
   * `result` is given when `batch` was the oldest of the queue, sent under the lock (not a keepalive hand-off).
   */
  async function acknowledge(answer: Answer, batch: QueueRecord[], result?: FlushResult) {
    if (answer.kind != 'sent' && answer.kind != 'drop') return;
    const ids = (answer.kind == 'sent' ? batch : [...answer.reasons.keys()]).map((r) => r.id);
    snapshot.forget(ids);
    await queue.remove(ids);
    if (answer.kind == 'sent') {
      // Everything up to the newest id of a drained batch has left the queue: later hand-offs may skip it. Hand-off
      // answers arrive in any order and do not count; a watermark left low only costs a harmless resend.
      if (result) {
        if (!queue.inMemory()) watermark.raise(batch[batch.length - 1].id);
        result.sent += batch.length;
      }
      backoff.clear();
      if (VERBOSE) log('sent', batch.length);
      emit('sent', { count: batch.length });
    } else {
      if (result) result.dropped += answer.reasons.size;
      answer.reasons.forEach((reason, record) => {
        if (VERBOSE) log('drop', reason, record.upsert);
        emit('drop', { upsert: record.upsert, reason });
      });
    }
  }

  return {
    /**
     * Sends the queue's oldest records, batch after batch, while `go()` holds and the browser is online, counting in
     * `result`; resolves with the failure that stopped it, if one did. Runs under the tab lock.
     */
    async drain(result: FlushResult, go: () => boolean): Promise<Failure | undefined> {
      let limit = batchSize;
      while (go()) {
        if (navigator.onLine === false) {
          if (VERBOSE) log('offline: sending waits for the network');
          return;
        }
        const oldest = await queue.oldest(limit);
        // Expired records leave first, unsent, wherever they are (one held for consent or left by a page can be older
        // than those queued before it); the rest is read again.
        const reasons = new Map(oldest.filter(expired).map((r) => [r, 'expired']));
        if (reasons.size) {
          await acknowledge({ kind: 'drop', reasons }, oldest, result);
          continue;
        }
        const [batch, body] = fit(oldest, now());
        if (!batch.length) return;
        snapshot.sending(batch);
        // In memory, ids restart with the page: they say nothing to the other tabs.
        if (!queue.inMemory()) watermark.sending(batch[batch.length - 1].id);
        const answer = await post(options, batch, body, false, diagnosis.answered);
        watermark.sending(0);
        if (answer.kind == 'retry' || answer.kind == 'refused') return answer;
        if (answer.kind == 'split') limit = answer.size;
        else await acknowledge(answer, batch, result);
      }
    },
    /**
     * Hands `unstored` and the snapshot to keepalive requests, which outlive the page. Records another tab has since
     * delivered are left out, so a late resend cannot undo a newer update of the same profile, and so are expired
     * ones. The records stay queued; an answer that arrives while the page lives settles them as usual.
     */
    handOff(unstored: Capture[]) {
      // In memory, ids restart with the page: no watermark applies.
      const delivered = queue.inMemory() ? 0 : watermark.read();
      snapshot.send(unstored, (r) => r.id > delivered && !expired(r), batchSize, now(), (batch, body) =>
        post(options, batch, body, true, diagnosis.answered)
          .then((answer) => acknowledge(answer, batch))
          .catch(() => {}),
      );
    },
  };
}
