// The vuid's server twin on Node: the proxy's `serverCookie` through the node:http adapter over real HTTP, the
// `vuidRestore` middleware in a Connect-style chain, and `createVuidRestore` for a Fetch-API request (Next.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy, createVuidRestore } from '../../dist/proxy.js';
import { toNodeListener, vuidRestore } from '../../dist/proxy-node.js';
import { startUpstream } from './helpers/proxy-upstream.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';
import { useLoopback } from './helpers/loopback.js';

const VALUE = '3fdb5249-4fc3-4060-b87a-680be86aeb57%7C1568394081239';
const VUID = '3fdb52494fc34060b87a680be86aeb57';
const AGE = 'Max-Age=34560000';
let upstream;
const { serve } = useLoopback();
const proxy = (options) => createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream: upstream.url, rateLimit: false, ...options });

before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

const post = (base, cookie, vuid = VUID) =>
  fetch(`${base}${PATH}`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', ...(cookie ? { cookie } : {}) },
    body: JSON.stringify([{ attributes: { vuid, email: 'node@test.com' } }]),
  });

test('off by default: no cookie on an accepted upsert, DELETE is 405', async () => {
  const base = await serve(toNodeListener(proxy()));
  const accepted = await post(base, `vuid=${VALUE}; idc_vuid=${VALUE}`);
  assert.equal(accepted.status, 202);
  assert.deepEqual(accepted.headers.getSetCookie(), []);
  const cleared = await fetch(`${base}${PATH}`, { method: 'DELETE', headers: { origin: ORIGIN } });
  assert.equal(cleared.status, 405);
  assert.equal(cleared.headers.get('allow'), 'POST, OPTIONS');
});

test('serverCookie on the Node proxy: the twin on a consented upsert, the restore, the DELETE, as on the edge', async () => {
  const base = await serve(toNodeListener(proxy({ serverCookie: true })));
  assert.deepEqual((await post(base, `vuid=${VALUE}`)).headers.getSetCookie(), [`idc_vuid=${VALUE}; Path=/; ${AGE}; SameSite=Lax; HttpOnly`]);
  assert.deepEqual((await post(base, undefined)).headers.getSetCookie(), []);
  assert.deepEqual((await post(base, `idc_vuid=${VALUE}`)).headers.getSetCookie(), [`vuid=${VALUE}; Path=/; ${AGE}; SameSite=Lax`]);
  const cleared = await fetch(`${base}${PATH}`, { method: 'DELETE', headers: { origin: ORIGIN, cookie: `idc_vuid=${VALUE}` } });
  assert.equal(cleared.status, 204);
  assert.deepEqual(cleared.headers.getSetCookie(), ['idc_vuid=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly']);
});

test('names, domain and lifetime are options; the lifetime is at most 400 days', async () => {
  const base = await serve(toNodeListener(proxy({ serverCookie: { name: 'sid_v', scriptCookie: 'my_vuid', domain: 'shop.example', maxAgeDays: 30 } })));
  assert.deepEqual((await post(base, `my_vuid=${VALUE}`)).headers.getSetCookie(), [`sid_v=${VALUE}; Path=/; Max-Age=2592000; SameSite=Lax; Domain=shop.example; HttpOnly`]);
  assert.throws(() => proxy({ serverCookie: { maxAgeDays: 401 } }), { name: 'RangeError', message: /serverCookie\.maxAgeDays must be a number from 1 to 400/ });
  assert.throws(() => proxy({ serverCookie: { name: 'vuid' } }), /serverCookie\.name must be other than serverCookie\.scriptCookie/);
  assert.throws(() => proxy({ serverCookie: { name: 'a b' } }), /serverCookie\.name must be a cookie name/);
});

test('vuidRestore() in a Connect-style chain restores the script cookie on the page before it reaches the browser', async () => {
  const restore = vuidRestore();
  const base = await serve((req, res) =>
    restore(req, res, () => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html></html>');
    }),
  );
  const restored = await fetch(`${base}/`, { headers: { cookie: `idc_vuid=${VALUE}` } });
  assert.deepEqual(restored.headers.getSetCookie(), [`vuid=${VALUE}; Path=/; ${AGE}; SameSite=Lax`]);
  assert.deepEqual((await fetch(`${base}/`, { headers: { cookie: `vuid=${VALUE}; idc_vuid=${VALUE}` } })).headers.getSetCookie(), []);
  assert.deepEqual((await fetch(`${base}/`)).headers.getSetCookie(), []);
  // Behind a TLS-terminating proxy that says so, the restored cookie is Secure.
  const behind = vuidRestore({ trustProto: true });
  const tls = await serve((req, res) => behind(req, res, () => res.end()));
  const secure = await fetch(`${tls}/`, { headers: { cookie: `idc_vuid=${VALUE}`, 'x-forwarded-proto': 'https' } });
  assert.deepEqual(secure.headers.getSetCookie(), [`vuid=${VALUE}; Path=/; ${AGE}; SameSite=Lax; Secure`]);
});

test('createVuidRestore() gives the Set-Cookie for a Fetch-API request (a Next.js middleware), or undefined', () => {
  const restore = createVuidRestore();
  assert.equal(restore(new Request('https://shop.example/', { headers: { cookie: `idc_vuid=${VALUE}` } })), `vuid=${VALUE}; Path=/; ${AGE}; SameSite=Lax; Secure`);
  assert.equal(restore(new Request('https://shop.example/', { headers: { cookie: 'idc_vuid=garbage' } })), undefined);
  assert.equal(restore(new Request('https://shop.example/')), undefined);
});
