import { appendAll } from './queue-append';
import type { QueueStore, QueueRecord } from './queue';

/** The queue in this page's memory, where IndexedDB cannot be used: its records live and die with the page. */
export function memoryQueue(): QueueStore {
  let records: QueueRecord[] = [];
  let seq = 0;
  return {
    async add(upsert, max, at) {
      const [added] = appendAll([{ upsert, max, at }], records, 0, seq);
      seq = added.record.id;
      return added;
    },
    oldest: async (n) => records.slice(0, n),
    async remove(ids) {
      records = records.filter((r) => !ids.includes(r.id));
    },
    size: async () => records.length,
    async clear() {
      records = [];
    },
  };
}
