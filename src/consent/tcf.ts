import { checkNames, fail } from '../client/options';
import { listOf, warnOnce, whenLoaded, type ConsentSource } from './source';

/** Options of `tcf()`: what counts as consent for identity capture in the visitor's IAB TCF v2.2 choice. */
export interface TcfOptions {
  /**
   * The TCF purposes that must all have the visitor's consent: storing an id on the device (1) and building a profile
   * of the visitor (5, create profiles to personalise content). Add 3 if your profiles also select advertising.
   * @default [1, 5]
   */
  purposes?: number[];
  /**
   * Your vendor id in the Global Vendor List, if you have one: the visitor must also have consented to that vendor.
   * @default undefined (no vendor consent needed)
   */
  vendor?: number;
}

/** The part of TCData (TCF v2.2 CMP API) read here. */
interface TcData {
  gdprApplies?: boolean;
  eventStatus?: string;
  listenerId?: number;
  purpose?: { consents?: Record<number, boolean> };
  vendor?: { consents?: Record<number, boolean> };
}
type TcfApi = (command: string, version: number, callback: (data: TcData, success: boolean) => void, parameter?: unknown) => void;

/** The defaults of TcfOptions, written once (keep the `@default` lines above in step). */
export const defaults = { purposes: [1, 5] };

const whole = (value: unknown, most: number) => Number.isInteger(value) && (value as number) >= 1 && (value as number) <= most;

/**
 * Consent from the page's IAB TCF v2.2 CMP, through `__tcfapi('addEventListener', 2, ...)` (whose stub may load after
 * idcapture). Pending until the CMP reports the visitor's choice (`tcloaded` or `useractioncomplete`; `cmpuishown`
 * means the visitor is being asked, so consent waits again); then granted when every purpose in `purposes` (and the
 * `vendor`, if set) has consent, else denied. Where GDPR does not apply (`gdprApplies: false`), granted.
 */
export function tcf(options: TcfOptions = {}): ConsentSource {
  checkNames(options, [...Object.keys(defaults), 'vendor'], 'tcf.');
  const { purposes = defaults.purposes, vendor } = options;
  if (!Array.isArray(purposes) || !purposes.length || !purposes.every((p) => whole(p, 11))) fail('tcf.purposes', 'a list of TCF purposes (1 to 11)');
  if (vendor !== undefined && !whole(vendor, 65535)) fail('tcf.vendor', 'a vendor id');
  return warnOnce((feed, context) =>
    whenLoaded('tcf', () => (window as { __tcfapi?: TcfApi }).__tcfapi, (api) => {
      let id: number | undefined;
      context.signal.addEventListener('abort', () => id === undefined || api('removeEventListener', 2, () => {}, id));
      api('addEventListener', 2, (data, success) => {
        if (context.signal.aborted) return;
        id = data?.listenerId;
        const status = data?.eventStatus;
        const given = data?.purpose?.consents;
        const answer = `tcf ${status}`;
        if (!success || !data) return feed(undefined, 'tcf failed');
        if (data.gdprApplies === false) return feed('granted', 'tcf gdprApplies false');
        if (status == 'cmpuishown') return feed('pending', answer);
        if ((status != 'tcloaded' && status != 'useractioncomplete') || typeof given != 'object' || !given) return feed(undefined, answer);
        const consented = purposes.every((p) => given[p] === true) && (vendor === undefined || data.vendor?.consents?.[vendor] === true);
        feed(consented ? 'granted' : 'denied', answer);
      });
    }, feed, context));
}

/** The script tag's adapter file (dist/consent/tcf.js): options from `data-tcf-purposes="1,5"` and `data-tcf-vendor`. */
export default (data: DOMStringMap) =>
  tcf({ purposes: listOf(data.tcfPurposes)?.map(Number), vendor: data.tcfVendor ? +data.tcfVendor : undefined });
