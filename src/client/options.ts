import { closestName } from '../options/checks';
import type { AutocaptureOptions, ResolvedAutocapture } from './capture';
import { mapFields } from './classify-field';
import { checkField } from '../profile/rules';
import type { ConsentState } from './consent';
import type { ConsentSource } from '../consent/source';
import { IdCaptureError } from '../errors';
import { VERBOSE } from '../verbose';
import type { CookieOptions } from './visitor-id';

/** Options of `createIdCapture`. Only `endpoint` is required. */
export interface IdCaptureOptions {
  /** URL of your idcapture proxy, absolute or relative to the page, e.g. `'/api/profiles'`. Required. */
  endpoint: string;
  /**
   * Form auto-capture: `false` turns it off; an object limits it to some forms or adds your own field mappings.
   * @default true (every form of the page)
   */
  autocapture?: boolean | AutocaptureOptions;
  /**
   * Consent at start-up, until the visitor chooses (a `setConsent` choice is remembered across pages and tabs and
   * wins over this). While `'pending'`, nothing is stored and upserts wait in memory; `'denied'` discards them.
   * @default 'granted', but always 'denied' when the browser sends Global Privacy Control
   */
  consent?: ConsentState;
  /**
   * The consent platform the page runs: its name (`'tcf'`, `'gcm'`, `'shopify'`, `'onetrust'`, `'cookiebot'`, with
   * that source's defaults, loaded only when named), or a source from `idcapture/consent` made with your settings
   * (`tcf({ purposes: [1, 3, 4, 5] })`). Consent starts `'pending'` and follows each of its answers, as `setConsent`
   * would.
   * @default undefined (consent comes from `consent` and `setConsent` only)
   */
  consentSource?: ConsentSource | SourceName;
  /**
   * Start as `'denied'` when `navigator.globalPrivacyControl` is true.
   * @default true
   */
  respectGlobalPrivacyControl?: boolean;
  /**
   * Most upserts sent in one request (requests also stay under 60 KB).
   * @default 100
   */
  batchSize?: number;
  /**
   * How often, in ms, a tab retries while upserts wait (e.g. another tab holds the flush).
   * @default 5000
   */
  flushInterval?: number;
  /**
   * The fetch to send with, e.g. one that adds headers.
   * @default the global fetch
   */
  fetch?: typeof fetch;
  /**
   * Most upserts kept queued; past it the oldest are dropped with a 'drop' event.
   * @default 1000
   */
  maxQueueSize?: number;
  /**
   * Most days an upsert waits to be sent: an older one (a device offline for weeks) is dropped unsent with a 'drop'
   * event (`reason: 'expired'`), as it could undo what the visitor has changed since on another device.
   * @default 30
   */
  maxAgeDays?: number;
  /**
   * The vuid cookie, or `false` to keep the vuid in localStorage only.
   * @default { name: 'vuid', maxAgeDays: 365 }
   */
  cookie?: CookieOptions | false;
  /**
   * Log each decision on the console, in a development build (an app's production build carries no debug output).
   * @default false
   */
  debug?: boolean;
  /**
   * The query parameter that carries a signed link token from an email (`signIdentity(..., { link: true })`): taken
   * out of the address bar on landing, and the vuid linked to the identifier it names; `false` turns links off.
   * @default 'idc'
   */
  linkParameter?: string | false;
}

/** The defaults of IdCaptureOptions, written once (keep the `@default` lines above in step). */
export const defaults = {
  autocapture: true as boolean | AutocaptureOptions,
  consent: 'granted' as ConsentState,
  respectGlobalPrivacyControl: true,
  batchSize: 100,
  flushInterval: 5000,
  // Bound late so a page that replaces fetch after load (tests, service-worker shims) is honoured.
  fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(input, init),
  maxQueueSize: 1000,
  maxAgeDays: 30,
  cookie: { name: 'vuid', maxAgeDays: 365 },
  debug: false,
};

/** The options as the client uses them: every default filled in, every value checked. */
export interface ClientConfig {
  endpoint: string;
  autocapture: ResolvedAutocapture | false;
  consent: ConsentState;
  consentSource?: ConsentSource;
  respectGlobalPrivacyControl: boolean;
  batchSize: number;
  flushInterval: number;
  fetch: typeof fetch;
  maxQueueSize: number;
  maxAgeDays: number;
  cookie: (typeof defaults.cookie & CookieOptions) | false;
  debug: boolean;
}

const CONSENT_STATES: ConsentState[] = ['granted', 'pending', 'denied'];

// The wording of src/options/checks.ts (`<owner>: option <name> must be <what>`), written for the few checks the
// client needs: its `optionChecks` would add 278 B of brotli to the script-tag file, past the 8 KiB budget.
export const fail = (name: string, what: string, Type: typeof TypeError = TypeError): never => {
  throw new Type(`idcapture: option ${name} must be ${what}`);
};
const positive = (name: string, value: number) => (typeof value == 'number' && value > 0 && value < Infinity ? value : fail(name, 'a number above 0', RangeError));

/** Checks a count option: a whole number of at least 1. */
export const whole = (name: string, value: number) =>
  Number.isSafeInteger(value) && value >= 1 ? value : fail(name, VERBOSE ? 'a whole number of at least 1' : 'an integer ≥ 1', RangeError);

