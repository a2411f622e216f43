import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { isIdentifier, type FieldValue } from '../profile/rules';

/** One profile upsert in the Zaius v3 wire format. */
export interface Upsert {
  attributes: Record<string, FieldValue>;
}

/** What the queue stores: plain and structured-cloneable, keyed by a sequence that orders all tabs' records. */
export interface QueueRecord {
  id: number;
  upsert: Upsert;
  /** Capture time, epoch ms. */
  at: number;
  /** Failed deliveries so far. */
  attempts: number;
}

/** The durable queue the delivery layer drains. Records leave it only through `remove`, after acknowledgement. */
export interface Queue {
  /** Appends, coalescing with the newest record when both name the same identifiers; returns what `max` pushed out. */
  add(upsert: Upsert, max: number): Promise<QueueRecord[]>;
  /** The `n` oldest records, oldest first. */
  oldest(n: number): Promise<QueueRecord[]>;
  remove(ids: number[]): Promise<void>;
  /** Counts a failed delivery of these records. */
  retried(ids: number[]): Promise<void>;
  size(): Promise<number>;
}

const identifiersOf = ({ attributes }: Upsert) =>
  JSON.stringify(Object.keys(attributes).filter(isIdentifier).sort().map((k) => [k, attributes[k]]));

/** The record `next` becomes when appended after `last`: merged into it (later wins) or new. */
const follow = (last: QueueRecord | undefined, upsert: Upsert): [QueueRecord, boolean] => {
  const merge = !!last && identifiersOf(last.upsert) == identifiersOf(upsert);
  return [
    {
      // A merged record takes a new id rather than changing in place: a flush in flight may be carrying the old one,
      // and its acknowledgement must not delete attributes it never sent.
      id: (last?.id ?? 0) + 1,
      upsert: merge ? { attributes: { ...last!.upsert.attributes, ...upsert.attributes } } : upsert,
      at: Date.now(),
      attempts: 0,
    },
    merge,
  ];
};

const request = promisifyRequest;

function indexedDbQueue(store: UseStore): Queue {
  return {
    // One readwrite transaction: IndexedDB runs them one at a time per store, across tabs, so ids stay in order.
    add: (upsert, max) =>
      store('readwrite', async (os) => {
        const last = (await request(os.openCursor(null, 'prev')))?.value as QueueRecord | undefined;
        const [record, merged] = follow(last, upsert);
        if (merged) os.delete(last!.id);
        os.add(record, record.id);
        const excess = (await request(os.count())) - max;
        const dropped: QueueRecord[] = excess > 0 ? await request(os.getAll(null, excess)) : [];
        dropped.forEach((r) => os.delete(r.id));
        await request(os.transaction);
        return dropped;
      }),
    oldest: (n) => store('readonly', (os) => request(os.getAll(null, n))),
    remove: (ids) =>
      store('readwrite', (os) => {
        ids.forEach((id) => os.delete(id));
        return request(os.transaction);
      }),
    retried: (ids) =>
      store('readwrite', async (os) => {
        for (const record of await Promise.all(ids.map((id) => request<QueueRecord | undefined>(os.get(id))))) {
          if (record) os.put({ ...record, attempts: record.attempts + 1 }, record.id);
        }
        await request(os.transaction);
      }),
    size: () => store('readonly', (os) => request(os.count())),
  };
}

function memoryQueue(): Queue {
  let records: QueueRecord[] = [];
  return {
    async add(upsert, max) {
      const [record, merged] = follow(records[records.length - 1], upsert);
      if (merged) records.pop();
      records.push(record);
      return records.splice(0, Math.max(0, records.length - max));
    },
    oldest: async (n) => records.slice(0, n),
    async remove(ids) {
      records = records.filter((r) => !ids.includes(r.id));
    },
    async retried(ids) {
      records.forEach((r) => ids.includes(r.id) && r.attempts++);
    },
    size: async () => records.length,
  };
}

/** Safari 14 could leave indexedDB.open pending forever; past this we stop waiting. */
const OPEN_TIMEOUT_MS = 2000;

/**
 * Opens the queue `name` in IndexedDB. Where IndexedDB is missing, refuses to open, hangs, or later fails (quota,
 * a closed connection that will not reopen), the queue continues in memory and `warn` is called once; records already
 * in IndexedDB wait there for the next page.
 */
export function openQueue(name: string, warn: (message: string, cause: unknown) => void): Queue {
  let active: Promise<Queue> = new Promise((resolve, reject) => {
    const store = createStore(name, 'queue');
    setTimeout(reject, OPEN_TIMEOUT_MS, new Error('IndexedDB did not open in time'));
    store('readonly', (os) => request(os.count())).then(() => resolve(indexedDbQueue(store)), reject);
  });
  let memory: Queue | undefined;
  const fallBack = (cause: unknown) => {
    if (!memory) {
      memory = memoryQueue();
      warn('IndexedDB is unavailable; queued upserts are kept in memory only', cause);
    }
    return (active = Promise.resolve(memory));
  };
  active = active.catch(fallBack);

  // Each operation tries twice (a connection the browser closed is reopened) before giving up on IndexedDB.
  const run =
    <A extends unknown[], R>(op: (q: Queue) => (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      active.then((q) =>
        op(q)(...args).catch(() =>
          op(q)(...args).catch((error: unknown) => fallBack(error).then((m) => op(m)(...args))),
        ),
      );
  return {
    add: run((q) => q.add),
    oldest: run((q) => q.oldest),
    remove: run((q) => q.remove),
    retried: run((q) => q.retried),
    size: run((q) => q.size),
  };
}
