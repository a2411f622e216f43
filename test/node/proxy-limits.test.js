// Issue 16's small ones: waits are clamped, the upstream deadline holds against a fetch that ignores its signal, and
// long limiter keys cost no more than short ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy } from '../../dist/proxy.js';
import { startUpstream } from './helpers/proxy-upstream.js';
import { ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

let upstream;
before(async () => (upstream = await startUpstream()));
after(() => upstream.close());

const proxy = (options) => createProxy({ apiKey: 'k', allowedOrigins: [ORIGIN], upstream: upstream.url, rateLimit: false, ...options });
const send = (handle, headers = {}) =>
  handle(
    new Request(`http://proxy.test${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers },
      body: JSON.stringify([{ attributes: { vuid: VUID } }]),
    }),
    { clientIp: '203.0.113.1' },
  );

test("a limiter's retryAfterS is re-issued between 1 s and an hour", async () => {
  for (const [given, issued] of [[1e9, '3600'], [Infinity, '3600'], [0.2, '1'], [NaN, '10'], [-5, '10'], [42.1, '43']]) {
    const limiter = { limit: async () => ({ success: false, retryAfterS: given }) };
    const response = await send(proxy({ rateLimit: { ip: limiter } }));
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), issued, `retryAfterS ${given}`);
  }
});

test("an upstream Retry-After of a year is re-issued as 60 s", async () => {
  upstream.setReply((req, res) => res.writeHead(429, { 'retry-after': String(365 * 86400) }).end());
  const response = await send(proxy());
  upstream.reset();
  assert.equal(response.status, 503);
  assert.equal(response.headers.get('retry-after'), '60');
});

test('the upstream deadline holds when a custom fetch ignores the abort signal', async () => {
  let called = 0;
  const never = () => (called++, new Promise(() => {}));
  const response = await send(proxy({ fetch: never, timeoutMs: 150 }));
  assert.equal(response.status, 504);
  assert.equal((await response.json()).detail.reason, 'upstream_timeout');
  assert.equal(called, 1);
});

test('the deadline also holds when the fetch answers 400 with a body that never ends, and frees the vuid it carried', async () => {
  let calls = 0;
  const stalled = async () =>
    calls++ == 0 ? new Response(new ReadableStream({ pull: () => new Promise(() => {}) }), { status: 400 }) : new Response(null, { status: 202 });
  const handle = proxy({ fetch: stalled, timeoutMs: 150 });
  assert.equal((await send(handle)).status, 504);
  // The same vuid again: not held back for ever behind an upstream request that can no longer end.
  assert.equal((await send(handle)).status, 202);
});

test('long limiter keys (from a trusted header) stay distinct budgets and are limited like short ones', async () => {
  const handle = proxy({ trustProxyHeader: 'x-client', rateLimit: { ip: { limit: 1, period: 60, maxKeys: 10 } } });
  const long = 'a'.repeat(100_000);
  assert.equal((await send(handle, { 'x-client': `${long}1` })).status, 202);
  assert.equal((await send(handle, { 'x-client': `${long}2` })).status, 202);
  assert.equal((await send(handle, { 'x-client': `${long}1` })).status, 429);
  assert.equal((await send(handle, { 'x-client': `${long}2` })).status, 429);
});
