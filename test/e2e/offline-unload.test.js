// Going offline and leaving the page, in every engine of test/browsers.js, against the real proxy and emulator on
// loopback. Each test is a fresh visitor: a new browser context, or a new WebKit session.
//
// How each engine is taken offline (test/helpers/drivers.js): Chromium through Playwright, Firefox through puppeteer's
// offline mode, WebKit by removing the default route of the run's own network namespace (WebDriver has no offline
// switch; loopback still answers there, so what proves the page waited is that no request arrives while offline).
// An offline *reload* cannot be driven everywhere: Firefox refuses to navigate while offline (NS_ERROR_OFFLINE), and
// Chromium needs Playwright's route cache for it (delivery.test.js does that); WebKit reloads here. In every engine the
// queue is also shown to span tabs while offline, a tab closed while offline included, and persistence.test.js
// reloads online.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { countKeepalive, handedOffBatches, startServers, until } from '../helpers/e2e.js';
import { forEachEngine } from '../helpers/drivers.js';

let e2e;
before(async () => (e2e = await startServers()));
after(() => e2e?.close());
beforeEach(() => e2e.backend.reset());

const emailsInEmulator = (prefix) =>
  new Set(e2e.backend.emulator.profiles().flatMap((p) => p.emails ?? []).filter((e) => e.startsWith(prefix)));
const forwardedEmails = (prefix) =>
  e2e.backend.forwarded
    .flat()
    .map((u) => u.attributes.email)
    .filter((e) => e.startsWith(prefix));
const numbered = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}-${i}@test.com`);

/** Once the npm build's page has loaded, creates its client `window.idc` of the proxy at /api/profiles. */
const startClient = (tab) =>
  tab.evaluate(() => window.ready.then(() => void (window.idc = window.createIdCapture({ endpoint: '/api/profiles' }))));

/** A new tab of the npm build with a client. */
async function openClient(session) {
  const tab = await session.open(e2e.url('/test/e2e/pages/module.html'));
  await startClient(tab);
  return tab;
}

const identifyAll = (tab, emails, attributes = {}) =>
  tab.evaluate(
    async ([emails, attributes]) => {
      for (const email of emails) await window.idc.identify({ email }, attributes);
    },
    [emails, attributes],
  );

forEachEngine((engine, browser) => {
  test('queued offline in two tabs, one closed before the network returns: delivered once each, in queue order', async () => {
    const session = await browser().session();
    try {
      // Both open first: Chromium and Firefox cannot load a page while offline.
      const [a, b] = [await openClient(session), await openClient(session)];
      await session.setOffline(true);
      await Promise.all([a, b].map((tab) => tab.waitFor(() => navigator.onLine === false)));
      await identifyAll(a, numbered('offline-a', 3));
      if (session.reloadsOffline) {
        // WebKit: the page comes back while still offline, its queue intact, and sends nothing either.
        const vuid = await a.evaluate(() => window.idc.vuid);
        await a.reload();
        await startClient(a);
        assert.equal(await a.evaluate(() => navigator.onLine), false);
        assert.equal(await a.evaluate(() => window.idc.vuid), vuid);
        assert.equal((await a.evaluate(() => window.storedRecords())).length, 3);
      }
      await identifyAll(b, numbered('offline-b', 2));
      // An explicit flush while offline sends nothing and keeps everything.
      assert.deepEqual(await b.evaluate(() => window.idc.flush()), { sent: 0, pending: 5, dropped: 0 });
      await b.close();
      assert.deepEqual(forwardedEmails('offline-'), [], 'no request while offline');

      await session.setOffline(false);
      await until(() => emailsInEmulator('offline-').size === 5, 'the five upserts to arrive');
      assert.deepEqual(forwardedEmails('offline-'), [...numbered('offline-a', 3), ...numbered('offline-b', 2)]);
      await until(async () => (await a.evaluate(() => window.storedRecords())).length === 0, 'the queue to empty');
    } finally {
      await session.close();
    }
  });

  test('unload hands a backlog larger than 64 KB to keepalive requests within the budget; the rest follows next visit', async () => {
    const session = await browser().session();
    try {
      // Another tab holds the queue's lock, so no ordinary flush runs beside the hand-off being measured.
      const holder = await session.open(e2e.url('/test/e2e/pages/blank.html'));
      await holder.evaluate(
        () => new Promise((held) => navigator.locks.request('idcapture:/api/profiles', () => (held(), new Promise(() => {})))),
      );
      const page = await openClient(session);
      const n = 300;
      // About 330 bytes each: some 100 KB in all.
      await identifyAll(page, numbered('unload', n), { street1: 's'.repeat(280) });
      await countKeepalive(page);
      await page.goto(e2e.url('/test/e2e/pages/blank.html'));

      // Only this test's upserts count: a late request of an earlier test may still land.
      const ours = await handedOffBatches(e2e.backend, 'unload-', page);
      const bytes = ours.reduce((sum, batch) => sum + Buffer.byteLength(JSON.stringify(batch)), 0);
      const handedOff = ours.flat().map((u) => u.attributes.email);
      console.log(`${engine} unload: ${ours.length} keepalive requests, ${handedOff.length} upserts, ${bytes} bytes`);
      assert.ok(bytes <= 60_000, `keepalive bodies total ${bytes} bytes, within the 64 KB budget`);
      assert.ok(handedOff.length > 100 && handedOff.length < n, `more than one batch, not everything: ${handedOff.length}`);
      // Concurrent keepalive requests may arrive in any order; which records went is what matters: the oldest.
      assert.deepEqual(new Set(handedOff), new Set(numbered('unload', handedOff.length)));

      await holder.close();
      const next = await openClient(session);
      await until(() => emailsInEmulator('unload-').size === n, `all ${n} upserts to arrive`);
      await until(async () => (await next.evaluate(() => window.storedRecords())).length === 0, 'the queue to empty');
    } finally {
      await session.close();
    }
  });
});
