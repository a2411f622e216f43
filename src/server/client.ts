import { checkAttributes, checkField, isIdentifier, normalizeEmail, type FieldValue } from '../profile/rules';
import { HttpError, ValidationError } from '../errors';
import { resolveOptions, type ServerClientOptions } from './options';
import { createPacer } from '../upstream/pacer';
import { createTransport } from '../upstream/transport';
import { createUpsertSender, type ProfileRecord } from '../upstream/upsert-sender';

/**
 * One identifier to look a profile up by: `email`, `phone`, `vuid`, `zaius_id`, or a custom identifier such as
 * `customer_id`.
 */
export type ProfileQuery =
  | { email: string }
  | { phone: string }
  | { vuid: string }
  | { zaius_id: string | number }
  | { [name: `${string}_${'id' | 'hash' | 'number' | 'token' | 'alias' | 'address' | 'key'}`]: string | number };

/** A profile as the API returns it: its fields, `zaius_id`, and the plural identifier arrays (`emails`, `vuids`...). */
export type Profile = Record<string, FieldValue | string[]>;

/** A record `upsertProfiles` did not store: its index in the list given, why, and the field when it was checked here. */
export interface InvalidRecord {
  index: number;
  message: string;
  field?: string;
}

/** What `upsertProfiles` did. */
export interface UpsertResult {
  /** Records the API accepted. */
  accepted: number;
  /** Records refused, here by the profile rules or by the API's 400; the others were sent regardless. */
  invalids: InvalidRecord[];
  /** Upsert requests made (a request ky retried counts once). */
  requests: number;
}

/** Options of one call. */
export interface CallOptions {
  /** Ends the call (retries and waits included); it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The client `createServerClient` returns. */
export interface ServerClient {
  /**
   * The profile one identifier names, or `null` when the API has none (404). Rejects with a ValidationError for a
   * bad query, HttpError for another refusal, NetworkError when the API cannot be reached.
   */
  getProfile(query: ProfileQuery, options?: CallOptions): Promise<Profile | null>;
  /**
   * Upserts any number of `{ attributes }` records: checked by the profile rules, split into requests of at most
   * `maxBatch`, sent in order under the pace, retried on 429/5xx. Records refused one by one are reported in
   * `invalids`, never a reason to lose the rest. Rejects with HttpError/NetworkError when a request fails for good
   * (the requests before it stay applied; resending is harmless, upserts are idempotent).
   */
  upsertProfiles(records: readonly ProfileRecord[], options?: CallOptions): Promise<UpsertResult>;
}

/** Emails are sent as the rules compare them: trimmed and lower-cased. */
const normalized = (attributes: Record<string, unknown>) =>
  typeof attributes.email == 'string' ? { ...attributes, email: normalizeEmail(attributes.email) } : attributes;

function checkQuery(query: unknown): [string, string] {
  const entries = typeof query == 'object' && query ? Object.entries(query) : [];
  if (entries.length != 1) throw new ValidationError('query', 'must name exactly one identifier, e.g. { email }');
  const [[name, value]] = entries;
  if (name != 'zaius_id' && !isIdentifier(name)) throw new ValidationError(name, 'is not an identifier');
  if ((typeof value != 'string' && typeof value != 'number') || value === '') throw new ValidationError(name, 'has no value');
  const reason = name == 'zaius_id' ? undefined : checkField(name, value);
  if (reason) throw new ValidationError(name, reason);
  return [name, name == 'email' ? normalizeEmail(String(value)) : String(value)];
}

/**
 * Creates a client of the profiles API for a site's back end (Node, workerd, Deno, Bun): never ship it to a browser,
 * it holds the key. Create one per API key and share it, so its pace covers everything sent with that key.
 *
 * @example
 * const zaius = createServerClient({ apiKey: process.env.ZAIUS_API_KEY });
 * const profile = await zaius.getProfile({ email: 'sample@test.com' }); // null when unknown
 */
export function createServerClient(options: ServerClientOptions): ServerClient {
  const config = resolveOptions(options);
  const transport = createTransport({ ...config, pacer: createPacer(config.requestsPerSecond, config.clock) });
  const url = `${config.baseUrl}/profiles`;
  const sender = createUpsertSender({ url, transport, maxBatch: config.maxBatch, maxBodyBytes: config.maxBodyBytes });

  return {
    async getProfile(query, { signal } = {}) {
      const [name, value] = checkQuery(query);
      const response = await transport(`${url}?${new URLSearchParams({ [name]: value })}`, { method: 'get', signal });
      // Read in full, whatever the status, so the connection is released.
      const body = await response.json().catch(() => undefined);
      if (response.status == 404) return null;
      if (!response.ok || typeof body?.attributes != 'object' || !body.attributes) {
        throw new HttpError(response.status, `idcapture/server: the profiles API answered ${response.status} to a profile read`);
      }
      return body.attributes as Profile;
    },
    async upsertProfiles(records, { signal } = {}) {
      if (!Array.isArray(records)) throw new TypeError('idcapture/server: upsertProfiles takes an array of { attributes } records');
      const invalids: InvalidRecord[] = [];
      const valid: { index: number; record: ProfileRecord }[] = [];
      records.forEach((record, index) => {
        const problem = checkAttributes(record?.attributes);
        if (problem) invalids.push({ index, field: problem.field, message: `${problem.field} ${problem.reason}` });
        else valid.push({ index, record: { attributes: normalized(record.attributes) } });
      });
      const sent = valid.length ? await sender.upsert(valid.map((v) => v.record), signal) : { accepted: 0, invalids: [], requests: 0 };
      invalids.push(...sent.invalids.map((r) => ({ index: valid[r.index].index, message: r.message })));
      return { accepted: sent.accepted, invalids: invalids.sort((a, b) => a.index - b.index), requests: sent.requests };
    },
  };
}
