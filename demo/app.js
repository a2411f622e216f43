// The demo as one Node http server: the storefront pages and the script tags of dist/, the real proxy at
// /api/profiles, the emulator in-process as its upstream (or the real API with ZAIUS_API_KEY), and the few /demo/
// routes the inspector uses. Imported by demo/server.js (`npm run demo`) after the build.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createProxy } from '../dist/proxy.js';
import { toNodeListener, vuidRestore } from '../dist/proxy-node.js';
import { createEmulator } from '../dist/emulator.js';
import { createServerClient, signIdentity } from '../dist/server.js';
import { randomBytes } from 'node:crypto';

const pages = fileURLToPath(new URL('./pages/', import.meta.url));
const layout = fileURLToPath(new URL('./layout/', import.meta.url));
/** The docs pages the demo and its inspector link to, served as text. */
const docs = fileURLToPath(new URL('../docs/', import.meta.url));
/**
 * The script tags, served from dist/: the production one, the debug one it names when a page sets data-debug, and the
 * consent sources' adapter files it loads from beside itself when a page sets data-consent-source.
 */
const SOURCES = ['tcf', 'gcm', 'shopify', 'onetrust', 'cookiebot'];
const bundles = new Map(
  ['/idcapture.js', '/idcapture.debug.js', ...SOURCES.map((name) => `/consent/${name}.js`)].map((path) => [path, fileURLToPath(new URL(`../dist${path}`, import.meta.url))]),
);
const TYPES = { '.md': 'text/plain; charset=utf-8', '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };
const EMULATOR_KEY = 'example.apiKey';
const EMULATOR_BASE = 'http://emulator.invalid/v3';

/** What the inspector's fault buttons inject into the emulator. */
const FAULTS = {
  off: {},
  errors: { errorRate: 0.5 },
  throttle: { burstRate: 0.5, burstLength: 3 },
  slow: { latencyMs: [1500, 3000] },
};

/** A fetch answered by the emulator in this process, failing the way a real fetch does on a dropped connection or an abort. */
function inProcess(emulator) {
  return (input, init) => {
    const request = new Request(input, init);
    const { signal } = request;
    const answer = emulator.fetch(request).then((response) => {
      if (response.type == 'error') throw new TypeError('fetch failed: connection dropped');
      return response;
    });
    if (!signal) return answer;
    const aborted = new Promise((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    return Promise.race([answer, aborted]);
  };
}

/** The vuid of the visitor who sent `req`, from the idcapture cookie (`<uuid>|<epoch ms>`), as 32 hex characters. */
function visitorVuid(req) {
  const cookie = (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith('vuid='));
  if (!cookie) return;
  let value;
  try {
    value = decodeURIComponent(cookie.slice(5));
  } catch {
    return;
  }
  const vuid = value.split('|')[0].replace(/-/g, '').toLowerCase();
  return /^[0-9a-f]{32}$/.test(vuid) ? vuid : undefined;
}

/** The vuid's HttpOnly server twin (README, serverCookie) in `req`, if any: the inspector shows it, no script can read it. */
const twinOf = (req) => (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith('idc_vuid='))?.slice(9) || undefined;

const sendJson = (res, status, body, headers = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
};

const SESSION = 'demo_session';

/** The demo's session id from its HttpOnly cookie, if the request has one. */
const sessionId = (req) =>
  (req.headers.cookie ?? '').split(/;\s*/).find((c) => c.startsWith(`${SESSION}=`))?.slice(SESSION.length + 1);

/** Reads a small request body (the demo's own forms and controls); anything larger is cut off. */
const readSmall = (req, max = 16 * 1024) =>
  new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      if ((text += chunk).length > max) req.destroy();
    });
    req.on('end', () => resolve(text));
    req.on('error', () => resolve(''));
    req.on('close', () => resolve(text));
  });

/**
 * Starts the demo server. `apiKey` (e.g. from ZAIUS_API_KEY) switches from the embedded emulator to the real API at
 * `apiUrl`. Resolves `{ url, upstream, emulator?, close() }`.
 */
