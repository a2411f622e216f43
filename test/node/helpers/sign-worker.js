// A Worker that signs identity tokens with idcapture/server, bundled by test/node/proxy-verify-worker.test.js and run
// in workerd: GET /?email=...&vuid=...&expiresIn=... answers the token.
import { signIdentity } from '../../../dist/server.js';

export default {
  async fetch(request, env) {
    const { expiresIn = '3600', ...identity } = Object.fromEntries(new URL(request.url).searchParams);
    return new Response(await signIdentity({ ...identity, expiresIn: Number(expiresIn) }, { secret: env.IDENTITY_SECRET }));
  },
};
