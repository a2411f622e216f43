import { isIdentifier } from '../profile/rules';
import type { Added, QueueRecord, Upsert } from './queue';

/** One call of `Queue.add`. */
export interface AddCall {
  upsert: Upsert;
  max: number;
}

/** What must match for two upserts to merge: their identifiers and their token (a merge never changes what is signed). */
const identifiersOf = ({ attributes, token }: Upsert) =>
  JSON.stringify([token, Object.keys(attributes).filter(isIdentifier).sort().map((k) => [k, attributes[k]])]);

/**
 * Appends `calls` in order to `queue`, exactly as if each were stored on its own, and says what each did: it merges
 * with the newest record (an earlier call's, or the queue's) when both name the same identifiers, later attributes
 * winning, and pushes out, oldest first, what its own `max` exceeds. `seq` is the largest id given out so far, by any
 * tab. `queue` is the newest record and at least as many of the oldest as the batch can push out
 * (`size + calls.length - min(max)`); `unread` counts the records between them.
 */
export function appendAll(calls: AddCall[], queue: QueueRecord[], unread: number, seq: number): Added[] {
  return calls.map(({ upsert, max }) => {
    const last = queue[queue.length - 1];
    const replaced = last && identifiersOf(last.upsert) == identifiersOf(upsert) ? queue.pop()!.id : undefined;
    // Ids only grow, even when the queue empties: an acknowledgement that arrives late (an unload hand-off, another
    // tab) must never match a newer record. A merged record takes a new id for the same reason.
    const record = {
      id: ++seq,
      upsert: replaced ? { ...upsert, attributes: { ...last.upsert.attributes, ...upsert.attributes } } : upsert,
      at: Date.now(),
    };
    queue.push(record);
    // The newest record is never pushed out (max is at least 1), nor one left unread (the oldest go first); splice
    // removes nothing for a negative count.
    const dropped = queue.splice(0, unread + queue.length - max);
    return { record, replaced, dropped, size: unread + queue.length };
  });
}
