// Capture time (issue 26): every record on the wire carries its age (ms from its capture to the body's making, by the
// browser's clock), so the proxy can date it by its own clock; what waited longer than maxAgeDays is dropped unsent;
// a queued upsert is replaced only by one that supersedes it. Through the real proxy and emulator, on a manualClock:
// each request is recorded by the `fetch` option, which passes it on to the real fetch.
import { createClient } from '../../dist/test/internals.js';
import { assert, deepEqual, equal } from './assert.js';
import { manualClock } from './clock.js';
import { holdQueue, storedRecords } from './helpers.js';

const DAY = 86_400_000;
const json = async (path, body) =>
  (await fetch(path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })).json();
const setFaults = (faults) => json('/__emulator/faults', faults);
/** Batches the proxy forwarded upstream, as lists of emails. */
const forwardedEmails = async () => (await json('/__backend/forwarded')).map((batch) => batch.map((u) => u.attributes.email));
const api = (await json('/__backend/api')).url;

let clients = [];
/**
 * A client of the proxy at `path` with a queue of its own, on `clock`, its flush lock held until `release()` (so
 * nothing leaves before). `posts` records each request as it leaves: the clock's time, keepalive, and the records
 * sent. With `step`, each request then moves the clock on by that many ms, so the next is made at a time of its own.
 */
async function client(clock, { path = '/api/profiles', endpoint, step = 0, ...options } = {}) {
  endpoint ??= `${api}${path}?queue=${Math.random().toString(36).slice(2)}`;
  const release = await holdQueue(endpoint);
  const posts = [];
  const recording = async (url, init) => {
    if (init.body) posts.push({ at: clock.now(), keepalive: init.keepalive, records: JSON.parse(init.body) });
    if (step) await clock.advance(step);
    return fetch(url, init);
  };
  const idc = createClient({ endpoint, fetch: recording, ...options }, clock).client;
  clients.push(idc);
  const drops = [];
  idc.on('drop', ({ upsert, reason }) => drops.push([upsert.attributes.email, reason]));
  return { idc, endpoint, release, posts, drops };
}

/**
 * Runs `fn` with a client of `endpoint` on a clock stopped at `time`, as a page of the site at that time that sends
 * nothing (its flush never runs: its clock never moves), then closes it.
 */
async function pageAt(endpoint, time, fn) {
  const page = createClient({ endpoint, fetch: () => Promise.reject(new TypeError('not this page')) }, manualClock(time)).client;
  await fn(page);
  page.destroy();
}

/** Each record of `posts` as [email, age], and whether every age is the send time less the capture time in `captured`. */
function ages(posts, captured) {
  for (const { at, records } of posts) {
    for (const r of records) equal(r.age, at - captured[r.attributes.email], `${r.attributes.email}'s age sent at ${at}:`);
  }
  return posts.map(({ records }) => records.map((r) => [r.attributes.email, r.age]));
}

