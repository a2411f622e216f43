// Every way a request is refused with 400 (and the 404/405 of paths and methods), and the option checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmulator, startEmulator } from '../../dist/emulator.js';
import { get, ISO_WITH_OFFSET, KEY, post, profile, useEmulator, vuid } from './helpers/emulator.js';

const server = useEmulator({ rateLimit: false, fields: ['loyalty_tier', 'customer_id'] });

/** POSTs `records` as attributes and returns the 400's `detail.invalids`. */
async function invalids(...records) {
  const response = await post(server.url, records.map((attributes) => ({ attributes })));
  assert.equal(response.status, 400);
  const body = await response.json();
  assert.equal(body.title, 'Bad Request');
  assert.equal(body.status, 400);
  assert.match(body.timestamp, ISO_WITH_OFFSET);
  return body.detail.invalids;
}

/** Sends `body` as is and returns the 400's `detail.message`. */
async function refusal(body) {
  const response = await post(server.url, body);
  assert.equal(response.status, 400);
  return (await response.json()).detail.message;
}

const ok = { email: 'ok@test.com' };

const CASES = [
  ['no identifier at all', { first_name: 'Johnny' }, 'Missing required identifier'],
  ['only null or empty identifiers', { email: null, customer_id: '', first_name: 'Johnny' }, 'Missing required identifier'],
  ['an unknown field', { ...ok, favourite_colour: 'blue' }, 'Unknown field `favourite_colour`'],
  ['an undeclared custom identifier', { shop_id: 'x1' }, 'Unknown field `shop_id`'],
  ['a field name with capitals', { ...ok, firstName: 'J' }, /^Invalid field `firstName`: is not a lower snake_case/],
  ['a field name with a space', { ...ok, 'first name': 'J' }, /^Invalid field `first name`/],
  ['a field name starting with a digit', { ...ok, '1st': 'J' }, /^Invalid field `1st`/],
  ['an object value', { ...ok, first_name: { a: 1 } }, /^Invalid field `first_name`: is not a string, number, boolean or null/],
  ['an array value', { ...ok, city: ['Boston'] }, /^Invalid field `city`: is not a string, number, boolean or null/],
  ['text over 1024 characters', { ...ok, street1: 'x'.repeat(1025) }, /^Invalid field `street1`: is longer than 1024/],
  ['a malformed email', { email: 'sample.test.com' }, /^Invalid field `email`: is not a valid email address/],
  ['an email with a blank inside', { email: 'sam ple@test.com' }, /^Invalid field `email`/],
  ['a vuid that is not 32 hex characters', { vuid: 'ABC' }, /^Invalid field `vuid`/],
  ['zaius_id, which ODP assigns', { ...ok, zaius_id: 5 }, /^Invalid field `zaius_id`: is reserved/],
  ['a plural identifier array', { ...ok, emails: 'a@b.co' }, /^Invalid field `emails`: is reserved/],
  ['a plural custom identifier array', { ...ok, customer_ids: 'c-1' }, /^Invalid field `customer_ids`: is reserved/],
];

for (const [what, attributes, message] of CASES) {
  test(`a record with ${what} is refused`, async () => {
    const [invalid, ...more] = await invalids(attributes);
    assert.equal(more.length, 0);
    assert.equal(invalid.event, 0);
    if (typeof message == 'string') assert.equal(invalid.message, message);
    else assert.match(invalid.message, message);
  });
}

test('the limits themselves are accepted: 1024 characters, declared fields, numbers, booleans and null', async () => {
  const response = await post(server.url, [
    { attributes: { email: 'a@test.com', street1: 'x'.repeat(1024), loyalty_tier: 'gold', dob_year: 1990, city: null } },
    { attributes: { customer_id: 'c-1', vuid: vuid(1), gender: 'F', first_name: true } },
    { attributes: { email: 'first.last+tag@example.co.uk' } },
  ]);
  assert.equal(response.status, 202, await response.text());
});

test('records other than {attributes: {...}} are refused by index, with every problem of each', async () => {
  const response = await post(server.url, [
    { attributes: ok },
    42,
    { email: 'x@test.com' },
    { attributes: 'email=x@test.com' },
    { attributes: ok, identifiers: { email: 'y@test.com' } },
    null,
  ]);
  assert.equal(response.status, 400);
  assert.deepEqual((await response.json()).detail.invalids, [
    { event: 1, message: 'Invalid record: not an object' },
    { event: 2, message: 'Unknown field `email`' },
    { event: 2, message: 'Missing required field `attributes`' },
    { event: 3, message: 'Invalid field `attributes`: is not an object' },
    { event: 4, message: 'Unknown field `identifiers`' },
    { event: 5, message: 'Invalid record: not an object' },
  ]);
});

