// The two examples of the API docs (customers.md), exactly, against the emulator with its defaults.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get, ISO_WITH_OFFSET, post, useEmulator } from './helpers/emulator.js';

const server = useEmulator();

const JOHNNY = {
  first_name: 'Johnny',
  last_name: 'Zaius',
  email: 'sample@test.com',
  phone: '555-867-5309',
  street1: '123 Fake St',
  street2: 'Apt 101',
  city: 'Boston',
  state: 'MA',
  zip: '02101',
  country: 'USA',
  timezone: 'America/New_York',
  gender: 'M',
};
const JENNY = {
  first_name: 'Jenny',
  last_name: 'Example',
  email: 'example@notreal.com',
  phone: '555-555-5555',
  street1: '456 Imaginary Ln',
  city: 'Leesburg',
  state: 'Virginia',
  zip: '20175',
  country: 'United States',
  timezone: 'America/New_York',
  gender: 'F',
};
const EXAMPLE_PAYLOAD = [{ attributes: JOHNNY }, { attributes: JENNY }];

test('the example payload of two customers is accepted with the documented 202 body', async () => {
  // The timestamp has whole seconds: it lies between the start of the second the request left in and its answer.
  const sent = Math.floor(Date.now() / 1000) * 1000;
  const response = await post(server.url, EXAMPLE_PAYLOAD);
  const answered = Date.now();
  assert.equal(response.status, 202);
  assert.match(response.headers.get('content-type'), /^application\/json/);
  const body = await response.json();
  assert.deepEqual(Object.keys(body), ['title', 'status', 'timestamp']);
  assert.equal(body.title, 'Accepted');
  assert.equal(body.status, 202);
  assert.match(body.timestamp, ISO_WITH_OFFSET);
  const stamped = Date.parse(body.timestamp);
  assert.ok(stamped >= sent && stamped <= answered, `${body.timestamp} is the time of the request, on the real clock by default`);
});

test("GET ?email=sample@test.com with x-api-key example.apiKey returns Johnny's attributes", async () => {
  await post(server.url, EXAMPLE_PAYLOAD);
  const response = await fetch(`${server.url}/profiles?email=sample@test.com`, { headers: { 'x-api-key': 'example.apiKey' } });
  assert.equal(response.status, 200);
  const { attributes, ...rest } = await response.json();
  assert.deepEqual(rest, {});
  const { zaius_id, emails, phones, ...fields } = attributes;
  assert.deepEqual(fields, JOHNNY);
  assert.ok(Number.isSafeInteger(zaius_id) && zaius_id > 0);
  assert.deepEqual(emails, ['sample@test.com']);
  assert.deepEqual(phones, ['555-867-5309']);
});

test('GET ?email=sample_bad@test.com answers the documented 404 message', async () => {
  await post(server.url, EXAMPLE_PAYLOAD);
  const response = await get(server.url, 'email=sample_bad@test.com');
  assert.equal(response.status, 404);
  const body = await response.json();
  assert.match(body.timestamp, ISO_WITH_OFFSET);
  assert.deepEqual(
    { ...body, timestamp: 'T' },
    {
      title: 'Not Found',
      status: 404,
      timestamp: 'T',
      detail: { message: 'Unable to find profile for email = sample_bad@test.com' },
    },
  );
});

test('no key, or an unknown key, gets 403 {"message":"Forbidden"} on GET and POST, and changes nothing', async () => {
  for (const key of [null, 'wrong.key', '']) {
    const responses = [await get(server.url, 'email=sample@test.com', { key }), await post(server.url, EXAMPLE_PAYLOAD, { key })];
    for (const response of responses) {
      assert.equal(response.status, 403, `key ${key}`);
      assert.deepEqual(await response.json(), { message: 'Forbidden' });
    }
  }
  assert.equal(server.emulator.profiles().length, 0);
});

test('a single {attributes} object is accepted as well as an array', async () => {
  const response = await post(server.url, { attributes: JENNY });
  assert.equal(response.status, 202);
  assert.equal((await (await get(server.url, 'email=example@notreal.com')).json()).attributes.first_name, 'Jenny');
});
