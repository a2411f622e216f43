// Delivery through the real proxy, on an origin of its own (so through CORS), to the real emulator; both started by
// the test runner (test/web-test-runner.config.mjs). Offline, multi-tab and unload cases are Playwright suites under test/e2e.
import { createIdCapture } from '../../dist/index.js';
import { createClient } from '../../dist/test/internals.js';
import { assert, deepEqual, equal } from './assert.js';
import { manualClock } from './clock.js';
import { holdQueue, lockRequested, storedRecords } from './helpers.js';

const json = async (path, body) =>
  (await fetch(path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })).json();
const profiles = () => json('/__emulator/profiles');
const profileOf = async (email) => (await profiles()).find((p) => p.email === email);
const setFaults = (faults) => json('/__emulator/faults', faults);
/** Batches the proxies forwarded upstream, as lists of emails. */
const forwardedEmails = async () => (await json('/__backend/forwarded')).map((batch) => batch.map((u) => u.attributes.email));

const api = (await json('/__backend/api')).url;

/**
 * A client of the proxy at `path` (or of a stub on this page's origin), with a queue of its own: the proxy matches
 * the path, the query only names the queue. With `held`, the queue's flush lock is taken first, so scheduled
 * flushes skip until the test calls `release()` and flushes itself: counts are then exact. With `clock` (a
 * manualClock), the client's timers and backoff run on that clock: nothing happens later unless the test advances it.
 */
async function client(path = '/api/profiles', options = {}, { held = false, clock } = {}) {
  const base = path.startsWith('/stub/') ? '' : api;
  const endpoint = `${base}${path}?queue=${Math.random().toString(36).slice(2)}`;
  const release = held ? await holdQueue(endpoint) : () => {};
  const idc = clock ? createClient({ endpoint, ...options }, clock).client : createIdCapture({ endpoint, ...options });
  const events = { sent: [], retry: [], drop: [], error: [] };
  for (const type of Object.keys(events)) idc.on(type, (detail) => events[type].push(detail));
  return { idc, endpoint, events, release };
}
const stubHits = async (name) => (await json('/__backend/stub-hits'))[name] ?? 0;
const next = (idc, type) => new Promise((resolve) => idc.on(type, resolve));

