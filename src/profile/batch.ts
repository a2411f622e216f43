/**
 * Reading a batch of upserts (the body the snippet posts to the proxy, and anyone posts to the profiles API): the
 * steps the proxy and the emulator share, in one order. Each step returns problems, never words: the proxy answers
 * with its reason codes and messages, the emulator in the API's own words.
 */
import { isObject, type FieldValue, type Problem } from './rules';

/** One upsert whose attributes passed the profile rules, as it goes upstream. */
export interface CheckedRecord {
  attributes: Record<string, FieldValue>;
}

/**
 * Why a whole body is refused: it is not strict UTF-8 JSON (`unparseable`), neither an array nor an object
 * (`not_records`), an empty array (`empty`), or holds more records than allowed (`too_many`).
 */
type BodyProblem = 'unparseable' | 'not_records' | 'empty' | 'too_many';

/** A problem of the record at `index` in the batch. `field` is `'record'` for the record itself, else a key or an attribute. */
export interface RecordProblem extends Problem {
  index: number;
}

/** The reason of a record, or of its `attributes`, that is not a plain object. */
export const NOT_AN_OBJECT = 'is not an object';
/** The reason of a key beside `attributes` (and `token` and `age`, where they are read): the key is the problem's field. */
export const STRAY_KEY = 'is not a record key';
/** The reason of a record without `attributes`. */
export const MISSING = 'is missing';
/** The reason of an `age` that is not a whole number of milliseconds, at least 0. */
export const BAD_AGE = 'is not a whole number of milliseconds, at least 0';

/** What one side checks of a record's attributes, and what it keeps of them (`T`). */
interface BatchRules<T> {
  /** Most records in one batch. */
  maxRecords: number;
  /**
   * Whether a record may carry an identity token (the proxy's `verify`) and an `age` beside its attributes: the ms
   * between its capture and the body's making, on the browser's clock (the proxy's own keys, never sent upstream).
   */
  tokens: boolean;
  /** The side's own attribute step: what it keeps, and every problem, in field order (see `listProblems`). */
  checkAttributes(attributes: Record<string, unknown>): { kept: T; problems: Problem[] };
}

type ParsedBatch<T> =
  /** The whole body refused; `recordCount` is how many records it held (for `too_many`). */
  | { refused: BodyProblem; recordCount: number }
  /** Some records are bad: every problem of every record, by index. The batch is refused whole. */
  | { invalid: RecordProblem[] }
  /** Every record passed: what the rules kept of each, and each record's token and age (0 when it has none) by index. */
  | { records: T[]; tokens: (string | undefined)[]; ages: number[] };

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The problems of a record's envelope (its keys, not its attributes), in key order. */
function envelopeProblems(record: Record<string, unknown>, tokens: boolean): Problem[] {
  const problems: Problem[] = Object.keys(record)
    .filter((key) => key != 'attributes' && !(tokens && (key == 'token' || key == 'age')))
    .map((field) => ({ field, reason: STRAY_KEY }));
  if (!('attributes' in record)) problems.push({ field: 'attributes', reason: MISSING });
  else if (!isObject(record.attributes)) problems.push({ field: 'attributes', reason: NOT_AN_OBJECT });
  if (tokens && record.token !== undefined && typeof record.token != 'string') problems.push({ field: 'token', reason: 'is not a string' });
  if (tokens && record.age !== undefined && !(Number.isSafeInteger(record.age) && (record.age as number) >= 0)) problems.push({ field: 'age', reason: BAD_AGE });
  return problems;
}

/**
 * Parses a body: strict UTF-8 JSON; an array of `{ attributes }` records or one such record; at least one and at
 * most `maxRecords`; no stray keys; each record's attributes through the side's own rules. Every problem of every
 * record is reported, so a caller can fix (or drop) exactly the bad records in one round.
 */
export function parseBatch<T>(bytes: Uint8Array, rules: BatchRules<T>): ParsedBatch<T> {
  let data: unknown;
  try {
    data = JSON.parse(decoder.decode(bytes));
  } catch {
    return { refused: 'unparseable', recordCount: 0 };
  }
  const list = Array.isArray(data) ? data : isObject(data) ? [data] : undefined;
  if (!list) return { refused: 'not_records', recordCount: 0 };
  if (!list.length) return { refused: 'empty', recordCount: 0 };
  if (list.length > rules.maxRecords) return { refused: 'too_many', recordCount: list.length };
  const invalid: RecordProblem[] = [];
  const records: T[] = [];
  const tokens: (string | undefined)[] = [];
  const ages: number[] = [];
  list.forEach((record: unknown, index) => {
    const problems = isObject(record) ? envelopeProblems(record, rules.tokens) : [{ field: 'record', reason: NOT_AN_OBJECT }];
    if (isObject(record) && isObject(record.attributes)) {
      const checked = rules.checkAttributes(record.attributes);
      problems.push(...checked.problems);
      records.push(checked.kept);
      tokens.push(record.token as string | undefined);
      ages.push(typeof record.age == 'number' ? record.age : 0);
    }
    invalid.push(...problems.map((problem) => ({ index, ...problem })));
  });
  return invalid.length ? { invalid } : { records, tokens, ages };
}
