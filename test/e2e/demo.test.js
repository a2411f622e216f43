// `npm run demo` as a visitor meets it: the demo server runs as its own process on a free port, and Playwright drives
// Debian's Chromium through the storefront pages and the inspector. Each test has a fresh context (cookies, storage).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchBrowser } from '../helpers/browser.js';
import { startDemo } from '../helpers/demo.js';
import { until } from '../helpers/e2e.js';

/** Screenshots for a person to look at (git-ignored). */
const shots = fileURLToPath(new URL('../../test-results/', import.meta.url));
const CARD = '4242424242424242';

let demo, browser;
before(async () => {
  [demo, browser] = await Promise.all([startDemo(), launchBrowser()]);
  await mkdir(shots, { recursive: true });
});
after(async () => {
  await browser?.close();
  demo?.kill();
});

const emulatorProfiles = async () => (await fetch(`${demo.url}/__emulator/profiles`)).json();
const profileWith = async (email) => (await emulatorProfiles()).find((p) => p.emails?.includes(email));

/** A page with the inspector open; every request it makes is recorded in `requests` as `METHOD url body`. */
async function open(context, path) {
  const page = await context.newPage();
  page.requests = [];
  page.on('request', (r) => page.requests.push(`${r.method()} ${r.url()} ${r.postData() ?? ''}`));
  await page.goto(`${demo.url}${path}`);
  await page.waitForFunction(() => typeof window.idcapture?.on == 'function');
  if (!(await page.locator('#idc-inspector.open').count())) await page.click('#idc-toggle');
  // The drawer slides in: wait until it is all on screen.
  await page.waitForFunction(() => document.querySelector('#idc-inspector').getBoundingClientRect().right <= innerWidth);
  return page;
}
const inspector = (page, field) => page.locator(`#idc-inspector [data-field="${field}"]`);

/**
 * Serves the pages from a cache filled while online, the way a service worker would, so a page can be reloaded while
 * the context is offline. The proxy and the demo's live routes are never cached.
 */
async function cachePages(context) {
  const cache = new Map();
  await context.route('**/*', async (route) => {
    const request = route.request();
    if (request.method() != 'GET' || /^\/(api|demo|__emulator)\//.test(new URL(request.url()).pathname)) return route.fallback();
    if (!cache.has(request.url())) {
      const response = await route.fetch();
      cache.set(request.url(), { status: response.status(), headers: response.headers(), body: await response.body() });
    }
    return route.fulfill(cache.get(request.url()));
  });
}

test('the demo listens on 127.0.0.1 and prints its URL and three things to try', async () => {
  assert.match(demo.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.match(demo.output(), /upstream: the embedded emulator/);
  assert.equal((demo.output().match(/^\s+[123]\. /gm) ?? []).length, 3);
  for (const path of ['/', '/register.html', '/checkout.html', '/spa.html', '/idcapture.js', '/idcapture.debug.js']) {
    assert.equal((await fetch(`${demo.url}${path}`)).status, 200, path);
  }
});

test('the home page shows the storefront with the inspector open (screenshot under test-results/)', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await open(context, '/');
  const vuid = await page.evaluate(() => window.idcapture.vuid);
  await assert.doesNotReject(inspector(page, 'vuid').filter({ hasText: vuid }).waitFor());
  await inspector(page, 'profile').getByText('You are not signed in').waitFor();
  assert.equal(await inspector(page, 'consent').textContent(), 'granted');
  assert.equal(await inspector(page, 'network').textContent(), 'online');
  await page.screenshot({ path: `${shots}demo-home.png` });
  await context.close();
});

test('an email typed into the newsletter box becomes a profile, anonymous: not tied to this visitor until sign-in', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await open(context, '/');
  const vuid = await page.evaluate(() => window.idcapture.vuid);
  await page.fill('#newsletter input[type=email]', 'Newsletter@Test.com');
  await page.click('#newsletter button');
  await until(() => profileWith('newsletter@test.com'), 'the newsletter profile', 15000);
  const profile = await profileWith('newsletter@test.com');
  assert.ok(!(profile.vuids ?? []).includes(vuid), 'an unverified upsert does not pair the vuid with the email');
  await page.screenshot({ path: `${shots}demo-home-profile.png` });
  await context.close();
});

