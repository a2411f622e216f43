import { isIdentifier } from '../profile/rules';
import type { Added, QueueRecord, Upsert } from './queue';

/** One call of `Queue.add`. */
export interface AddCall {
  upsert: Upsert;
  max: number;
  /** Capture time, epoch ms. */
  at: number;
}

/** What must match for one upsert to replace another: their identifiers and their token (never a change of what is signed). */
const identifiersOf = ({ attributes, token }: Upsert) =>
  JSON.stringify([token, Object.keys(attributes).filter(isIdentifier).sort().map((k) => [k, attributes[k]])]);

/**
 * Whether `upsert` supersedes `last`: the same identifiers and token, and every attribute `last` has. Only then (and
 * when it was captured no earlier) may it take `last`'s place: each value it carries was captured at its own time,
 * while a merge of fewer attributes would send `last`'s older values as if captured now, and undo a newer write of
 * them from another device. An older capture can arrive last (one held for consent, or left unstored by a page).
 */
const supersedes = (upsert: Upsert, last: Upsert) =>
  identifiersOf(last) == identifiersOf(upsert) && Object.keys(last.attributes).every((k) => k in upsert.attributes);

/**
 * Appends `calls` in order to `queue`, exactly as if each were stored on its own, and says what each did: it replaces
 * the newest record (an earlier call's, or the queue's) when it supersedes it, and pushes out, oldest first, what its
 * own `max` exceeds. `seq` is the largest id given out so far, by any tab. `queue` is the newest record and at least as
 * many of the oldest as the batch can push out (`size + calls.length - min(max)`); `unread` counts the records between
 * them.
 */
export function appendAll(calls: AddCall[], queue: QueueRecord[], unread: number, seq: number): Added[] {
  return calls.map(({ upsert, max, at }) => {
    const last = queue[queue.length - 1];
    const replaced = last && at >= last.at && supersedes(upsert, last.upsert) ? queue.pop()!.id : undefined;
    // Ids only grow, even when the queue empties: an acknowledgement that arrives late (an unload hand-off, another
    // tab) must never match a newer record. A record that replaces another takes a new id for the same reason.
    const record = { id: ++seq, upsert, at };
    queue.push(record);
    // The newest record is never pushed out (max is at least 1), nor one left unread (the oldest go first); splice
    // removes nothing for a negative count.
    const dropped = queue.splice(0, unread + queue.length - max);
    return { record, replaced, dropped, size: unread + queue.length };
  });
}
