// `idcapture/edge` in workerd through Miniflare (dist/edge/worker.js, the demo's Worker built on createEdge): every
// route. The origin is a loopback Node server behind the Worker (Miniflare's `upstream`), the profiles API the real
// emulator, reached through the ProfileWriter Durable Object.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Miniflare } from 'miniflare';
import { startEmulator } from '../../dist/emulator.js';

const ORIGIN_PAGE = 'http://shop.test';
const KEY = 'example.apiKey';
const TAG = readFileSync(new URL('../../dist/idcapture.js', import.meta.url));
const SCRIPT = '<script async src="/idcapture.js" data-endpoint="/api/profiles"></script>';
const VALUE = '3fdb5249-4fc3-4060-b87a-680be86aeb57%7C1568394081239';
const VUID = '3fdb52494fc34060b87a680be86aeb57';
const OTHER = '0f0e0d0c-0b0a-4909-8807-060504030201%7C1700000000000';

/** The origin's pages: each path answers what its name says. `/slow` holds its rest until the test releases it. */
let release;
const PAGES = {
  '/page': ['text/html; charset=utf-8', '<!doctype html><html><head><title>Shop</title></head><body><h1>Shop</h1></body></html>'],
  '/no-head': ['text/html', '<p>Just a fragment</p><body><p>late body</p></body>'],
  '/bare': ['text/html', '<p>No head, no body</p>'],
  '/tagged': ['text/html', `<html><head>${SCRIPT}</head><body></body></html>`],
  '/style.css': ['text/css', 'body { color: red } </head>'],
  '/data.json': ['application/json', '{"html":"<head></head>"}'],
};
let origin;
let emulator;
let withInject;
let withoutInject;

function originServer(req, res) {
  const { pathname } = new URL(req.url, 'http://x');
  if (pathname == '/slow') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.write('<html><head><title>Slow</title></head><body>first');
    return release.promise.then(() => res.end('rest</body></html>'));
  }
  if (pathname == '/csp') {
    res.writeHead(200, { 'content-type': 'text/html', 'content-security-policy': "default-src 'self'; script-src 'nonce-r4nd0m+/=' 'strict-dynamic'" });
    return res.end('<html><head></head><body></body></html>');
  }
  if (pathname == '/cached') {
    res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'public, max-age=600', 'set-cookie': 'session=abc; Path=/' });
    return res.end('<html><head></head><body></body></html>');
  }
  const page = PAGES[pathname];
  if (!page) return res.writeHead(404, { 'content-type': 'text/html' }).end('<html><head></head><body>Not found</body></html>');
  res.writeHead(200, { 'content-type': page[0] }).end(page[1]);
}

const worker = (inject) => ({
  modules: true,
  scriptPath: 'dist/edge/worker.js',
  compatibilityDate: '2026-04-01',
  bindings: { ZAIUS_API_KEY: KEY, ALLOWED_ORIGINS: ORIGIN_PAGE, UPSTREAM: emulator.url, INJECT: String(inject) },
  durableObjects: { PROFILE_WRITER: 'ProfileWriter' },
});

let mf;
let plain;
let originUrl;
before(async () => {
  emulator = await startEmulator({ port: 0 });
  origin = http.createServer(originServer);
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${origin.address().port}`;
  // `upstream`: what the Worker passes on (`fetch(request)`) goes to the origin.
  mf = new Miniflare({ host: '127.0.0.1', port: 0, upstream: originUrl, ...worker(true) });
  plain = new Miniflare({ upstream: originUrl, ...worker(false) });
  await Promise.all([mf.ready, plain.ready]);
  withInject = (path, init) => mf.dispatchFetch(`http://shop.test${path}`, init);
  withoutInject = (path, init) => plain.dispatchFetch(`http://shop.test${path}`, init);
});
beforeEach(() => emulator.emulator.reset());
after(async () => {
  await mf?.dispose();
  await plain?.dispose();
  origin?.closeAllConnections();
  await new Promise((resolve) => origin?.close(resolve));
  await emulator?.close();
});