test('signed in, the upsert is verified: the address is stored and the profile is this visitor\'s, in the inspector too', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await open(context, '/account.html');
  const vuid = await page.evaluate(() => window.idcapture.vuid);
  await page.fill('#s-email', 'member@test.com');
  await page.fill('#s-first', 'Mia');
  await page.fill('#s-street', '7 Dock St');
  await page.fill('#s-city', 'Bath');
  await page.click('#signin button[type=submit]');
  await page.locator('#signed-in').waitFor();
  await inspector(page, 'profile').getByText('"member@test.com"').first().waitFor({ timeout: 15000 });
  const profile = await profileWith('member@test.com');
  assert.deepEqual([profile.first_name, profile.street1, profile.city], ['Mia', '7 Dock St', 'Bath']);
  assert.ok(profile.vuids.includes(vuid), 'tied to this visitor by the token');
  assert.ok(page.requests.some((r) => r.startsWith('POST') && r.includes('/api/profiles') && r.includes('"token"')), 'the token went with the upsert');
  await page.screenshot({ path: `${shots}demo-signed-in.png` });
  await context.close();
});

test('registered while offline, reloaded offline, then online: the upsert was kept and arrives', async () => {
  const context = await browser.newContext();
  await cachePages(context);
  const page = await open(context, '/register.html');
  await context.setOffline(true);
  await inspector(page, 'network').getByText('offline').waitFor();
  await page.fill('#first', 'Ada');
  await page.fill('#last', 'Lovelace');
  await page.fill('#email', 'ada@test.com');
  await page.fill('#password', 'correct horse battery staple');
  await page.click('#register button');
  await page.locator('#offline-note').waitFor();
  await inspector(page, 'queue-count').getByText('1').waitFor();

  await page.reload();
  await page.waitForFunction(() => typeof window.idcapture?.on == 'function');
  await inspector(page, 'queue-count').getByText('1').waitFor();
  assert.equal(await profileWith('ada@test.com'), undefined, 'nothing arrived while offline');

  await context.setOffline(false);
  await until(() => profileWith('ada@test.com'), 'the registration to arrive', 15000);
  const profile = await profileWith('ada@test.com');
  assert.equal(profile.first_name, 'Ada');
  assert.equal(profile.last_name, 'Lovelace');
  assert.ok(!JSON.stringify(profile).includes('horse'), 'the password is never captured');
  await inspector(page, 'queue-count').getByText('0').waitFor();
  await context.close();
});

test('an anonymous checkout keeps the email and name, not the address (unverified); the card number appears in no request', async () => {
  const context = await browser.newContext();
  const page = await open(context, '/checkout.html');
  await page.fill('#c-email', 'buyer@test.com');
  await page.fill('#c-first', 'Grace');
  await page.fill('#c-street', '1 Harbor Way');
  await page.fill('#c-city', 'Portland');
  await page.fill('#c-state', 'ME');
  await page.fill('#c-zip', '04101');
  await page.fill('#c-card', '4242 4242 4242 4242');
  await page.fill('#c-exp', '12 / 30');
  await page.fill('#c-cvc', '123');
  await page.click('#checkout button');
  await page.waitForURL(/ordered=1/);
  await until(async () => (await profileWith('buyer@test.com'))?.first_name, 'the checkout to arrive', 15000);
  const profile = await profileWith('buyer@test.com');
  assert.deepEqual([profile.first_name, profile.street1, profile.city], ['Grace', undefined, undefined]);
  for (const request of page.requests) {
    assert.ok(!request.replace(/\D/g, '').includes(CARD), `the card number was sent: ${request}`);
  }
  assert.ok(!JSON.stringify(await emulatorProfiles()).replace(/\D/g, '').includes(CARD));
  // The inspector says what the proxy left out and why, and explains the anonymous path; the request the form's own
  // navigation ended is not shown as a failure.
  const activity = page.locator('#idc-inspector [data-part="activity"]');
  await activity.getByText(/reduced: .*street1.*no valid identity token/).waitFor({ timeout: 15000 });
  assert.doesNotMatch(await activity.innerText(), /no answer after/);
  await inspector(page, 'anonymous').waitFor();
  await context.close();
});

