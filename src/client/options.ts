import type { AutocaptureOptions } from './capture';
import { checkField } from '../profile/rules';
import { storedConsent } from './consent';
import type { CookieOptions } from './identity';

/** Whether the visitor allows identity capture. */
export type ConsentState = 'granted' | 'pending' | 'denied';

/** Options of `createIdCapture`. Only `endpoint` is required. */
export interface IdCaptureOptions {
  /** URL of your idcapture proxy, absolute or relative to the page, e.g. `'/api/profiles'`. Required. */
  endpoint: string;
  /**
   * Form auto-capture: `false` turns it off; an object limits it to some forms or adds your own field mappings.
   * Default true (every form of the page).
   */
  autocapture?: boolean | AutocaptureOptions;
  /**
   * Consent at start-up, until the visitor chooses (a `setConsent` choice is remembered across pages and tabs and
   * wins over this). Default `'granted'`, but always `'denied'` when the browser sends Global Privacy Control.
   * While `'pending'`, nothing is stored and upserts wait in memory; `'denied'` discards them.
   */
  consent?: ConsentState;
  /** Start as `'denied'` when `navigator.globalPrivacyControl` is true. Default true. */
  respectGlobalPrivacyControl?: boolean;
  /** Most upserts sent in one request. Default 100 (requests also stay under 60 KB). */
  batchSize?: number;
  /** How often, in ms, a tab retries while upserts wait (e.g. another tab holds the flush). Default 5000. */
  flushInterval?: number;
  /** The fetch to send with, e.g. one that adds headers. Default: the global fetch. */
  fetch?: typeof fetch;
  /** Most upserts kept queued; past it the oldest are dropped with a 'drop' event. Default 1000. */
  maxQueueSize?: number;
  /** The vuid cookie, or `false` to keep the vuid in localStorage only. Default `{ name: 'vuid', maxAgeDays: 365 }`. */
  cookie?: CookieOptions | false;
  /** Log each decision on the console. Default false. */
  debug?: boolean;
}

const defaults = {
  autocapture: true as boolean | AutocaptureOptions,
  consent: 'granted' as ConsentState,
  respectGlobalPrivacyControl: true,
  batchSize: 100,
  flushInterval: 5000,
  maxQueueSize: 1000,
  cookie: { name: 'vuid', maxAgeDays: 365 },
  debug: false,
};

export type ResolvedOptions = ReturnType<typeof resolveOptions>;

const positive = (name: string, value: number, integer = true) => {
  if (!(value > 0 && value < Infinity && (!integer || Number.isInteger(value)))) {
    throw new RangeError(`idcapture: option ${name} must be a positive ${integer ? 'integer' : 'number'}`);
  }
  return value;
};

export const CONSENT_STATES = ['granted', 'pending', 'denied'];

/** Fills in defaults and checks every option once, so the rest of the client can trust them. */
export function resolveOptions(options: IdCaptureOptions) {
  if (typeof options?.endpoint != 'string' || !options.endpoint) {
    throw new TypeError('idcapture: option endpoint must be the URL of your proxy');
  }
  const consent = options.consent ?? defaults.consent;
  if (!CONSENT_STATES.includes(consent)) throw new TypeError(`idcapture: option consent must be one of ${CONSENT_STATES}`);
  const cookie = options.cookie !== false && { ...defaults.cookie, ...options.cookie };
  if (options.fetch !== undefined && typeof options.fetch != 'function') throw new TypeError('idcapture: option fetch must be a function');
  if (cookie) {
    if (!/^[\w.-]+$/.test(cookie.name)) throw new TypeError('idcapture: option cookie.name must be a cookie name');
    positive('cookie.maxAgeDays', cookie.maxAgeDays, false);
  }
  const autocapture = options.autocapture ?? defaults.autocapture;
  const { forms = '', fields = {} } = autocapture === true ? {} : autocapture || {};
  // A bad selector fails here, naming the option, rather than silently at the first submit.
  try {
    if (forms) document.createDocumentFragment().querySelector(forms);
    const shape = typeof autocapture == 'boolean' || typeof autocapture == 'object';
    if (!shape || typeof forms != 'string' || Object.values(fields).some((f) => checkField(f, null))) throw 0;
  } catch {
    throw new TypeError('idcapture: option autocapture must be a boolean or { forms?: <selector>, fields?: {...} }');
  }
  const gpc = (navigator as { globalPrivacyControl?: boolean }).globalPrivacyControl;
  return {
    endpoint: options.endpoint,
    // Global Privacy Control first, then the visitor's remembered choice, then the page's option.
    consent: gpc && (options.respectGlobalPrivacyControl ?? defaults.respectGlobalPrivacyControl) ? 'denied' : storedConsent() ?? consent,
    autocapture: autocapture !== false && { forms, fields },
    batchSize: positive('batchSize', options.batchSize ?? defaults.batchSize),
    flushInterval: positive('flushInterval', options.flushInterval ?? defaults.flushInterval),
    maxQueueSize: positive('maxQueueSize', options.maxQueueSize ?? defaults.maxQueueSize),
    // Bound late so a page that replaces fetch after load (tests, service-worker shims) is honoured.
    fetch: options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init)),
    cookie,
    debug: !!options.debug,
  };
}
