// routeHandlers: the proxy as a file-routed framework's route handlers (Next.js App Router), called as Next calls them,
// with its own context second, the client IP taken from the platform's header by the function given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy, routeHandlers } from '../../dist/proxy.js';
import { startEmulator } from '../../dist/emulator.js';

const ORIGIN = 'https://shop.example';
let emulator;
before(async () => {
  emulator = await startEmulator({ rateLimit: false });
});
after(() => emulator.close());

const proxy = () =>
  createProxy({
    apiKey: 'example.apiKey',
    allowedOrigins: [ORIGIN],
    upstream: emulator.url,
    // One record per address, so the per-IP budget shows whether the address reached the proxy.
    rateLimit: { ip: { limit: 1, period: 60 }, vuid: false, global: false },
  });

const post = (ip, email) =>
  new Request('https://shop.example/api/profiles', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', ...(ip && { 'x-real-ip': ip }) },
    body: JSON.stringify([{ attributes: { email } }]),
  });
/** What Next.js passes second to a route handler. */
const nextContext = { params: Promise.resolve({}) };

test('POST, OPTIONS and DELETE take Next\'s context, and the client IP comes from the header named', async () => {
  const { POST, OPTIONS, DELETE } = routeHandlers(proxy(), (request) => request.headers.get('x-real-ip'));
  assert.equal(OPTIONS, POST);
  assert.equal(DELETE, POST);
  assert.equal((await POST(post('198.51.100.1', 'a@test.com'), nextContext)).status, 202);
  assert.equal((await POST(post('198.51.100.1', 'b@test.com'), nextContext)).status, 429, 'the same address: its budget is spent');
  assert.equal((await POST(post('198.51.100.2', 'c@test.com'), nextContext)).status, 202, 'another address has its own');
  const preflight = await OPTIONS(new Request('https://shop.example/api/profiles', { method: 'OPTIONS', headers: { origin: ORIGIN } }), nextContext);
  assert.equal(preflight.status, 204);
});

test('without clientIp the per-IP budget does not apply, and Next\'s context is never read as the proxy\'s', async () => {
  const { POST } = routeHandlers(proxy());
  for (const email of ['d@test.com', 'e@test.com']) assert.equal((await POST(post('198.51.100.3', email), { clientIp: '198.51.100.3' })).status, 202);
});

test('a bad argument is a TypeError at once', () => {
  assert.throws(() => routeHandlers({}), TypeError);
  assert.throws(() => routeHandlers(proxy(), 'x-real-ip'), /clientIp must be a function/);
});