describe('capture time on the wire', () => {
  beforeEach(() => json('/__backend/reset', {}));
  afterEach(async () => {
    clients.forEach((idc) => idc.destroy());
    clients = [];
    await setFaults({});
  });

  // The captures come from pages of the site a few seconds ago: this client's clock never moves before it sends.
  it('sends each record with its age: the send time less its capture time, nothing else beside the attributes', async () => {
    const now = Date.now();
    const { idc, endpoint, release, posts } = await client(manualClock(now));
    await pageAt(endpoint, now - 7000, (page) => page.identify({ email: 'first@test.com' }, { first_name: 'Ann' }));
    await pageAt(endpoint, now - 2000, (page) => page.identify({ email: 'second@test.com' }));
    release();
    deepEqual(await idc.flush(), { sent: 2, pending: 0, dropped: 0 });
    deepEqual(ages(posts, { 'first@test.com': now - 7000, 'second@test.com': now - 2000 }), [[['first@test.com', 7000], ['second@test.com', 2000]]]);
    deepEqual(posts[0].records[0], { attributes: { vuid: idc.vuid, first_name: 'Ann', email: 'first@test.com' }, age: 7000 });
    deepEqual(await forwardedEmails(), [['first@test.com', 'second@test.com']]);
  });

  it('gives a retried record its age anew at each attempt', async () => {
    const now = Date.now();
    const clock = manualClock(now);
    const { idc, endpoint, release, posts, drops } = await client(clock);
    await pageAt(endpoint, now - 1000, (page) => page.identify({ email: 'retried@test.com' }));
    await setFaults({ errorRate: 1 });
    release();
    deepEqual(await idc.flush(), { sent: 0, pending: 1, dropped: 0 });
    await setFaults({});
    // The backoff's retry (half of 1 s, at the clock's random 0.5) delivers it.
    const sent = new Promise((resolve) => idc.on('sent', resolve));
    await clock.advance(500);
    await sent;
    deepEqual(ages(posts, { 'retried@test.com': now - 1000 }), [[['retried@test.com', 1000]], [['retried@test.com', 1500]]]);
    deepEqual(drops, []);
  });

  it('gives each half of a batch too large for the endpoint its ages when it is sent', async () => {
    const now = Date.now();
    // Each request moves the clock on a second: the halves leave later than the batch the endpoint refused.
    const { idc, endpoint, release, posts } = await client(manualClock(now), { path: '/api/small', step: 1000 });
    const captured = {};
    for (let i = 0; i < 6; i++) {
      const email = `split-${i}@test.com`;
      captured[email] = now - 6000 + 1000 * i;
      await pageAt(endpoint, captured[email], (page) => page.identify({ email }, { street1: 'x'.repeat(400) }));
    }
    release();
    deepEqual(await idc.flush(), { sent: 6, pending: 0, dropped: 0 });
    const sent = ages(posts, captured);
    deepEqual(posts.map((p) => p.records.length), [6, 3, 3], 'refused whole, then sent in halves:');
    // The oldest went in the refused batch, then in the first half, a second later; the second half a second after.
    deepEqual(sent.map((batch) => batch[0]), [['split-0@test.com', 6000], ['split-0@test.com', 7000], ['split-3@test.com', 5000]]);
    deepEqual((await forwardedEmails()).flat(), Object.keys(captured), 'all, in order:');
  });

  it('gives the records an unload hands to keepalive requests their ages as the page goes', async () => {
    const clock = manualClock();
    const { idc, posts } = await client(clock);
    const captured = { 'queued@test.com': clock.now() };
    await idc.identify({ email: 'queued@test.com' });
    await clock.advance(3000);
    captured['later@test.com'] = clock.now();
    await idc.identify({ email: 'later@test.com' });
    await clock.advance(4000);
    const answered = new Promise((resolve) => idc.on('sent', resolve));
    dispatchEvent(new PageTransitionEvent('pagehide'));
    dispatchEvent(new PageTransitionEvent('pageshow'));
    deepEqual(ages(posts, captured), [[['queued@test.com', 7000], ['later@test.com', 4000]]]);
    assert(posts[0].keepalive, 'a keepalive request');
    // Answered while the page lives: nothing of it reaches the next test.
    await answered;
  });

  it('keeps the capture time of an upsert held while consent is pending, not the time of the grant', async () => {
    const clock = manualClock();
    const { idc, endpoint, release, posts } = await client(clock, { consent: 'pending' });
    const captured = { 'held@test.com': clock.now() };
    await idc.identify({ email: 'held@test.com' });
    await clock.advance(60_000);
    const queued = new Promise((resolve) => idc.on('queued', resolve));
    idc.setConsent('granted');
    await queued;
    equal((await storedRecords(endpoint))[0].at, captured['held@test.com'], 'stored with its capture time:');
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    deepEqual(ages(posts, captured), [[['held@test.com', 60_000]]]);
    idc.setConsent('pending');
  });

  it('keeps the capture time of a capture a page left unstored, for the next page that queues it', async () => {
    const now = Date.now();
    const endpoint = `/unavailable/${Math.random().toString(36).slice(2)}`;
    const offline = () => Promise.reject(new TypeError('offline'));
    const form = document.createElement('form');
    form.innerHTML = '<input type="email" name="email" value="left@test.com"><button>Subscribe</button>';
    form.addEventListener('submit', (e) => e.preventDefault());
    document.body.append(form);
    // A day ago, a page captured it and went before its IndexedDB write was done.
    const page = createClient({ endpoint, fetch: offline }, manualClock(now - DAY)).client;
    form.requestSubmit();
    dispatchEvent(new PageTransitionEvent('pagehide'));
    page.destroy();
    form.remove();
    const next = createClient({ endpoint, autocapture: false, fetch: offline }, manualClock(now)).client;
    clients.push(next);
    await new Promise((resolve) => next.on('queued', ({ upsert }) => upsert.attributes.email == 'left@test.com' && resolve()));
    const stored = (await storedRecords(endpoint)).filter((r) => r.upsert.attributes.email == 'left@test.com');
    deepEqual(stored.map((r) => r.at), [now - DAY], 'queued with its capture time:');
  });
});

