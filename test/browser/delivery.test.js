// Delivery through the real proxy, on an origin of its own (so through CORS), to the real emulator; both started by
// the test runner (test/web-test-runner.config.mjs). Offline, multi-tab and unload cases are Playwright suites under test/e2e.
import { createIdCapture, HttpError } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { storedRecords } from './helpers.js';

const json = async (path, body) =>
  (await fetch(path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })).json();
const profiles = () => json('/__emulator/profiles');
const profileOf = async (email) => (await profiles()).find((p) => p.email === email);
const setFaults = (faults) => json('/__emulator/faults', faults);
/** Batches the proxies forwarded upstream, as lists of emails. */
const forwardedEmails = async () => (await json('/__backend/forwarded')).map((batch) => batch.map((u) => u.attributes.email));

const api = (await json('/__backend/api')).url;

/** A client of the proxy at `path`, with a queue of its own (the proxy matches the path; the query names the queue). */
function client(path = '/api/profiles', options = {}) {
  const endpoint = `${api}${path}?run=${Math.random().toString(36).slice(2)}`;
  const idc = createIdCapture({ endpoint, ...options });
  const events = { sent: [], retry: [], drop: [], error: [] };
  for (const type of Object.keys(events)) idc.on(type, (detail) => events[type].push(detail));
  return { idc, endpoint, events };
}

