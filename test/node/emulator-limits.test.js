// The batch, body-size and rate limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startEmulator } from '../../dist/emulator.js';
import { manualClock } from './helpers/clocks.js';
import { get, KEY, post, profile, useEmulator } from './helpers/emulator.js';

const server = useEmulator({ rateLimit: false });

const batch = (n, prefix = 'p') => Array.from({ length: n }, (_, i) => ({ attributes: { email: `${prefix}${i}@test.com` } }));

/** A JSON array of one profile padded with spaces to exactly `bytes` bytes. */
const padded = (bytes) => {
  const json = JSON.stringify([{ attributes: { email: 'big@test.com' } }]);
  return json.slice(0, -1) + ' '.repeat(bytes - json.length) + ']';
};

test('500 profiles in one request are accepted, 501 are refused with 400 and none applied', async () => {
  assert.equal((await post(server.url, batch(500))).status, 202);
  assert.equal(server.emulator.stats().recordsApplied, 500);
  const response = await post(server.url, batch(501, 'q'));
  assert.equal(response.status, 400);
  assert.equal((await response.json()).detail.message, 'Request body holds 501 profiles; at most 500 are allowed.');
  assert.equal(await profile(server.url, 'email=q0@test.com'), undefined);
});

test('maxBatch sets the batch limit', async () => {
  const small = await startEmulator({ maxBatch: 2, rateLimit: false });
  try {
    assert.equal((await post(small.url, batch(2))).status, 202);
    assert.equal((await post(small.url, batch(3))).status, 400);
  } finally {
    await small.close();
  }
});

test('a body of exactly 1 MiB is accepted and one byte more gets 413', async () => {
  assert.equal((await post(server.url, padded(1024 * 1024))).status, 202);
  const response = await post(server.url, padded(1024 * 1024 + 1));
  assert.equal(response.status, 413);
  const body = await response.json();
  assert.equal(body.title, 'Payload Too Large');
  assert.equal(body.detail.message, 'Request body is larger than 1048576 bytes.');
  assert.equal(server.emulator.stats().recordsApplied, 1);
  assert.equal((await get(server.url, 'email=big@test.com')).status, 200, 'the server still answers afterwards');
});

/** POSTs `body` in chunks with no Content-Length (chunked encoding) and resolves the status. */
const chunked = (url, chunks) =>
  new Promise((resolve, reject) => {
    const req = request(`${url}/profiles`, { method: 'POST', headers: { 'x-api-key': KEY, 'transfer-encoding': 'chunked' } });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });

test('a chunked body without Content-Length is counted as it streams in', async () => {
  const limited = await startEmulator({ maxBodyBytes: 1000, rateLimit: false });
  try {
    const body = padded(3000);
    assert.equal(await chunked(limited.url, [body.slice(0, 900), body.slice(900, 1800), body.slice(1800)]), 413);
    const fits = padded(1000);
    assert.equal(await chunked(limited.url, [fits.slice(0, 500), fits.slice(500)]), 202);
    assert.equal(limited.emulator.stats().recordsApplied, 1);
  } finally {
    await limited.close();
  }
});

test('a declared Content-Length over the limit is refused before the body is read', async () => {
  const limited = await startEmulator({ maxBodyBytes: 100, rateLimit: false });
  try {
    const response = await fetch(`${limited.url}/profiles`, { method: 'POST', headers: { 'x-api-key': KEY }, body: padded(101) });
    assert.equal(response.status, 413);
  } finally {
    await limited.close();
  }
});

test('above 10 requests per second per key: 429 {"message":"Too Many Requests"} with Retry-After', async () => {
  const clock = manualClock();
  const limited = await startEmulator({ apiKeys: [KEY, 'other.key'], clock });
  try {
    for (let i = 0; i < 10; i++) assert.equal((await get(limited.url, 'email=a@test.com')).status, 404, `request ${i + 1}`);
    const refused = await post(limited.url, batch(1, 'late'));
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.deepEqual(await refused.json(), { message: 'Too Many Requests' });
    assert.equal(limited.emulator.stats().recordsApplied, 0, 'a refused POST is not applied');

    assert.equal((await get(limited.url, 'email=a@test.com', { key: 'other.key' })).status, 404, 'each key has its own budget');
    await clock.advance(100); // a tenth of a second buys one request
    assert.equal((await get(limited.url, 'email=a@test.com')).status, 404);
    assert.equal((await get(limited.url, 'email=a@test.com')).status, 429);
    await clock.advance(1000);
    for (let i = 0; i < 10; i++) assert.equal((await get(limited.url, 'email=a@test.com')).status, 404);
    assert.equal((await get(limited.url, 'email=a@test.com')).status, 429, 'a burst is at most 10');
    assert.equal(limited.emulator.stats().requests['429'], 3);
  } finally {
    await limited.close();
  }
});

test('the rate limit is 10 requests per second by default, and rateLimit: false turns it off', async () => {
  // Time stands still on this clock, so no token comes back however long the burst takes to arrive.
  const limited = await startEmulator({ clock: manualClock() });
  try {
    const statuses = await Promise.all(Array.from({ length: 60 }, () => get(limited.url, 'email=a@test.com').then((r) => r.status)));
    assert.equal(statuses.filter((s) => s == 404).length, 10, statuses.join());
    assert.equal(statuses.filter((s) => s == 429).length, 50, statuses.join());
  } finally {
    await limited.close();
  }
  const statuses = await Promise.all(Array.from({ length: 50 }, () => get(server.url, 'email=a@test.com').then((r) => r.status)));
  assert.deepEqual(new Set(statuses), new Set([404]));
});
