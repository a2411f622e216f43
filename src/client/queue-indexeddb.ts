import { promisifyRequest as request, type UseStore } from 'idb-keyval';
import { appendAll, type AddCall } from './queue-append';
import type { Added, QueueStore, QueueRecord } from './queue';

/** Where the largest id given out is kept, beside the records. Number keys sort before strings, so ranges skip it. */
const SEQ_KEY = 'seq';

/**
 * The queue in the object store `store` opens. Adds that arrive together (a burst of captures, a replayed stub) share
 * one readwrite transaction; each resolves once that transaction has completed. IndexedDB runs readwrite
 * transactions on a store one at a time, in the order they were created, across tabs; each reads the id counter and
 * the newest record before it writes, so ids stay in order across tabs.
 */
export function indexedDbQueue(store: UseStore): QueueStore {
  // Created on use: IDBKeyRange is missing where IndexedDB is (server-side rendering imports this module too).
  const numbered = () => IDBKeyRange.upperBound(Infinity);
  /** The adds of the transaction that has not yet read where the queue ends: an add made now joins them. */
  let joining: AddCall[] | undefined;
  /** What the transaction of the joining adds did with each of them, once it has completed. */
  let stored: Promise<Added[]>;

  /** Stores `batch`, which grows until IndexedDB answers the first reads, and says what each of its adds did. */
  const append = (batch: AddCall[]) =>
    store('readwrite', async (os) => {
      // Requests complete in order: once the count is in, so are the newest record and the id counter.
      const newest = os.openCursor(numbered(), 'prev');
      const seq = os.get(SEQ_KEY);
      const size = await request(os.count(numbered()));
      // Every add made in the same task as the first has joined by now; later ones go to the next transaction.
      joining = undefined;
      const last = newest.result?.value as QueueRecord | undefined;
      // The most the batch can push out of the records stored before it (getAll returns all of them when fewer).
      const outgoing = size + batch.length - batch.reduce((lowest, { max }) => Math.min(lowest, max), Infinity);
      const oldest: QueueRecord[] = outgoing > 0 ? await request(os.getAll(numbered(), outgoing)) : [];
      const read = oldest.length < size ? [...oldest, last!] : oldest;
      const queue = [...read];
      const known = Math.max(seq.result ?? 0, last?.id ?? 0);
      const added = appendAll(batch, queue, size - queue.length, known);
      // Written: what the batch leaves of the records read, its own records that stay, and the newest id.
      read.forEach((record) => queue.includes(record) || os.delete(record.id));
      queue.forEach((record) => record.id > known && os.add(record, record.id));
      os.put(queue[queue.length - 1].id, SEQ_KEY);
      await request(os.transaction);
      return added;
    });

  return {
    add(upsert, max, at) {
      if (!joining) {
        joining = [];
        stored = append(joining);
        // Failed before its reads, perhaps: no add may join it any more (a later batch that loses its place here only
        // opens a transaction of its own).
        stored.catch(() => (joining = undefined));
      }
      const i = joining.push({ upsert, max, at }) - 1;
      return stored.then((added) => added[i]);
    },
    oldest: (n) => store('readonly', (os) => request(os.getAll(numbered(), n))),
    remove: (ids) =>
      store('readwrite', (os) => {
        ids.forEach((id) => os.delete(id));
        return request(os.transaction);
      }),
    size: () => store('readonly', (os) => request(os.count(numbered()))),
    clear: () =>
      store('readwrite', (os) => {
        os.delete(numbered());
        return request(os.transaction);
      }),
  };
}