/** Checks the `endpoint` option, the one every client needs. */
export const checkEndpoint = (endpoint: unknown) =>
  (typeof endpoint == 'string' && endpoint) || fail('endpoint', VERBOSE ? 'the URL of your proxy' : 'a URL');

/** Checks the state given to `setConsent`, as the `consent` option is checked. */
export const checkConsent = (state: unknown) =>
  CONSENT_STATES.includes(state as ConsentState)
    ? (state as ConsentState)
    : fail('consent', VERBOSE ? `one of ${CONSENT_STATES.join(', ')}` : 'valid');

const badAutocapture = () => fail('autocapture', VERBOSE ? 'a boolean or { forms, fields }' : 'valid');

/** Checks the `forms` selector of `autocapture`: a bad one fails here, naming the option, rather than at the first submit. */
export function checkForms(forms: string) {
  try {
    if (forms) document.createDocumentFragment().querySelector(forms);
  } catch {
    badAutocapture();
  }
  return forms;
}

/** The consent platforms `consentSource` may name. */
const SOURCE_NAMES = ['tcf', 'gcm', 'shopify', 'onetrust', 'cookiebot'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/**
 * The `consentSource` option as a source: one made by a factory of idcapture/consent as it is; a name as that
 * platform's source with its defaults, imported when the client starts (a bundler splits it into a chunk of its own,
 * so an app that names no source loads none).
 */
function checkSource(option: unknown): ConsentSource | undefined {
  if (option === undefined || typeof option == 'function') return option as ConsentSource | undefined;
  const name = option as SourceName;
  if (!SOURCE_NAMES.includes(name)) return fail('consentSource', `one of ${SOURCE_NAMES.join(', ')}, or a source from idcapture/consent`);
  return (feed, context) => import('../consent/index').then((sources) => sources[name]()(feed, context));
}

/**
 * Refuses an option name the client does not know, in `options` or (with `within`) one of its option objects: a
 * misspelt option would otherwise be ignored without a word. The suggestion is the shared one of every entry point.
 */
export function checkNames(options: object, known: readonly string[], within = '') {
  for (const name in options) {
    if (known.includes(name)) continue;
    const near = VERBOSE && closestName(name, known);
    throw new TypeError(`idcapture: unknown option ${within}${name}` + (near ? ` (did you mean ${within}${near}?)` : ''));
  }
}

/**
 * Fills in defaults and checks every option of `createIdCapture` once, so the rest of the client can trust them. (The
 * script tag sets only a few options, from its data-* attributes, and checks those itself: see script-tag.ts.)
 */
export function resolveOptions(options: IdCaptureOptions): ClientConfig {
  if (typeof options == 'object') checkNames(options, ['endpoint', 'consentSource', 'linkParameter', ...Object.keys(defaults)]);
  const endpoint = checkEndpoint(options?.endpoint);
  const consent = checkConsent(options.consent ?? defaults.consent);
  if (typeof options.cookie == 'object' && options.cookie) checkNames(options.cookie, ['name', 'domain', 'maxAgeDays'], 'cookie.');
  const cookie = options.cookie !== false && { ...defaults.cookie, ...options.cookie };
  if (cookie) {
    if (!/^[\w.-]+$/.test(cookie.name)) fail('cookie.name', 'a cookie name');
    positive('cookie.maxAgeDays', cookie.maxAgeDays);
  }
  const autocapture = options.autocapture ?? defaults.autocapture;
  if (typeof autocapture == 'object' && autocapture) checkNames(autocapture, ['forms', 'fields'], 'autocapture.');
  const { forms = '', fields = {} } = autocapture === true ? {} : autocapture || {};
  const shape = typeof autocapture == 'boolean' || typeof autocapture == 'object';
  if (!shape || typeof forms != 'string' || Object.values(fields).some((f) => checkField(f, null))) badAutocapture();
  // Server-side rendering has no document to check the selector with; it fails below anyway.
  if (typeof document != 'undefined') checkForms(forms);
  const resolved = {
    endpoint,
    autocapture: autocapture !== false && { forms, mapField: mapFields(fields) },
    batchSize: whole('batchSize', options.batchSize ?? defaults.batchSize),
    flushInterval: whole('flushInterval', options.flushInterval ?? defaults.flushInterval),
    maxQueueSize: whole('maxQueueSize', options.maxQueueSize ?? defaults.maxQueueSize),
    maxAgeDays: positive('maxAgeDays', options.maxAgeDays ?? defaults.maxAgeDays),
    fetch: (typeof options.fetch == 'function' && options.fetch) || (options.fetch === undefined ? defaults.fetch : fail('fetch', 'a function')),
    consentSource: checkSource(options.consentSource),
    cookie,
    debug: !!(options.debug ?? defaults.debug),
  };
  // Checked after the options, so server-side rendering reports a bad option too, not only where it runs.
  if (typeof document == 'undefined') {
    throw new IdCaptureError('idcapture: create the client in the browser, not during server-side rendering');
  }
  return { ...resolved, consent, respectGlobalPrivacyControl: options.respectGlobalPrivacyControl ?? defaults.respectGlobalPrivacyControl };
}