const emailsFor = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}-${Date.now()}@test.com`);

describe('delivery', () => {
  beforeEach(() => json('/__backend/reset', {}));
  afterEach(() => setFaults({}));

  it('delivers identified profiles; the emulator then holds exactly what was identified', async () => {
    const { idc, release } = await client('/api/profiles', {}, { held: true });
    await idc.identify({ email: 'johnny@test.com' }, { first_name: 'Johnny', last_name: 'Zaius', zip: '02101' });
    await idc.identify({ email: 'jenny@test.com', phone: '555-555-5555' }, { first_name: 'Jenny', dob_year: 1990 });
    release();
    deepEqual(await idc.flush(), { sent: 2, pending: 0, dropped: 0 });

    const johnny = await profileOf('johnny@test.com');
    equal(johnny.first_name, 'Johnny');
    equal(johnny.last_name, 'Zaius');
    equal(johnny.zip, '02101');
    const jenny = await profileOf('jenny@test.com');
    equal(jenny.phone, '555-555-5555');
    equal(jenny.dob_year, 1990);
    // Both were identified on this device: the low-confidence vuid moved to the latest customer.
    equal(jenny.vuid, idc.vuid);
  });

  it('sends by itself shortly after identify(), without flush()', async () => {
    const { idc, events } = await client();
    const sent = new Promise((resolve) => idc.on('sent', resolve));
    await idc.identify({ email: 'auto@test.com' });
    deepEqual(await sent, { count: 1 });
    assert(await profileOf('auto@test.com'), 'delivered');
    equal(events.retry.length, 0);
  });

  it('sends in batches of batchSize, oldest first', async () => {
    const { idc, endpoint, release } = await client('/api/profiles', { batchSize: 2 }, { held: true });
    const emails = emailsFor('batch', 5);
    for (const email of emails) await idc.identify({ email });
    release();
    deepEqual(await idc.flush(), { sent: 5, pending: 0, dropped: 0 });
    deepEqual(await forwardedEmails(), [emails.slice(0, 2), emails.slice(2, 4), emails.slice(4)]);
    equal((await storedRecords(endpoint)).length, 0, 'queue empty:');
  });

  it('drops only the records the proxy names invalid, and resends the rest', async () => {
    const { idc, events, release } = await client('/api/lenient', {}, { held: true });
    const [a, b, c] = emailsFor('invalid', 3);
    await idc.identify({ email: a });
    // Allowed by this proxy, refused by the profiles API, which has no such field.
    await idc.identify({ email: b }, { loyalty_tier: 'gold' });
    await idc.identify({ email: c });
    release();
    deepEqual(await idc.flush(), { sent: 2, pending: 0, dropped: 1 });
    equal(events.drop.length, 1);
    equal(events.drop[0].upsert.attributes.email, b);
    assert(events.drop[0].reason.includes('refused by the profiles API'), events.drop[0].reason);
    deepEqual(await forwardedEmails(), [[a, b, c], [a, c]]);
  });

  it("delivers an upsert carrying a field the proxy does not allow, without that field", async () => {
    const { idc, events, release } = await client('/api/profiles', {}, { held: true });
    const [a] = emailsFor('removed', 1);
    await idc.identify({ email: a, customer_id: 'c-42' }, { first_name: 'Johnny', loyalty_tier: 'gold' });
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    equal(events.drop.length, 0);
    const [[upsert]] = await json('/__backend/forwarded');
    deepEqual(Object.keys(upsert.attributes).sort(), ['email', 'first_name', 'vuid']);
  });

  // Scheduled flushes may run beside the explicit ones here, so the assertions are about outcomes, not call counts.
  it('keeps the batch through 5xx answers, retrying with backoff, and delivers it once they stop', async () => {
    const clock = manualClock();
    const { idc, endpoint, events, release } = await client('/api/profiles', {}, { held: true, clock });
    const emails = emailsFor('errors', 3);
    await setFaults({ errorRate: 1 });
    for (const email of emails) await idc.identify({ email });
    release();
    deepEqual(await idc.flush(), { sent: 0, pending: 3, dropped: 0 });
    deepEqual(await idc.flush(), { sent: 0, pending: 3, dropped: 0 });
    equal((await storedRecords(endpoint)).length, 3, 'all kept:');
    deepEqual(events.retry.map((r) => r.status), [502, 502], 'the proxy reports upstream failure as 502:');
    // Full jitter on a base of 1 s, doubling: with the clock's random at 0.5, half of 1 s, then half of 2 s.
    deepEqual(events.retry.map((r) => r.delay), [500, 1000]);

    await setFaults({});
    equal((await idc.flush()).pending, 0);
    for (const email of emails) assert(await profileOf(email), `${email} delivered`);
    equal(events.sent.reduce((n, e) => n + e.count, 0), 3, 'each acknowledged once:');
    equal(events.drop.length, 0, 'nothing dropped:');
  });

  it('honours Retry-After when the API is rate limiting', async () => {
    const clock = manualClock();
    const { idc, events, release } = await client('/api/profiles', {}, { held: true, clock });
    await setFaults({ burstRate: 1, burstLength: 1 });
    await idc.identify({ email: 'limited@test.com' });
    release();
    const failedAt = clock.now();
    deepEqual(await idc.flush(), { sent: 0, pending: 1, dropped: 0 });
    const [retry] = events.retry;
    assert([429, 503].includes(retry.status), `status ${retry.status}`);
    // The backoff's draw (half of 1 s) is shorter than the Retry-After second: the second wins.
    equal(retry.delay, 1000);
    await setFaults({});
    // The scheduled retry, not an explicit flush, delivers it, once the second has passed.
    const sent = next(idc, 'sent');
    await clock.advance(999);
    assert(clock.due().includes(failedAt + 1000), `a flush planned at the end of the second: ${clock.due()}`);
    await clock.advance(1);
    await sent;
    assert(await profileOf('limited@test.com'));
  });

  it('retries when the upstream drops the connection', async () => {
    const { idc, events, release } = await client('/api/profiles', {}, { held: true });
    await setFaults({ dropRate: 1 });
    await idc.identify({ email: 'dropped@test.com' });
    release();
    equal((await idc.flush()).pending, 1);
    assert(events.retry.length >= 1 && events.retry.every((r) => r.status >= 502), JSON.stringify(events.retry));
    await setFaults({});
    equal((await idc.flush()).pending, 0);
    assert(await profileOf('dropped@test.com'));
  });

  it('halves the batch on 413 until it fits', async () => {
    const { idc, release } = await client('/api/small', {}, { held: true });
    const emails = emailsFor('split', 12);
    for (const email of emails) await idc.identify({ email }, { street1: 'x'.repeat(200) });
    release();
    deepEqual(await idc.flush(), { sent: 12, pending: 0, dropped: 0 });
    const batches = await forwardedEmails();
    deepEqual(batches.flat(), emails, 'all, in order:');
    assert(batches.length > 1 && batches.every((b) => b.length < 12), `split into ${batches.map((b) => b.length)}`);
  });

  it('drops a single upsert that is too large for the endpoint, with a drop event', async () => {
    const { idc, events, release } = await client('/api/small', {}, { held: true });
    await idc.identify({ email: 'huge@test.com' }, { street1: 'x'.repeat(1000), street2: 'y'.repeat(1000), city: 'z'.repeat(1000) });
    await idc.identify({ email: 'small@test.com' });
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 1 });
    equal(events.drop[0].upsert.attributes.email, 'huge@test.com');
    assert(events.drop[0].reason.includes('too large'), events.drop[0].reason);
  });

  it('keeps the records and backs off when a cross-origin proxy refuses this origin', async () => {
    // Refused without CORS headers, the answer is unreadable: to the page it is a network error.
    const { idc, endpoint, events, release } = await client('/api/misconfigured', {}, { held: true });
    await idc.identify({ email: 'kept@test.com' });
    release();
    deepEqual(await idc.flush(), { sent: 0, pending: 1, dropped: 0 });
    assert(events.retry.length >= 1 && events.retry[0].status === undefined, JSON.stringify(events.retry));
    assert(events.retry[0].delay > 0, 'backs off instead of spinning');
    equal((await storedRecords(endpoint)).length, 1, 'the record is kept:');
  });

  it('resolves flush() with zeros when nothing is queued', async () => {
    const { idc } = await client();
    deepEqual(await idc.flush(), { sent: 0, pending: 0, dropped: 0 });
  });

  it('still delivers where Web Locks are missing, without a lock', async () => {
    const locks = Object.getOwnPropertyDescriptor(Navigator.prototype, 'locks');
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
    try {
      const { idc } = await client();
      await idc.identify({ email: 'nolocks@test.com' });
      deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    } finally {
      Object.defineProperty(Navigator.prototype, 'locks', locks);
    }
  });

  it('still delivers where Web Locks are refused, as in a sandboxed frame, without a lock', async () => {
    const { request } = LockManager.prototype;
    // An opaque origin's LockManager rejects every request with a SecurityError.
    LockManager.prototype.request = () => Promise.reject(new DOMException('Access to the Locks API is denied', 'SecurityError'));
    try {
      const { idc } = await client();
      await idc.identify({ email: 'refusedlocks@test.com' });
      deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
      equal((await profileOf('refusedlocks@test.com'))?.email, 'refusedlocks@test.com');
    } finally {
      LockManager.prototype.request = request;
    }
  });

  it('waits in flush() while another tab holds the queue lock, and sends once it is released', async () => {
    const { idc, endpoint } = await client();
    const release = await holdQueue(endpoint);
    await idc.identify({ email: 'locked@test.com' });
    let settled = false;
    const flushed = idc.flush().then((result) => {
      settled = true;
      return result;
    });
    // Once its request for the lock is queued behind the holder's, the flush can do nothing until the release.
    await lockRequested(`idcapture:${endpoint}`);
    equal(settled, false, 'flush() waits for the lock:');
    deepEqual((await forwardedEmails()).flat().filter((e) => e == 'locked@test.com'), [], 'nothing sent meanwhile:');
    release();
    deepEqual(await flushed, { sent: 1, pending: 0, dropped: 0 });
  });

  it('gives ids that keep growing after the queue empties, so a late acknowledgement cannot match a newer upsert', async () => {
    const { idc, endpoint, release } = await client('/api/profiles', {}, { held: true });
    await idc.identify({ email: 'first@test.com' });
    const [first] = await storedRecords(endpoint);
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    await idc.identify({ email: 'second@test.com' });
    const [second] = await storedRecords(endpoint);
    assert(second.id > first.id, `id ${second.id} after ${first.id}`);
  });

  it('sends nothing while consent is not granted, queued earlier or not, and resumes when granted', async () => {
    const { idc: before, endpoint, release } = await client('/api/profiles', {}, { held: true });
    await before.identify({ email: 'consented-earlier@test.com' });
    before.destroy();
    release();
    const clock = manualClock();
    const { client: idc } = createClient({ endpoint, consent: 'denied' }, clock);
    // Without consent the durable queue is not even opened to count.
    deepEqual(await idc.flush(), { sent: 0, pending: 0, dropped: 0 });
    idc.setConsent('pending');
    deepEqual(clock.due(), [], 'no flush is even planned without consent:');
    deepEqual((await forwardedEmails()).flat().filter((e) => e.startsWith('consented')), [], 'nothing sent without consent:');
    const sent = next(idc, 'sent');
    idc.setConsent('granted');
    deepEqual(clock.due(), [clock.now() + 250], 'a flush planned as consent is granted:');
    await clock.advance(250);
    await sent;
    assert(await profileOf('consented-earlier@test.com'));
  });

  it('stops for good on destroy(): no scheduled flush runs afterwards', async () => {
    // Held until destroy(): the flush the client schedules at creation must not be in flight already (Firefox's
    // first IndexedDB write can outlast it), or it would rightly send the upsert before destroy() is called.
    const clock = manualClock();
    const { idc, endpoint, release } = await client('/api/profiles', {}, { held: true, clock });
    await idc.identify({ email: 'destroyed@test.com' });
    assert(clock.due().length > 0, 'a flush was planned');
    idc.destroy();
    release();
    deepEqual(clock.due(), [], 'no flush planned after destroy:');
    equal(await clock.advance(3_600_000), 0, 'no timer fires:');
    deepEqual((await forwardedEmails()).flat().filter((e) => e == 'destroyed@test.com'), [], 'nothing sent after destroy:');
    equal((await storedRecords(endpoint)).length, 1, 'the upsert waits for the next page:');
  });

  it('caps a Retry-After of 30 days at an hour, and does not spin while waiting', async () => {
    const clock = manualClock();
    const { idc, events, release } = await client('/stub/retry-after-30-days', {}, { held: true, clock });
    await idc.identify({ email: 'patient@test.com' });
    release();
    const hourLater = clock.now() + 3_600_000;
    await idc.flush();
    equal(events.retry[0].delay, 3_600_000);
    const hits = await stubHits('retry-after-30-days');
    // The flush planned before the failure finds the backoff when it fires, and waits for its end instead.
    await clock.advance(3_600_000 - 1);
    deepEqual(clock.due(), [hourLater], 'one flush, planned for the end of the hour:');
    equal(await stubHits('retry-after-30-days'), hits, 'no request while the backoff runs:');
    const retried = next(idc, 'retry');
    await clock.advance(1);
    await retried;
    equal(await stubHits('retry-after-30-days'), hits + 1, 'one request once it ends:');
    idc.destroy();
  });

  it("shares a backoff with the site's other tabs and pages: none of them retries early", async () => {
    const clock = manualClock();
    const { idc, endpoint, release } = await client('/stub/retry-after-30-days', {}, { held: true, clock });
    const open = createClient({ endpoint }, clock).client;
    await idc.identify({ email: 'remembered@test.com' });
    release();
    const hourLater = clock.now() + 3_600_000;
    await idc.flush();
    idc.destroy();
    const hits = await stubHits('retry-after-30-days');
    const later = createClient({ endpoint }, clock).client;
    await open.identify({ email: 'open-tab@test.com' });
    await clock.advance(3_600_000 - 1);
    deepEqual(clock.due(), [hourLater, hourLater], 'the open tab and the next page both wait for the end of the hour:');
    equal(await stubHits('retry-after-30-days'), hits, 'neither retried early:');
    open.destroy();
    later.destroy();
  });

  it("a flush planned before another tab's backoff began waits for that backoff too", async () => {
    const clock = manualClock();
    const { idc, endpoint, release } = await client('/stub/retry-after-30-days', {}, { held: true, clock });
    const open = createClient({ endpoint }, clock).client;
    // The open tab plans its flush now, before any backoff exists.
    await open.identify({ email: 'planned@test.com' });
    const planned = clock.now() + 250;
    assert(clock.due().includes(planned), `planned: ${clock.due()}`);
    release();
    const hourLater = clock.now() + 3_600_000;
    await idc.flush();
    const hits = await stubHits('retry-after-30-days');
    // Its timer fires, finds the backoff and plans again for its end, without a request.
    await clock.advance(250);
    assert(clock.due().length > 0 && clock.due().every((at) => at == hourLater), `every flush waits for the hour: ${clock.due()}`);
    equal(await stubHits('retry-after-30-days'), hits, "the open tab's planned flush did not go out during the backoff:");
    open.destroy();
    idc.destroy();
  });

  it('trusts only integer, in-range, distinct indices in detail.invalids', async () => {
    const { idc, events, release } = await client('/stub/junk-invalids', {}, { held: true });
    await idc.identify({ email: 'zero@test.com' });
    await idc.identify({ email: 'one@test.com' });
    release();
    const result = await idc.flush();
    equal(result.dropped, 1);
    deepEqual(events.drop.map((d) => d.upsert.attributes.email), ['zero@test.com']);
    idc.destroy();
  });
});
