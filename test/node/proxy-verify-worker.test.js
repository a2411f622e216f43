// Verified identity in workerd: tokens signed by idcapture/server in one Worker, checked by the proxy Worker
// (dist/edge/worker.js with IDENTITY_SECRET) in another, against a recording upstream on loopback.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import { Miniflare } from 'miniflare';
import { signIdentity } from '../../dist/server.js';
import { startUpstream } from './helpers/proxy-upstream.js';
import { API_KEY } from './helpers/proxy-key-watch.js';
import { ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

const SECRET = 'edge-secret-0123456789abcdef0123456789';
let upstream, proxy, signer, base;

before(async () => {
  upstream = await startUpstream();
  proxy = new Miniflare({
    modules: true,
    scriptPath: 'dist/edge/worker.js',
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: API_KEY, ALLOWED_ORIGINS: ORIGIN, UPSTREAM: upstream.url, IDENTITY_SECRET: SECRET },
    host: '127.0.0.1',
    port: 0,
  });
  const bundle = await rollup({ input: new URL('./helpers/sign-worker.js', import.meta.url).pathname, plugins: [resolve({ browser: true })] });
  const { output } = await bundle.generate({ format: 'es' });
  signer = new Miniflare({ modules: true, script: output[0].code, compatibilityDate: '2026-04-01', bindings: { IDENTITY_SECRET: SECRET } });
  base = (await proxy.ready).origin;
});
beforeEach(() => upstream.reset());
after(async () => {
  await proxy?.dispose();
  await signer?.dispose();
  await upstream?.close();
});

const signInWorkerd = async (identity) => (await signer.dispatchFetch(`http://sign.test/?${new URLSearchParams(identity)}`)).text();

const post = async (...records) => {
  const response = await fetch(`${base}${PATH}`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json' },
    body: JSON.stringify(records),
  });
  return { status: response.status, detail: (await response.json()).detail };
};

test('a token signed in workerd is accepted by the proxy in workerd, and the token is not forwarded', async () => {
  const token = await signInWorkerd({ email: 'a@shop.test', vuid: VUID });
  const attributes = { email: 'a@shop.test', vuid: VUID, street1: '1 Real St', city: null };
  const { status } = await post({ attributes, token });
  assert.equal(status, 202);
  assert.equal(upstream.requests[0].body, JSON.stringify([{ attributes }]));
});

test('tokens from Node and from workerd are the same bytes for the same identity and clock', async () => {
  // Different clocks would differ only in exp; compare the MAC over identical claims instead.
  const edge = await signInWorkerd({ email: 'a@shop.test', expiresIn: '3600' });
  const exp = JSON.parse(Buffer.from(edge.split('.')[1], 'base64url')).exp;
  const node = await signIdentity({ email: 'a@shop.test', expiresIn: 3600 }, { secret: SECRET, now: () => (exp - 3600) * 1000 });
  assert.equal(node, edge);
});

test('an unverified record is reduced in workerd: no merge, no clear, no street', async () => {
  const { status, detail } = await post({ attributes: { email: 'a@shop.test', phone: '+15550200', city: null, street1: '666 Attacker Rd', vuid: VUID } });
  assert.equal(status, 202);
  assert.deepEqual(new Set(detail.reduced), new Set(['phone', 'city', 'street1', 'vuid']));
  assert.equal(upstream.requests[0].body, JSON.stringify([{ attributes: { email: 'a@shop.test' } }]));
});

test('forged, foreign, replayed and wrong-vuid tokens are refused in workerd and nothing goes upstream', async () => {
  const good = await signInWorkerd({ email: 'a@shop.test', vuid: VUID });
  const foreign = await signIdentity({ email: 'a@shop.test', expiresIn: 60 }, { secret: 'some-other-secret-0123456789abcdef' });
  const expired = await signIdentity({ email: 'a@shop.test', expiresIn: 60 }, { secret: SECRET, now: () => Date.now() - 120_000 });
  const cases = [
    [{ email: 'a@shop.test', vuid: VUID }, `${good.slice(0, -2)}AA`, /not signed/],
    [{ email: 'a@shop.test' }, foreign, /not signed/],
    [{ email: 'a@shop.test' }, expired, /expired/],
    [{ email: 'b@shop.test', vuid: VUID }, good, /email is not the one/],
    [{ email: 'a@shop.test', vuid: 'f'.repeat(32) }, good, /vuid is not the one/],
  ];
  for (const [attributes, token, message] of cases) {
    const { status, detail } = await post({ attributes, token });
    assert.equal(status, 400);
    assert.match(detail.invalids[0].message, message);
  }
  assert.equal(upstream.requests.length, 0);
});
