// idcapture/server's upserts against the real emulator on 127.0.0.1: batching, pacing under its 10 requests/s,
// retries of injected 429/5xx and dropped connections, and records refused one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { createEmulator } from '../../dist/emulator.js';
import { createServerClient, HttpError, NetworkError } from '../../dist/server.js';
import { KEY, useEmulator } from './helpers/emulator.js';
import { until } from '../helpers/e2e.js';

// The emulator's own 10 requests/s per key stays on: pacing under it is what these tests are about.
const server = useEmulator({ fields: ['customer_id'] });

const records = (n, prefix = 'p') => Array.from({ length: n }, (_, i) => ({ attributes: { email: `${prefix}${i}@test.com` } }));
/** `random: () => 0` makes ky's full-jitter backoff 0 ms: retries wait only for Retry-After and the pace. */
const client = (options = {}) => createServerClient({ apiKey: KEY, baseUrl: server.url, random: () => 0, ...options });
const stats = () => server.emulator.stats();

test('1,200 records go as three requests of at most 500, and every one is stored', async () => {
  const result = await client().upsertProfiles(records(1200));
  assert.deepEqual(result, { accepted: 1200, invalids: [], requests: 3 });
  assert.deepEqual(stats().requests, { 202: 3 });
  assert.equal(stats().profiles, 1200);
});

test('25 requests in a row stay under the emulator’s 10 requests/s: not one 429', async () => {
  const result = await client({ maxBatch: 10 }).upsertProfiles(records(250));
  assert.equal(result.accepted, 250);
  assert.deepEqual(stats().requests, { 202: 25 });
});

test('a client paced faster than the account allows is told 429, waits as Retry-After says, and loses nothing', async () => {
  const fast = client({ maxBatch: 10, requestsPerSecond: 1000 });
  const result = await fast.upsertProfiles(records(150));
  assert.equal(result.accepted, 150);
  assert.ok(stats().requests[429] > 0, 'the emulator refused some requests');
  assert.equal(stats().profiles, 150);
});

test('injected 500s and 503s are retried until the records are accepted', async () => {
  server.emulator.setFaults({ errorRate: 0.4, seed: 3 });
  const result = await client({ maxBatch: 10, retries: 8 }).upsertProfiles(records(100));
  assert.equal(result.accepted, 100);
  const { requests } = stats();
  assert.ok((requests[500] ?? 0) + (requests[503] ?? 0) > 0, 'faults were injected');
  assert.equal(requests[202], 10);
  assert.equal(stats().profiles, 100);
});

test('injected 429 bursts and dropped connections are retried too', async () => {
  server.emulator.setFaults({ burstRate: 0.3, burstLength: 2, dropRate: 0.2, seed: 5 });
  const result = await client({ maxBatch: 20, retries: 8 }).upsertProfiles(records(100));
  assert.equal(result.accepted, 100);
  assert.ok(stats().requests[429] > 0 && stats().requests.dropped > 0, JSON.stringify(stats().requests));
  assert.equal(stats().profiles, 100);
});

test('when the retries are spent, the call rejects with an HttpError carrying the status and the last answer as cause', async () => {
  server.emulator.setFaults({ errorRate: 1 });
  const error = await client({ retries: 2 }).upsertProfiles(records(3)).catch((e) => e);
  assert.ok(error instanceof HttpError, String(error));
  assert.ok([500, 503].includes(error.status));
  assert.ok(error.cause instanceof Response && error.cause.status == error.status, 'the cause is the last failed answer');
  assert.doesNotMatch(inspect(error, { depth: Infinity }), new RegExp(KEY), 'the key is nowhere in the error');
  const { requests } = stats();
  assert.equal((requests[500] ?? 0) + (requests[503] ?? 0), 3, 'one attempt and two retries');
});

