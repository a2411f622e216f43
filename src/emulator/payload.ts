import { checkAttributes, type FieldValue } from '../profile/rules';

/** One rejected record of a batch, as the API's 400 `detail.invalids` lists it. */
export interface Invalid {
  /** Zero-based index of the record in the batch (the API kept the events API's name for it). */
  event: number;
  message: string;
}

/** The outcome of reading a POST body: the records to apply, or why the whole request is refused. */
export type Payload =
  | { records: Record<string, FieldValue>[] }
  | { invalids: Invalid[] }
  | { message: string };

export const UNPARSEABLE = 'Unable to parse request body.';

const describe = (field: string, reason: string) => {
  if (field == 'identifiers') return 'Missing required identifier';
  if (reason == 'is not a known field') return `Unknown field \`${field}\``;
  return `Invalid field \`${field}\`: ${reason}`;
};

/** Why record `record` is refused, or undefined when its attributes may be applied. */
function checkRecord(record: unknown, known: (name: string) => boolean): string | undefined {
  if (typeof record != 'object' || !record || Array.isArray(record)) return 'Invalid record: not an object';
  // Identifiers sent beside `attributes` would be silently lost upstream (the HTTP API reads only attributes).
  const stray = Object.keys(record).find((key) => key != 'attributes');
  if (stray) return `Unknown field \`${stray}\``;
  if (!('attributes' in record)) return 'Missing required field `attributes`';
  const problem = checkAttributes(record.attributes, known);
  return problem && describe(problem.field, problem.reason);
}

/** Parses and validates a POST body against the shared profile rules; any bad record refuses the whole batch. */
export function parsePayload(body: Uint8Array, maxBatch: number, known: (name: string) => boolean): Payload {
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
  const invalids: Invalid[] = [];
  batch.forEach((record, event) => {
    const message = checkRecord(record, known);
    if (message) invalids.push({ event, message });
  });
  if (invalids.length) return { invalids };
  return { records: batch.map((record: { attributes: Record<string, FieldValue> }) => record.attributes) };
}
