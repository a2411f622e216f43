// createServerClient's options: checked once, at creation, with errors that name the option (never the key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServerClient } from '../../dist/server.js';

test('apiKey is required and never echoed', () => {
  assert.throws(() => createServerClient(), /createServerClient needs \{ apiKey \}/);
  assert.throws(() => createServerClient({}), { name: 'TypeError', message: /option apiKey/ });
  assert.throws(() => createServerClient({ apiKey: '  ' }), /option apiKey/);
  assert.throws(
    () => createServerClient({ apiKey: 'secret.key', baseUrl: 'ftp://x' }),
    (error) => /option baseUrl/.test(error.message) && !error.message.includes('secret.key'),
  );
});

test('each bad option throws a TypeError or RangeError naming it', () => {
  const bad = {
    baseUrl: ['not a url', 'https://user:pw@api.example/v3', 'https://api.example/v3?x=1'],
    maxBatch: [0, 501, 1.5],
    maxBodyBytes: [10],
    requestsPerSecond: [0, -1, Infinity],
    retries: [-1, 21, 0.5],
    timeoutMs: [0],
    fetch: ['fetch'],
    clock: [{ now: () => 0 }],
    random: [0.5],
  };
  for (const [name, values] of Object.entries(bad)) {
    for (const value of values) {
      assert.throws(() => createServerClient({ apiKey: 'k', [name]: value }), (error) => {
        assert.ok(error instanceof TypeError || error instanceof RangeError, `${name}: ${error}`);
        assert.match(error.message, new RegExp(`option ${name}`));
        return true;
      });
    }
  }
});

test('the defaults need only a key, and a trailing slash on baseUrl is harmless', async () => {
  const requested = [];
  const fetch = async (request) => (requested.push(request), new Response(null, { status: 404 }));
  assert.equal(await createServerClient({ apiKey: 'k', fetch }).getProfile({ email: 'a@test.com' }), null);
  assert.equal(await createServerClient({ apiKey: 'k', baseUrl: 'https://api.eu1.odp.optimizely.com/v3/', fetch }).getProfile({ vuid: '0'.repeat(32) }), null);
  assert.deepEqual(requested.map((r) => r.url), [
    'https://api.zaius.com/v3/profiles?email=a%40test.com',
    `https://api.eu1.odp.optimizely.com/v3/profiles?vuid=${'0'.repeat(32)}`,
  ]);
  assert.equal(requested[0].headers.get('x-api-key'), 'k');
  assert.equal(requested[0].redirect, 'manual', 'a redirect never carries the key elsewhere');
});
