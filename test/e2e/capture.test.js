// Auto-capture and consent across real navigations, tabs and reloads, and the tag under a strict
// Content-Security-Policy: Playwright drives the browser against the real proxy and emulator on loopback.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startE2e, until } from '../helpers/e2e.js';

const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; form-action 'self'";

let e2e;
before(async () => {
  e2e = await startE2e();
  // The storefront page again, served with a strict policy: no inline script or style, fetch to this origin only.
  const html = await readFile(new URL('./pages/shop.html', import.meta.url), 'utf8');
  e2e.routes['/csp/shop.html'] = (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CSP });
    res.end(html.replace(' data-consent="pending"', ''));
  };
});
after(() => e2e?.close());
beforeEach(() => e2e.backend.reset());

const profileOf = (email) => e2e.backend.emulator.profiles().find((p) => p.email === email);

async function open(context, path = '/test/e2e/pages/shop.html') {
  const page = await context.newPage();
  await page.goto(e2e.url(path));
  await page.evaluate(() => window.ready);
  return page;
}

/** Fills the newsletter form and submits it without leaving the page (the page's own handler prevents it). */
const subscribeInPlace = (page, email) =>
  page.evaluate((email) => {
    const form = document.querySelector('#newsletter');
    form.addEventListener('submit', (e) => e.preventDefault(), { once: true });
    form.elements['contact[email]'].value = email;
    form.requestSubmit();
  }, email);

const cookieNames = async (context) => (await context.cookies()).map((c) => c.name);

test('a typed email and a real submit that navigates away reach the emulator as one profile', async () => {
  const context = await e2e.browser.newContext();
  const page = await open(context, '/test/e2e/pages/thanks.html');
  await page.goto(e2e.url('/test/e2e/pages/shop.html'));
  await page.evaluate(() => window.ready);
  await page.evaluate(() => window.idcapture.setConsent('granted'));
  const vuid = await page.evaluate(() => window.idcapture.vuid);
  await page.fill('#email', 'Navigated@Test.com');
  await Promise.all([page.waitForURL(/thanks\.html/), page.click('#subscribe')]);
  const profile = await until(() => profileOf('navigated@test.com'), 'the profile');
  assert.equal(profile.vuid, vuid);
  await context.close();
});

test('consent reaches the other tabs and the next pages: pending → granted persists and queues, granted → denied purges', async () => {
  const context = await e2e.browser.newContext();
  // Deliveries would empty the queue under the test's feet: the proxy is made to refuse for now.
  await context.route('**/api/profiles', (route) => route.fulfill({ status: 503, headers: { 'retry-after': '3600' } }));
  const [a, b] = [await open(context), await open(context)];
  await subscribeInPlace(a, 'tab-a@test.com');
  await subscribeInPlace(b, 'tab-b@test.com');
  assert.deepEqual(await cookieNames(context), [], 'no cookie while pending');
  assert.deepEqual(await a.evaluate(() => Object.keys(localStorage)), [], 'no localStorage while pending');

  await a.evaluate(() => window.idcapture.setConsent('granted'));
  const stored = () => a.evaluate(() => window.storedRecords().then((r) => r.map((x) => x.upsert.attributes.email).sort()));
  await until(async () => (await stored()).length == 2, "both tabs' captures queued");
  assert.deepEqual(await stored(), ['tab-a@test.com', 'tab-b@test.com']);
  const vuid = await a.evaluate(() => window.idcapture.vuid);
  assert.equal(await b.evaluate(() => window.idcapture.vuid), vuid, 'one visitor for both tabs');
  assert.deepEqual(await cookieNames(context), ['vuid']);

  // The next page starts granted although its tag says data-consent="pending".
  await b.reload();
  await b.evaluate(() => window.ready);
  assert.equal(await b.evaluate(() => window.idcapture.vuid), vuid);
  await b.evaluate(() => window.idcapture.identify({ email: 'after-reload@test.com' }));
  assert.equal((await stored()).length, 3);

  await b.evaluate(() => window.idcapture.setConsent('denied'));
  await until(async () => (await stored()).length == 0, 'the queue purged');
  await until(async () => !(await cookieNames(context)).includes('vuid'), 'the vuid cookie deleted');
  assert.notEqual(await a.evaluate(() => window.idcapture.vuid), vuid, 'tab A forgot the vuid too');
  await subscribeInPlace(a, 'refused@test.com');
  await a.reload();
  await a.evaluate(() => window.ready);
  await subscribeInPlace(a, 'refused-after-reload@test.com');
  await a.evaluate(() => window.idcapture.identify({ email: 'refused-identify@test.com' }));
  assert.deepEqual(await stored(), [], 'denied is remembered');
  assert.deepEqual(await cookieNames(context), []);
  await context.close();
});

test('Global Privacy Control set before load: nothing is captured, stored or sent, even after an earlier grant', async () => {
  const context = await e2e.browser.newContext();
  // The earlier grant, remembered for the next pages; its vuid cookie is cleared, to see that none is written again.
  const earlier = await open(context);
  await earlier.evaluate(() => window.idcapture.setConsent('granted'));
  await earlier.close();
  await context.clearCookies();
  await context.addInitScript(() => {
    Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true, configurable: true });
  });
  const page = await open(context, '/csp/shop.html');
  const captured = await page.evaluate(() => {
    const seen = [];
    window.idcapture.on('capture', (d) => seen.push(d));
    return new Promise((resolve) => {
      const form = document.querySelector('#newsletter');
      form.addEventListener('submit', (e) => (e.preventDefault(), resolve(seen.length)));
      form.elements['contact[email]'].value = 'gpc@test.com';
      form.requestSubmit();
    });
  });
  assert.equal(captured, 0);
  assert.deepEqual(await page.evaluate(() => window.storedRecords()), []);
  assert.deepEqual(await cookieNames(context), []);
  assert.equal(e2e.backend.requests['/api/profiles'] ?? 0, 0);
  await context.close();
});

test(`works under a strict Content-Security-Policy (${CSP}): captured, delivered, no violation`, async () => {
  const context = await e2e.browser.newContext();
  const page = await context.newPage();
  const console = [];
  page.on('console', (m) => console.push(m.text()));
  const response = await page.goto(e2e.url('/csp/shop.html'));
  assert.equal(response.headers()['content-security-policy'], CSP);
  await page.evaluate(() => window.ready);
  assert.match(await page.evaluate(() => window.idcapture.vuid), /^[0-9a-f]{32}$/, 'the tag started without the inline stub');
  await subscribeInPlace(page, 'csp@test.com');
  await until(() => profileOf('csp@test.com'), 'the profile at the emulator');
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(console.filter((text) => /Content.Security.Policy/i.test(text)), []);
  await context.close();
});
