// A client pointed at the wrong place must say so: the page's console and 'error' events name the endpoint and the
// likely causes, once per page on the console, while delivery keeps backing off. Playwright reads the console.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { startE2e } from '../helpers/e2e.js';
import { readFileSync } from 'node:fs';

/** The version the debug tag reports, package.json's. */
const { version: VERSION } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

let e2e;
before(async () => (e2e = await startE2e()));
after(() => e2e?.close());
beforeEach(() => e2e.backend.reset());

/** A loopback port with nothing listening on it. */
async function closedPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A page with a client for `options`, recording its console and its 'error' and 'retry' events. */
async function openClient(context, options) {
  const page = await context.newPage();
  const consoled = [];
  const waiters = new Set();
  page.on('console', (message) => {
    const entry = { type: message.type(), text: message.text() };
    consoled.push(entry);
    waiters.forEach((waiter) => waiter(entry));
  });
  /** Resolves with the first console message that matches, logged already or to come. */
  const logged = (match) =>
    new Promise((resolve) => {
      const found = consoled.find(match);
      if (found) return resolve(found);
      const waiter = (entry) => match(entry) && (waiters.delete(waiter), resolve(entry));
      waiters.add(waiter);
    });
  await page.goto(e2e.url('/test/e2e/pages/module.html'));
  await page.evaluate(() => window.ready);
  await page.evaluate((o) => {
    window.idc = window.createIdCapture(o);
    window.errors = [];
    window.retries = 0;
    window.idc.on('error', ({ error }) => window.errors.push({ name: error.name, message: error.message, status: error.status }));
    window.idc.on('retry', () => window.retries++);
  }, options);
  return { page, consoled, logged, warnings: () => consoled.filter((m) => m.type == 'warning') };
}

/** `n` explicit flushes, one after another: each is one failed attempt, without waiting out the backoff. */
const flushTimes = (page, n) =>
  page.evaluate(async (n) => {
    for (let i = 0; i < n; i++) await window.idc.flush();
  }, n);

/** The events so far, read at one moment. A scheduled flush may fail too, so counts are compared, not fixed. */
const events = (page) => page.evaluate(() => ({ errors: window.errors, retries: window.retries }));

test('nothing listening at the endpoint: after repeated failures, errors name it and the console says so once', async () => {
  const context = await e2e.browser.newContext();
  const endpoint = `http://127.0.0.1:${await closedPort()}/api/profiles`;
  const { page, warnings } = await openClient(context, { endpoint });
  await page.evaluate(() => window.idc.identify({ email: 'lost@test.com' }));
  await flushTimes(page, 2);
  let { errors, retries } = await events(page);
  assert.equal(errors.length, Math.max(0, retries - 2), 'one or two failures may be a passing hiccup');
  assert.equal(warnings().length, retries > 2 ? 1 : 0);

  await flushTimes(page, 3);
  ({ errors, retries } = await events(page));
  assert.ok(retries >= 5, 'still retrying');
  assert.equal(errors.length, retries - 2, 'an error event for each failure from the third on');
  for (const error of errors) {
    assert.equal(error.name, 'IdCaptureError');
    assert.ok(error.message.includes(endpoint), error.message);
    assert.match(error.message, /allowedOrigins/);
  }
  assert.equal(warnings().length, 1, 'the console hears it once per page');
  assert.ok(warnings()[0].text.includes(endpoint) && /proxy is running/.test(warnings()[0].text), warnings()[0].text);
  assert.equal((await page.evaluate((e) => window.storedRecords(e), endpoint)).length, 1, 'nothing is lost');
  await context.close();
});

test('a proxy that refuses the origin: the HttpError is an event each time and a console warning once', async () => {
  const context = await e2e.browser.newContext();
  const { page, warnings, consoled } = await openClient(context, { endpoint: '/api/misconfigured' });
  await page.evaluate(() => window.idc.identify({ email: 'refused@test.com' }));
  await flushTimes(page, 3);
  const { errors, retries } = await events(page);
  assert.ok(errors.length >= 3);
  assert.equal(errors.length, retries, 'one event per refusal');
  assert.ok(errors.every((e) => e.name == 'HttpError' && e.status == 403));
  assert.equal(warnings().length, 1);
  assert.match(warnings()[0].text, /\/api\/misconfigured answered 403; check the endpoint URL and the proxy's allowedOrigins/);
  assert.equal(consoled.filter((m) => m.type == 'log').length, 0, 'without debug, nothing else is logged');
  await context.close();
});

test('with debug, a start-up line names the endpoint, consent and vuid (not the unopened queue while pending), and waiting for the network is said', async () => {
  const context = await e2e.browser.newContext();
  const { page, logged } = await openClient(context, { endpoint: '/api/profiles', debug: true, consent: 'pending' });
  const vuid = await page.evaluate(() => window.idc.vuid);
  const { text } = await logged((m) => m.text.startsWith('[idcapture] started'));
  // Without consent the queue is not opened, not even to count.
  assert.equal(text, `[idcapture] started: endpoint /api/profiles, consent pending, vuid ${vuid}, idcapture ${VERSION}`);

  await context.setOffline(true);
  await page.evaluate(() => window.idc.setConsent('granted'));
  await page.evaluate(() => window.idc.flush());
  await logged((m) => m.text == '[idcapture] offline: sending waits for the network');
  await context.close();
});
