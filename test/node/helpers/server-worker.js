// A Worker that uses idcapture/server, bundled by test/node/server-worker.test.js (with ky) and run in workerd.
import { createServerClient, ValidationError } from '../../../dist/server.js';

export default {
  async fetch(request, env) {
    const zaius = createServerClient({ apiKey: env.ZAIUS_API_KEY, baseUrl: env.UPSTREAM, retries: 8, random: () => 0 });
    const upserted = await zaius.upsertProfiles([{ attributes: { email: 'Edge@Test.com', first_name: 'Edge' } }, { attributes: { email: 'bad' } }]);
    const profile = await zaius.getProfile({ email: 'edge@test.com' });
    const missing = await zaius.getProfile({ email: 'nobody@test.com' });
    const invalid = await zaius.getProfile({ first_name: 'x' }).catch((error) => error instanceof ValidationError && error.field);
    return Response.json({ upserted, profile, missing, invalid });
  },
};
