// The units delivery is made of, each alone: what an answer means (answerOf), how a batch fits a request (fit), the
// backoff the origin's tabs share. They come from dist/test/internals.js, a test-only build of the client's internal
// modules; time is a manualClock, never the wall clock.
import { answerOf, createBackoff, fit } from '../../dist/test/internals.js';
import { assert, deepEqual, equal } from './assert.js';
import { manualClock } from './clock.js';

const record = (id, email = `r${id}@test.com`) => ({ id, upsert: { attributes: { email } }, at: 0 });
const batch = [record(1), record(2), record(3)];
const now = Date.parse('2026-01-01T00:00:00Z');
const answer = (status, { headers = {}, body } = {}) =>
  answerOf(new Response(body === undefined ? null : JSON.stringify(body), { status, headers }), batch, now);

describe('the answer policy', () => {
  it('counts a 2xx as sent', async () => {
    deepEqual(await answer(200), { kind: 'sent' });
    deepEqual(await answer(202), { kind: 'sent' });
  });

  it('retries after a network error, at once as far as the answer goes, with no status', async () => {
    deepEqual(await answerOf(undefined, batch, now), { kind: 'retry', afterMs: 0 });
  });

  it('retries 408, 429 and 5xx, no sooner than Retry-After in seconds or as an HTTP date', async () => {
    for (const status of [408, 429, 500, 502, 503, 504]) deepEqual(await answer(status), { kind: 'retry', afterMs: 0, status });
    deepEqual(await answer(503, { headers: { 'retry-after': '7' } }), { kind: 'retry', afterMs: 7000, status: 503 });
    const date = new Date(now + 90_000).toUTCString();
    deepEqual(await answer(429, { headers: { 'retry-after': date } }), { kind: 'retry', afterMs: 90_000, status: 429 });
    deepEqual(await answer(429, { headers: { 'retry-after': 'soon' } }), { kind: 'retry', afterMs: 0, status: 429 }, 'garbled: no wait asked');
  });

  it('caps a Retry-After at an hour', async () => {
    deepEqual(await answer(503, { headers: { 'retry-after': String(30 * 86400) } }), { kind: 'retry', afterMs: 3_600_000, status: 503 });
  });

  it('halves a batch the endpoint finds too large (413), and drops a single record that still is', async () => {
    deepEqual(await answer(413), { kind: 'split', size: 2 });
    deepEqual(await answerOf(new Response(null, { status: 413 }), batch.slice(0, 2), now), { kind: 'split', size: 1 });
    const { kind, reasons } = await answerOf(new Response(null, { status: 413 }), [batch[0]], now);
    equal(kind, 'drop');
    deepEqual([...reasons], [[batch[0], 'too large for the endpoint']]);
  });

  it('drops only the records a 400 names, by integer in-range index, with their messages', async () => {
    const invalids = [{ event: 1, message: 'bad email' }, { event: 'length' }, { event: 9 }, { event: 1.5 }, { event: -1 }];
    const { kind, reasons } = await answer(400, { body: { detail: { invalids } } });
    equal(kind, 'drop');
    deepEqual([...reasons], [[batch[1], 'bad email']]);
  });

  it('calls any other refusal refused, with its status: a 400 naming nothing, 403, 404', async () => {
    deepEqual(await answer(400, { body: { message: 'bad' } }), { kind: 'refused', status: 400 });
    deepEqual(await answer(400, { body: 'not json at all' }), { kind: 'refused', status: 400 });
    deepEqual(await answer(403), { kind: 'refused', status: 403 });
    deepEqual(await answer(404), { kind: 'refused', status: 404 });
  });
});

describe('batch fitting', () => {
  // Captured 1, 2 and 3 s before `now`: each goes with its age.
  const aged = batch.map((r, i) => ({ ...r, at: now - 1000 * (i + 1) }));
  const wire = (r) => ({ ...r.upsert, age: now - r.at });

  it('takes the oldest records whose JSON array fits the bytes, and that array, each with its age', () => {
    const [taken, body] = fit(aged, now);
    deepEqual(taken, aged);
    deepEqual(JSON.parse(body), [
      { attributes: { email: 'r1@test.com' }, age: 1000 },
      { attributes: { email: 'r2@test.com' }, age: 2000 },
      { attributes: { email: 'r3@test.com' }, age: 3000 },
    ]);
    const one = JSON.stringify(wire(aged[0])).length;
    const [two, twoBody] = fit(aged, now, 2 + one * 2 + 2);
    deepEqual(two, aged.slice(0, 2));
    equal(new TextEncoder().encode(twoBody).length, one * 2 + 3);
  });

  it('gives the age at the time it is asked for: a resend carries the time waited since', () => {
    deepEqual(JSON.parse(fit(aged, now + 60_000)[1]).map((u) => u.age), [61_000, 62_000, 63_000]);
  });

  it('never gives an age below 0, as when the clock was set back after the capture', () => {
    const ahead = [{ ...aged[0], at: now + 5000 }];
    deepEqual(JSON.parse(fit(ahead, now)[1]), [{ attributes: { email: 'r1@test.com' }, age: 0 }]);
  });

  it('always takes at least one record, even one larger than the bytes', () => {
    deepEqual(fit(aged, now, 10)[0], [aged[0]]);
  });

  it('counts bytes, not characters', () => {
    const wide = [{ ...record(1, 'é'.repeat(10)), at: now }, { ...record(2), at: now }];
    const characters = JSON.stringify(wide.map(wire)).length;
    const [taken] = fit(wide, now, characters);
    deepEqual(taken, [wide[0]], 'the ten é take ten bytes more than their characters: the second record no longer fits');
  });
});

describe('the shared backoff', () => {
  const endpoint = () => `/backoff/${Math.random().toString(36).slice(2)}`;

  it('draws each wait below 1 s, then 2 s, 4 s..., capped at 5 minutes', () => {
    const clock = manualClock();
    clock.value = 0.999;
    const backoff = createBackoff(endpoint(), clock);
    const waits = Array.from({ length: 11 }, () => Math.round(backoff.fail()));
    deepEqual(waits, [999, 1998, 3996, 7992, 15984, 31968, 63936, 127872, 255744, 299700, 299700]);
  });

  it('draws with full jitter: anywhere from 0', () => {
    const clock = manualClock();
    clock.value = 0;
    equal(createBackoff(endpoint(), clock).fail(), 0);
  });

  it('never waits less than the server asked', () => {
    const clock = manualClock();
    equal(createBackoff(endpoint(), clock).fail(60_000), 60_000);
  });

  it('starts over after clear()', () => {
    const clock = manualClock();
    clock.value = 0.5;
    const backoff = createBackoff(endpoint(), clock);
    deepEqual([backoff.fail(), backoff.fail(), backoff.fail()], [500, 1000, 2000]);
    backoff.clear();
    equal(backoff.fail(), 500);
  });

  it("is shared by the origin's tabs: another tab's backoff holds here, and a clear ends it there", () => {
    const clock = manualClock();
    const name = endpoint();
    const here = createBackoff(name, clock);
    const there = createBackoff(name, clock);
    assert(here.endsAt() <= clock.now(), 'none runs at first');
    const delay = there.fail(10_000);
    equal(here.endsAt(), clock.now() + delay);
    there.clear();
    equal(createBackoff(name, clock).endsAt(), 0, 'once cleared, a new tab finds none');
  });
});