export async function startDemo({ port = 8080, host = '127.0.0.1', apiKey, apiUrl, identitySecret = randomBytes(32).toString('hex'), budgets = true } = {}) {
  const emulator = apiKey ? undefined : createEmulator();
  const upstream = apiKey ? apiUrl || 'https://api.zaius.com/v3' : EMULATOR_BASE;
  const key = apiKey ?? EMULATOR_KEY;
  const fetch = emulator ? inProcess(emulator) : undefined;
  // The back end's own client, for the inspector's "profile of this visitor" read; the browser never sees the key.
  const zaius = createServerClient({ apiKey: key, baseUrl: upstream, fetch, retries: 1, timeoutMs: 5000 });
  // Who is signed in: session id (an HttpOnly cookie no script can read) to the email the back end signed for.
  // Bounded, the oldest forgotten first: it is a demo, not a session store.
  const sessions = new Map();
  let proxy;
  let hosts = [];
  let preset = 'off';
  // The proxy runs on the storefront's own origin, so it keeps the vuid's server twin and every page restores the
  // script cookie from it (Safari deletes script-set storage after 7 days). Twins that restored a cookie are noted
  // for the inspector.
  const restore = vuidRestore();
  const restored = new Set();

  async function demoRoute(req, res, path) {
    const route = `${req.method} ${path}`;
    if (route == 'GET /demo/status') return sendJson(res, 200, { upstream: emulator ? 'emulator' : upstream, faults: emulator ? preset : null });
    // Only the signed-in visitor's own profile, read by the identity the back end signed in, never by the vuid: the
    // vuid is no secret (it sits in a script-readable cookie, in every upsert and in a token's readable claims), so
    // a view that answered for any vuid cookie would hand a stranger who learnt one that visitor's email and address.
    if (route == 'GET /demo/profile') {
      const twinCookie = twinOf(req);
      const twin = !twinCookie ? 'none' : restored.has(twinCookie) ? 'restored' : 'present';
      const email = sessions.get(sessionId(req));
      if (!email) return sendJson(res, 200, { email: null, profile: null, twin });
      try {
        return sendJson(res, 200, { email, profile: await zaius.getProfile({ email }), twin });
      } catch (error) {
        return sendJson(res, 502, { email, error: `${error.name}: ${error.message}`, twin });
      }
    }
    if (route == 'POST /demo/logout' && req.headers['content-type'] == 'application/json') {
      sessions.delete(sessionId(req));
      return sendJson(res, 200, { ok: true }, { 'set-cookie': `${SESSION}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0` });
    }
    // JSON only: a cross-site page cannot send it without a preflight this server never answers.
    if (route == 'POST /demo/faults' && req.headers['content-type'] == 'application/json') {
      if (!emulator) return sendJson(res, 409, { error: 'faults are injected into the embedded emulator only' });
      let name;
      try {
        name = JSON.parse(await readSmall(req)).preset;
      } catch {
        // Answered below.
      }
      if (!Object.hasOwn(FAULTS, name)) return sendJson(res, 400, { error: `preset must be one of ${Object.keys(FAULTS)}` });
      emulator.setFaults(FAULTS[name]);
      preset = name;
      return sendJson(res, 200, { preset });
    }
    // Sign-in, demo style: any email, no password. A real shop signs for the account it has just authenticated.
    // The token vouches for that email and for this browser's vuid (read from its cookie), for an hour.
    if (route == 'POST /demo/login' && req.headers['content-type'] == 'application/json') {
      let email;
      try {
        email = JSON.parse(await readSmall(req)).email;
      } catch {
        // Answered below.
      }
      try {
        const token = await signIdentity({ email, vuid: visitorVuid(req), expiresIn: 3600 }, { secret: identitySecret });
        // The email as signed (normalised by the profile rules), from the token's claims.
        const signed = JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).email;
        const id = randomBytes(16).toString('hex');
        sessions.set(id, signed);
        if (sessions.size > 1000) sessions.delete(sessions.keys().next().value);
        const cookie = `${SESSION}=${id}; Path=/; HttpOnly; SameSite=Strict`;
        return sendJson(res, 200, { email: signed, token }, { 'set-cookie': cookie });
      } catch (error) {
        return sendJson(res, 400, { error: error.message });
      }
    }
    // The storefront's own form handlers: they take the order or account and go back to the page (nothing is kept).
    const form = /^POST \/demo\/(newsletter|register|order|contact)$/.exec(route);
    if (form) {
      await readSmall(req);
      if (form[1] == 'contact' || form[1] == 'newsletter') return sendJson(res, 200, { ok: true });
      res.writeHead(303, { location: form[1] == 'register' ? '/register.html?welcome=1' : '/checkout.html?ordered=1' });
      return res.end();
    }
    sendJson(res, 404, { error: 'not found' });
  }

  /**
   * The store's header and footer, written once in demo/layout/ and put where a page marks them, with the page served
   * marked current in the navigation. Read at each request, like the pages, so an edit shows on reload.
   */
  async function withLayout(html, path) {
    const [header, footer] = await Promise.all([readFile(join(layout, 'header.html'), 'utf8'), readFile(join(layout, 'footer.html'), 'utf8')]);
    const current = path == '/index.html' ? '/' : path;
    return html
      .replace('  <!-- site header -->\n', header.replace(`<a href="${current}">`, `<a href="${current}" aria-current="page">`))
      .replace('  <!-- site footer -->\n', footer);
  }

  async function file(req, res, path) {
    const doc = /^\/docs\/[\w-]+\.md$/.test(path) && join(docs, path.slice('/docs/'.length));
    const target = bundles.get(path) ?? (doc || normalize(join(pages, path == '/' ? 'index.html' : path)));
    if (!bundles.has(path) && !doc && !target.startsWith(pages)) return sendJson(res, 404, { error: 'not found' });
    try {
      const body = extname(target) == '.html' ? await withLayout(await readFile(target, 'utf8'), path) : await readFile(target);
      res.writeHead(200, { 'content-type': TYPES[extname(target)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(req.method == 'HEAD' ? undefined : body);
    } catch {
      sendJson(res, 404, { error: 'not found' });
    }
  }

  const server = createServer((req, res) => {
    // Only this server's own names: a page on another site that rebinds its DNS name to 127.0.0.1 gets nothing.
    if (!hosts.includes(req.headers.host ?? '')) return sendJson(res, 421, { error: 'unknown host' });
    let pathname;
    try {
      ({ pathname } = new URL(req.url ?? '/', 'http://demo.invalid'));
    } catch {
      return sendJson(res, 400, { error: 'bad request target' });
    }
    if (pathname == '/api/profiles') return proxy(req, res);
    restore(req, res);
    if (String(res.getHeader('set-cookie') ?? '').startsWith('vuid=')) restored.add(twinOf(req));
    if (pathname == '/favicon.ico') return void res.writeHead(204).end();
    // The emulator's inspection paths, for a look from the terminal and for the demo's tests.
    // Changes (reset, faults) are JSON posts only: a cross-site page cannot send one without a preflight.
    if (emulator && pathname.startsWith('/__emulator/')) {
      if (req.method != 'GET' && req.headers['content-type'] != 'application/json') return sendJson(res, 415, { error: 'send JSON' });
      return void readSmall(req)
        .then(async (body) => {
          const init = { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method == 'POST' ? body : undefined };
          const answer = await emulator.fetch(new Request(`http://emulator.invalid${pathname}`, init));
          res.writeHead(answer.status, { 'content-type': 'application/json' });
          res.end(await answer.text());
        })
        .catch(() => sendJson(res, 500, { error: 'internal error' }));
    }
    if (pathname.startsWith('/demo/')) return void demoRoute(req, res, pathname).catch(() => sendJson(res, 500, { error: 'internal error' }));
    if (req.method == 'GET' || req.method == 'HEAD') return void file(req, res, pathname);
    sendJson(res, 405, { error: 'method not allowed' });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const url = `http://${host}:${server.address().port}`;
  // The proxy allows exactly this server's own origins, known once the port is.
  const origins = [url, `http://localhost:${server.address().port}`];
  hosts = origins.map((origin) => new URL(origin).host);
  // Verified identity on: signed-in visitors' upserts may do everything, anonymous ones are reduced (README).
  // toNodeListener, not createNodeServer: this one loopback server also serves the pages and the /demo/ routes.
  // `budgets: false` (PROXY_BUDGETS=off) lifts the per-IP and per-vuid record budgets, for load runs where one
  // browser plays many people (test/chaos); the global pace stays.
  const rateLimit = budgets ? undefined : { ip: false, vuid: false };
  proxy = toNodeListener(createProxy({ apiKey: key, upstream, allowedOrigins: origins, fetch, verify: { secret: identitySecret }, serverCookie: true, rateLimit }));
  return {
    url,
    upstream: emulator ? 'the embedded emulator' : upstream,
    emulator,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
