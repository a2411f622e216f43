import { createStore } from 'idb-keyval';
import type { FieldValue } from '../profile/rules';
import { indexedDbQueue } from './queue-indexeddb';
import { memoryQueue } from './queue-memory';
import { VERBOSE } from '../verbose';

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

/** An upsert on its way into the queue, with its capture time: id 0 matches no stored record. */
export type Capture = QueueRecord & { id: 0 };

/** What `add` did: the stored record, the record it replaced (now gone), what `max` pushed out, the size. */
export interface Added {
  record: QueueRecord;
  replaced?: number;
  dropped: QueueRecord[];
  size: number;
}

/** The durable queue the delivery layer drains. Records leave it only through `remove`, after acknowledgement. */
export interface Queue {
  /**
   * Appends `upsert`, captured at `at` (epoch ms), and keeps at most `max`. It replaces the newest record when it
   * supersedes it: the same identifiers and token, and every attribute that record has. Otherwise it is a record of its
   * own, so each value keeps its own capture time.
   */
  add(upsert: Upsert, max: number, at: number): Promise<Added>;
  /** The `n` oldest records, oldest first. */
  oldest(n: number): Promise<QueueRecord[]>;
  remove(ids: number[]): Promise<void>;
  size(): Promise<number>;
  /** Removes every record (consent withdrawn); ids keep growing afterwards. */
  clear(): Promise<unknown>;
  /** Whether the queue fell back to memory: its records then live and die with the page. */
  inMemory(): boolean;
}

/** Where a queue keeps its records, IndexedDB or memory: the queue knows which one it uses. */
export type QueueStore = Omit<Queue, 'inMemory'>;

/** Safari 14 could leave indexedDB.open pending forever; past this we stop waiting. */
const OPEN_TIMEOUT_MS = 2000;

/** Whether the database `name` exists, found without creating it: an upgrade from nothing is aborted. */
const exists = (name: string) =>
  new Promise<boolean>((resolve) => {
    setTimeout(resolve, OPEN_TIMEOUT_MS, true);
    const req = indexedDB.open(name);
    req.onupgradeneeded = () => req.transaction!.abort();
    req.onsuccess = () => {
      req.result.close();
      resolve(true);
    };
    req.onerror = () => resolve(false);
  }).catch(() => false);

/**
 * The queue `name` in IndexedDB, opened at its first use (so a page waiting for consent creates no database). Where
 * IndexedDB is missing, refuses to open, hangs, or later fails (quota, a closed connection that will not reopen), the
 * queue continues in memory and `warn` is called once; records already in IndexedDB wait there for the next page.
 */
export function openQueue(name: string, warn: (message: string, cause: unknown) => void): Queue {
  let active: Promise<QueueStore> | undefined;
  let memory: QueueStore | undefined;
  const fallBack = (cause: unknown) => {
    if (!memory) {
      memory = memoryQueue();
      // A transaction that aborts rejects with its error, which is null where WebKit fails a write (a Blob in a
      // private or ephemeral session) or the write was aborted: report an Error all the same.
      warn(VERBOSE ? 'IndexedDB is unavailable; the queue is in memory only' : 'queue in memory', cause ?? Error(VERBOSE ? 'IndexedDB aborted a write' : 'aborted'));
    }
    return (active = Promise.resolve(memory));
  };
  const open = () =>
    (active ??= new Promise<QueueStore>((resolve, reject) => {
      const queue = indexedDbQueue(createStore(name, 'queue'));
      setTimeout(reject, OPEN_TIMEOUT_MS, new Error(VERBOSE ? 'IndexedDB did not open in time' : 'timeout'));
      // A first read proves the database opens.
      queue.size().then(() => resolve(queue), reject);
    }).catch(fallBack));

  // Each operation tries twice (a connection the browser closed is reopened) before giving up on IndexedDB.
  const withFallback =
    <A extends unknown[], R>(op: (q: QueueStore) => (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      open().then((q) =>
        op(q)(...args).catch(() =>
          op(q)(...args).catch((error: unknown) => fallBack(error).then((m) => op(m)(...args))),
        ),
      );
  /** A purge under way: later operations wait for it, so it cannot remove what they add. */
  let purging: Promise<unknown> = Promise.resolve();
  const afterPurge =
    <A extends unknown[], R>(op: (q: QueueStore) => (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      purging.then(() => withFallback(op)(...args));
  const clear = withFallback((q) => q.clear);
  return {
    add: afterPurge((q) => q.add),
    oldest: afterPurge((q) => q.oldest),
    remove: afterPurge((q) => q.remove),
    size: afterPurge((q) => q.size),
    // A database never created (no page had consent) is not created now just to be emptied.
    clear() {
      const done = purging.then((): Promise<unknown> => active || exists(name)).then((found) => found && clear());
      purging = done.catch(() => {});
      return done;
    },
    inMemory: () => !!memory,
  };
}