test('every bad record is named and one bad record refuses the whole batch', async () => {
  const list = await invalids({ email: 'good@test.com' }, { first_name: 'x' }, { email: 'good2@test.com' }, { email: 'bad' });
  assert.deepEqual(
    list.map((i) => i.event),
    [1, 3],
  );
  assert.equal(await profile(server.url, 'email=good@test.com'), undefined, 'nothing of the batch applied');
  assert.equal(server.emulator.stats().recordsApplied, 0);
});

test('a body that is not JSON, or not UTF-8, is "Unable to parse request body."', async () => {
  for (const body of ['[{', '', 'attributes=1', "[{'attributes': {}}]", new Uint8Array([0x5b, 0xff, 0x5d])]) {
    const response = await fetch(`${server.url}/profiles`, { method: 'POST', headers: { 'x-api-key': KEY }, body });
    assert.equal(response.status, 400);
    const json = await response.json();
    assert.deepEqual(json.detail, { message: 'Unable to parse request body.' });
    assert.equal(json.title, 'Bad Request');
  }
});

test('JSON that is not an object or array, or an empty batch, is refused with a message', async () => {
  for (const body of ['42', 'null', '"text"', 'true']) assert.match(await refusal(body), /array of \{"attributes"/);
  assert.equal(await refusal('[]'), 'Request body holds no profile.');
});

test('GET needs exactly one identifier with a value', async () => {
  const cases = [
    ['', 'Exactly one identifier query parameter is required.'],
    ['email=a@test.com&vuid=' + vuid(1), 'Exactly one identifier query parameter is required.'],
    ['email=a@test.com&email=b@test.com', 'Exactly one identifier query parameter is required.'],
    ['first_name=Johnny', '`first_name` is not an identifier.'],
    ['shop_id=1', '`shop_id` is not an identifier.'],
    ['email=', 'Identifier `email` has no value.'],
  ];
  for (const [query, message] of cases) {
    const response = await get(server.url, query);
    assert.equal(response.status, 400, query);
    assert.deepEqual((await response.json()).detail, { message }, query);
  }
});

test('GET finds a profile by any identifier it holds, declared custom ones and zaius_id included', async () => {
  await post(server.url, [{ attributes: { customer_id: 'c-9', vuid: vuid(9), email: 'nine@test.com' } }]);
  const byEmail = await profile(server.url, 'email=nine@test.com');
  for (const query of ['customer_id=c-9', `vuid=${vuid(9)}`, `zaius_id=${byEmail.zaius_id}`]) {
    assert.deepEqual(await profile(server.url, query), byEmail, query);
  }
  assert.equal(byEmail.customer_id, 'c-9');
  assert.deepEqual(byEmail.customer_ids, ['c-9']);
});

test('other methods get 405 and other paths 404', async () => {
  const put = await fetch(`${server.url}/profiles`, { method: 'PUT', headers: { 'x-api-key': KEY }, body: '[]' });
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'GET, POST');
  const events = await fetch(`${server.url}/events`, { method: 'POST', headers: { 'x-api-key': KEY }, body: '[]' });
  assert.equal(events.status, 404);
  assert.equal((await fetch(`${server.root}/`)).status, 404);
});

test('bad options throw a TypeError or RangeError naming the option', async () => {
  const cases = [
    [{ apiKeys: [] }, TypeError, /apiKeys/],
    [{ apiKeys: 'example.apiKey' }, TypeError, /apiKeys/],
    [{ fields: ['Bad Name'] }, TypeError, /fields/],
    [{ fields: ['emails'] }, TypeError, /fields/],
    [{ lowConfidence: ['first_name'] }, TypeError, /lowConfidence/],
    [{ rateLimit: 0 }, RangeError, /rateLimit/],
    [{ rateLimit: true }, RangeError, /rateLimit/],
    [{ maxBatch: 1.5 }, RangeError, /maxBatch/],
    [{ maxBodyBytes: -1 }, RangeError, /maxBodyBytes/],
    [{ clock: 5 }, TypeError, /clock/],
    // A bare now() is not a clock: the emulator also sleeps on it.
    [{ clock: Date.now }, TypeError, /clock/],
    [{ clock: { now: Date.now } }, TypeError, /clock/],
    [{ applyDelayMs: NaN }, RangeError, /applyDelayMs/],
    [{ faults: { errorRate: 2 } }, RangeError, /faults\.errorRate/],
    [{ faults: { latencyMs: [50, 10] } }, RangeError, /faults\.latencyMs/],
    [{ faults: { burstLength: 0 } }, RangeError, /faults\.burstLength/],
    [{ faults: { seed: 'x' } }, RangeError, /faults\.seed/],
    [{ faults: 'often' }, TypeError, /faults/],
  ];
  for (const [options, type, name] of cases) {
    const named = (error) => error instanceof type && name.test(error.message);
    assert.throws(() => createEmulator(options), named, JSON.stringify(options));
  }
  await assert.rejects(startEmulator({ port: 70000 }), (error) => error instanceof RangeError && /port/.test(error.message));
  await assert.rejects(startEmulator({ maxBatch: 0 }), /maxBatch/);
});
