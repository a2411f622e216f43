/**
 * The browser requests waiting for a batch: one queue per client IP, taken round robin, so a flooding IP cannot starve
 * the others, and a request never overtakes an earlier one that writes to the same identity. Within a pass, smaller
 * requests go first: a visitor's one record is in the next batch even while many addresses queue 100-record ones.
 */

/** What the queue needs to know of a waiting browser request. */
export interface Waiting {
  ip: string;
  records: readonly unknown[];
  /** Its records' JSON size. */
  bytes: number;
  /** The identities its records write to (`identityKeys`). */
  keys: readonly string[];
  /** Answered already (its deadline passed while it waited): dropped, never sent. */
  answered: boolean;
}

/** A batch's JSON array brackets. */
const EMPTY_ARRAY_BYTES = 2;

/** Batches of at most `maxRecords` records, `maxBytes` of JSON and `maxRequests` browser requests. */
export function createFairQueue<T extends Waiting>(maxRecords: number, maxBytes: number, maxRequests = Infinity) {
  /** Waiting requests per client IP; the Map's order is the round robin's. */
  const queues = new Map<string, T[]>();
  let waitingRecords = 0;

  return {
    /** Records waiting, answered or not. */
    records: () => waitingRecords,

    add(entry: T) {
      waitingRecords += entry.records.length;
      const queue = queues.get(entry.ip);
      if (queue) queue.push(entry);
      else queues.set(entry.ip, [entry]);
    },

    /**
     * Takes up to `maxRecords` records and `maxBytes` of JSON (a lone request larger than that goes alone), one request
     * per IP in turn, the IPs whose next request is smallest first. A request that does not fit, or writes to one of
     * the `busy` identities (upstream now), is held back whole, with its IP's later requests behind it.
     */
    take(busy: Iterable<string>): T[] {
      const batch: T[] = [];
      let batchRecords = 0;
      let batchBytes = EMPTY_ARRAY_BYTES;
      // Identities this batch may not carry: those upstream now and those of requests held back in this pass (a later
      // request of the same identity from another IP must not overtake one held back).
      const blocked = new Set(busy);
      for (let progress = true; progress && queues.size; ) {
        progress = false;
        // Stable: IPs whose next requests are the same size keep their round robin order.
        for (const [ip, queue] of [...queues].sort(([, a], [, b]) => (a[0]?.records.length ?? 0) - (b[0]?.records.length ?? 0))) {
          while (queue[0]?.answered) waitingRecords -= queue.shift()!.records.length;
          if (!queue.length) {
            queues.delete(ip);
            continue;
          }
          const entry = queue[0];
          const full = batch.length > 0 && (batchRecords + entry.records.length > maxRecords || batchBytes + entry.bytes > maxBytes);
          // Held back whole (a browser request is applied whole or not at all), and the IP's later requests behind it;
          // its identities too, so no later request of theirs from another IP overtakes it.
          if (full || entry.keys.some((key) => blocked.has(key))) {
            entry.keys.forEach((key) => blocked.add(key));
            continue;
          }
          queue.shift();
          // Moved to the back of the round robin: the next batch starts with the IP after it.
          queues.delete(ip);
          if (queue.length) queues.set(ip, queue);
          waitingRecords -= entry.records.length;
          batch.push(entry);
          batchRecords += entry.records.length;
          batchBytes += entry.bytes;
          if (batch.length == maxRequests) return batch;
          progress = true;
        }
      }
      return batch;
    },
  };
}
