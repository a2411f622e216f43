import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStaticServer } from '../helpers/static-server.js';
import { launchBrowser } from '../helpers/browser.js';

let server, browser;
before(async () => {
  server = await startStaticServer();
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

test('the vuid and the queued upserts survive a reload', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/test/e2e/pages/identify.html`);
  await page.evaluate(() => window.ready);
  const vuid = await page.evaluate(() => window.idcapture.vuid);
  await page.evaluate(() =>
    Promise.all([
      window.idcapture.identify({ email: 'one@test.com' }, { first_name: 'One' }),
      window.idcapture.identify({ email: 'two@test.com' }),
    ]),
  );

  await page.reload();
  await page.evaluate(() => window.ready);
  assert.equal(await page.evaluate(() => window.idcapture.vuid), vuid);
  const records = await page.evaluate(() => window.storedRecords());
  assert.deepEqual(
    records.map((r) => r.upsert.attributes),
    [
      { vuid, first_name: 'One', email: 'one@test.com' },
      { vuid, email: 'two@test.com' },
    ],
  );
  await context.close();
});

test('upserts queued in a tab that is closed right after identify() resolves are still there', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.url}/test/e2e/pages/identify.html`);
  await page.evaluate(() => window.ready);
  await page.evaluate(() => window.idcapture.identify({ email: 'closing@test.com' }));
  await page.close();

  const next = await context.newPage();
  await next.goto(`${server.url}/test/e2e/pages/identify.html`);
  const records = await next.evaluate(() => window.storedRecords());
  assert.deepEqual(records.map((r) => r.upsert.attributes.email), ['closing@test.com']);
  await context.close();
});

test("reset() in one tab gives every open tab the new vuid, so the next customer's login is not tied to the last", async () => {
  const context = await browser.newContext();
  const [a, b] = [await context.newPage(), await context.newPage()];
  for (const page of [a, b]) {
    await page.goto(`${server.url}/test/e2e/pages/identify.html`);
    await page.evaluate(() => window.ready);
  }
  const before = await b.evaluate(() => window.idcapture.vuid);
  const after = await a.evaluate(() => (window.idcapture.reset(), window.idcapture.vuid));
  assert.notEqual(after, before);
  await b.waitForFunction((vuid) => window.idcapture.vuid === vuid, after, { timeout: 5000 });
  await context.close();
});
