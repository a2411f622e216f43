// Fault injection (each mode, determinism, run-time changes) and the /__emulator/ inspection endpoints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmulator, startEmulator } from '../../dist/emulator.js';
import { manualClock } from './helpers/clocks.js';
import { get, KEY, post, profile, upsert, useEmulator } from './helpers/emulator.js';

const server = useEmulator({ rateLimit: false });

/** Statuses of `n` single-profile POSTs, one after the other; 'dropped' for a connection closed without answer. */
async function statuses(url, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    out.push(await post(url, { attributes: { email: `f${i}@test.com` } }).then((r) => r.status, () => 'dropped'));
  }
  return out;
}

/** The same, straight through `emulator.fetch` (no sockets), for long deterministic sequences. */
async function fetchStatuses(emulator, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({ attributes: { email: `f${i}@test.com` } });
    const request = new Request('http://emulator.test/v3/profiles', { method: 'POST', headers: { 'x-api-key': KEY }, body });
    const response = await emulator.fetch(request);
    out.push(response.type == 'error' ? 'dropped' : response.status);
  }
  return out;
}

test('errorRate 1 answers every request 500 or 503 and applies nothing', async () => {
  server.emulator.setFaults({ errorRate: 1 });
  const seen = await statuses(server.url, 20);
  assert.deepEqual(new Set(seen), new Set([500, 503]));
  const response = await get(server.url, 'email=f0@test.com');
  assert.ok([500, 503].includes(response.status));
  const body = await response.json();
  assert.equal(body.status, response.status);
  assert.equal(body.detail.message, 'Injected fault.');
  server.emulator.setFaults({});
  assert.equal(server.emulator.profiles().length, 0);
  assert.equal(server.emulator.stats().recordsApplied, 0);
});

test('faults are deterministic for a seed and differ between seeds', async () => {
  const faults = { errorRate: 0.2, dropRate: 0.1, burstRate: 0.05, burstLength: 3, seed: 42 };
  const first = await fetchStatuses(createEmulator({ rateLimit: false, faults }), 200);
  const again = await fetchStatuses(createEmulator({ rateLimit: false, faults }), 200);
  const other = await fetchStatuses(createEmulator({ rateLimit: false, faults: { ...faults, seed: 43 } }), 200);
  assert.deepEqual(again, first);
  assert.notDeepEqual(other, first);
  for (const status of [202, 500, 503, 429, 'dropped']) assert.ok(first.includes(status), `${status} occurs`);
  const errors = first.filter((s) => s == 500 || s == 503).length;
  assert.ok(errors > 20 && errors < 60, `${errors} of 200 answered 5xx at a rate of about 0.2 of the rest`);
});

test('setFaults restarts the sequence from its seed', async () => {
  const emulator = createEmulator({ rateLimit: false });
  emulator.setFaults({ errorRate: 0.5, seed: 9 });
  const first = await fetchStatuses(emulator, 30);
  emulator.setFaults({ errorRate: 0.5, seed: 9 });
  assert.deepEqual(await fetchStatuses(emulator, 30), first);
});

test('latencyMs holds every answer for a fixed or drawn time on the emulator\'s clock', { timeout: 20_000 }, async () => {
  const clock = manualClock();
  const timed = await startEmulator({ rateLimit: false, clock });
  try {
    timed.emulator.setFaults({ latencyMs: 150 });
    let answered = false;
    const answer = get(timed.url, 'email=x@test.com').finally(() => {
      answered = true;
    });
    assert.equal(await clock.asleep(), 150);
    await clock.advance(149);
    assert.equal(answered, false, 'answered before its latency was over');
    await clock.advance(1);
    assert.equal((await answer).status, 404);

    timed.emulator.setFaults({ latencyMs: [40, 80] });
    const drawn = [];
    for (let i = 0; i < 20; i++) {
      const response = get(timed.url, 'email=x@test.com');
      drawn.push(await clock.asleep());
      await clock.advance(drawn.at(-1));
      assert.equal((await response).status, 404);
    }
    assert.ok(drawn.every((ms) => ms >= 40 && ms <= 80), `drawn from [40, 80]: ${drawn}`);
    assert.ok(new Set(drawn).size > 5, `drawn, not fixed: ${drawn}`);

    timed.emulator.setFaults({ latencyMs: 60_000 });
    timed.emulator.setFaults({});
    assert.equal((await get(timed.url, 'email=x@test.com')).status, 404, 'no latency once the faults are off');
    assert.deepEqual(clock.pending(), []);
  } finally {
    await timed.close();
  }
});

