// Type-level tests of idcapture/server's public API (checked by `npm run typecheck`).
import {
  createServerClient,
  HttpError,
  NetworkError,
  ValidationError,
  type Clock,
  type Profile,
  type ProfileRecord,
  type ServerClient,
  type ServerClientOptions,
  type UpsertResult,
} from '../../src/server/index';

const clock: Clock = { now: () => 0, sleep: async () => {} };
const options: ServerClientOptions = {
  apiKey: 'example.apiKey',
  baseUrl: 'https://api.eu1.odp.optimizely.com/v3',
  maxBatch: 500,
  requestsPerSecond: 8,
  retries: 4,
  timeoutMs: 10_000,
  fetch: (request: Request) => fetch(request),
  clock,
};
const zaius: ServerClient = createServerClient(options);

export const byEmail: Promise<Profile | null> = zaius.getProfile({ email: 'sample@test.com' });
zaius.getProfile({ vuid: '0'.repeat(32) });
zaius.getProfile({ customer_id: 'c-1' });
zaius.getProfile({ zaius_id: 42 });
// @ts-expect-error first_name is not an identifier
zaius.getProfile({ first_name: 'Jo' });
// @ts-expect-error one identifier, not a list
zaius.getProfile(['email', 'a@test.com']);

const records: ProfileRecord[] = [{ attributes: { email: 'a@test.com', first_name: 'A', dob_year: 1990, city: null } }];
export const upserted: Promise<UpsertResult> = zaius.upsertProfiles(records);
zaius.upsertProfiles(records).then(({ accepted, invalids, requests }) => {
  const first: number | undefined = invalids[0]?.index;
  const field: string | undefined = invalids[0]?.field;
  return [accepted, requests, first, field];
});
// @ts-expect-error records are { attributes } objects, the API's own format
zaius.upsertProfiles([{ email: 'a@test.com' }]);

// @ts-expect-error apiKey is required
createServerClient({ baseUrl: 'https://api.zaius.com/v3' });
// @ts-expect-error the fetch is called with one Request
createServerClient({ apiKey: 'k', fetch: (url: string, init: RequestInit) => fetch(url, init) });

export const errors = (error: unknown) =>
  error instanceof ValidationError ? error.field : error instanceof HttpError ? error.status : error instanceof NetworkError ? error.cause : undefined;