const bytes = async (response) => Buffer.from(await response.arrayBuffer());
const post = (records, cookie) =>
  withInject('/api/profiles', {
    method: 'POST',
    headers: { origin: ORIGIN_PAGE, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(records.map((attributes) => ({ attributes }))),
  });

test('/idcapture.js is the exact bytes of dist/idcapture.js, as JavaScript, with a strong ETag and a short cache life', async () => {
  const response = await withInject('/idcapture.js');
  assert.equal(response.status, 200);
  assert.deepEqual(await bytes(response), TAG);
  assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(response.headers.get('etag'), `"${createHash('sha256').update(TAG).digest('hex').slice(0, 32)}"`);
  assert.equal(response.headers.get('cache-control'), 'public, max-age=300, stale-while-revalidate=86400');
  assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  assert.deepEqual(response.headers.getSetCookie(), []);
});

test('/idcapture.js answers 304 without a body to a matching If-None-Match (weak or in a list), 200 to another', async () => {
  const etag = (await withInject('/idcapture.js', { method: 'HEAD' })).headers.get('etag');
  for (const header of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
    const response = await withInject('/idcapture.js', { headers: { 'if-none-match': header } });
    assert.equal(response.status, 304, header);
    assert.equal((await bytes(response)).length, 0);
    assert.equal(response.headers.get('etag'), etag);
  }
  const stale = await withInject('/idcapture.js', { headers: { 'if-none-match': '"an-older-release"' } });
  assert.equal(stale.status, 200);
  assert.deepEqual(await bytes(stale), TAG);
  const post = await withInject('/idcapture.js', { method: 'POST', body: 'x' });
  assert.equal(post.status, 405);
});

test('with inject on, the tag goes before </head> of a 200 HTML page, and the rest of the page is unchanged', async () => {
  const response = await withInject('/page');
  assert.equal(response.status, 200);
  assert.equal(await response.text(), PAGES['/page'][1].replace('</head>', `${SCRIPT}</head>`));
});

test('a page without <head> gets the tag at the start of <body>; one without either, at its end; a tagged page is left alone', async () => {
  assert.equal(await (await withInject('/no-head')).text(), `<p>Just a fragment</p><body>${SCRIPT}<p>late body</p></body>`);
  assert.equal(await (await withInject('/bare')).text(), `<p>No head, no body</p>${SCRIPT}`);
  assert.equal(await (await withInject('/tagged')).text(), PAGES['/tagged'][1]);
});

test("the page's CSP nonce is copied onto the injected tag", async () => {
  const text = await (await withInject('/csp')).text();
  assert.equal(text, `<html><head>${SCRIPT.replace('<script ', '<script nonce="r4nd0m+/=" ')}</head><body></body></html>`);
});

test('non-HTML answers and HTML errors pass through untouched, byte for byte', async () => {
  for (const path of ['/style.css', '/data.json']) {
    const response = await withInject(path);
    assert.equal(await response.text(), PAGES[path][1], path);
    assert.equal(response.headers.get('content-type'), PAGES[path][0]);
  }
  const missing = await withInject('/missing');
  assert.equal(missing.status, 404);
  assert.equal(await missing.text(), '<html><head></head><body>Not found</body></html>');
});

test('with inject off, pages pass through untouched', async () => {
  assert.equal(await (await withoutInject('/page')).text(), PAGES['/page'][1]);
  assert.equal(await (await withoutInject('/bare')).text(), PAGES['/bare'][1]);
});

test('injection streams: the head, tag included, arrives while the origin still holds the rest of the page', async () => {
  let resolve;
  release = { promise: new Promise((r) => (resolve = r)), resolve: () => resolve() };
  // identity: Miniflare's entry worker would otherwise compress, which holds a body to its end (edge-notes).
  const response = await fetch(`${(await mf.ready).origin}/slow`, { headers: { 'accept-encoding': 'identity' } });
  const reader = response.body.getReader();
  let text = '';
  while (!text.includes('first')) text += new TextDecoder().decode((await reader.read()).value);
  assert.ok(text.includes(`${SCRIPT}</head>`), text);
  assert.ok(!text.includes('rest'));
  release.resolve();
  for (let chunk; !(chunk = await reader.read()).done; ) text += new TextDecoder().decode(chunk.value);
  assert.ok(text.endsWith('firstrest</body></html>'));
});

test('an accepted upsert whose records carry the vuid of its script cookie gets the HttpOnly twin, through the writer object', async () => {
  const response = await post([{ vuid: VUID, email: 'twin@test.com' }], `vuid=${VALUE}`);
  assert.equal(response.status, 202);
  assert.deepEqual(response.headers.getSetCookie(), [`idc_vuid=${VALUE}; Path=/; Max-Age=34560000; SameSite=Lax; HttpOnly`]);
  // The writer object forwarded it: the emulator holds the profile.
  assert.ok(emulator.emulator.profiles().some((p) => p.emails?.includes('twin@test.com')));
});

test('no twin without the script cookie, for records of another vuid, or for a refused upsert', async () => {
  assert.deepEqual((await post([{ vuid: VUID, email: 'a@test.com' }])).headers.getSetCookie(), []);
  assert.deepEqual((await post([{ email: 'b@test.com', vuid: '0f0e0d0c0b0a49098807060504030201' }], `vuid=${VALUE}`)).headers.getSetCookie(), []);
  const refused = await post([{ vuid: VUID, email: 'not an email' }], `vuid=${VALUE}`);
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.headers.getSetCookie(), []);
});

