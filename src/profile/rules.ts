/**
 * The profile rules of the Zaius/ODP v3 profiles API, written once and imported by the browser client, the proxy
 * and the emulator so the three never disagree on what a valid upsert is. The reasons are short in the production
 * script tag only (`VERBOSE`): everywhere else they are written out.
 */
import { VERBOSE } from '../verbose';

/** Longest text value the API stores (ODP "string" fields). */
const MAX_TEXT = 1024;

/** Lower snake_case, starting with a letter; 64 characters is our cap, the API documents none. */
const NAME = /^[a-z][a-z0-9_]{0,63}$/;

/** Whether `name` is shaped like a field name (lower snake_case), known or not. */
export const isFieldName = (name: string): boolean => NAME.test(name);

/**
 * Names that reach into a JavaScript object's prototype when used as a key, refused everywhere (client, proxy,
 * emulator, server client) so no record can trip code that copies its attributes into a plain object. The third,
 * `__proto__`, already fails `NAME` (it starts with `_`), so listing it would only cost the bundle bytes.
 */
const FORBIDDEN_NAMES = ['constructor', 'prototype'];

/** A plain object: not null, not an array (JSON gives nothing else that is `typeof 'object'`). */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value == 'object' && !!value && !Array.isArray(value);

/** Suffixes the API requires of custom identifier names (POST /v3/schema/identifiers). */
const CUSTOM_IDENTIFIER = /_(id|hash|number|token|alias|address|key)$/;

/** The anonymous visitor id as ODP stores it: a UUIDv4 without dashes. */
export const VUID = /^[0-9a-f]{32}$/;

/** The same id as the Zaius tag's cookie holds it, dashes and all (what some integrations send). */
const DASHED_VUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A vuid in the 32-hex form ODP stores, queries and shows: the dashed cookie form loses its dashes; anything else is
 * returned unchanged for `checkField` to judge. Only the emulator applies it: the snippet sends 32 hex already.
 */
export const normalizeVuid = <T>(value: T): T | string =>
  typeof value == 'string' && DASHED_VUID.test(value) ? value.replace(/-/g, '') : value;

/**
 * Deliberately permissive: unlike the API's legacy consent regex it accepts `+` tags, apostrophes and international
 * addresses, but needs one `@`, a local part of at most 64 characters and a dotted domain, and refuses what an
 * unquoted local part cannot hold (RFC 5322 specials, blanks, control and invisible format characters), so markup
 * never passes for an address.
 */