test('an API that does not answer within timeoutMs gives a NetworkError after the retries', async () => {
  server.emulator.setFaults({ latencyMs: 300 });
  const error = await client({ timeoutMs: 50, retries: 1 }).upsertProfiles(records(1)).catch((e) => e);
  assert.ok(error instanceof NetworkError, String(error));
  assert.match(error.message, /did not answer within 50 ms after 2 attempts/);
  assert.doesNotMatch(inspect(error, { depth: Infinity }), new RegExp(KEY), 'the key is nowhere in the error');
  // The emulator finishes both abandoned requests later; counted here, not in the next test.
  await until(() => Object.values(stats().requests).reduce((a, b) => a + b, 0) == 2, 'the two abandoned requests to end');
});

test('a wrong key is a 403 HttpError at once, never retried', async () => {
  const error = await client({ apiKey: 'wrong.key' }).upsertProfiles(records(1)).catch((e) => e);
  assert.ok(error instanceof HttpError);
  assert.equal(error.status, 403);
  assert.doesNotMatch(error.message, /wrong\.key/);
  assert.deepEqual(stats().requests, { 403: 1 });
});

test('records the API refuses are reported by index with its message; the rest of the batch is resent and stored', async () => {
  const batch = [
    { attributes: { email: 'a@test.com' } },
    { attributes: { email: 'b@test.com', favourite_colour: 'teal' } },
    { attributes: { email: 'c@test.com' } },
    { attributes: { email: 'd@test.com', shoe_size: 42 } },
    { attributes: { email: 'e@test.com' } },
  ];
  const result = await client().upsertProfiles(batch);
  assert.equal(result.accepted, 3);
  assert.equal(result.requests, 2, 'refused once, then sent without the two');
  assert.deepEqual(result.invalids.map((i) => i.index), [1, 3]);
  assert.match(result.invalids[0].message, /favourite_colour/);
  assert.deepEqual(server.emulator.profiles().map((p) => p.email), ['a@test.com', 'c@test.com', 'e@test.com']);
});

test('records the profile rules refuse are reported with their field and never sent', async () => {
  const batch = [
    { attributes: { email: 'not an email' } },
    { attributes: { first_name: 'No identifier' } },
    { attributes: { email: 'ok@test.com', FirstName: 'x' } },
    { attributes: { email: 'fine@test.com', customer_id: 'c-1' } },
    null,
  ];
  const result = await client().upsertProfiles(batch);
  assert.equal(result.accepted, 1);
  assert.deepEqual(
    result.invalids.map(({ index, field }) => [index, field]),
    [[0, 'email'], [1, 'identifiers'], [2, 'FirstName'], [4, 'attributes']],
  );
  assert.deepEqual(stats().requests, { 202: 1 });
});

test('emails are sent trimmed and lower-cased, as the rules compare them', async () => {
  await client().upsertProfiles([{ attributes: { email: '  Mixed.Case@Test.COM ' } }]);
  assert.equal(server.emulator.profiles()[0].email, 'mixed.case@test.com');
});

test('records are sent in order, one request after another: the later update of a profile wins', async () => {
  const updates = ['One', 'Two', 'Three'].map((first_name) => ({ attributes: { email: 'same@test.com', first_name } }));
  await client({ maxBatch: 1 }).upsertProfiles(updates);
  assert.equal(server.emulator.profiles()[0].first_name, 'Three');
});

test('large records split on body size as well as count', async () => {
  const big = Array.from({ length: 6 }, (_, i) => ({ attributes: { email: `big${i}@test.com`, street1: 'x'.repeat(1000) } }));
  const result = await client({ maxBodyBytes: 2500 }).upsertProfiles(big);
  assert.deepEqual(result, { accepted: 6, invalids: [], requests: 3 });
});

test('an empty list sends nothing; a list that is not an array is a TypeError', async () => {
  assert.deepEqual(await client().upsertProfiles([]), { accepted: 0, invalids: [], requests: 0 });
  await assert.rejects(client().upsertProfiles({ attributes: {} }), TypeError);
  assert.deepEqual(stats().requests, {});
});

/**
 * A clock that moves only when every request in flight is waiting: each turn of the event loop it wakes the sleeper
 * due first and sets the time to its wake-up time. Pacing is then checked exactly, with no real waiting.
 */
