/** What the emulator keeps between requests: the profiles, the faults in force and the counts, until a reset. */
import type { FieldValue } from '../profile/rules';
import { ApplyQueue } from './apply-queue';
import { FaultPlan } from './faults';
import type { EmulatorConfig } from './options';
import { PerKeyRequestLimit } from './request-limit';
import { ProfileStore } from './store';

/** What the emulator has done since it started or was last reset. */
export interface EmulatorStats {
  /** `/v3` requests by HTTP status of the answer (`"dropped"` for connections closed without one). */
  requests: Record<string, number>;
  /** Upserts applied to the store. */
  recordsApplied: number;
  /** Upserts accepted (202) but not applied yet, while `applyDelayMs` holds them back. */
  pending: number;
  /** Profiles absorbed into another one by identity resolution. */
  merges: number;
  /** Profiles in the store. */
  profiles: number;
  /** With `unknownFields: 'drop'`: each undeclared field name → how many accepted records it was dropped from. */
  droppedFields: Record<string, number>;
}

/** The emulator's memory between requests; `reset()` takes it back to how `createEmulator` left it. */
export class EmulatorState {
  store: ProfileStore;
  faults: FaultPlan;
  readonly limit: PerKeyRequestLimit | undefined;
  private readonly applying: ApplyQueue;
  private requests: Record<string, number> = {};
  // No prototype: a dropped field may be named `constructor` or `to_string`.
  private droppedFields: Record<string, number> = Object.create(null);

  constructor(private readonly config: EmulatorConfig) {
    this.store = new ProfileStore(config.lowConfidence);
    this.faults = new FaultPlan(config.faults);
    this.limit = config.rateLimit === false ? undefined : new PerKeyRequestLimit(config.rateLimit, config.clock);
    // Through `this.store`, which a reset replaces.
    this.applying = new ApplyQueue(config.applyDelayMs, config.clock, (upsert) => this.store.upsert(upsert));
  }

  /** Counts one `/v3` answer under its status, or `"dropped"`. */
  count(status: string): void {
    this.requests[status] = (this.requests[status] ?? 0) + 1;
  }

  /** Takes an accepted batch: its upserts go to the store (now or after the delay), its dropped field names are tallied. */
  accept(upserts: Record<string, FieldValue>[], dropped: string[]): void {
    this.applying.add(upserts);
    for (const name of dropped) this.droppedFields[name] = (this.droppedFields[name] ?? 0) + 1;
  }

  stats(): EmulatorStats {
    return {
      requests: { ...this.requests },
      ...this.store.counts,
      pending: this.applying.pending,
      droppedFields: { ...this.droppedFields },
    };
  }

  /** Forgets profiles, counts, rate-limit state and pending upserts, and restores the faults given at creation. */
  reset(): void {
    this.applying.clear();
    this.store = new ProfileStore(this.config.lowConfidence);
    this.requests = {};
    this.droppedFields = Object.create(null);
    this.limit?.reset();
    this.faults = new FaultPlan(this.config.faults);
  }
}