test('429 bursts: runs of burstLength answers with Retry-After, then service resumes', async () => {
  server.emulator.setFaults({ burstRate: 1, burstLength: 4 });
  const response = await post(server.url, { attributes: { email: 'burst@test.com' } });
  assert.equal(response.status, 429);
  assert.equal(response.headers.get('retry-after'), '1');
  assert.deepEqual(await response.json(), { message: 'Too Many Requests' });

  const bursty = createEmulator({ rateLimit: false, faults: { burstRate: 0.1, burstLength: 4, seed: 3 } });
  const seen = await fetchStatuses(bursty, 120);
  const runs = seen.join(',').split(/,?202,?/).filter(Boolean).map((run) => run.split(',').length);
  assert.ok(runs.length >= 2, `bursts: ${runs}`);
  for (const run of runs.slice(0, -1)) assert.equal(run % 4, 0, `a burst of ${run} in ${seen}`);
});

test('dropRate 1 closes connections without an answer, counted as dropped', async () => {
  server.emulator.setFaults({ dropRate: 1 });
  await assert.rejects(post(server.url, { attributes: { email: 'drop@test.com' } }), TypeError);
  await assert.rejects(get(server.url, 'email=drop@test.com'), TypeError);
  assert.equal(server.emulator.stats().requests.dropped, 2);
  server.emulator.setFaults({});
  assert.equal(await profile(server.url, 'email=drop@test.com'), undefined, 'a dropped upsert was not applied');
  assert.equal((await post(server.url, { attributes: { email: 'drop@test.com' } })).status, 202);
});

test('POST /__emulator/faults changes the faults at run time, and GET shows them', async () => {
  const change = (body) => fetch(`${server.root}/__emulator/faults`, { method: 'POST', body });
  let response = await change(JSON.stringify({ errorRate: 1, seed: 5 }));
  assert.equal(response.status, 200);
  assert.equal((await response.json()).errorRate, 1);
  assert.ok([500, 503].includes((await get(server.url, 'email=x@test.com')).status));
  assert.equal((await (await fetch(`${server.root}/__emulator/faults`)).json()).seed, 5);

  response = await change(JSON.stringify({ errorRate: 7 }));
  assert.equal(response.status, 400);
  assert.match((await response.json()).detail.message, /faults\.errorRate/);
  response = await change('{');
  assert.equal(response.status, 400);
  assert.ok([500, 503].includes((await get(server.url, 'email=x@test.com')).status), 'a refused change keeps the old faults');

  await change('{}');
  assert.equal((await get(server.url, 'email=x@test.com')).status, 404);
});

test('GET /__emulator/profiles and /__emulator/stats show the store; POST /__emulator/reset empties it', async () => {
  await upsert(server.url, { email: 'a@test.com', first_name: 'Ann' }, { email: 'b@test.com' });
  await upsert(server.url, { email: 'a@test.com', phone: '555-0100' }, { phone: '555-0100', email: 'b@test.com' });
  await post(server.url, [{ attributes: {} }]);
  await get(server.url, 'email=a@test.com');

  const profiles = await (await fetch(`${server.root}/__emulator/profiles`)).json();
  assert.deepEqual(profiles, server.emulator.profiles());
  assert.equal(profiles.length, 1);
  assert.equal(profiles[0].first_name, 'Ann');
  assert.deepEqual(await (await fetch(`${server.root}/__emulator/stats`)).json(), {
    requests: { 200: 1, 202: 2, 400: 1 },
    recordsApplied: 4,
    pending: 0,
    merges: 1,
    profiles: 1,
    droppedFields: {},
  });

  const reset = await fetch(`${server.root}/__emulator/reset`, { method: 'POST' });
  assert.equal(reset.status, 200);
  assert.deepEqual(await (await fetch(`${server.root}/__emulator/profiles`)).json(), []);
  assert.deepEqual(server.emulator.stats(), {
    requests: {},
    recordsApplied: 0,
    pending: 0,
    merges: 0,
    profiles: 0,
    droppedFields: {},
  });
  assert.equal((await fetch(`${server.root}/__emulator/nothing`)).status, 404);
});

test('reset restores the faults given at creation', async () => {
  const emulator = createEmulator({ rateLimit: false, faults: { errorRate: 1 } });
  emulator.setFaults({});
  assert.deepEqual(await fetchStatuses(emulator, 1), [202]);
  emulator.reset();
  assert.ok([500, 503].includes((await fetchStatuses(emulator, 1))[0]));
});
