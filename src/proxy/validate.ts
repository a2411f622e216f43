/** Parsing and validating a batch with the shared profile rules, and rebuilding it from the validated fields only. */
import { checkAttributes, type FieldValue } from '../profile/rules';

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
  | { records: ProfileRecord[] }
  | { reason: 'invalid_json' | 'invalid_batch' | 'too_many_records' }
  | { reason: 'invalid_records'; invalids: Invalid[] };

/**
 * Keys that could reach an object's prototype in careless code downstream. `__proto__` already fails the name
 * pattern, but `constructor` and `prototype` are valid snake_case, so they are refused by name.
 */
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/** Attacker-chosen names are echoed in messages; this keeps an answer small whatever the name. */
const ECHO_MAX = 64;

const decoder = new TextDecoder('utf-8', { fatal: true });

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value == 'object' && !!value && !Array.isArray(value);

const echo = (name: string) => (name.length > ECHO_MAX ? `${name.slice(0, ECHO_MAX)}…` : name);

function checkRecord(record: unknown, allowed: ReadonlySet<string>): string | undefined {
  if (!isObject(record)) return 'record is not an object';
  if (Object.keys(record).some((key) => key != 'attributes')) return 'record has keys other than attributes';
  const attributes = record.attributes;
  if (isObject(attributes)) {
    const forbidden = Object.keys(attributes).find((key) => FORBIDDEN.has(key));
    if (forbidden) return `${forbidden} is a forbidden key`;
  }
  const problem = checkAttributes(attributes, (name) => allowed.has(name));
  return problem && `${echo(problem.field)} ${problem.reason}`;
}

/**
 * An array of `{ attributes }` or one such object. Every bad record is reported, so the client can drop exactly
 * those and resend the rest; the upstream body is built anew from the checked fields, never passed through.
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
  list.forEach((record: unknown, event) => {
    const message = checkRecord(record, allowed);
    if (message) invalids.push({ event, message });
    else records.push({ attributes: { ...(record as ProfileRecord).attributes } });
  });
  return invalids.length ? { reason: 'invalid_records', invalids } : { records };
}
