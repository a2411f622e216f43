import { checkNames, fail } from '../client/options';
import { warnOnce, whenLoaded, type ConsentSource } from './source';

/** Options of `onetrust()`: which OneTrust cookie category counts as consent for identity capture. */
export interface OneTrustOptions {
  /**
   * The category (group) id that must be active: `C0004`, Targeting Cookies in OneTrust's default categories, the
   * one for building a profile of the visitor for marketing.
   * @default 'C0004'
   */
  group?: string;
}

/** The defaults of OneTrustOptions, written once (keep the `@default` line above in step). */
export const defaults = { group: 'C0004' };

declare global {
  interface Window {
    OnetrustActiveGroups?: unknown;
    OneTrust?: { IsAlertBoxClosed?(): boolean };
  }
}

/**
 * Consent from OneTrust: pending until the visitor closes the banner (`OneTrust.IsAlertBoxClosed()`), then granted
 * when `group` is among `OnetrustActiveGroups` (",C0001,C0004,"), else denied; each later choice comes with the
 * `OneTrustGroupsUpdated` event on `window`.
 */
export function onetrust(options: OneTrustOptions = {}): ConsentSource {
  checkNames(options, Object.keys(defaults), 'onetrust.');
  const { group = defaults.group } = options;
  if (typeof group != 'string' || !/^\w+$/.test(group)) fail('onetrust.group', 'a category id');
  return warnOnce((feed, context) => {
    const read = (answer: string) => {
      const groups = window.OnetrustActiveGroups;
      const chosen = window.OneTrust?.IsAlertBoxClosed?.();
      feed(typeof groups != 'string' ? undefined : !chosen ? 'pending' : groups.split(',').includes(group) ? 'granted' : 'denied', `onetrust ${answer}`);
    };
    addEventListener('OneTrustGroupsUpdated', () => read('OneTrustGroupsUpdated'), context);
    whenLoaded('onetrust', () => window.OneTrust, () => read('OnetrustActiveGroups'), feed, context);
  });
}

/** The script tag's adapter file (dist/consent/onetrust.js): the group from `data-onetrust-group="C0004"`. */
export default (data: DOMStringMap) => onetrust({ group: data.onetrustGroup });
