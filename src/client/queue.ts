import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';
import { isIdentifier, type FieldValue } from '../profile/rules';

/** One profile upsert in the Zaius v3 wire format. */
export interface Upsert {
  attributes: Record<string, FieldValue>;
  /** The identity token that vouches for these identifiers; the proxy checks it and never forwards it. */
  token?: string;
}

/** What the queue stores: plain and structured-cloneable, keyed by a sequence that orders all tabs' records. */
export interface QueueRecord {
  id: number;
  upsert: Upsert;
  /** Capture time, epoch ms. */
  at: number;
}

/** What `add` did: the stored record, the record it was merged into (now gone), what `max` pushed out, the size. */
export interface Added {
  record: QueueRecord;
  replaced?: number;
  dropped: QueueRecord[];
  size: number;
}

/** The durable queue the delivery layer drains. Records leave it only through `remove`, after acknowledgement. */
export interface Queue {
  /** Appends, coalescing with the newest record when both name the same identifiers, and keeps at most `max`. */
  add(upsert: Upsert, max: number): Promise<Added>;
  /** The `n` oldest records, oldest first. */
  oldest(n: number): Promise<QueueRecord[]>;
  remove(ids: number[]): Promise<void>;
  size(): Promise<number>;
  /** Removes every record (consent withdrawn); ids keep growing afterwards. */
  clear(): Promise<void>;
  /** Whether the queue fell back to memory: its records then live and die with the page. */
  inMemory(): boolean;
}

/** What must match for two upserts to merge: their identifiers and their token (a merge never changes what is signed). */
const identifiersOf = ({ attributes, token }: Upsert) =>
  JSON.stringify([token, Object.keys(attributes).filter(isIdentifier).sort().map((k) => [k, attributes[k]])]);

/**
 * The record `upsert` becomes after `last`, with id `seq + 1`: merged into `last` (later wins) or new. Ids only grow,
 * even when the queue empties: an acknowledgement that arrives late (an unload hand-off, another tab) must never
 * match a newer record. A merged record takes a new id rather than changing in place for the same reason.
 */
const follow = (last: QueueRecord | undefined, upsert: Upsert, seq: number): [QueueRecord, number | undefined] => {
  const merge = last && identifiersOf(last.upsert) == identifiersOf(upsert);
  return [
    {
      id: seq + 1,
      upsert: merge ? { ...upsert, attributes: { ...last.upsert.attributes, ...upsert.attributes } } : upsert,
      at: Date.now(),
    },
    merge ? last.id : undefined,
  ];
};

const request = promisifyRequest;

/** Where the last id given out is kept, beside the records. Number keys sort before strings, so ranges skip it. */
const SEQ = 'seq';

function indexedDbQueue(store: UseStore): Queue {
  // Created on use: IDBKeyRange is missing where IndexedDB is (server-side rendering imports this module too).
  const records = () => IDBKeyRange.upperBound(Infinity);
  return {
    // One readwrite transaction: IndexedDB runs them one at a time per store, across tabs, so ids stay in order.
    add: (upsert, max) =>
      store('readwrite', async (os) => {
        const last = (await request(os.openCursor(records(), 'prev')))?.value as QueueRecord | undefined;
        const [record, replaced] = follow(last, upsert, Math.max((await request(os.get(SEQ))) ?? 0, last?.id ?? 0));
        if (replaced) os.delete(replaced);
        os.add(record, record.id);
        os.put(record.id, SEQ);
        const size = await request(os.count(records()));
        const dropped: QueueRecord[] = size > max ? await request(os.getAll(records(), size - max)) : [];
        dropped.forEach((r) => os.delete(r.id));
        await request(os.transaction);
        return { record, replaced, dropped, size: size - dropped.length };
      }),
    oldest: (n) => store('readonly', (os) => request(os.getAll(records(), n))),
    remove: (ids) =>
      store('readwrite', (os) => {
        ids.forEach((id) => os.delete(id));
        return request(os.transaction);
      }),
    size: () => store('readonly', (os) => request(os.count(records()))),
    clear: () =>
      store('readwrite', (os) => {
        os.delete(records());
        return request(os.transaction);
      }),
    inMemory: () => false,
  };
}