test('the demo serves the docs page it and its inspector link to, and nothing else of the repository', async () => {
  const page = await fetch(`${demo.url}/docs/demo.md`);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /^# The demo/);
  for (const path of ['/docs/%2e%2e/package.json', '/docs/demo.md.bak', '/README.md']) assert.equal((await fetch(`${demo.url}${path}`)).status, 404, path);
});

test('the inspector fits a 390 px phone: its close button stays on screen; a new visit starts with it closed', async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await open(context, '/');
  const box = await page.locator('#idc-toggle').boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= 390 && box.y >= 0 && box.y + box.height <= 844, `the button at ${JSON.stringify(box)}`);
  await page.click('#idc-toggle');
  await page.waitForFunction(() => !document.querySelector('#idc-inspector.open'));
  await page.click('#idc-toggle');
  await page.locator('#idc-inspector.open').waitFor();
  // Open in this tab's next pages; a new tab is a new visit.
  await page.reload();
  await page.locator('#idc-inspector.open').waitFor();
  const other = await context.newPage();
  await other.goto(`${demo.url}/`);
  await other.waitForFunction(() => typeof window.idcapture?.on == 'function');
  assert.equal(await other.locator('#idc-inspector.open').count(), 0);
  await context.close();
});

test('the single-page app form, sent by fetch with preventDefault, is captured too', async () => {
  const context = await browser.newContext();
  const page = await open(context, '/spa.html');
  await page.fill('#h-name', 'Linus');
  await page.fill('#h-email', 'spa@test.com');
  await page.fill('#h-message', 'Where is my order?');
  await page.click('#contact button');
  await page.locator('#sent').waitFor();
  assert.match(page.url(), /\/spa\.html$/, 'the page did not navigate');
  await until(() => profileWith('spa@test.com'), 'the contact form to arrive', 15000);
  await context.close();
});

test('the proxy on the store\'s origin keeps the vuid\'s server twin; after a Safari-style wipe it restores the vuid, in the inspector too', async () => {
  const context = await browser.newContext();
  const page = await open(context, '/');
  const vuid = await page.evaluate(() => window.idcapture.vuid);
  await inspector(page, 'twin').getByText('none').waitFor();
  await page.fill('#newsletter input[type=email]', 'twin@test.com');
  await page.click('#newsletter button');
  await inspector(page, 'twin').getByText('present').waitFor({ timeout: 15000 });
  // What Safari deletes: the script's cookie and storage; the HttpOnly twin stays.
  await page.evaluate(() => localStorage.clear());
  await context.clearCookies({ name: 'vuid' });
  await page.reload();
  await page.waitForFunction(() => typeof window.idcapture?.on == 'function');
  assert.equal(await page.evaluate(() => window.idcapture.vuid), vuid);
  if (!(await page.locator('#idc-inspector.open').count())) await page.click('#idc-toggle');
  await inspector(page, 'twin').getByText('restored').waitFor({ timeout: 15000 });
  await context.close();
});

test('the inspector switches the network, consent, identity and upstream faults', async () => {
  const context = await browser.newContext();
  const page = await open(context, '/');
  const panel = page.locator('#idc-inspector');

  await panel.getByRole('button', { name: 'Go offline' }).click();
  await inspector(page, 'network').getByText('offline').waitFor();
  assert.equal(await page.evaluate(() => navigator.onLine), false);
  await panel.getByRole('button', { name: 'Go online' }).click();
  assert.equal(await page.evaluate(() => navigator.onLine), true);

  await panel.getByRole('button', { name: 'Deny' }).click();
  await inspector(page, 'consent').getByText('denied').waitFor();
  await page.reload();
  await inspector(page, 'consent').getByText('denied').waitFor();

  const before = await page.evaluate(() => window.idcapture.vuid);
  await panel.getByRole('button', { name: 'Reset identity' }).click();
  const after = await page.evaluate(() => window.idcapture.vuid);
  assert.notEqual(after, before);
  await inspector(page, 'vuid').getByText(after).waitFor();

  await panel.getByRole('button', { name: '500s (half)' }).click();
  await until(async () => (await (await fetch(`${demo.url}/__emulator/faults`)).json()).errorRate === 0.5, 'faults to be injected');
  await panel.getByRole('button', { name: 'None' }).click();
  await until(async () => (await (await fetch(`${demo.url}/__emulator/faults`)).json()).errorRate === 0, 'faults to be removed');
  await context.close();
});