describe('maxAgeDays', () => {
  beforeEach(() => json('/__backend/reset', {}));
  afterEach(() => {
    clients.forEach((idc) => idc.destroy());
    clients = [];
  });

  it("drops what waited longer than maxAgeDays unsent, with a 'drop' event (reason 'expired'), and sends the rest", async () => {
    // One queue, as the pages of a site share it: a page a day and a millisecond ago, one exactly a day ago, one now.
    const now = Date.now();
    const clock = manualClock(now);
    const { idc, endpoint, release, posts, drops } = await client(clock, { maxAgeDays: 1 });
    await idc.identify({ email: 'fresh-1@test.com' });
    for (const [email, ago] of [['expired@test.com', DAY + 1], ['day-old@test.com', DAY]]) {
      await pageAt(endpoint, now - ago, (page) => page.identify({ email }));
    }
    await idc.identify({ email: 'fresh-2@test.com' });
    release();
    deepEqual(await idc.flush(), { sent: 3, pending: 0, dropped: 1 });
    deepEqual(drops, [['expired@test.com', 'expired']]);
    deepEqual(posts.map((p) => p.records.map((r) => [r.attributes.email, r.age])), [
      [['fresh-1@test.com', 0], ['day-old@test.com', DAY], ['fresh-2@test.com', 0]],
    ]);
    deepEqual((await forwardedEmails()).flat(), ['fresh-1@test.com', 'day-old@test.com', 'fresh-2@test.com']);
    deepEqual(await storedRecords(endpoint), [], 'nothing left queued:');
  });

  it('is 30 days unless set', async () => {
    const now = Date.now();
    const clock = manualClock(now);
    const { idc, endpoint, release, drops } = await client(clock);
    for (const [email, ago] of [['month-old@test.com', 30 * DAY + 1], ['thirty-days@test.com', 30 * DAY]]) {
      await pageAt(endpoint, now - ago, (page) => page.identify({ email }));
    }
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 1 });
    deepEqual(drops, [['month-old@test.com', 'expired']]);
    deepEqual((await forwardedEmails()).flat(), ['thirty-days@test.com']);
  });

  it('leaves expired records out of the unload hand-off', async () => {
    const now = Date.now();
    const clock = manualClock(now);
    // A tab that looks again only every ten days, so the days pass without a flush.
    const { idc, endpoint, posts } = await client(clock, { maxAgeDays: 2, flushInterval: 10 * DAY });
    await idc.identify({ email: 'expiring@test.com' });
    await clock.advance(DAY);
    await idc.identify({ email: 'newer@test.com' });
    // The first has now waited two days and a millisecond: it expires between the snapshot and the unload.
    await clock.advance(DAY + 1);
    const answered = new Promise((resolve) => idc.on('sent', resolve));
    dispatchEvent(new PageTransitionEvent('pagehide'));
    dispatchEvent(new PageTransitionEvent('pageshow'));
    deepEqual(posts.map((p) => p.records.map((r) => [r.attributes.email, r.age])), [[['newer@test.com', DAY + 1]]]);
    await answered;
    const stored = (await storedRecords(endpoint)).map((r) => r.upsert.attributes.email);
    assert(stored.includes('expiring@test.com'), 'a flush removes it, not the hand-off');
  });
});

describe('replacing a queued upsert', () => {
  beforeEach(() => json('/__backend/reset', {}));
  afterEach(() => {
    clients.forEach((idc) => idc.destroy());
    clients = [];
  });

  // From the pages of a week ago and of a second ago, into the same queue.
  it('sends an upsert that does not supersede the newest record after it, each with its own age', async () => {
    const now = Date.now();
    const { idc, endpoint, release, posts } = await client(manualClock(now));
    await pageAt(endpoint, now - 7 * DAY - 1000, (page) => page.identify({ email: 'ann@test.com' }, { street1: '1 Old Rd', city: 'Boston' }));
    await pageAt(endpoint, now - 1000, (page) => page.identify({ email: 'ann@test.com' }, { first_name: 'Ann' }));
    release();
    deepEqual(await idc.flush(), { sent: 2, pending: 0, dropped: 0 });
    deepEqual(posts.map((p) => p.records), [
      [
        { attributes: { vuid: idc.vuid, street1: '1 Old Rd', city: 'Boston', email: 'ann@test.com' }, age: 7 * DAY + 1000 },
        { attributes: { vuid: idc.vuid, first_name: 'Ann', email: 'ann@test.com' }, age: 1000 },
      ],
    ]);
  });

  // One held for consent, or left unstored by a page, reaches the queue after what was captured since.
  it('never puts an older capture in the place of a newer one, even with the same attributes', async () => {
    const now = Date.now();
    const { idc, endpoint, release, posts } = await client(manualClock(now));
    await pageAt(endpoint, now - 1000, (page) => page.identify({ email: 'cy@test.com' }, { city: 'Cambridge' }));
    await pageAt(endpoint, now - 7 * DAY, (page) => page.identify({ email: 'cy@test.com' }, { city: 'Boston' }));
    release();
    deepEqual(await idc.flush(), { sent: 2, pending: 0, dropped: 0 });
    deepEqual(posts.map((p) => p.records.map((r) => [r.attributes.city, r.age])), [[['Cambridge', 1000], ['Boston', 7 * DAY]]]);
  });

  it('sends one that supersedes it in its place, with its own age', async () => {
    const now = Date.now();
    const { idc, endpoint, release, posts } = await client(manualClock(now));
    await pageAt(endpoint, now - 7 * DAY - 1000, (page) => page.identify({ email: 'bob@test.com' }, { city: 'Boston' }));
    await pageAt(endpoint, now - 1000, (page) => page.identify({ email: 'bob@test.com' }, { city: 'Cambridge', first_name: 'Bob' }));
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    deepEqual(posts.map((p) => p.records), [
      [{ attributes: { vuid: idc.vuid, city: 'Cambridge', first_name: 'Bob', email: 'bob@test.com' }, age: 1000 }],
    ]);
  });
});
