// The whole path through workerd, driven by Chromium: the demo storefront's pages, served without the tag by an
// origin behind the idcapture/edge Worker in Miniflare's HTTP server; the Worker injects the tag, serves it, and
// sends the captured upsert through the ProfileWriter Durable Object to the emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { startEmulator } from '../../dist/emulator.js';
import { launchBrowser } from '../helpers/browser.js';
import { until } from '../helpers/e2e.js';

const pages = fileURLToPath(new URL('../../demo/pages/', import.meta.url));
const TAG_LINE = /^\s*<script async src="\/idcapture\.js"[^\n]*\n/m;
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

/** The store before idcapture: the demo's pages without the tag line, its assets, its register form's handler. */
async function origin(req, res) {
  const { pathname } = new URL(req.url, 'http://x');
  if (req.method == 'POST' && pathname == '/demo/register') {
    for await (const _ of req);
    return res.writeHead(303, { location: '/register.html?welcome=1' }).end();
  }
  const file = normalize(join(pages, pathname));
  if (!file.startsWith(pages) || pathname.startsWith('/demo/')) return res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
  try {
    const body = await readFile(file, extname(file) == '.html' ? 'utf8' : undefined);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(extname(file) == '.html' ? body.replace(TAG_LINE, '') : body);
  } catch {
    res.writeHead(404).end();
  }
}

let emulator, server, mf, browser, base, originUrl;
before(async () => {
  emulator = await startEmulator({ port: 0, rateLimit: false });
  server = createServer((req, res) => void origin(req, res));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${server.address().port}`;
  // The Worker's own origin must be allowed: pick its port before it starts.
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise((resolve) => probe.close(resolve));
  base = `http://127.0.0.1:${port}`;
  mf = new Miniflare({
    host: '127.0.0.1',
    port,
    upstream: originUrl,
    modules: true,
    scriptPath: 'dist/edge/worker.js',
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: 'example.apiKey', ALLOWED_ORIGINS: base, UPSTREAM: emulator.url, INJECT: 'true' },
    durableObjects: { PROFILE_WRITER: 'ProfileWriter' },
  });
  [, browser] = await Promise.all([mf.ready, launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await mf?.dispose();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await emulator?.close();
});

test('page → injected tag → capture → Worker → Durable Object → emulator, and the twin set on the way back', async () => {
  const direct = await (await fetch(`${originUrl}/register.html`)).text();
  assert.ok(!direct.includes('src="/idcapture.js"'), 'the origin page has no tag of its own');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const scripts = [];
    page.on('response', (r) => r.url().endsWith('/idcapture.js') && scripts.push(r.status()));
    await page.goto(`${base}/register.html`);
    await page.waitForFunction(() => typeof window.idcapture?.identify == 'function');
    assert.equal(await page.locator('head script[src="/idcapture.js"][data-endpoint="/api/profiles"]').count(), 1, 'injected into <head>');
    assert.deepEqual(scripts, [200], 'the tag came first-party, from the Worker');
    const vuid = await page.evaluate(() => window.idcapture.vuid);
    await page.fill('#first', 'Edge');
    await page.fill('#email', 'edge-demo@test.com');
    await page.fill('#password', 'correct horse battery');
    await page.click('button[type=submit]');
    await page.waitForURL('**/register.html?welcome=1');
    const profile = await until(() => emulator.emulator.profiles().find((p) => p.emails?.includes('edge-demo@test.com')), 'the profile');
    assert.equal(profile.first_name, 'Edge');
    // Anonymous (no identity secret, no token): the default unverified policy keeps the names but never attaches the vuid.
    assert.equal(profile.vuids, undefined);
    assert.match(vuid, /^[0-9a-f]{32}$/);
    const cookies = await until(async () => {
      const all = await context.cookies();
      return all.some((c) => c.name == 'idc_vuid') && all;
    }, 'the twin');
    const [script, twin] = ['vuid', 'idc_vuid'].map((name) => cookies.find((c) => c.name == name));
    assert.equal(twin.value, script.value);
    assert.equal(twin.httpOnly, true);
    assert.equal(twin.sameSite, 'Lax');
  } finally {
    await context.close();
  }
});
