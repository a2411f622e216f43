/**
 * The profiles API names the records of a 400 it refused in `detail.invalids`, by index (`event`). Read in one place
 * for the server client's upsert path and the proxy's own upstream call.
 */
import { readBody, TOO_LARGE } from '../http/read-body';

/** Largest 400 body read for its `detail.invalids`: the API's lists are short, a body this size is not one of them. */
const MAX_INVALIDS_BYTES = 256 * 1024;

/**
 * The in-range indices an API 400 names in `detail.invalids` (in a batch of `records`), each with the API's message;
 * empty when it names none or is not the API's JSON. Nothing else of the body is kept.
 */
export async function readInvalids(response: Response, records: number): Promise<Map<number, string>> {
  const named = new Map<number, string>();
  const bytes = await readBody(response, MAX_INVALIDS_BYTES);
  if (!bytes || bytes === TOO_LARGE) return named;
  try {
    const invalids: unknown = JSON.parse(new TextDecoder().decode(bytes))?.detail?.invalids;
    for (const invalid of Array.isArray(invalids) ? invalids : []) {
      const index: unknown = invalid?.event;
      if (Number.isInteger(index) && (index as number) >= 0 && (index as number) < records) {
        named.set(index as number, String(invalid.message ?? 'refused'));
      }
    }
  } catch {
    // Not the API's JSON: a refusal of the whole request.
  }
  return named;
}