function virtualClock() {
  let now = 0;
  let running = true;
  const sleepers = [];
  const turn = () => {
    if (!running) return;
    sleepers.sort((a, b) => a.at - b.at);
    const next = sleepers.shift();
    if (next) {
      now = Math.max(now, next.at);
      next.wake();
    }
    setImmediate(turn);
  };
  setImmediate(turn);
  return {
    now: () => now,
    sleep: (ms) => new Promise((wake) => sleepers.push({ at: now + ms, wake })),
    stop: () => void (running = false),
  };
}

test('requests leave evenly spaced at requestsPerSecond, checked on an injected clock', async () => {
  const clock = virtualClock();
  const emulator = createEmulator({ clock });
  const sentAt = [];
  const paced = createServerClient({
    apiKey: KEY,
    baseUrl: 'http://emulator.invalid/v3',
    maxBatch: 10,
    requestsPerSecond: 8,
    clock,
    fetch: (request) => (sentAt.push(clock.now()), emulator.fetch(request)),
  });
  try {
    await Promise.all([paced.upsertProfiles(records(200, 'a')), paced.upsertProfiles(records(200, 'b'))]);
  } finally {
    clock.stop();
  }
  assert.equal(sentAt.length, 40);
  assert.deepEqual(
    sentAt.slice(1).map((t, i) => t - sentAt[i]),
    Array(39).fill(125),
  );
  assert.deepEqual(emulator.stats().requests, { 202: 40 });
});

test('a 429 holds back every request of the client until its Retry-After has passed', async () => {
  const clock = virtualClock();
  const emulator = createEmulator({ clock, faults: { burstRate: 1, burstLength: 1 } });
  const sentAt = [];
  const paced = createServerClient({
    apiKey: KEY,
    baseUrl: 'http://emulator.invalid/v3',
    maxBatch: 10,
    clock,
    random: () => 0,
    fetch: async (request) => {
      sentAt.push(clock.now());
      const response = await emulator.fetch(request);
      // One 429 (Retry-After: 1), then the API is well again.
      emulator.setFaults({});
      return response;
    },
  });
  try {
    await Promise.all([paced.upsertProfiles(records(10, 'a')), paced.upsertProfiles(records(10, 'b')), paced.upsertProfiles(records(10, 'c'))]);
  } finally {
    clock.stop();
  }
  assert.deepEqual(emulator.stats().requests, { 202: 3, 429: 1 });
  assert.equal(sentAt[0], 0);
  assert.ok(sentAt.slice(1).every((t) => t >= 1000), `nothing left before Retry-After had passed: ${sentAt}`);
});

test('a signal ends a call, with its reason, and nothing more is sent', async () => {
  const controller = new AbortController();
  const zaius = client();
  const calls = [zaius.upsertProfiles(records(1), { signal: controller.signal }), zaius.getProfile({ email: 'a@test.com' }, { signal: controller.signal })];
  controller.abort(new Error('shutting down'));
  for (const call of calls) await assert.rejects(call, /shutting down/);
  assert.deepEqual(stats().requests, {});
});

test('a call aborted while it waits for its turn leaves the line at once, without sending', async () => {
  const clock = virtualClock();
  const emulator = createEmulator({ clock });
  const controller = new AbortController();
  let sent = 0;
  const paced = createServerClient({
    apiKey: KEY,
    baseUrl: 'http://emulator.invalid/v3',
    requestsPerSecond: 1,
    clock,
    // The first request leaving is the moment the other two are waiting for their slots.
    fetch: (request) => (++sent == 1 && controller.abort(new Error('gave up')), emulator.fetch(request)),
  });
  try {
    const calls = [
      paced.getProfile({ email: 'one@test.com' }),
      paced.getProfile({ email: 'two@test.com' }, { signal: controller.signal }),
      paced.getProfile({ email: 'three@test.com' }),
    ];
    assert.equal(await calls[0], null);
    await assert.rejects(calls[1], /gave up/);
    assert.equal(await calls[2], null);
  } finally {
    clock.stop();
  }
  assert.equal(sent, 2);
});
