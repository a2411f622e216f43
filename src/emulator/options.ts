import { checkField, DEFAULT_FIELDS, DEFAULT_IDENTIFIERS, isIdentifier, SERVER_FIELDS } from '../profile/rules';
import type { Faults } from './faults';
import { systemClock } from '../server/pacer';

/** Options of `createEmulator`. All are optional. */
export interface EmulatorOptions {
  /** Keys accepted in `x-api-key`. Default `['example.apiKey']`, the key of the API docs' example. */
  apiKeys?: string[];
  /**
   * Custom customer fields accepted besides the default ones (first_name ... dob_year, ccpa_opted_out, the
   * data_source fields, email, phone, vuid), such as `'loyalty_tier'` or a custom identifier `'customer_id'`.
   * Default none.
   */
  fields?: string[];
  /**
   * What happens to a well-formed field that is neither a default nor a declared one (the API does not document
   * it): `'reject'` refuses the record with "Unknown field"; `'drop'` applies the rest of the record and names the
   * dropped fields in the `x-emulator-dropped-fields` header and in `stats().droppedFields`. Default `'reject'`.
   */
  unknownFields?: 'reject' | 'drop';
  /** Identifiers that move to the profile they are seen with instead of merging profiles. Default `['vuid']`. */
  lowConfidence?: string[];
  /** Requests per second per API key, with bursts of as many; `false` turns the limit off. Default 10. */
  rateLimit?: number | false;
  /** Most profiles in one POST. Default 500. */
  maxBatch?: number;
  /** Largest POST body in bytes. Default 1 MiB (1048576). */
  maxBodyBytes?: number;
  /**
   * How long the whole body of a POST may take to arrive once the emulator starts reading it, in ms; a slower
   * body is answered 408 and its connection closed. Default 10000.
   */
  bodyTimeoutMs?: number;
  /** Failures to inject from the start; see `Faults`. Default none. */
  faults?: Faults;
  /** Current time in epoch ms, for timestamps and the rate limit. Default `Date.now`. */
  clock?: () => number;
  /**
   * Waits out the API's modelled time, `faults.latencyMs` and `applyDelayMs` (not the network deadlines), resolving
   * early once `signal` aborts; pass the sleep of the clock your test moves.
   * @default `setTimeout`
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Delay in ms between the 202 and the upserts being applied, to model the real API's asynchronous processing.
   * Default 0: applied before the 202 is sent.
   */
  applyDelayMs?: number;
}

/** Every default, in one place. */
export const defaults = {
  apiKeys: ['example.apiKey'],
  fields: [] as string[],
  unknownFields: 'reject' as 'reject' | 'drop',
  bodyTimeoutMs: 10_000,
  lowConfidence: ['vuid'],
  rateLimit: 10,
  maxBatch: 500,
  maxBodyBytes: 1024 * 1024,
  clock: Date.now,
  sleep: systemClock.sleep,
  applyDelayMs: 0,
};

const fail = (name: string, must: string, Type: typeof TypeError = TypeError): never => {
  throw new Type(`idcapture emulator: option ${name} must be ${must}`);
};

const positiveInteger = (name: string, value: number) =>
  Number.isSafeInteger(value) && value > 0 ? value : fail(name, 'a positive integer', RangeError);

const names = (name: string, value: unknown, valid: (field: string) => boolean) =>
  Array.isArray(value) && value.every((v) => typeof v == 'string' && valid(v))
    ? (value as string[])
    : fail(name, 'an array of lower snake_case field names');

export type ResolvedOptions = ReturnType<typeof resolveOptions>;

/** Fills in defaults and checks every option once, throwing a TypeError or RangeError that names the option. */
export function resolveOptions(options: EmulatorOptions = {}) {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture emulator: options must be an object');
  const apiKeys = options.apiKeys ?? defaults.apiKeys;
  if (!Array.isArray(apiKeys) || !apiKeys.length || !apiKeys.every((k) => typeof k == 'string' && k)) {
    fail('apiKeys', 'a non-empty array of non-empty strings');
  }
  const fields = names('fields', options.fields ?? defaults.fields, (f) => !checkField(f, null));
  const lowConfidence = names('lowConfidence', options.lowConfidence ?? defaults.lowConfidence, isIdentifier);
  const rateLimit = options.rateLimit ?? defaults.rateLimit;
  if (rateLimit !== false && !(typeof rateLimit == 'number' && rateLimit > 0 && rateLimit < Infinity)) {
    fail('rateLimit', 'a positive number of requests per second, or false', RangeError);
  }
  const clock = options.clock ?? defaults.clock;
  if (typeof clock != 'function') fail('clock', 'a function returning epoch milliseconds');
  const sleep = options.sleep ?? defaults.sleep;
  if (typeof sleep != 'function') fail('sleep', 'a function returning a promise');
  const applyDelayMs = options.applyDelayMs ?? defaults.applyDelayMs;
  if (typeof applyDelayMs != 'number' || !(applyDelayMs >= 0 && applyDelayMs < Infinity)) {
    fail('applyDelayMs', 'a finite number of at least 0', RangeError);
  }
  const unknownFields = options.unknownFields ?? defaults.unknownFields;
  if (unknownFields != 'reject' && unknownFields != 'drop') fail('unknownFields', "'reject' or 'drop'");
  const known = new Set([...DEFAULT_FIELDS, ...SERVER_FIELDS, ...DEFAULT_IDENTIFIERS, ...fields]);
  return {
    apiKeys: new Set(apiKeys),
    /** Whether a field may be sent: a default customer field, an identifier everyone has, or a declared one. */
    known: (name: string) => known.has(name),
    /** Whether undeclared fields are dropped from a record rather than refusing it. */
    dropUnknown: unknownFields == 'drop',
    lowConfidence: new Set(lowConfidence),
    rateLimit,
    maxBatch: positiveInteger('maxBatch', options.maxBatch ?? defaults.maxBatch),
    maxBodyBytes: positiveInteger('maxBodyBytes', options.maxBodyBytes ?? defaults.maxBodyBytes),
    bodyTimeoutMs: positiveInteger('bodyTimeoutMs', options.bodyTimeoutMs ?? defaults.bodyTimeoutMs),
    faults: options.faults,
    clock,
    sleep,
    applyDelayMs,
  };
}