test('nothing is set for a visitor without a twin: pages, the tag, preflights', async () => {
  assert.deepEqual((await withInject('/page')).headers.getSetCookie(), []);
  assert.deepEqual((await withInject('/idcapture.js', { headers: { cookie: `vuid=${VALUE}` } })).headers.getSetCookie(), []);
  const preflight = await withInject('/api/profiles', { method: 'OPTIONS', headers: { origin: ORIGIN_PAGE, 'access-control-request-method': 'DELETE' } });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get('access-control-allow-methods'), 'POST, DELETE');
  assert.deepEqual(preflight.headers.getSetCookie(), []);
});

test('the twin restores a lost script cookie on every answer: page, tag, proxy; the origin keeps its own cookies', async () => {
  const restored = `vuid=${VALUE}; Path=/; Max-Age=34560000; SameSite=Lax`;
  for (const path of ['/page', '/style.css', '/idcapture.js']) {
    assert.deepEqual((await withInject(path, { headers: { cookie: `idc_vuid=${VALUE}` } })).headers.getSetCookie(), [restored], path);
  }
  const proxied = await post([{ email: 'c@test.com' }], `other=1; idc_vuid=${VALUE}`);
  assert.deepEqual(proxied.headers.getSetCookie(), [restored]);
  const cached = await withInject('/cached', { headers: { cookie: `idc_vuid=${VALUE}` } });
  assert.deepEqual(cached.headers.getSetCookie(), ['session=abc; Path=/', restored]);
  assert.equal(cached.headers.get('cache-control'), 'private, no-cache', 'one visitor\'s answer is not shared');
});

test('a script cookie that differs from the twin wins (the client reset): nothing is restored over it', async () => {
  assert.deepEqual((await withInject('/page', { headers: { cookie: `vuid=${OTHER}; idc_vuid=${VALUE}` } })).headers.getSetCookie(), []);
  // Its next accepted upsert moves the twin to it.
  const moved = await post([{ vuid: '0f0e0d0c0b0a49098807060504030201', email: 'd@test.com' }], `vuid=${OTHER}; idc_vuid=${VALUE}`);
  assert.deepEqual(moved.headers.getSetCookie(), [`idc_vuid=${OTHER}; Path=/; Max-Age=34560000; SameSite=Lax; HttpOnly`]);
});

test('DELETE on the proxy route (the client, on a denial or reset) expires the twin; from another origin it is refused', async () => {
  const cleared = await withInject('/api/profiles', { method: 'DELETE', headers: { origin: ORIGIN_PAGE, cookie: `idc_vuid=${VALUE}` } });
  assert.equal(cleared.status, 204);
  assert.deepEqual(cleared.headers.getSetCookie(), ['idc_vuid=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly']);
  const foreign = await withInject('/api/profiles', { method: 'DELETE', headers: { origin: 'https://evil.test', cookie: `idc_vuid=${VALUE}` } });
  assert.equal(foreign.status, 403);
  assert.ok(!foreign.headers.getSetCookie().some((c) => c.startsWith('idc_vuid=;')));
});

test('over https every cookie is Secure', async () => {
  // Without `upstream` the request keeps its https URL (the tag and the proxy answer without the origin).
  const secure = new Miniflare({ modules: true, scriptPath: 'dist/edge/worker.js', compatibilityDate: '2026-04-01', bindings: { ZAIUS_API_KEY: KEY, ALLOWED_ORIGINS: 'https://shop.example', UPSTREAM: emulator.url } });
  try {
    const restore = await secure.dispatchFetch('https://shop.example/idcapture.js', { headers: { cookie: `idc_vuid=${VALUE}` } });
    assert.deepEqual(restore.headers.getSetCookie(), [`vuid=${VALUE}; Path=/; Max-Age=34560000; SameSite=Lax; Secure`]);
    await restore.arrayBuffer();
    const twin = await secure.dispatchFetch('https://shop.example/api/profiles', {
      method: 'POST',
      headers: { origin: 'https://shop.example', 'content-type': 'application/json', cookie: `vuid=${VALUE}` },
      body: JSON.stringify([{ attributes: { vuid: VUID } }]),
    });
    assert.equal(twin.status, 202);
    assert.deepEqual(twin.headers.getSetCookie(), [`idc_vuid=${VALUE}; Path=/; Max-Age=34560000; SameSite=Lax; Secure; HttpOnly`]);
  } finally {
    await secure.dispose();
  }
});
