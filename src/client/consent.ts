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
  /**
   * A consent source's answer, applied as `set` applies a choice, unless Global Privacy Control holds the state at
   * 'denied'; an answer equal to the source's previous one changes nothing, so a later `set` wins until the source
   * changes its answer.
   */
  feed(state: ConsentState): void;
}

/**
 * The one owner of consent. It starts as 'denied' when the browser sends Global Privacy Control (unless
 * `respectGpc` is false), else, with a consent source (`sourced`), as 'pending' until the source answers (the source
 * is where the visitor's choice is kept), else as the choice made with `set` on an earlier page or in another tab,
 * else as `option`.
 * The other parts of the client subscribe with `on` and each does its own share: the visitor id is stored or
 * deleted, delivery runs or waits, the upserts waiting in memory are queued or discarded.
 */
export function createConsent(option: ConsentState, respectGpc: boolean, signal: AbortSignal, sourced?: boolean): Consent {
  const gpc = (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl && respectGpc;
  let state = gpc ? 'denied' : sourced ? 'pending' : (valid(readLocal(KEY)) ?? option);
  let answer: ConsentState | undefined;
  const listeners: ((state: ConsentState) => void)[] = [];
  const apply = (next: ConsentState) => {
    state = next;
    listeners.forEach((fn) => fn(next));
  };
  const onStorage = (e: StorageEvent) => e.key == KEY && apply(valid(e.newValue) ?? 'pending');
  addEventListener('storage', onStorage, { signal });
  const consent: Consent = {
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
    feed(next) {
      if (!gpc && next != answer) consent.set((answer = next));
    },
  };
  return consent;
}
