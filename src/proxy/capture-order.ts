/**
 * The records of one upstream request in the order they were captured. The API applies the last write it is given,
 * so when a request carries several records of one identity (two browsers' batches merged, a phone's week-old record
 * beside a laptop's new one) the latest capture must go last, whatever order they arrived in.
 */
import type { CheckedRecord } from '../profile/batch';

/** A browser request's records and their capture times (ms on the proxy's clock), by index. */
export interface Captured {
  records: readonly CheckedRecord[];
  capturedAt: readonly number[];
}

/**
 * The records of `batch` by capture time, stable (records captured at one time keep their order: a browser's own, then
 * arrival), each with its browser request's index as its group, and the way back from a position to the record's place
 * in the batch as given.
 */
export function inCaptureOrder(batch: readonly Captured[]) {
  const flat = batch.flatMap((entry, group) => entry.records.map((record, n) => ({ record, group, at: entry.capturedAt[n] })));
  const order = flat.map((_, n) => n).sort((a, b) => flat[a].at - flat[b].at || a - b);
  return {
    records: order.map((n) => flat[n].record),
    groups: order.map((n) => flat[n].group),
    /** The index in the batch as given (its requests' records one after another) of the record sent at `index`. */
    given: (index: number) => order[index],
  };
}