const emailsFor = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}-${Date.now()}@test.com`);

describe('delivery', () => {
  beforeEach(() => json('/__backend/reset', {}));
  afterEach(() => setFaults({}));

  it('delivers identified profiles; the emulator then holds exactly what was identified', async () => {
    const { idc } = client();
    await idc.identify({ email: 'johnny@test.com' }, { first_name: 'Johnny', last_name: 'Zaius', zip: '02101' });
    await idc.identify({ email: 'jenny@test.com', phone: '555-555-5555' }, { first_name: 'Jenny', dob_year: 1990 });
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
    const { idc, events } = client();
    const sent = new Promise((resolve) => idc.on('sent', resolve));
    await idc.identify({ email: 'auto@test.com' });
    deepEqual(await sent, { count: 1 });
    assert(await profileOf('auto@test.com'), 'delivered');
    equal(events.retry.length, 0);
  });

  it('sends in batches of batchSize, oldest first', async () => {
    const { idc, endpoint } = client('/api/profiles', { batchSize: 2 });
    const emails = emailsFor('batch', 5);
    for (const email of emails) await idc.identify({ email });
    deepEqual(await idc.flush(), { sent: 5, pending: 0, dropped: 0 });
    deepEqual(await forwardedEmails(), [emails.slice(0, 2), emails.slice(2, 4), emails.slice(4)]);
    equal((await storedRecords(endpoint)).length, 0, 'queue empty:');
  });

  it('drops only the records the proxy names invalid, and resends the rest', async () => {
    const { idc, events } = client();
    const [a, b, c] = emailsFor('invalid', 3);
    await idc.identify({ email: a });
    // Valid for the client (a custom field), refused by the proxy's default allowlist.
    await idc.identify({ email: b }, { loyalty_tier: 'gold' });
    await idc.identify({ email: c });
    deepEqual(await idc.flush(), { sent: 2, pending: 0, dropped: 1 });
    equal(events.drop.length, 1);
    equal(events.drop[0].upsert.attributes.email, b);
    assert(events.drop[0].reason.includes('loyalty_tier'), events.drop[0].reason);
    deepEqual(await forwardedEmails(), [[a, c]]);
  });

  // Scheduled flushes may run beside the explicit ones here, so the assertions are about outcomes, not call counts.
  it('keeps the batch through 5xx answers, retrying with backoff, and delivers it once they stop', async () => {
    const { idc, endpoint, events } = client();
    const emails = emailsFor('errors', 3);
    await setFaults({ errorRate: 1 });
    for (const email of emails) await idc.identify({ email });
    deepEqual(await idc.flush(), { sent: 0, pending: 3, dropped: 0 });
    assert(events.retry.length >= 1, 'a retry is planned');
    assert(events.retry.every((r) => r.status === 502), `the proxy reports upstream failure as 502: ${JSON.stringify(events.retry)}`);
    assert(events.retry[0].delay <= 2000, `first backoff ${events.retry[0].delay} within 2 s`);
    const attempts = (await storedRecords(endpoint)).map((r) => r.attempts);
    assert(attempts.length == 3 && attempts.every((a) => a >= 1 && a == attempts[0]), `attempts counted: ${attempts}`);

    await setFaults({});
    equal((await idc.flush()).pending, 0);
    for (const email of emails) assert(await profileOf(email), `${email} delivered`);
    equal(events.sent.reduce((n, e) => n + e.count, 0), 3, 'each acknowledged once:');
    equal(events.drop.length, 0, 'nothing dropped:');
  });

  it('honours Retry-After when the API is rate limiting', async () => {
    const { idc, events } = client();
    await setFaults({ burstRate: 1, burstLength: 1 });
    await idc.identify({ email: 'limited@test.com' });
    deepEqual(await idc.flush(), { sent: 0, pending: 1, dropped: 0 });
    const [retry] = events.retry;
    assert([429, 503].includes(retry.status), `status ${retry.status}`);
    assert(retry.delay >= 1000, `waits at least the Retry-After second: ${retry.delay}`);
    await setFaults({});
    // The scheduled retry, not an explicit flush, delivers it.
    await new Promise((resolve) => idc.on('sent', resolve));
    assert(await profileOf('limited@test.com'));
  });

  it('retries when the upstream drops the connection', async () => {
    const { idc, events } = client();
    await setFaults({ dropRate: 1 });
    await idc.identify({ email: 'dropped@test.com' });
    equal((await idc.flush()).pending, 1);
    assert(events.retry.length >= 1 && events.retry.every((r) => r.status >= 502), JSON.stringify(events.retry));
    await setFaults({});
    equal((await idc.flush()).pending, 0);
    assert(await profileOf('dropped@test.com'));
  });

  it('halves the batch on 413 until it fits', async () => {
    const { idc } = client('/api/small');
    const emails = emailsFor('split', 12);
    for (const email of emails) await idc.identify({ email }, { street1: 'x'.repeat(200) });
    deepEqual(await idc.flush(), { sent: 12, pending: 0, dropped: 0 });
    const batches = await forwardedEmails();
    deepEqual(batches.flat(), emails, 'all, in order:');
    assert(batches.length > 1 && batches.every((b) => b.length < 12), `split into ${batches.map((b) => b.length)}`);
  });

  it('drops a single upsert that is too large for the endpoint, with a drop event', async () => {
    const { idc, events } = client('/api/small');
    await idc.identify({ email: 'huge@test.com' }, { street1: 'x'.repeat(1000), street2: 'y'.repeat(1000), city: 'z'.repeat(1000) });
    await idc.identify({ email: 'small@test.com' });
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 1 });
    equal(events.drop[0].upsert.attributes.email, 'huge@test.com');
    assert(events.drop[0].reason.includes('too large'), events.drop[0].reason);
  });

  it('keeps the records and backs off when a cross-origin proxy refuses this origin', async () => {
    // Refused without CORS headers, the answer is unreadable: to the page it is a network error.
    const { idc, endpoint, events } = client('/api/misconfigured');
    await idc.identify({ email: 'kept@test.com' });
    deepEqual(await idc.flush(), { sent: 0, pending: 1, dropped: 0 });
    assert(events.retry.length >= 1 && events.retry[0].status === undefined, JSON.stringify(events.retry));
    assert(events.retry[0].delay > 0, 'backs off instead of spinning');
    assert((await storedRecords(endpoint))[0].attempts >= 1, 'the failed attempt is counted');
  });

  it('resolves flush() with zeros when nothing is queued', async () => {
    const { idc } = client();
    deepEqual(await idc.flush(), { sent: 0, pending: 0, dropped: 0 });
  });

  it('still delivers where Web Locks are missing, through a lease', async () => {
    const locks = Object.getOwnPropertyDescriptor(Navigator.prototype, 'locks');
    Object.defineProperty(Navigator.prototype, 'locks', { get: () => undefined, configurable: true });
    try {
      const { idc } = client();
      await idc.identify({ email: 'nolocks@test.com' });
      deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    } finally {
      Object.defineProperty(Navigator.prototype, 'locks', locks);
    }
  });

  it('does not send while another holder has the queue lock, and sends once it is released', async () => {
    const { idc, endpoint } = client();
    await idc.identify({ email: 'locked@test.com' });
    let release;
    const held = new Promise((resolve) => (release = resolve));
    const locked = new Promise((resolve) => navigator.locks.request(`idcapture:${endpoint}`, () => (resolve(), held)));
    await locked;
    deepEqual(await idc.flush(), { sent: 0, pending: 1, dropped: 0 });
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
  });
});
