// idcapture/server's profile reads against the real emulator on 127.0.0.1: by any one identifier, 404 as null,
// bad queries refused with a typed error before any request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServerClient, HttpError, IdCaptureError, ValidationError } from '../../dist/server.js';
import { KEY, useEmulator, vuid } from './helpers/emulator.js';

const server = useEmulator({ fields: ['customer_id'] });
const client = (options = {}) => createServerClient({ apiKey: KEY, baseUrl: server.url, random: () => 0, ...options });

test('a profile is found by email, vuid, custom identifier or zaius_id, with its plural identifiers', async () => {
  const zaius = client();
  await zaius.upsertProfiles([{ attributes: { email: 'jo@test.com', vuid: vuid(1), customer_id: 'c-7', first_name: 'Jo' } }]);
  const byEmail = await zaius.getProfile({ email: 'jo@test.com' });
  assert.equal(byEmail.first_name, 'Jo');
  assert.deepEqual(byEmail.emails, ['jo@test.com']);
  assert.deepEqual(await zaius.getProfile({ vuid: vuid(1) }), byEmail);
  assert.deepEqual(await zaius.getProfile({ customer_id: 'c-7' }), byEmail);
  assert.deepEqual(await zaius.getProfile({ zaius_id: byEmail.zaius_id }), byEmail);
});

test('an email query is trimmed and lower-cased first', async () => {
  const zaius = client();
  await zaius.upsertProfiles([{ attributes: { email: 'case@test.com' } }]);
  assert.equal((await zaius.getProfile({ email: ' Case@Test.com ' })).email, 'case@test.com');
});

test('an unknown visitor is null (the API’s 404), not an error', async () => {
  assert.equal(await client().getProfile({ email: 'nobody@test.com' }), null);
  assert.deepEqual(server.emulator.stats().requests, { 404: 1 });
});

test('a bad query is a ValidationError naming the field, and nothing is sent', async () => {
  const zaius = client();
  const cases = [
    [{}, 'query'],
    [{ email: 'a@test.com', phone: '+15550100' }, 'query'],
    [{ first_name: 'Jo' }, 'first_name'],
    [{ email: 'not-an-email' }, 'email'],
    [{ vuid: 'xyz' }, 'vuid'],
    [{ email: '' }, 'email'],
    [{ customer_id: { nested: 1 } }, 'customer_id'],
  ];
  for (const [query, field] of cases) {
    const error = await zaius.getProfile(query).catch((e) => e);
    assert.ok(error instanceof ValidationError && error instanceof IdCaptureError, `${JSON.stringify(query)}: ${error}`);
    assert.equal(error.field, field, JSON.stringify(query));
  }
  assert.deepEqual(server.emulator.stats().requests, {});
});

test('reads are retried through injected 503s and 429s like upserts', async () => {
  const zaius = client({ retries: 6 });
  await zaius.upsertProfiles([{ attributes: { email: 'retry@test.com' } }]);
  server.emulator.setFaults({ errorRate: 0.5, burstRate: 0.3, burstLength: 1, seed: 9 });
  for (let i = 0; i < 5; i++) assert.equal((await zaius.getProfile({ email: 'retry@test.com' })).email, 'retry@test.com');
  const { requests } = server.emulator.stats();
  assert.ok((requests[429] ?? 0) + (requests[500] ?? 0) + (requests[503] ?? 0) > 0, JSON.stringify(requests));
});

test('a wrong key is an HttpError 403', async () => {
  const error = await client({ apiKey: 'wrong.key' }).getProfile({ email: 'jo@test.com' }).catch((e) => e);
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 403);
});
