// The unload hand-off is skipped whenever the network is known to be down: the browser says so, or a request of this
// page got no answer. Otherwise the keepalive request could only fail, or be replayed by the browser beside the next
// page's flush. The client sends through a `fetch` option that notes each call in localStorage (synchronously, so a
// call made while the page is being left is noted too) and then sends it for real; the next page reads the notes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStaticServer } from '../helpers/static-server.js';
import { launchBrowser } from '../helpers/browser.js';
import { cacheForOffline } from '../helpers/e2e.js';

let server;
let browser;
before(async () => {
  server = await startStaticServer({
    // Nothing answers: the connection is closed, as with a proxy that is down.
    '/api/down': (req) => req.socket.destroy(),
    // An answer, so the network is up, even though delivery must wait.
    '/api/busy': (req, res) => res.writeHead(503, { 'retry-after': '3600' }).end(),
  });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/**
 * Opens a client of `endpoint` with one upsert queued and one flush tried, then leaves the page; resolves the
 * keepalive requests (the hand-off) the client made, as `[path, method]`.
 */
async function leave(endpoint, { offline = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  if (offline) {
    // The page left to must load offline too: served from a cache filled now.
    await cacheForOffline(context);
    await page.goto(`${server.url}/test/e2e/pages/blank.html`);
  }
  await page.goto(`${server.url}/test/e2e/pages/module.html`);
  await page.evaluate(() => window.ready);
  await page.evaluate(async (endpoint) => {
    const noted = (init) => JSON.parse(localStorage.getItem('calls') ?? '[]').concat([[endpoint, init.method, !!init.keepalive]]);
    const fetchNoted = (input, init) => (localStorage.setItem('calls', JSON.stringify(noted(init))), fetch(input, init));
    window.idc = window.createIdCapture({ endpoint, fetch: fetchNoted });
    await window.idc.identify({ email: 'leaving@test.com' });
    const result = await window.idc.flush();
    if (result.sent || !result.pending) throw new Error(`the flush was meant to fail: ${JSON.stringify(result)}`);
  }, endpoint);
  if (offline) {
    await context.setOffline(true);
    await page.waitForFunction(() => !navigator.onLine);
  }
  await page.goto(`${server.url}/test/e2e/pages/blank.html`);
  const calls = await page.evaluate(() => JSON.parse(localStorage.getItem('calls')));
  await context.close();
  assert.ok(calls.some(([, , keepalive]) => !keepalive), 'the flush went out as an ordinary request');
  return calls.filter(([, , keepalive]) => keepalive).map(([path, method]) => [path, method]);
}

test('after a request of this page got no answer, leaving it hands nothing off', async () => {
  assert.deepEqual(await leave('/api/down'), []);
});

test('with the browser offline, leaving hands nothing off', async () => {
  assert.deepEqual(await leave('/api/busy', { offline: true }), []);
});

test('after a request that got an answer (503), leaving hands the queued upsert off', async () => {
  // The control: the same measurement sees a hand-off when the network is up.
  assert.deepEqual(await leave('/api/busy'), [['/api/busy', 'POST']]);
});