function memoryQueue(): Queue {
  let records: QueueRecord[] = [];
  let seq = 0;
  return {
    async add(upsert, max) {
      const [record, replaced] = follow(records[records.length - 1], upsert, seq++);
      if (replaced) records.pop();
      records.push(record);
      const dropped = records.splice(0, Math.max(0, records.length - max));
      return { record, replaced, dropped, size: records.length };
    },
    oldest: async (n) => records.slice(0, n),
    async remove(ids) {
      records = records.filter((r) => !ids.includes(r.id));
    },
    size: async () => records.length,
    async clear() {
      records = [];
    },
    inMemory: () => true,
  };
}

/** Safari 14 could leave indexedDB.open pending forever; past this we stop waiting. */
const OPEN_TIMEOUT_MS = 2000;

/** Whether the database `name` exists, found without creating it: an upgrade from nothing is aborted. */
const exists = (name: string) =>
  new Promise<boolean>((resolve) => {
    setTimeout(resolve, OPEN_TIMEOUT_MS, true);
    const req = indexedDB.open(name);
    req.onupgradeneeded = () => req.transaction!.abort();
    req.onsuccess = () => (req.result.close(), resolve(true));
    req.onerror = () => resolve(false);
  }).catch(() => false);

/**
 * The queue `name` in IndexedDB, opened at its first use (so a page waiting for consent creates no database). Where
 * IndexedDB is missing, refuses to open, hangs, or later fails (quota, a closed connection that will not reopen), the
 * queue continues in memory and `warn` is called once; records already in IndexedDB wait there for the next page.
 */
export function openQueue(name: string, warn: (message: string, cause: unknown) => void): Queue {
  let active: Promise<Queue> | undefined;
  let memory: Queue | undefined;
  const fallBack = (cause: unknown) => {
    if (!memory) {
      memory = memoryQueue();
      // A transaction that aborts rejects with its error, which is null where WebKit fails a write (a Blob in a
      // private or ephemeral session) or the write was aborted: report an Error all the same.
      warn('IndexedDB is unavailable; queued upserts are kept in memory only', cause ?? Error('IndexedDB aborted a write'));
    }
    return (active = Promise.resolve(memory));
  };
  const open = () =>
    (active ??= new Promise<Queue>((resolve, reject) => {
      const store = createStore(name, 'queue');
      setTimeout(reject, OPEN_TIMEOUT_MS, new Error('IndexedDB did not open in time'));
      store('readonly', (os) => request(os.count())).then(() => resolve(indexedDbQueue(store)), reject);
    }).catch(fallBack));

  // Each operation tries twice (a connection the browser closed is reopened) before giving up on IndexedDB.
  const now =
    <A extends unknown[], R>(op: (q: Queue) => (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      open().then((q) =>
        op(q)(...args).catch(() =>
          op(q)(...args).catch((error: unknown) => fallBack(error).then((m) => op(m)(...args))),
        ),
      );
  /** A purge under way: later operations wait for it, so it cannot remove what they add. */
  let purging: Promise<unknown> = Promise.resolve();
  const run =
    <A extends unknown[], R>(op: (q: Queue) => (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      purging.then(() => now(op)(...args));
  const clear = now((q) => q.clear);
  return {
    add: run((q) => q.add),
    oldest: run((q) => q.oldest),
    remove: run((q) => q.remove),
    size: run((q) => q.size),
    // A database never created (no page had consent) is not created now just to be emptied.
    clear() {
      const done = purging.then((): Promise<unknown> => active || exists(name)).then((found) => found && clear());
      purging = done.catch(() => {});
      return done.then(() => {});
    },
    inMemory: () => !!memory,
  };
}
