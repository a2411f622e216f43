import { listProblems, normalizeVuid, UNKNOWN_FIELD, type FieldValue, type Problem } from '../profile/rules';

/** One problem of a rejected record, as the API's 400 `detail.invalids` lists it. */
export interface Invalid {
  /** Zero-based index of the record in the batch (the API kept the events API's name for it). */
  event: number;
  message: string;
}

/** The outcome of reading a POST body: the records to apply, or why the whole request is refused. */
export type Payload =
  | { records: Record<string, FieldValue>[]; dropped: string[][] }
  | { invalids: Invalid[] }
  | { message: string };

export const UNPARSEABLE = 'Unable to parse request body.';

const describe = ({ field, reason }: Problem) => {
  if (field == 'identifiers') return 'Missing required identifier';
  if (reason == UNKNOWN_FIELD) return `Unknown field \`${field}\``;
  return `Invalid field \`${field}\`: ${reason}`;
};

/** A record checked: its attributes as they will be applied, the undeclared names dropped, and every problem. */
interface Checked {
  attributes: Record<string, FieldValue>;
  dropped: string[];
  messages: string[];
}

/**
 * Checks one record against the shared rules. With `drop`, undeclared (but well-formed) names are taken out and the
 * rest is checked again, so a record whose only identifier was undeclared is still refused for lacking one.
 */
function checkRecord(record: unknown, known: (name: string) => boolean, drop: boolean): Checked {
  const none = { attributes: {}, dropped: [] };
  if (typeof record != 'object' || !record || Array.isArray(record)) {
    return { ...none, messages: ['Invalid record: not an object'] };
  }
  // Identifiers sent beside `attributes` would be silently lost upstream (the HTTP API reads only attributes).
  const messages = Object.keys(record).filter((key) => key != 'attributes').map((key) => `Unknown field \`${key}\``);
  if (!('attributes' in record)) return { ...none, messages: [...messages, 'Missing required field `attributes`'] };
  let attributes = record.attributes as Record<string, FieldValue>;
  if (typeof attributes == 'object' && attributes && 'vuid' in attributes) {
    attributes = { ...attributes, vuid: normalizeVuid(attributes.vuid) };
  }
  let problems = listProblems(attributes, known);
  const dropped = drop ? problems.filter((p) => p.reason == UNKNOWN_FIELD).map((p) => p.field) : [];
  if (dropped.length) {
    attributes = Object.fromEntries(Object.entries(attributes).filter(([name]) => !dropped.includes(name)));
    problems = listProblems(attributes, known);
  }
  return { attributes, dropped, messages: [...messages, ...problems.map(describe)] };
}

/**
 * Parses and validates a POST body against the shared profile rules. Any bad record refuses the whole batch, and
 * every problem of every record is listed, so a caller fixes a payload in one round.
 */
export function parsePayload(body: Uint8Array, maxBatch: number, known: (name: string) => boolean, drop: boolean): Payload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    return { message: UNPARSEABLE };
  }
  const batch = Array.isArray(parsed) ? parsed : [parsed];
  if (typeof parsed != 'object' || !parsed) {
    return { message: 'Request body must be an array of {"attributes": {...}} objects, or one such object.' };
  }
  if (!batch.length) return { message: 'Request body holds no profile.' };
  if (batch.length > maxBatch) {
    return { message: `Request body holds ${batch.length} profiles; at most ${maxBatch} are allowed.` };
  }
  const checked = batch.map((record) => checkRecord(record, known, drop));
  const invalids = checked.flatMap(({ messages }, event) => messages.map((message) => ({ event, message })));
  if (invalids.length) return { invalids };
  return { records: checked.map((c) => c.attributes), dropped: checked.map((c) => c.dropped) };
}
