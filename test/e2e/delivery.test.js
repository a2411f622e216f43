// Offline, several tabs, a tab closed mid-flush and unload: Playwright drives Chromium against the real proxy and
// emulator on loopback (test/helpers/e2e.js). Each test has a fresh browser context: its own IndexedDB and cookies.
// These use Playwright's own controls (an offline reload served from a route cache, init scripts), which exist for
// Chromium only here; offline-unload.test.js runs the scenarios Safari users depend on in every engine.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { cacheForOffline, countKeepalive, handedOffBatches, startE2e, until } from '../helpers/e2e.js';
import { selectedEngines } from '../browsers.js';

if (selectedEngines().includes('chromium')) describe('chromium', () => {
  let e2e;
  before(async () => (e2e = await startE2e()));
  after(() => e2e?.close());
  beforeEach(() => e2e.backend.reset());

  const applied = () => e2e.backend.emulator.stats().recordsApplied;
  const emailsInEmulator = (prefix = '') =>
    new Set(e2e.backend.emulator.profiles().flatMap((p) => p.emails ?? []).filter((e) => e.startsWith(prefix)));
  const forwardedEmails = (prefix = '') =>
    e2e.backend.forwarded
      .flat()
      .map((u) => u.attributes.email)
      .filter((e) => e.startsWith(prefix));

  /** A page of the npm build with a client `window.idc` created with `options`. */
  async function openClient(context, options = {}) {
    const page = await context.newPage();
    await page.goto(e2e.url('/test/e2e/pages/module.html'));
    await page.evaluate(() => window.ready);
    await page.evaluate((o) => (window.idc = window.createIdCapture({ endpoint: '/api/profiles', ...o })), options);
    return page;
  }

  const identifyMany = (page, prefix, n, attributes = {}) =>
    page.evaluate(
      async ([prefix, n, attributes]) => {
        for (let i = 0; i < n; i++) await window.idc.identify({ email: `${prefix}-${i}@test.com` }, attributes);
      },
      [prefix, n, attributes],
    );

  test('identified while offline and across an offline reload: everything arrives once, after going online', async () => {
    const context = await e2e.browser.newContext();
    await cacheForOffline(context);
    const page = await openClient(context);
    await context.setOffline(true);
    await identifyMany(page, 'offline', 3);
    // A flush while offline, the same drain the scheduled ones run, sends nothing and keeps all three.
    assert.deepEqual(await page.evaluate(() => window.idc.flush()), { sent: 0, pending: 3, dropped: 0 });
    assert.equal(e2e.backend.forwarded.length, 0, 'no request is attempted while offline');

    await page.reload();
    await page.evaluate(() => window.ready);
    assert.equal(await page.evaluate(() => navigator.onLine), false);
    await page.evaluate(() => (window.idc = window.createIdCapture({ endpoint: '/api/profiles' })));
    await identifyMany(page, 'after-reload', 2);
    assert.equal((await page.evaluate(() => window.storedRecords())).length, 5, 'all five durable while offline');

    await context.setOffline(false);
    await until(() => applied() === 5, 'the five upserts to arrive');
    assert.deepEqual(forwardedEmails(), [0, 1, 2].map((i) => `offline-${i}@test.com`).concat([0, 1].map((i) => `after-reload-${i}@test.com`)));
    await until(async () => (await page.evaluate(() => window.storedRecords())).length === 0, 'the queue to empty');
    await context.close();
  });

  for (const tabs of [2, 3]) {
    test(`${tabs} tabs share a backlog of hundreds: each upsert arrives, in queue order, one tab flushing at a time`, async () => {
      const context = await e2e.browser.newContext();
      const pages = [];
      for (let t = 0; t < tabs; t++) pages.push(await openClient(context));
      await context.setOffline(true);
      // The tabs queue at the same time, so their records interleave in the shared queue.
      await Promise.all(pages.map((page, t) => identifyMany(page, `tabs${tabs}-${t}`, 150)));
      const queued = (await pages[0].evaluate(() => window.storedRecords())).map((r) => r.upsert.attributes.email);
      assert.equal(queued.length, tabs * 150);

      await context.setOffline(false);
      await until(() => emailsInEmulator(`tabs${tabs}-`).size === tabs * 150, `all ${tabs * 150} upserts to arrive`);
      const sent = forwardedEmails(`tabs${tabs}-`);
      const firstArrivals = [...new Set(sent)];
      assert.deepEqual(firstArrivals, queued, 'first arrivals follow the queue order');
      const duplicates = sent.length - firstArrivals.length;
      console.log(`# ${tabs} tabs, ${queued.length} upserts: ${e2e.backend.forwarded.length} requests, ${duplicates} duplicates`);
      assert.equal(duplicates, 0, 'one tab at a time sends each upsert once');
      await context.close();
    });
  }

  test('a tab closed while its flush is in flight: the next visit delivers what was not acknowledged', async () => {
    const context = await e2e.browser.newContext();
    e2e.backend.emulator.setFaults({ latencyMs: 3000 });
    const page = await openClient(context);
    await identifyMany(page, 'closed', 5);
    await until(() => e2e.backend.forwarded.length > 0, 'the flush to be in flight');
    await page.close();
    e2e.backend.emulator.setFaults({});

    const next = await openClient(context);
    await until(async () => (await next.evaluate(() => window.storedRecords())).length === 0, 'the next visit to drain the queue');
    const emails = emailsInEmulator('closed-');
    for (let i = 0; i < 5; i++) assert.ok(emails.has(`closed-${i}@test.com`), `closed-${i} delivered`);
    await context.close();
  });

  test('unload hands a backlog larger than 64 KB to keepalive requests within the budget; the rest follows next visit', async () => {
    const context = await e2e.browser.newContext();
    // Another tab holds the queue's lock, so no ordinary flush runs beside the hand-off being measured.
    const holder = await context.newPage();
    await holder.goto(e2e.url('/test/e2e/pages/blank.html'));
    await holder.evaluate(
      () => new Promise((held) => navigator.locks.request('idcapture:/api/profiles', () => (held(), new Promise(() => {})))),
    );
    const page = await openClient(context);
    await context.setOffline(true);
    const n = 300;
    // About 330 bytes each: some 100 KB in all.
    await identifyMany(page, 'unload', n, { street1: 's'.repeat(280) });
    await context.setOffline(false);
    // The page learns it is online a moment later; offline, it would rightly hand nothing off.
    await page.waitForFunction(() => navigator.onLine);
    await countKeepalive(page);
    await page.goto(e2e.url('/test/e2e/pages/blank.html'));
    // Only this test's upserts count: a late request of an earlier test may still land.
    const ours = await handedOffBatches(e2e.backend, 'unload-', page);
    const bytes = ours.reduce((sum, batch) => sum + Buffer.byteLength(JSON.stringify(batch)), 0);
    const handedOff = ours.flat().map((u) => u.attributes.email);
    console.log(`# unload: ${ours.length} keepalive requests, ${handedOff.length} upserts, ${bytes} bytes`);
    assert.ok(bytes <= 60_000, `keepalive bodies total ${bytes} bytes, within the 64 KB budget`);
    assert.ok(handedOff.length > 100 && handedOff.length < n, `more than one batch, not everything: ${handedOff.length}`);
    // Concurrent keepalive requests may arrive in any order; which records went is what matters: the oldest.
    assert.deepEqual(new Set(handedOff), new Set(Array.from({ length: handedOff.length }, (_, i) => `unload-${i}@test.com`)));

    await holder.close();
    const next = await openClient(context);
    await until(() => emailsInEmulator('unload-').size === n, `all ${n} upserts to arrive`);
    await until(async () => (await next.evaluate(() => window.storedRecords())).length === 0, 'the queue to empty');
    await context.close();
  });

  test('a tab that leaves does not resend what another tab has delivered since it last looked', async () => {
    const context = await e2e.browser.newContext();
    await cacheForOffline(context);
    const a = await openClient(context);
    await context.setOffline(true);
    await identifyMany(a, 'stale', 3);
    // B runs on a clock of its own that never moves, so it flushes only when told, and records what it posts.
    const b = await context.newPage();
    await b.goto(e2e.url('/test/e2e/pages/module.html'));
    await b.evaluate(async () => {
      await window.ready;
      const { createClient } = await import('/dist/test/internals.js');
      const { manualClock } = await import('/test/browser/clock.js');
      window.posts = [];
      const fetchAndRecord = (input, init) => {
        window.posts.push(JSON.parse(init.body).map((u) => u.attributes.email));
        return fetch(input, init);
      };
      window.idc = createClient({ endpoint: '/api/profiles', fetch: fetchAndRecord }, manualClock()).client;
    });
    // B's flush, offline, notes the three as pending: what it would hand off on leaving.
    assert.deepEqual(await b.evaluate(() => window.idc.flush()), { sent: 0, pending: 3, dropped: 0 });
    await context.setOffline(false);
    await Promise.all([a, b].map((page) => page.waitForFunction(() => navigator.onLine)));
    // A delivers them (by this flush, or by the one it planned on coming online); B, whose planned flushes never come
    // due, has not looked at the queue since.
    assert.equal((await a.evaluate(() => window.idc.flush())).pending, 0);
    assert.equal(emailsInEmulator('stale').size, 3);
    // B learns of it through localStorage, whose changes reach another tab's process a moment later (until then a
    // resend is possible, and harmless) and in order: once B sees a change A makes next, it has seen A's earlier ones.
    await b.evaluate(() => {
      window.afterA = new Promise((resolve) => addEventListener('storage', (e) => e.key == 'test-after-a' && resolve()));
    });
    await a.evaluate(() => localStorage.setItem('test-after-a', '1'));
    await b.evaluate(() => window.afterA);
    // B leaves: its hand-off runs within the pagehide event, so what it posts is known as the event returns.
    const posts = await b.evaluate(() => {
      dispatchEvent(new PageTransitionEvent('pagehide'));
      return window.posts;
    });
    assert.deepEqual(posts, [], 'no keepalive resend of delivered upserts');
    await context.close();
  });

  /**
   * A page of the npm build whose client runs on a clock of its own that never moves (it flushes only when told) and
   * posts through `window.posts`: each post is noted (keepalive or not, the records' `first_name`s) and held until the
   * test calls its `release()`, so the test decides in which order the requests reach the proxy.
   */
  async function openHeldClient(context) {
    const page = await context.newPage();
    await page.goto(e2e.url('/test/e2e/pages/module.html'));
    await page.evaluate(async () => {
      await window.ready;
      const { createClient } = await import('/dist/test/internals.js');
      const { manualClock } = await import('/test/browser/clock.js');
      window.posts = [];
      const held = (input, init) =>
        new Promise((resolve) => {
          const release = () => {
            const answer = fetch(input, init);
            resolve(answer);
            return answer.then(() => {}, () => {});
          };
          window.posts.push({ keepalive: !!init.keepalive, names: JSON.parse(init.body).map((u) => u.attributes.first_name), release });
        });
      window.idc = createClient({ endpoint: '/api/profiles', fetch: held }, manualClock()).client;
    });
    return page;
  }

  /** The `first_name` of `email` in the emulator, once nothing is pending there. */
  const firstNameOf = (email) => e2e.backend.emulator.profiles().find((p) => (p.emails ?? []).includes(email))?.first_name;

  test('a tab that leaves mid-flush hands off at least what its flush has on the wire, so a late hand-off cannot undo it', async () => {
    const context = await e2e.browser.newContext();
    await cacheForOffline(context);
    const a = await openHeldClient(context);
    // Offline, A queues v1 for P and a record of Q, and its flush notes both as what it would hand off on leaving.
    await context.setOffline(true);
    await a.evaluate(async () => {
      await window.idc.identify({ email: 'p@wire.test' }, { first_name: 'v1' });
      await window.idc.identify({ email: 'q@wire.test' }, { first_name: 'q1' });
    });
    assert.deepEqual(await a.evaluate(() => window.idc.flush()), { sent: 0, pending: 2, dropped: 0 });
    // Another tab queues P's newer value: A's note of the queue no longer holds all of it.
    const c = await openHeldClient(context);
    await c.evaluate(() => window.idc.identify({ email: 'p@wire.test' }, { first_name: 'v2' }));
    await context.setOffline(false);
    await Promise.all([a, c].map((page) => page.waitForFunction(() => navigator.onLine)));
    // A's flush takes the whole queue, v1, q1, v2, onto the wire; A leaves while it is there (a tab closed mid-flush).
    await a.evaluate(() => void (window.flushed = window.idc.flush()));
    await a.waitForFunction(() => window.posts.length == 1);
    const posts = await a.evaluate(() => {
      dispatchEvent(new PageTransitionEvent('pagehide'));
      return window.posts.map(({ keepalive, names }) => ({ keepalive, names }));
    });
    assert.deepEqual(posts[0], { keepalive: false, names: ['v1', 'q1', 'v2'] });
    // The flush reaches the proxy first, the hand-off after it: P's last write must still be v2.
    await a.evaluate(async () => {
      await window.posts[0].release();
      await window.flushed;
      await Promise.all(window.posts.slice(1).map((post) => post.release()));
    });
    await until(() => e2e.backend.emulator.stats().pending === 0 && firstNameOf('p@wire.test') !== undefined, 'P to arrive');
    assert.equal(firstNameOf('p@wire.test'), 'v2');
    assert.deepEqual(posts.slice(1), [{ keepalive: true, names: ['v1', 'q1', 'v2'] }], 'the hand-off carries the flush it follows, whole');
    await context.close();
  });

  test('a tab that leaves while another tab flushes does not hand off what that flush has on the wire', async () => {
    const context = await e2e.browser.newContext();
    await cacheForOffline(context);
    const a = await openHeldClient(context);
    await context.setOffline(true);
    await a.evaluate(async () => {
      await window.idc.identify({ email: 'p@other.test' }, { first_name: 'v1' });
      await window.idc.identify({ email: 'q@other.test' }, { first_name: 'q1' });
    });
    // A's note of what it would hand off on leaving: v1 and q1.
    assert.deepEqual(await a.evaluate(() => window.idc.flush()), { sent: 0, pending: 2, dropped: 0 });
    const b = await openHeldClient(context);
    await b.evaluate(() => window.idc.identify({ email: 'p@other.test' }, { first_name: 'v2' }));
    await context.setOffline(false);
    await Promise.all([a, b].map((page) => page.waitForFunction(() => navigator.onLine)));
    // B's flush puts v1, q1, v2 on the wire; A learns of it through localStorage (in order, as in the test above).
    await b.evaluate(() => void (window.flushed = window.idc.flush()));
    await b.waitForFunction(() => window.posts.length == 1);
    await a.evaluate(() => {
      window.afterB = new Promise((resolve) => addEventListener('storage', (e) => e.key == 'test-after-b' && resolve()));
    });
    await b.evaluate(() => localStorage.setItem('test-after-b', '1'));
    await a.evaluate(() => window.afterB);
    // A leaves: were it to hand off v1 and q1, and were that to land after B's flush, P would be back to v1.
    const handedOff = await a.evaluate(() => {
      dispatchEvent(new PageTransitionEvent('pagehide'));
      return window.posts.map(({ names }) => names);
    });
    await b.evaluate(async () => {
      await window.posts[0].release();
      await window.flushed;
    });
    await a.evaluate(() => Promise.all(window.posts.map((post) => post.release())));
    await until(() => e2e.backend.emulator.stats().pending === 0 && firstNameOf('p@other.test') !== undefined, 'P to arrive');
    assert.equal(firstNameOf('p@other.test'), 'v2');
    assert.deepEqual(handedOff, [], 'no hand-off of what B has on the wire');
    await context.close();
  });

  test('with IndexedDB unavailable, the unload hand-off still sends what this page queued', async () => {
    const context = await e2e.browser.newContext();
    // An earlier page, with IndexedDB, delivered records 1 to 3: memory ids start again at 1 and must not be held to
    // what it delivered.
    const earlier = await openClient(context);
    await identifyMany(earlier, 'delivered-earlier', 3);
    // Sent by this flush or by the one the page planned itself: either way, delivered from IndexedDB.
    assert.equal((await earlier.evaluate(() => window.idc.flush())).pending, 0);
    assert.equal(emailsInEmulator('delivered-earlier').size, 3);
    await earlier.close();
    await context.addInitScript(() => Object.defineProperty(window, 'indexedDB', { value: undefined }));
    const page = await openClient(context);
    await page.evaluate(() => window.idc.identify({ email: 'memory-only@test.com' }));
    await page.goto(e2e.url('/test/e2e/pages/blank.html'));
    await until(() => emailsInEmulator('memory-only').size === 1, 'the hand-off to deliver it', 5000);
    await context.close();
  });

  test("coming back online ends a backoff another page left behind", async () => {
    const context = await e2e.browser.newContext();
    // A page that failed earlier left an hour's backoff for the whole origin: the proxy asked it to wait that long.
    await context.route('**/api/profiles', (route) => route.fulfill({ status: 503, headers: { 'retry-after': '3600' } }));
    const earlier = await openClient(context);
    await identifyMany(earlier, 'refused-earlier', 1);
    const retry = await earlier.evaluate(() => new Promise((resolve) => (window.idc.on('retry', resolve), window.idc.flush())));
    assert.equal(retry.delay, 3_600_000);
    await earlier.close();
    await context.unroute('**/api/profiles');
    const page = await openClient(context);
    await context.setOffline(true);
    await identifyMany(page, 'back-online', 1);
    await context.setOffline(false);
    await until(() => emailsInEmulator('back-online').size === 1, 'delivery soon after online', 5000);
    await context.close();
  });

  test('maxQueueSize reached while offline: the oldest are dropped with events, the newest delivered', async () => {
    const context = await e2e.browser.newContext();
    const page = await openClient(context, { maxQueueSize: 50 });
    await page.evaluate(() => {
      window.drops = [];
      window.idc.on('drop', ({ upsert, reason }) => window.drops.push([upsert.attributes.email, reason]));
    });
    await context.setOffline(true);
    await identifyMany(page, 'capped', 80);
    const drops = await page.evaluate(() => window.drops);
    assert.deepEqual(drops, Array.from({ length: 30 }, (_, i) => [`capped-${i}@test.com`, 'maxQueueSize']));

    await context.setOffline(false);
    await until(() => emailsInEmulator('capped-').size === 50, 'the 50 newest to arrive');
    assert.deepEqual(forwardedEmails('capped-'), Array.from({ length: 50 }, (_, i) => `capped-${i + 30}@test.com`));
    await context.close();
  });

  test('a same-origin proxy that refuses the page (403): records kept, an error event with a hint, backoff', async () => {
    const context = await e2e.browser.newContext();
    const page = await openClient(context, { endpoint: '/api/misconfigured' });
    const outcome = await page.evaluate(async () => {
      const events = { error: [], retry: [] };
      window.idc.on('error', ({ error }) => events.error.push({ name: error.name, status: error.status, message: error.message }));
      window.idc.on('retry', (detail) => events.retry.push(detail));
      await window.idc.identify({ email: 'kept@test.com' });
      const result = await window.idc.flush();
      return { result, events, stored: await window.storedRecords('/api/misconfigured') };
    });
    assert.deepEqual(outcome.result, { sent: 0, pending: 1, dropped: 0 });
    const [error] = outcome.events.error;
    assert.equal(error.name, 'HttpError');
    assert.equal(error.status, 403);
    assert.match(error.message, /allowedOrigins/);
    assert.equal(outcome.events.retry[0].status, 403);
    assert.ok(outcome.events.retry[0].delay > 0, 'backs off instead of spinning');
    assert.equal(outcome.stored.length, 1);
    await context.close();
  });
});