const EMAIL = /^[^\s@<>"(),:;[\]\\\p{C}]{1,64}@[^\s@<>"(),:;[\]\\\p{C}.]+(\.[^\s@<>"(),:;[\]\\\p{C}.]+)+$/u;

/**
 * Whether another system's folding could turn this ASCII-folded address into a different one: full Unicode case
 * mapping both ways after NFKC changes it (full-width forms, ligatures, the Kelvin and Angstrom signs, a decomposed
 * accent, ı, ſ, İ, ß, an upper-case letter outside ASCII). Such an address is refused, never folded, so two distinct
 * addresses (`\u212Aate@…` and `kate@…`) can never become one, here or upstream.
 */
const folds = (email: string) => email.normalize('NFKC').toUpperCase().toLowerCase() != email;

/** The customer fields every ODP account has (dev-docs "Customers"), besides the identifiers. */
export const DEFAULT_FIELDS = [
  'first_name', 'last_name', 'gender', 'timezone', 'image_url', 'phone', 'street1', 'street2', 'city', 'state', 'zip',
  'country', 'dob_day', 'dob_month', 'dob_year',
];

/**
 * Default customer fields that integrations set from a server (ODP "Customers"): where a record came from, and the
 * CCPA opt-out. Settable like any default field, but kept out of the proxy's default allowlist: a browser has no
 * business claiming a data source or switching someone's opt-out; a site that wants them lists them.
 */
export const SERVER_FIELDS = [
  'ccpa_opted_out', 'data_source', 'data_source_type', 'data_source_details', 'data_source_instance',
  'data_source_version',
];

/** Identifiers every account knows; custom ones are recognised by their suffix. */
export const DEFAULT_IDENTIFIERS = ['vuid', 'email', 'phone'];

/** A field value the API accepts. */
export type FieldValue = string | number | boolean | null;

/** What is wrong with an upsert, naming the field (or `identifiers` when none is given). */
export interface Problem {
  field: string;
  reason: string;
}

export const isIdentifier = (name: string): boolean =>
  DEFAULT_IDENTIFIERS.includes(name) || CUSTOM_IDENTIFIER.test(name);

/** `zaius_id` and the plural identifier arrays (`emails`, `vuids`, `customer_ids`) are ODP's to fill. */
const isReserved = (name: string): boolean =>
  name == 'zaius_id' || (name.endsWith('s') && isIdentifier(name.replace(/e?s$/, '')));

/**
 * Emails match without surrounding blanks and with ASCII A–Z folded to a–z; every other character is kept as written,
 * so folding never maps two distinct addresses onto one (`checkField` refuses the lookalikes, see `folds`).
 */
export const normalizeEmail = (email: string): string => email.trim().replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * An identifier's value as it is compared and forwarded: emails trimmed and ASCII-lower-cased, other identifier strings
 * trimmed. Anything else is returned unchanged for `checkField` to judge.
 */
export const normalizeIdentifier = (name: string, value: unknown): unknown =>
  typeof value != 'string' || !isIdentifier(name) ? value : name == 'email' ? normalizeEmail(value) : value.trim();

/** Why `value` may not be stored under `name`, or undefined when it may. */
export function checkField(name: string, value: unknown): string | undefined {
  if (!NAME.test(name)) {
    return VERBOSE ? 'is not a lower snake_case name starting with a letter (at most 64 characters)' : 'is not snake_case';
  }
  if (isReserved(name) || FORBIDDEN_NAMES.includes(name)) {
    return VERBOSE ? `is reserved by ${isReserved(name) ? 'the profiles API' : 'JavaScript'}` : 'is reserved';
  }
  if (value === null) return;
  if ((name == 'email' || name == 'vuid') && typeof value != 'string') return 'is not a string';
  if (typeof value == 'boolean') return;
  if (typeof value == 'number') return isFinite(value) ? undefined : 'is not a finite number';
  if (typeof value != 'string') return VERBOSE ? 'is not a string, number, boolean or null' : 'has a wrong type';
  if (value.length > MAX_TEXT) return VERBOSE ? `is longer than ${MAX_TEXT} characters` : 'is too long';
  if (name == 'email') {
    const email = normalizeEmail(value);
    if (!EMAIL.test(email)) return VERBOSE ? 'is not a valid email address' : 'is not an email';
    if (folds(email)) return VERBOSE ? 'has a character that Unicode folding turns into another (e.g. the Kelvin sign)' : 'is not an email';
  }
  if (name == 'vuid' && !VUID.test(value)) return VERBOSE ? 'is not 32 lowercase hex characters' : 'is not a vuid';
}

/** The reason given for an upsert without an identifier. */
export const NO_IDENTIFIER = VERBOSE ? 'has no identifier (email, phone, vuid or a custom *_id)' : 'has no identifier';

/** The reason given for a well-formed name that `known` does not accept. */
export const UNKNOWN_FIELD = 'is not a known field';

/**
 * Every problem of one upsert's attributes, in field order: each bad field, then `identifiers` when no identifier
 * has a value. An identifier with a bad value still counts as given, so fixing the fields named fixes the record.
 * `known` narrows the accepted names (the proxy's allowlist, the emulator's schema).
 */
export function listProblems(attributes: unknown, known?: (name: string) => boolean): Problem[] {
  if (!isObject(attributes)) return [{ field: 'attributes', reason: 'is not an object' }];
  const problems: Problem[] = [];
  let identified = false;
  for (const [field, value] of Object.entries(attributes)) {
    const reason = checkField(field, value) ?? (known && !known(field) ? UNKNOWN_FIELD : undefined);
    if (reason) problems.push({ field, reason });
    identified ||= isIdentifier(field) && value !== null && value !== '';
  }
  if (!identified) problems.push({ field: 'identifiers', reason: NO_IDENTIFIER });
  return problems;
}

/** The first problem of one upsert's attributes (see `listProblems`), or undefined when it is valid. */
export const checkAttributes = (attributes: unknown, known?: (name: string) => boolean): Problem | undefined =>
  listProblems(attributes, known)[0];
