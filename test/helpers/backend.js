// The server side of the end-to-end path on loopback: the emulator over real HTTP, and proxies in front of it that a
// page's own server mounts at their paths. Used by the @web/test-runner config and by the Playwright suites.
import { startEmulator } from '../../dist/emulator.js';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener } from '../../dist/proxy-node.js';
import { signIdentity } from '../../dist/server.js';

export const API_KEY = 'example.apiKey';
/** The identity secret of the '/api/verified' proxy, which the back end's `sign` signs with. */
export const IDENTITY_SECRET = 'test-identity-secret-0123456789abcdef';

/**
 * Starts the emulator and returns `{ emulator, emulatorUrl, routes, forwarded, requests, reset, close }`: `routes` maps each proxy path to a
 * node request listener; `forwarded` lists every batch a proxy sent upstream, in order (observed on the way to the
 * real emulator, not answered for it).
 */
export async function startBackend({ origin, emulator: emulatorOptions = {} }) {
  const running = await startEmulator({ rateLimit: false, ...emulatorOptions });
  const forwarded = [];
  const observe = async (input, init) => {
    forwarded.push(JSON.parse(init?.body ?? (await input.clone().text())));
    return fetch(input, init);
  };
  const requests = {};
  const proxy = (path, options = {}) => {
    const listener = toNodeListener(
      // The browser and e2e suites pin delivery, not identity: records are forwarded as sent (verify: false).
      createProxy({ apiKey: API_KEY, upstream: running.url, allowedOrigins: [origin], rateLimit: false, path, fetch: observe, verify: false, ...options }),
    );
    return (req, res) => {
      requests[path] = (requests[path] ?? 0) + 1;
      listener(req, res);
    };
  };
  const routes = {
    '/api/profiles': proxy('/api/profiles'),
    // A proxy with a small body limit, to see the client split batches on 413.
    '/api/small': proxy('/api/small', { maxBodyBytes: 2048 }),
    // A proxy that allows a field the account (the emulator) lacks: the API refuses that record, named by index.
    '/api/lenient': proxy('/api/lenient', { allowedAttributes: ['vuid', 'email', 'loyalty_tier'] }),
    // A proxy that does not list the page's origin: a misconfiguration the client must report, not spin on.
    '/api/misconfigured': proxy('/api/misconfigured', { allowedOrigins: ['https://elsewhere.example'] }),
    // A proxy with verified identity: signed records may do everything, others are reduced by the default policy.
    '/api/verified': proxy('/api/verified', { verify: { secret: IDENTITY_SECRET } }),
  };
  return {
    emulator: running.emulator,
    emulatorUrl: running.url,
    routes,
    forwarded,
    /** Requests each proxy path received (preflights included). */
    requests,
    reset() {
      forwarded.length = 0;
      for (const path of Object.keys(requests)) delete requests[path];
      running.emulator.reset();
      running.emulator.setFaults({});
    },
    /**
     * What a site's back end does for a logged-in visitor: an identity token for the '/api/verified' proxy; from query
     * strings, `link: '1'` makes a link token (issue 26), `issuedAgo` (seconds) one issued that long before now, and
     * `foreign: '1'` one signed with another site's secret.
     */
    sign: ({ link, issuedAgo = 0, foreign, expiresIn = 600, ...identity }) =>
      signIdentity(
        { expiresIn: +expiresIn, ...identity },
        { secret: foreign ? `another-${IDENTITY_SECRET}` : IDENTITY_SECRET, link: link == '1', now: () => Date.now() - issuedAgo * 1000 },
      ),
    close: () => running.close(),
  };
}
