// What must survive the page in every engine (test/browsers.js): a reload, a tab closed at once, a logout seen by the
// other tabs. Each test is a fresh visitor (a new browser context, or a new WebKit session) on the tag build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStaticServer } from '../helpers/static-server.js';
import { forEachEngine } from '../helpers/drivers.js';

let server;
before(async () => (server = await startStaticServer()));
after(() => server?.close());

/** A tab of `session` on the tag page, loaded and with the client running. */
async function openTag(session) {
  const tab = await session.open(`${server.url}/test/e2e/pages/identify.html`);
  await tab.evaluate(() => window.ready.then(() => true));
  return tab;
}

forEachEngine((engine, browser) => {
  test('the vuid and the queued upserts survive a reload', async () => {
    const session = await browser().session();
    try {
      const page = await openTag(session);
      const vuid = await page.evaluate(() => window.idcapture.vuid);
      await page.evaluate(() =>
        Promise.all([
          window.idcapture.identify({ email: 'one@test.com' }, { first_name: 'One' }),
          window.idcapture.identify({ email: 'two@test.com' }),
        ]),
      );

      await page.reload();
      await page.evaluate(() => window.ready.then(() => true));
      assert.equal(await page.evaluate(() => window.idcapture.vuid), vuid);
      const records = await page.evaluate(() => window.storedRecords());
      assert.deepEqual(
        records.map((r) => r.upsert.attributes),
        [
          { vuid, first_name: 'One', email: 'one@test.com' },
          { vuid, email: 'two@test.com' },
        ],
      );
    } finally {
      await session.close();
    }
  });

  test('upserts queued in a tab that is closed right after identify() resolves are still there', async () => {
    const session = await browser().session();
    try {
      const page = await openTag(session);
      await page.evaluate(() => window.idcapture.identify({ email: 'closing@test.com' }));
      await page.close();

      const next = await openTag(session);
      const records = await next.evaluate(() => window.storedRecords());
      assert.deepEqual(records.map((r) => r.upsert.attributes.email), ['closing@test.com']);
    } finally {
      await session.close();
    }
  });

  test("reset() in one tab gives every open tab the new vuid, so the next customer's login is not tied to the last", async () => {
    const session = await browser().session();
    try {
      const [a, b] = [await openTag(session), await openTag(session)];
      const before = await b.evaluate(() => window.idcapture.vuid);
      const after = await a.evaluate(() => (window.idcapture.reset(), window.idcapture.vuid));
      assert.notEqual(after, before);
      await b.waitFor((vuid) => window.idcapture.vuid === vuid, after);
    } finally {
      await session.close();
    }
  });
});
