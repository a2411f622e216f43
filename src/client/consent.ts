import { readLocal, writeLocal } from './attempt';
import { checkConsent } from './options';

/** Whether the visitor allows identity capture. */
export type ConsentState = 'granted' | 'pending' | 'denied';

/** The visitor's choice, for every tab and page of the origin. Only a choice is kept: 'pending' removes the key. */
const KEY = 'idcapture-consent';

const valid = (value: string | null | undefined) =>
  value == 'granted' || value == 'denied' ? (value as ConsentState) : undefined;

/** The client's consent: its state, changed by `set` here or by a choice made in another tab. */
export interface Consent {
  readonly state: ConsentState;
  /** Checks `state`, applies it and keeps it for the next pages and the other tabs. */
  set(state: ConsentState): void;
  /** Calls `fn` with each new state, this tab's or another's, after the functions given before it. */
  on(fn: (state: ConsentState) => void): void;
}

/**
 * The one owner of consent. It starts as 'denied' when the browser sends Global Privacy Control (unless
 * `respectGpc` is false), else as the choice made with `set` on an earlier page or in another tab, else as `option`.
 * The other parts of the client subscribe with `on` and each does its own share: the visitor id is stored or
 * deleted, delivery runs or waits, the upserts waiting in memory are queued or discarded.
 */
export function createConsent(option: ConsentState, respectGpc: boolean, signal: AbortSignal): Consent {
  const gpc = (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
  let state = gpc && respectGpc ? 'denied' : (valid(readLocal(KEY)) ?? option);
  const listeners: ((state: ConsentState) => void)[] = [];
  const apply = (next: ConsentState) => {
    state = next;
    listeners.forEach((fn) => fn(next));
  };
  const onStorage = (e: StorageEvent) => e.key == KEY && apply(valid(e.newValue) ?? 'pending');
  addEventListener('storage', onStorage, { signal });
  return {
    get state() {
      return state;
    },
    set(next) {
      // Applied first: the other tabs then find this tab's vuid stored when they learn of the grant.
      apply(checkConsent(next));
      // Stored for the next pages; the other tabs learn of it through their storage events.
      writeLocal(KEY, valid(next) ?? null);
    },
    on: (fn) => void listeners.push(fn),
  };
}
