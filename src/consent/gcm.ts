import { checkNames, fail } from '../client/options';
import type { ConsentState } from '../client/consent';
import { listOf, warnOnce, type ConsentSource } from './source';

/** Options of `gcm()`: which Google Consent Mode v2 keys count as consent for identity capture. */
export interface GcmOptions {
  /**
   * The consent keys that must all be `'granted'`: `analytics_storage` (an identifier kept on the device) and
   * `ad_user_data` (the visitor's data sent on for marketing).
   * @default ['analytics_storage', 'ad_user_data']
   */
  keys?: string[];
}

/** The defaults of GcmOptions, written once (keep the `@default` line above in step). */
export const defaults = { keys: ['analytics_storage', 'ad_user_data'] };

type Values = Record<string, unknown>;
declare global {
  interface Window {
    dataLayer?: unknown[];
  }
}

/**
 * Consent from Google Consent Mode v2: the `gtag('consent', 'default' | 'update', {...})` commands in `dataLayer`,
 * those already there and those pushed later. Pending until an `update` (the visitor's choice), unless the defaults
 * grant every key (a region where no choice is needed); a default for some `region` counts only when it denies, as
 * this page cannot know the visitor's region. After an update, granted when every key is granted, else denied.
 */
export function gcm(options: GcmOptions = {}): ConsentSource {
  checkNames(options, Object.keys(defaults), 'gcm.');
  const { keys = defaults.keys } = options;
  if (!Array.isArray(keys) || !keys.length || !keys.every((key) => typeof key == 'string' && key)) fail('gcm.keys', 'a list of consent keys');
  return warnOnce((feed, { signal }) => {
    const defaults: Values = {};
    const updates: Values = {};
    let chosen = false;
    let regionDenies = false;
    const state = (): ConsentState => {
      const all = keys.every((key) => (updates[key] ?? defaults[key]) == 'granted');
      return chosen ? (all ? 'granted' : 'denied') : all && !regionDenies ? 'granted' : 'pending';
    };
    /** One dataLayer entry: gtag.js's snippet pushes its `arguments`, so a command is array-like. */
    const read = (entry: unknown) => {
      const [name, command, values] = Array.from((entry ?? []) as ArrayLike<unknown>) as [unknown, unknown, Values?];
      if (signal.aborted || name != 'consent') return;
      const answer = `gcm ${command}`;
      const own = keys.filter((key) => values?.[key] != null);
      const valid = typeof values == 'object' && own.every((key) => values[key] == 'granted' || values[key] == 'denied');
      if ((command != 'default' && command != 'update') || !valid) return feed(undefined, answer);
      for (const key of own) {
        if (command == 'update') updates[key] = values[key];
        else if (!values.region) defaults[key] = values[key];
        else regionDenies ||= values[key] == 'denied';
      }
      chosen ||= command == 'update';
      feed(state(), answer);
    };
    const layer = (window.dataLayer ||= []);
    const push = layer.push;
    // Wrapped as gtag.js and Tag Manager wrap it themselves: whoever wraps it later calls this one in turn.
    layer.push = function (...entries) {
      const length = push.apply(this, entries);
      entries.forEach(read);
      return length;
    };
    layer.forEach(read);
  });
}

/** The script tag's adapter file (dist/consent/gcm.js): keys from `data-gcm-keys="analytics_storage,ad_user_data"`. */
export default (data: DOMStringMap) => gcm({ keys: listOf(data.gcmKeys) });
