/** The proxy's reading of a batch: the shared batch steps with the allowlist, in the proxy's words. */
import { MISSING, parseBatch, STRAY_KEY, type CheckedRecord, type RecordProblem } from '../profile/batch';
import { isFieldName, listProblems, normalizeIdentifier } from '../profile/rules';

/** A bad record: its index in the batch (`event`, the name the Zaius API uses) and what is wrong. */
export interface Invalid {
  event: number;
  message: string;
}

type Batch =
  /**
   * `removed`: the attribute names outside the allowlist that were taken out of the records, each named once.
   * `tokens`: each record's identity token, by index (never forwarded). `ages`: each record's age in ms, by index (0
   * for a record without one: captured as it was received; never forwarded).
   */
  | { records: CheckedRecord[]; tokens: (string | undefined)[]; ages: number[]; removed: string[] }
  | { reason: 'invalid_json' | 'invalid_batch' | 'too_many_records' }
  | { reason: 'invalid_records'; invalids: Invalid[] };

/**
 * Stands for every removed name that is not lower snake_case: such a key may be anything (an email, a line break), so
 * it is never echoed into an answer or a log; well-formed names are at most 64 characters of `[a-z0-9_]`.
 */
const MALFORMED_NAME = '<not lower snake_case>';

const echo = (name: string) => (isFieldName(name) ? name : MALFORMED_NAME);

/** A stray key is never echoed (it may be anything); a missing `attributes` reads as any other non-object. */
function word({ field, reason }: RecordProblem): string {
  if (reason == STRAY_KEY) return 'record has keys other than attributes, token and age';
  if (reason == MISSING) return 'attributes is not an object';
  return `${field} ${reason}`;
}

/**
 * The record's attributes without the names outside `allowed`, and those names. A name the proxy does not allow
 * costs only itself, never the identifiers beside it; the record is refused only when what is left has no identifier
 * or a bad value. `__proto__`, `constructor` and `prototype` can never be allowed (the profile rules refuse them), so
 * they are always taken out before anything downstream could trip on them.
 */
function allowlist(allowed: ReadonlySet<string>) {
  return (given: Record<string, unknown>) => {
    // One pass, no entry arrays: this runs for every record the proxy takes. Only allowed names are assigned (never
    // `__proto__`, which the rules refuse), so a plain object is safe here.
    const attributes: CheckedRecord['attributes'] = {};
    const removed: string[] = [];
    for (const name of Object.keys(given)) {
      // Identifiers go upstream as they were checked and compared: trimmed, emails lower-cased.
      if (allowed.has(name)) attributes[name] = normalizeIdentifier(name, given[name]) as CheckedRecord['attributes'][string];
      else removed.push(echo(name));
    }
    return { kept: { attributes, removed }, problems: listProblems(attributes) };
  };
}

/** What the proxy's batch step is given besides the body. */
interface BatchLimits {
  maxBatch: number;
  allowed: ReadonlySet<string>;
  /** Oldest a record may be (its `age`), in ms: `maxAgeDays`. */
  maxAgeMs: number;
}

/** The message of a record captured longer ago than `maxAgeDays`: the client drops it, as any record named invalid. */
export const EXPIRED = 'record expired: captured longer ago than this proxy accepts (maxAgeDays)';

/**
 * An array of `{ attributes }` or one such object. Every bad record is reported (its first problem), so the client
 * can drop exactly those and resend the rest; the upstream body is built anew from the checked, allowed fields, never
 * passed through.
 */
export function validateBatch(bytes: Uint8Array, { maxBatch, allowed, maxAgeMs }: BatchLimits): Batch {
  const batch = parseBatch(bytes, { maxRecords: maxBatch, tokens: true, checkAttributes: allowlist(allowed) });
  if ('refused' in batch) {
    const { refused } = batch;
    return { reason: refused == 'unparseable' ? 'invalid_json' : refused == 'too_many' ? 'too_many_records' : 'invalid_batch' };
  }
  if ('invalid' in batch) {
    const first = batch.invalid.filter((problem, n, all) => n == 0 || all[n - 1].index != problem.index);
    return { reason: 'invalid_records', invalids: first.map((problem) => ({ event: problem.index, message: word(problem) })) };
  }
  const expired = batch.ages.flatMap((age, event) => (age > maxAgeMs ? [{ event, message: EXPIRED }] : []));
  if (expired.length) return { reason: 'invalid_records', invalids: expired };
  return {
    records: batch.records.map(({ attributes }) => ({ attributes })),
    tokens: batch.tokens,
    ages: batch.ages,
    removed: [...new Set(batch.records.flatMap((record) => record.removed))],
  };
}
