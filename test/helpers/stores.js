// Three storefronts on loopback in front of one emulator, for the ITP tests and the bench: `node`, the Node proxy on
// the store's own origin with the vuid's server twin and the restore middleware; `edge`, the demo's Worker
// (idcapture/edge) in workerd through Miniflare's HTTP server, in front of an origin whose pages lack the tag (it is
// injected), with the ProfileWriter Durable Object; `plain`, a static site whose proxy keeps no twin. Each page asks
// for consent (`data-consent="pending"`). And the visitor's steps, for any driver of test/helpers/drivers.js.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { Miniflare } from 'miniflare';
import { startEmulator } from '../../dist/emulator.js';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener, vuidRestore } from '../../dist/proxy-node.js';
import { signIdentity } from '../../dist/server.js';
import { until } from './e2e.js';

const KEY = 'example.apiKey';
/**
 * Every store verifies identity, as a store should (the proxy's default reduces anonymous records and never lets them
 * attach a vuid): the visitor here is signed in, its back end signing each identify() (`grantAndIdentify`).
 */
const SECRET = 'stores-identity-secret-0123456789abcdef';
const TAG = '<script async src="/idcapture.js" data-endpoint="/api/profiles" data-consent="pending"></script>';
const page = (tag) => `<!doctype html><html><head><meta charset="utf-8"><title>Store</title>${tag}</head><body><h1>Store</h1></body></html>`;
/** A page of the store without the tag, where the tests wipe what script can reach. */
const BLANK = '<!doctype html><html><head><title>Blank</title></head><body></body></html>';

/** A store's own server: its pages, the tag, and `extra(req, res)` for the rest; resolves `{ server, port }`. */
async function listen(handler) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: server.address().port };
}

function pages(tag, code) {
  return (req, res) => {
    const { pathname } = new URL(req.url, 'http://x');
    const html = (body) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
    if (pathname == '/') return html(page(tag));
    if (pathname == '/blank') return html(BLANK);
    if (pathname == '/idcapture.js' && code) return res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    res.writeHead(404).end();
  };
}

/** A Node-hosted store: its proxy on the same origin, with the twin and the restore on every page when `twin`. */
async function nodeStore(upstream, host, twin, code) {
  let proxy;
  const restore = twin ? vuidRestore() : undefined;
  const serve = pages(TAG, code);
  const { server, port } = await listen((req, res) => {
    if (req.url.startsWith('/api/profiles')) return proxy(req, res);
    restore?.(req, res);
    serve(req, res);
  });
  const url = `http://${host}:${port}`;
  proxy = toNodeListener(createProxy({ apiKey: KEY, upstream, allowedOrigins: [url], rateLimit: false, serverCookie: twin, verify: { secret: SECRET } }));
  return { url, close: () => (server.closeAllConnections(), new Promise((resolve) => server.close(resolve))) };
}

/** A free loopback port, so the Worker's ALLOWED_ORIGINS can name its own origin before it starts. */
async function freePort() {
  const { server, port } = await listen(() => {});
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function edgeStore(upstream) {
  const origin = await listen(pages(''));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const mf = new Miniflare({
    host: '127.0.0.1',
    port,
    upstream: `http://127.0.0.1:${origin.port}`,
    modules: true,
    scriptPath: 'dist/edge/worker.js',
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: KEY, ALLOWED_ORIGINS: url, UPSTREAM: upstream, IDENTITY_SECRET: SECRET, INJECT: JSON.stringify({ 'data-consent': 'pending' }) },
    durableObjects: { PROFILE_WRITER: 'ProfileWriter' },
  });
  await mf.ready;
  return {
    url,
    origin: `http://127.0.0.1:${origin.port}`,
    async close() {
      await mf.dispose();
      origin.server.closeAllConnections();
      await new Promise((resolve) => origin.server.close(resolve));
    },
  };
}

/** Starts the emulator and the three stores; `plain` is on `localhost`, so no cookie of 127.0.0.1 reaches it. */
export async function startStores() {
  const running = await startEmulator({ port: 0, rateLimit: false });
  const code = await readFile(new URL('../../dist/idcapture.js', import.meta.url));
  const [node, edge, plain] = await Promise.all([
    nodeStore(running.url, '127.0.0.1', true, code),
    edgeStore(running.url),
    nodeStore(running.url, 'localhost', false, code),
  ]);
  return {
    emulator: running.emulator,
    stores: { node, edge, plain },
    async close() {
      await Promise.all([node.close(), edge.close(), plain.close()]);
      await running.close();
    },
  };
}

/** The profile of the emulator that holds `email`. */
export const profileOf = (emulator, email) => emulator.profiles().find((p) => p.emails?.includes(email));

/**
 * Waits for the tag, then grants consent and identifies with `email` (and `attributes`), signed in: the store's back end
 * signs an identity token for the email and this browser's vuid. Waits for the send; resolves the vuid.
 */
export async function grantAndIdentify(tab, email, attributes) {
  await tab.waitFor(() => typeof window.idcapture?.identify == 'function');
  const vuid = await tab.evaluate(() => (window.idcapture.setConsent('granted'), window.idcapture.vuid));
  const token = await signIdentity({ email, vuid, expiresIn: 3600 }, { secret: SECRET });
  return tab.evaluate(
    async ({ email, attributes, token }) => {
      await window.idcapture.identify({ email }, attributes, { token });
      // A flush already under way may have taken the upsert: flush until nothing is left.
      for (let i = 0; i < 20 && (await window.idcapture.flush()).pending; i++) await new Promise((r) => setTimeout(r, 50));
      return window.idcapture.vuid;
    },
    { email, attributes, token },
  );
}

/**
 * What Safari's ITP does to a site not interacted with for 7 days: every script-writable store is deleted (all
 * non-HttpOnly cookies, localStorage, IndexedDB), from a page of the store without the tag. Resolves the names of the
 * cookies left.
 */
export async function wipeScriptStorage(session, tab, base) {
  await tab.goto(`${base}/blank`);
  const left = await tab.evaluate(async () => {
    localStorage.clear();
    for (const { name } of await indexedDB.databases()) {
      await new Promise((resolve, reject) => {
        const request = indexedDB.deleteDatabase(name);
        request.onsuccess = resolve;
        request.onerror = () => reject(request.error);
      });
    }
    return (await indexedDB.databases()).length + localStorage.length;
  });
  if (left) throw new Error(`${left} databases or keys survived the wipe`);
  for (const cookie of await session.cookies()) if (!cookie.httpOnly) await session.deleteCookie(cookie.name);
  return (await session.cookies()).map((c) => c.name);
}

/** Loads the store's page again and resolves the vuid the client starts with. */
export async function vuidAfterReload(tab, base) {
  await tab.goto(`${base}/`);
  await tab.waitFor(() => typeof window.idcapture?.identify == 'function');
  return tab.evaluate(() => window.idcapture.vuid);
}

/** Waits until the emulator holds `email`. */
export const stored = (emulator, email) => until(() => profileOf(emulator, email), `${email} in the emulator`);
