/** The emulator's options, their defaults, and their one-time check in `createEmulator`. */
import { checkField, DEFAULT_FIELDS, DEFAULT_IDENTIFIERS, isIdentifier, SERVER_FIELDS } from '../profile/rules';
import { optionChecks, optionNames } from '../options/checks';
import type { Faults } from './faults';
import { systemClock, type Clock } from '../upstream/clock';

/** Options of `createEmulator`. All are optional. */
export interface EmulatorOptions {
  /**
   * Keys accepted in `x-api-key`; the default is the key of the API docs' example.
   * @default ['example.apiKey']
   */
  apiKeys?: string[];
  /**
   * Custom customer fields accepted besides the default ones (first_name ... dob_year, ccpa_opted_out, the
   * data_source fields, email, phone, vuid), such as `'loyalty_tier'` or a custom identifier `'customer_id'`.
   * @default []
   */
  fields?: string[];
  /**
   * What happens to a well-formed field that is neither a default nor a declared one (the API does not document
   * it): `'reject'` refuses the record with "Unknown field"; `'drop'` applies the rest of the record and names the
   * dropped fields in the `x-emulator-dropped-fields` header and in `stats().droppedFields`.
   * @default 'reject'
   */
  unknownFields?: 'reject' | 'drop';
  /**
   * Identifiers that move to the profile they are seen with instead of merging profiles.
   * @default ['vuid']
   */
  lowConfidence?: string[];
  /**
   * Requests per second per API key, with bursts of as many; `false` turns the limit off.
   * @default 10
   */
  rateLimit?: number | false;
  /**
   * Most profiles in one POST.
   * @default 500
   */
  maxBatch?: number;
  /**
   * Largest POST body in bytes.
   * @default 1048576 (1 MiB)
   */
  maxBodyBytes?: number;
  /**
   * How long the whole body of a POST may take to arrive once the emulator starts reading it, in ms; a slower
   * body is answered 408 and its connection closed.
   * @default 10000
   */
  bodyTimeoutMs?: number;
  /**
   * Failures to inject from the start; see `Faults`.
   * @default undefined (none)
   */
  faults?: Faults;
  /**
   * Time of the answers' timestamps and the rate limit (`now()`, epoch ms), and the wait for the API's modelled time,
   * `faults.latencyMs` and `applyDelayMs` (`sleep(ms, signal?)`); not the network deadlines. The same shape the proxy
   * and the server client take: pass the clock your test moves.
   * @default Date.now and setTimeout
   */
  clock?: Clock;
  /**
   * Delay in ms between the 202 and the upserts being applied, to model the real API's asynchronous processing;
   * 0 applies them before the 202 is sent.
   * @default 0
   */
  applyDelayMs?: number;
}

/** Every default, in one place (the README's table is checked against it). */
export const defaults = {
  apiKeys: ['example.apiKey'],
  fields: [] as string[],
  unknownFields: 'reject' as 'reject' | 'drop',
  bodyTimeoutMs: 10_000,
  lowConfidence: ['vuid'],
  rateLimit: 10,
  maxBatch: 500,
  maxBodyBytes: 1024 * 1024,
  clock: systemClock,
  applyDelayMs: 0,
};

const check = optionChecks('idcapture emulator');

/** Every option's name, for `startEmulator` too, which takes these beside its own. */
export const names = optionNames<EmulatorOptions>()(defaults, ['faults']);

const isApiKey = (key: unknown): key is string => typeof key == 'string' && !!key;
/** A field name the profile rules accept, declared or not. */
const isFieldName = (name: unknown): name is string => typeof name == 'string' && !checkField(name, null);
const isIdentifierName = (name: unknown): name is string => typeof name == 'string' && isIdentifier(name);

/** The emulator's options as `resolveOptions` leaves them: defaults filled in, checked, shorthands expanded. */
export type EmulatorConfig = ReturnType<typeof resolveOptions>;

/** Fills in defaults and checks every option once, throwing a TypeError or RangeError that names the option. */
export function resolveOptions(options: EmulatorOptions = {}) {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture emulator: options must be an object');
  check.known(options, names);
  const apiKeys = check.list('apiKeys', options.apiKeys ?? defaults.apiKeys, isApiKey, 'non-empty strings');
  if (!apiKeys.length) check.fail('apiKeys', 'a non-empty list of non-empty strings');
  const fields = check.list('fields', options.fields ?? defaults.fields, isFieldName, 'lower snake_case field names');
  const lowConfidence = check.list('lowConfidence', options.lowConfidence ?? defaults.lowConfidence, isIdentifierName, 'identifier names');
  const rateLimit = options.rateLimit ?? defaults.rateLimit;
  const clock = options.clock ?? defaults.clock;
  if (typeof clock?.now != 'function' || typeof clock.sleep != 'function') check.fail('clock', '{ now(), sleep(ms, signal?) }');
  const known = new Set([...DEFAULT_FIELDS, ...SERVER_FIELDS, ...DEFAULT_IDENTIFIERS, ...fields]);
  return {
    apiKeys: new Set(apiKeys),
    /** Whether a field may be sent: a default customer field, an identifier everyone has, or a declared one. */
    known: (name: string) => known.has(name),
    /** Whether undeclared fields are dropped from a record rather than refusing it. */
    dropUnknown: check.oneOf('unknownFields', options.unknownFields ?? defaults.unknownFields, ['reject', 'drop']) == 'drop',
    lowConfidence: new Set(lowConfidence),
    rateLimit: rateLimit === false ? rateLimit : check.positive('rateLimit', rateLimit),
    maxBatch: check.whole('maxBatch', options.maxBatch ?? defaults.maxBatch),
    maxBodyBytes: check.whole('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes),
    bodyTimeoutMs: check.whole('bodyTimeoutMs', options.bodyTimeoutMs ?? defaults.bodyTimeoutMs),
    faults: options.faults,
    clock,
    applyDelayMs: check.range('applyDelayMs', options.applyDelayMs ?? defaults.applyDelayMs, 0),
  };
}
