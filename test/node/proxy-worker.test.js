// The Cloudflare Worker example (dist/edge/worker.js) run in workerd through Miniflare, against a loopback upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Miniflare } from 'miniflare';
import { startUpstream } from './helpers/proxy-upstream.js';
import { keyWatch, API_KEY } from './helpers/proxy-key-watch.js';
import { ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

const watch = keyWatch();
let upstream;
let mf;
let base;

before(async () => {
  upstream = await startUpstream();
  mf = new Miniflare({
    modules: true,
    scriptPath: 'dist/edge/worker.js',
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: API_KEY, ALLOWED_ORIGINS: `${ORIGIN}, https://www.shop.example`, UPSTREAM: upstream.url },
    host: '127.0.0.1',
    port: 0,
  });
  base = (await mf.ready).origin;
});
after(async () => {
  await mf?.dispose();
  await upstream?.close();
});

const post = (body, headers = {}) =>
  fetch(`${base}${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers }, body, duplex: 'half' }).then(
    watch.response,
  );

test('a preflight is answered 204 with the origin echoed', async () => {
  const response = await watch.response(
    await fetch(`${base}${PATH}`, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } }),
  );
  assert.equal(response.status, 204);
  assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
  assert.match(response.headers.get('vary'), /Origin/);
  assert.match(response.headers.get('access-control-allow-methods'), /POST/);
});

test('a valid POST reaches the loopback upstream with the key from env and the rebuilt body, reduced without IDENTITY_SECRET', async () => {
  upstream.reset();
  const attributes = { vuid: VUID, email: 'sample@test.com', first_name: 'Johnny' };
  const response = await post(JSON.stringify({ attributes }), {
    cookie: 'a=b',
    'x-api-key': 'client-key',
    authorization: 'Basic eA==',
    'cf-connecting-ip': '6.6.6.6',
    'x-forwarded-for': '7.7.7.7',
  });
  assert.equal(response.status, 202);
  assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
  assert.equal(upstream.requests.length, 1);
  const [sent] = upstream.requests;
  assert.equal(sent.url, '/v3/profiles');
  assert.equal(sent.headers['x-api-key'], API_KEY);
  // No IDENTITY_SECRET in this Worker's env: the unverified policy takes the vuid off a record with an email.
  const { vuid, ...reduced } = attributes;
  assert.equal(sent.body, JSON.stringify([{ attributes: reduced }]));
  assert.deepEqual((await response.json()).detail.reduced, ['vuid']);
  for (const name of ['cookie', 'authorization', 'origin', 'cf-connecting-ip', 'x-forwarded-for', 'x-real-ip']) {
    assert.equal(sent.headers[name], undefined, name);
  }
});

test('the second listed origin is allowed too', async () => {
  const response = await post(JSON.stringify([{ attributes: { vuid: VUID } }]), { origin: 'https://www.shop.example' });
  assert.equal(response.status, 202);
});

test('a refused origin gets 403 without CORS headers and reaches nothing', async () => {
  upstream.reset();
  const response = await post(JSON.stringify([{ attributes: { vuid: VUID } }]), { origin: 'https://evil.example' });
  assert.equal(response.status, 403);
  assert.equal(response.headers.get('access-control-allow-origin'), null);
  assert.equal(upstream.requests.length, 0);
});

test('an oversized body is answered 413', async () => {
  upstream.reset();
  const response = await post(JSON.stringify([{ attributes: { vuid: VUID, city: 'x'.repeat(80_000) } }]));
  assert.equal(response.status, 413);
  assert.equal((await response.json()).detail.reason, 'payload_too_large');
  assert.equal(upstream.requests.length, 0);
});

// node:http rather than fetch: undici keeps sending the body and fails on the reset that follows the early answer.
test('an oversized chunked body is answered 413 before the client has sent it all', async () => {
  const req = http.request(`${base}${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' } });
  req.on('error', () => {});
  const response = new Promise((resolve) => req.on('response', resolve));
  // Twice the limit (64 KiB), and the request is never ended: the answer can only come while the body is arriving.
  req.write(Buffer.alloc(128 * 1024, 0x20));
  const res = await response;
  const finished = req.writableEnded;
  req.destroy();
  assert.equal(res.statusCode, 413);
  assert.equal(finished, false, 'the client had not finished its body');
});

test('GET is refused with Allow (DELETE too: the edge clears its server cookie there)', async () => {
  const response = await watch.response(await fetch(`${base}${PATH}?email=sample@test.com`, { headers: { origin: ORIGIN } }));
  assert.equal(response.status, 405);
  assert.equal(response.headers.get('allow'), 'POST, DELETE, OPTIONS');
});

test('an upstream failure is answered 502 without its body', async () => {
  upstream.setReply((req, res) => res.writeHead(500).end(`{"key":"${API_KEY}"}`));
  const response = await post(JSON.stringify([{ attributes: { vuid: VUID } }]));
  assert.equal(response.status, 502);
  upstream.reset();
});

test("a Cloudflare rate-limit binding is passed straight in as the per-IP budget", async () => {
  const limited = new Miniflare({
    modules: true,
    scriptPath: 'dist/edge/worker.js',
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: API_KEY, ALLOWED_ORIGINS: ORIGIN, UPSTREAM: upstream.url },
    ratelimits: { IP_RATE_LIMITER: { simple: { limit: 2, period: 60 } } },
    host: '127.0.0.1',
    port: 0,
  });
  try {
    const url = new URL(PATH, await limited.ready);
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/json' },
        body: JSON.stringify([{ attributes: { vuid: VUID } }]),
      }).then(watch.response);
      statuses.push(response.status);
      if (response.status == 429) assert.equal(response.headers.get('retry-after'), '10');
    }
    assert.deepEqual(statuses, [202, 202, 429]);
  } finally {
    await limited.dispose();
  }
});

test('the key appears in no answer of the Worker', () => {
  assert.ok(watch.count >= 7, `only ${watch.count} answers seen`);
  watch.assertClean();
});