test('the profile lookup is the server’s: no route reads another visitor’s profile', async () => {
  const answer = await (await fetch(`${demo.url}/demo/profile?vuid=${'0'.repeat(32)}&email=ada@test.com`)).json();
  assert.deepEqual(answer, { email: null, profile: null, twin: 'none' }, 'without a signed-in session there is nothing to read');
  assert.equal((await fetch(`${demo.url}/api/profiles?email=ada@test.com`)).status, 405, 'the proxy never reads profiles');
});

test('the Consent Mode page: the inspector shows the source and its last answer; the address waits for the banner, then arrives', async () => {
  const context = await browser.newContext();
  const page = await open(context, '/consent-mode.html');
  await inspector(page, 'consent-source').getByText('gcm · gcm default').waitFor();
  await inspector(page, 'consent').getByText('pending').waitFor();
  await page.fill('#email', 'consent-mode@test.com');
  await page.click('#signup button');
  await page.locator('#thanks').waitFor();
  assert.ok(!page.requests.some((r) => r.includes('/api/profiles')), 'nothing sent before the visitor answers');
  assert.equal(await profileWith('consent-mode@test.com'), undefined);

  await page.click('#banner [data-choice="granted"]');
  await inspector(page, 'consent-source').getByText('gcm · gcm update').waitFor();
  await inspector(page, 'consent').getByText('granted').waitFor();
  await until(() => profileWith('consent-mode@test.com'), 'the sign-up to arrive once granted', 15000);
  await context.close();
});

test('a victim’s vuid reads nothing: the profile view answers only for the identity signed in (issue 22)', async () => {
  // The victim signs in and saves an address, tied to their vuid by the token.
  const victimVuid = 'abcdef0123456789abcdef0123456789';
  const cookie = `vuid=${encodeURIComponent(`abcdef01-2345-6789-abcd-ef0123456789|${Date.now()}`)}`;
  const login = await fetch(`${demo.url}/demo/login`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: '{"email":"victim@test.com"}' });
  const { token } = await login.json();
  const session = login.headers.get('set-cookie').split(';')[0];
  const record = { attributes: { email: 'victim@test.com', vuid: victimVuid, street1: '9 Secret Rd', zip: '90210' }, token };
  const posted = await fetch(`${demo.url}/api/profiles`, { method: 'POST', headers: { origin: demo.url, 'content-type': 'application/json' }, body: JSON.stringify([record]) });
  assert.equal(posted.status, 202);
  await until(async () => (await profileWith('victim@test.com'))?.street1, 'the victim’s address to be stored', 15000);
  // A stranger who learnt the vuid (it is in a script cookie, every upsert and the token's readable claims).
  const stranger = await (await fetch(`${demo.url}/demo/profile`, { headers: { cookie } })).json();
  assert.deepEqual(stranger, { email: null, profile: null, twin: 'none' });
  // The victim's own session reads it.
  const own = await (await fetch(`${demo.url}/demo/profile`, { headers: { cookie: `${cookie}; ${session}` } })).json();
  assert.deepEqual([own.email, own.profile.street1], ['victim@test.com', '9 Secret Rd']);
  // Signed out, the session reads nothing.
  await fetch(`${demo.url}/demo/logout`, { method: 'POST', headers: { 'content-type': 'application/json', cookie: session }, body: '{}' });
  assert.deepEqual(await (await fetch(`${demo.url}/demo/profile`, { headers: { cookie: session } })).json(), { email: null, profile: null, twin: 'none' });
});

test('Ctrl-C stops the demo cleanly', async () => {
  const { code } = await demo.stop();
  assert.equal(code, 0);
  assert.match(demo.output(), /idcapture demo stopped/);
});
