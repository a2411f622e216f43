// `constructor` and `prototype` reach into a JavaScript object's prototype when used as a key: the shared profile rules
// refuse them as field names, so every side that checks a record refuses them (`__proto__` is no lower snake_case
// name, refused already). The proxy takes them out of records (test/node/helpers/proxy-cases.js) and out of
// allowedAttributes (proxy-options.test.js); the emulator refuses them (emulator-payloads.test.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServerClient } from '../../dist/server.js';
import { importSource } from './helpers/bundle.js';

const VUID = '0123456789abcdef0123456789abcdef';

test("the browser client's identify() check refuses them with a ValidationError naming the field", async () => {
  const { buildUpsert } = await importSource('client/upsert');
  for (const name of ['constructor', 'prototype']) {
    assert.throws(
      () => buildUpsert(VUID, { email: 'a@test.com' }, { [name]: 'x' }),
      (error) => error.name == 'ValidationError' && error.field == name && /is reserved by JavaScript/.test(error.message),
      name,
    );
  }
  assert.deepEqual(buildUpsert(VUID, { email: 'a@test.com' }, { to_string: 'x' }).attributes, { vuid: VUID, to_string: 'x', email: 'a@test.com' });
});

test('the server client reports them as invalid records and sends nothing', async () => {
  const client = createServerClient({
    apiKey: 'test.key',
    fetch: () => assert.fail('no record is valid: nothing may be sent'),
  });
  const result = await client.upsertProfiles([{ attributes: { email: 'a@test.com', constructor: 'x' } }, { attributes: { email: 'b@test.com', prototype: 1 } }]);
  assert.deepEqual(result, {
    accepted: 0,
    requests: 0,
    invalids: [
      { index: 0, field: 'constructor', message: 'constructor is reserved by JavaScript' },
      { index: 1, field: 'prototype', message: 'prototype is reserved by JavaScript' },
    ],
  });
});
