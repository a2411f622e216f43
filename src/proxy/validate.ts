/** Parsing and validating a batch with the shared profile rules, and rebuilding it from the validated fields only. */
import { checkAttributes, isFieldName, normalizeIdentifier, type FieldValue } from '../profile/rules';

/** One record as it goes upstream. */
export interface ProfileRecord {
  attributes: Record<string, FieldValue>;
}

/** A bad record: its index in the batch (`event`, the name the Zaius API uses) and what is wrong. */
export interface Invalid {
  event: number;
  message: string;
}

export type Batch =
  /**
   * `removed`: the attribute names outside the allowlist that were taken out of the records, each named once.
   * `tokens`: each record's identity token, by index (never forwarded).
   */
  | { records: ProfileRecord[]; tokens: (string | undefined)[]; removed: string[] }
  | { reason: 'invalid_json' | 'invalid_batch' | 'too_many_records' }
  | { reason: 'invalid_records'; invalids: Invalid[] };

/**
 * Stands for every removed name that is not lower snake_case: such a key may be anything (an email, a line break), so
 * it is never echoed into an answer or a log; well-formed names are at most 64 characters of `[a-z0-9_]`.
 */
export const MALFORMED_NAME = '<not lower snake_case>';

const decoder = new TextDecoder('utf-8', { fatal: true });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value == 'object' && !!value && !Array.isArray(value);

const echo = (name: string) => (isFieldName(name) ? name : MALFORMED_NAME);

/**
 * The record's attributes without the names outside `allowed`, and those names; or what makes it unusable. A name the
 * proxy does not allow costs only itself, never the identifiers beside it; the record is refused only when what is
 * left has no identifier or a bad value. `__proto__`, `constructor` and `prototype` can never be allowed (the option
 * check refuses them), so they are always taken out before anything downstream could trip on them.
 */
function checkRecord(record: unknown, allowed: ReadonlySet<string>): { attributes: ProfileRecord['attributes']; removed: string[]; token?: string } | string {
  if (!isObject(record)) return 'record is not an object';
  if (Object.keys(record).some((key) => key != 'attributes' && key != 'token')) return 'record has keys other than attributes and token';
  if (!isObject(record.attributes)) return 'attributes is not an object';
  if (record.token !== undefined && typeof record.token != 'string') return 'token is not a string';
  // Identifiers go upstream as they were checked and compared: trimmed, emails lower-cased.
  const entries = Object.entries(record.attributes).map(([name, value]) => [name, normalizeIdentifier(name, value)] as const);
  const attributes = Object.fromEntries(entries.filter(([name]) => allowed.has(name)));
  const problem = checkAttributes(attributes);
  if (problem) return `${problem.field} ${problem.reason}`;
  const removed = entries.filter(([name]) => !allowed.has(name)).map(([name]) => echo(name));
  return { attributes: attributes as ProfileRecord['attributes'], removed, token: record.token as string | undefined };
}

/**
 * An array of `{ attributes }` or one such object. Every bad record is reported, so the client can drop exactly
 * those and resend the rest; the upstream body is built anew from the checked, allowed fields, never passed through.
 */
export function parseBatch(bytes: Uint8Array, maxBatch: number, allowed: ReadonlySet<string>): Batch {
  let data: unknown;
  try {
    data = JSON.parse(decoder.decode(bytes));
  } catch {
    return { reason: 'invalid_json' };
  }
  const list = Array.isArray(data) ? data : isObject(data) ? [data] : [];
  if (!list.length) return { reason: 'invalid_batch' };
  if (list.length > maxBatch) return { reason: 'too_many_records' };
  const invalids: Invalid[] = [];
  const records: ProfileRecord[] = [];
  const tokens: (string | undefined)[] = [];
  const removed = new Set<string>();
  list.forEach((record: unknown, event) => {
    const checked = checkRecord(record, allowed);
    if (typeof checked == 'string') return invalids.push({ event, message: checked });
    records.push({ attributes: checked.attributes });
    tokens.push(checked.token);
    checked.removed.forEach((name) => removed.add(name));
  });
  return invalids.length ? { reason: 'invalid_records', invalids } : { records, tokens, removed: [...removed] };
}
