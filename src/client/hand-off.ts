import { byteLength, fit, MAX_BODY_BYTES } from './answer';
import type { Added, Capture, QueueRecord } from './queue';

/**
 * What a page that goes away hands to keepalive requests, which outlive it: unload handlers cannot wait for IndexedDB,
 * so the oldest records of the queue are kept at hand, read at each flush and extended as this tab queues.
 */
export function createSnapshot() {
  /** What a hand-off would send: the oldest records at the last flush, plus those queued since. */
  let snapshot: QueueRecord[] = [];
  /** Times the queue was emptied (consent withdrawn): a snapshot read before that is not kept. */
  let clears = 0;
  return {
    /** Replaces the snapshot with what `read` finds, unless the queue is emptied meanwhile. */
    async refresh(read: () => Promise<QueueRecord[]>) {
      const clearsBefore = clears;
      const oldest = await read();
      if (clearsBefore == clears) snapshot = oldest;
    },
    /** A new record is queued. */
    queued({ record, replaced, dropped, size }: Added) {
      const gone = [replaced, ...dropped.map((r) => r.id)];
      // Copied only when a record left: a burst of thousands of adds then costs no copy of the snapshot each.
      const next = replaced || dropped.length ? snapshot.filter((r) => !gone.includes(r.id)) : snapshot;
      // Appended only while the snapshot still holds the whole queue: a gap (another tab's records, a queue longer
      // than the snapshot) would let a hand-off send newer updates before older ones.
      if (next.length + 1 == size) {
        snapshot = next;
        snapshot.push(record);
      }
    },
    /**
     * `batch`, the oldest of the queue as just read, goes on the wire: it becomes the snapshot. A hand-off of an older
     * snapshot, sent as the page leaves, could reach the proxy after it and undo the newer updates it carries.
     */
    sending(batch: QueueRecord[]) {
      snapshot = [...batch];
    },
    /** These records were acknowledged or refused: an unload does not resend them. */
    forget(ids: number[]) {
      snapshot = snapshot.filter((r) => !ids.includes(r.id));
    },
    /** The queue was emptied (consent withdrawn): nothing read from it before may be handed off. */
    cleared() {
      clears++;
      snapshot = [];
    },
    /**
     * Posts `unstored` (captures on their way into the queue, which the page would lose), then the records of the
     * snapshot that `due` accepts, in batches of at most `batchSize`, within the browser's keepalive budget, to `post`,
     * with their ages at `now`. Id 0 matches no queued record, so an answer to the unstored ones removes nothing.
     */
    send(unstored: Capture[], due: (r: QueueRecord) => boolean, batchSize: number, now: number, post: (batch: QueueRecord[], body: string) => void) {
      let records = [...unstored, ...snapshot.filter(due)];
      let budgetBytes = MAX_BODY_BYTES;
      while (records.length) {
        const [batch, body] = fit(records.slice(0, batchSize), now, budgetBytes);
        if ((budgetBytes -= byteLength(body)) < 0) return;
        records = records.slice(batch.length);
        post(batch, body);
      }
    },
  };
}

/**
 * Follows the page's comings and goings for delivery, until `signal` aborts. `hidden` runs when the page may be going
 * away (visibility hidden, and pagehide as a tab closes, which follows it): once per hiding, unless it returns false
 * (nothing handed off), until the page is shown again. `back` runs when the page returns from the back/forward cache,
 * `online` when the network returns.
 */
export function watchPage(signal: AbortSignal, hidden: () => boolean, back: () => void, online: () => void) {
  let handedOff = false;
  const onHidden = (e: Event) => {
    if (e.type != 'pagehide' && document.visibilityState != 'hidden') handedOff = false;
    else if (!handedOff) handedOff = hidden();
  };
  const onPageShow = (e: PageTransitionEvent) => {
    handedOff = false;
    if (e.persisted) back();
  };
  addEventListener('online', online, { signal });
  addEventListener('pageshow', onPageShow, { signal });
  addEventListener('pagehide', onHidden, { signal });
  document.addEventListener('visibilitychange', onHidden, { signal });
}
