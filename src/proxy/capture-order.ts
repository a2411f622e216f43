/**
 * The records of one upstream request in the order they were captured. The API applies the last write it is given,
 * so when a request carries the records of several browser requests for one identity (a phone's week-old record
 * merged with a laptop's new one), the latest capture must go last, whatever order they arrived in. Each browser
 * request keeps its own order: one browser's queue order is the order its writes were made (tabs of one browser date
 * their captures a few milliseconds apart in either order, and the queue, not the clock, decides between them).
 */
import type { CheckedRecord } from '../profile/batch';

/** A browser request's records and their capture times (ms on the proxy's clock), by index. */
export interface Captured {
  records: readonly CheckedRecord[];
  capturedAt: readonly number[];
}

/** Whether every request's records were all captured no later than the next request's: the merge is the batch as given. */
function inOrderAlready(batch: readonly Captured[]): boolean {
  let latest = -Infinity;
  for (const { capturedAt } of batch) {
    if (capturedAt.length && Math.min(...capturedAt) < latest) return false;
    latest = Math.max(latest, ...capturedAt);
  }
  return true;
}

/** Positions in the batch as given, merged by capture time, each request's own order kept; and each one's request. */
function merge(batch: readonly Captured[]) {
  const starts: number[] = [];
  let total = 0;
  for (const entry of batch) (starts.push(total), (total += entry.records.length));
  if (inOrderAlready(batch)) return { order: [...Array(total).keys()], groups: batch.flatMap((entry, n) => entry.records.map(() => n)) };
  const next = batch.map(() => 0);
  const order: number[] = [];
  const groups: number[] = [];
  for (let left = total; left > 0; left--) {
    let pick = -1;
    batch.forEach((entry, n) => {
      if (next[n] == entry.records.length) return;
      if (pick < 0 || entry.capturedAt[next[n]] < batch[pick].capturedAt[next[pick]]) pick = n;
    });
    order.push(starts[pick] + next[pick]++);
    groups.push(pick);
  }
  return { order, groups };
}

/**
 * The records of `batch` merged by capture time, each browser request's in its own order (the earlier request first
 * when two are next at the same time), each with its request's index as its group, and the way back from a position to
 * the record's place in the batch as given.
 */
export function inCaptureOrder(batch: readonly Captured[]) {
  const { order, groups } = merge(batch);
  const flat = batch.flatMap((entry) => entry.records);
  return {
    records: order.map((n) => flat[n]),
    groups,
    /** The index in the batch as given (its requests' records one after another) of the record sent at `index`. */
    given: (index: number) => order[index],
  };
}
