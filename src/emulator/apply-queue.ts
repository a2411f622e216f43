/** Accepted upserts on their way into the store: applied at once, or `applyDelayMs` after their 202. */
import type { FieldValue } from '../profile/rules';
import { timer, type Clock } from '../upstream/clock';

type Upsert = Record<string, FieldValue>;

/**
 * Models the real API's asynchronous processing: with a delay, each accepted batch waits it out on the clock and is
 * then applied whole. Waits of equal length end in the order they began, so batches still apply in the order received.
 */
export class ApplyQueue {
  /** One cancel per batch still waiting; calling it forgets the batch. */
  private waiting = new Set<() => void>();
  private records = 0;

  constructor(
    private readonly delayMs: number,
    private readonly clock: Clock,
    private readonly apply: (upsert: Upsert) => void,
  ) {}

  /** Upserts accepted but not applied yet. */
  get pending(): number {
    return this.records;
  }

  /** Applies `upserts` in order, now when there is no delay (before the 202 goes out), else once it has passed. */
  add(upserts: Upsert[]): void {
    if (!this.delayMs) return upserts.forEach((upsert) => this.apply(upsert));
    this.records += upserts.length;
    const cancel = timer(this.clock, this.delayMs, () => {
      this.waiting.delete(cancel);
      this.records -= upserts.length;
      upserts.forEach((upsert) => this.apply(upsert));
    });
    this.waiting.add(cancel);
  }

  /** Forgets every batch still waiting, and lets go of its wait. */
  clear(): void {
    this.waiting.forEach((cancel) => cancel());
    this.waiting.clear();
    this.records = 0;
  }
}
