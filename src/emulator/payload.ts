/** The emulator's reading of a POST body: the shared batch steps with the account's schema, in the API's words. */
import { MISSING, NOT_AN_OBJECT, parseBatch, STRAY_KEY, type RecordProblem } from '../profile/batch';
import { listProblems, normalizeVuid, UNKNOWN_FIELD, type FieldValue } from '../profile/rules';

/** One problem of a rejected record, as the API's 400 `detail.invalids` lists it. */
interface Invalid {
  /** Zero-based index of the record in the batch (the API kept the events API's name for it). */
  event: number;
  message: string;
}

/** The outcome of reading a POST body: the records to apply, or why the whole request is refused. */
type Payload =
  | { records: Record<string, FieldValue>[]; dropped: string[][] }
  | { invalids: Invalid[] }
  | { message: string };

export const UNPARSEABLE = 'Unable to parse request body.';

function describe({ field, reason }: RecordProblem): string {
  if (field == 'record' && reason == NOT_AN_OBJECT) return 'Invalid record: not an object';
  // Identifiers sent beside `attributes` would be silently lost upstream (the HTTP API reads only attributes).
  if (reason == STRAY_KEY || reason == UNKNOWN_FIELD) return `Unknown field \`${field}\``;
  if (reason == MISSING) return `Missing required field \`${field}\``;
  if (field == 'identifiers') return 'Missing required identifier';
  return `Invalid field \`${field}\`: ${reason}`;
}

/**
 * The account's schema: `known` names are accepted. With `drop`, undeclared (but well-formed) names are taken out
 * and the rest is checked again, so a record whose only identifier was undeclared is still refused for lacking one.
 */
function schema(known: (name: string) => boolean, drop: boolean) {
  return (given: Record<string, unknown>) => {
    let attributes = 'vuid' in given ? { ...given, vuid: normalizeVuid(given.vuid) } : given;
    let problems = listProblems(attributes, known);
    const dropped = drop ? problems.filter((p) => p.reason == UNKNOWN_FIELD).map((p) => p.field) : [];
    if (dropped.length) {
      attributes = Object.fromEntries(Object.entries(attributes).filter(([name]) => !dropped.includes(name)));
      problems = listProblems(attributes, known);
    }
    return { kept: { attributes: attributes as Record<string, FieldValue>, dropped }, problems };
  };
}

/**
 * Parses and validates a POST body against the shared profile rules. Any bad record refuses the whole batch, and
 * every problem of every record is listed, so a caller fixes a payload in one round.
 */
export function parsePayload(body: Uint8Array, maxBatch: number, known: (name: string) => boolean, drop: boolean): Payload {
  const batch = parseBatch(body, { maxRecords: maxBatch, tokens: false, checkAttributes: schema(known, drop) });
  if ('refused' in batch) {
    if (batch.refused == 'unparseable') return { message: UNPARSEABLE };
    if (batch.refused == 'not_records') return { message: 'Request body must be an array of {"attributes": {...}} objects, or one such object.' };
    if (batch.refused == 'empty') return { message: 'Request body holds no profile.' };
    return { message: `Request body holds ${batch.recordCount} profiles; at most ${maxBatch} are allowed.` };
  }
  if ('invalid' in batch) return { invalids: batch.invalid.map((problem) => ({ event: problem.index, message: describe(problem) })) };
  return { records: batch.records.map((r) => r.attributes), dropped: batch.records.map((r) => r.dropped) };
}
