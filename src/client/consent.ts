import { attempt } from './attempt';
import type { ConsentState } from './options';

/** The visitor's choice, for every tab and page of the origin. Only a choice is kept: 'pending' removes the key. */
const KEY = 'idcapture-consent';

const valid = (value: string | null | undefined) =>
  value == 'granted' || value == 'denied' ? (value as ConsentState) : undefined;

/** The choice made with `setConsent` on an earlier page or in another tab, if any. */
export const storedConsent = () => valid(attempt(() => localStorage.getItem(KEY)));

/** Keeps `state` for the next pages and tells the other tabs (through their storage events). */
export const storeConsent = (state: ConsentState) =>
  attempt(() => (valid(state) ? localStorage.setItem(KEY, state) : localStorage.removeItem(KEY)));

/** Calls `fn` with the choice another tab made; returns the function that stops listening. */
export function followConsent(fn: (state: ConsentState) => void) {
  const listener = (e: StorageEvent) => e.key == KEY && fn(valid(e.newValue) ?? 'pending');
  addEventListener('storage', listener);
  return () => removeEventListener('storage', listener);
}
