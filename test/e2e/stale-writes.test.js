// Issue 26, stale writes, end to end: one customer, two devices (two Chromium contexts). The phone queues an address
// while offline; the laptop sets another one later, online, and it lands; then the phone comes back online and
// flushes. The laptop's address must stay, and the phone's other field (one nobody wrote since) must land: through the
// Node proxy and its in-memory capture times, through two Node proxies sharing Redis behind a round robin, and through
// the edge Worker's Durable Object in workerd. Time is moved, not waited for: the phone's page clock (Playwright's)
// runs a day ahead of everyone else's (a skew the proxy must cancel out) and is moved an hour on while it is offline,
// so its upsert is an hour old when it is sent.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import Redis from 'ioredis';
import { Miniflare } from 'miniflare';
import { startEmulator } from '../../dist/emulator.js';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener } from '../../dist/proxy-node.js';
import { signIdentity } from '../../dist/server.js';
import { launchBrowser } from '../helpers/browser.js';
import { startRedis } from '../helpers/redis.js';
import { until } from '../helpers/e2e.js';

const KEY = 'example.apiKey';
const SECRET = 'stale-writes-identity-secret-0123456789';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TAG = '<script async src="/idcapture.js" data-endpoint="/api/profiles"></script>';
const PAGE = (tag) => `<!doctype html><html><head><meta charset="utf-8"><title>Store</title>${tag}</head><body><h1>Store</h1></body></html>`;

let emulator, browser, redis, code;
const clients = [];
before(async () => {
  [emulator, browser, redis, code] = await Promise.all([
    startEmulator({ port: 0, rateLimit: false }),
    launchBrowser(),
    startRedis(),
    readFile(new URL('../../dist/idcapture.js', import.meta.url)),
  ]);
});
after(async () => {
  for (const c of clients) c.disconnect();
  await browser?.close();
  await redis?.stop();
  await emulator?.close();
});

async function listen(handler, port = 0) {
  const server = createServer(handler);
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return { server, url, close: () => (server.closeAllConnections(), new Promise((resolve) => server.close(resolve))) };
}

/** A port free now, for a store whose allowed origin must be known before it starts. */
async function freePort() {
  const { server, close } = await listen(() => {});
  const { port } = server.address();
  await close();
  return port;
}

/**
 * A Node-hosted store: its page with the tag, and `proxies(url)` behind /api/profiles, taken in turn (a round-robin
 * balancer in front of several processes). Resolves `{ url, handled, close }`: `handled[n]` counts the POSTs proxy n took.
 */
async function nodeStore(proxies) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const listeners = proxies(url).map((handle) => toNodeListener(handle));
  const handled = listeners.map(() => 0);
  let next = 0;
  const store = await listen((req, res) => {
    if (req.url.startsWith('/api/profiles')) {
      const n = next++ % listeners.length;
      handled[n]++;
      return listeners[n](req, res);
    }
    if (req.url == '/idcapture.js') return res.writeHead(200, { 'content-type': 'text/javascript' }).end(code);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(PAGE(TAG));
  }, port);
  return { url, handled, close: store.close };
}

const proxy = (url, options = {}) =>
  createProxy({ apiKey: KEY, upstream: emulator.url, allowedOrigins: [url], rateLimit: false, verify: { secret: SECRET }, ...options });

function redisClient() {
  const c = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

/** The edge: the demo's Worker in workerd, injecting the tag into an origin's pages, with the ProfileWriter object. */
async function edgeStore() {
  const origin = await listen((req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE('')));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const mf = new Miniflare({
    host: '127.0.0.1',
    port,
    upstream: origin.url,
    modules: true,
    scriptPath: 'dist/edge/worker.js',
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: KEY, ALLOWED_ORIGINS: url, UPSTREAM: emulator.url, IDENTITY_SECRET: SECRET, INJECT: 'true' },
    durableObjects: { PROFILE_WRITER: 'ProfileWriter' },
  });
  await mf.ready;
  return { url, close: async () => (await mf.dispose(), await origin.close()) };
}

const MODES = {
  'the Node proxy (in-memory capture times)': () => nodeStore((url) => [proxy(url)]),
  'two Node proxies sharing Redis, taken in turn': () => nodeStore((url) => [0, 1].map(() => proxy(url, { shared: { redis: redisClient(), prefix: `stale${url}` } }))),
  'the edge Worker and its Durable Object in workerd': edgeStore,
};

/** Opens the store in `context`, and resolves the page once the tag runs. */
async function open(context, url) {
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.waitForFunction(() => typeof window.idcapture?.identify == 'function');
  return page;
}

/** identify() signed in (the store's back end signs the email and this browser's vuid), without waiting for a send. */
async function identify(page, email, attributes) {
  const vuid = await page.evaluate(() => window.idcapture.vuid);
  // Valid for a week: the phone's page clock runs a day ahead.
  const token = await signIdentity({ email, vuid, expiresIn: 7 * 24 * 3600 }, { secret: SECRET });
  await page.evaluate(({ email, attributes, token }) => window.idcapture.identify({ email }, attributes, { token }), { email, attributes, token });
}

/** Flushes until the page's queue is empty. */
const flushed = (page) => until(() => page.evaluate(async () => (await window.idcapture.flush()).pending == 0), 'the queue empty');

const profileOf = (email) => emulator.emulator.profiles().find((p) => p.emails?.includes(email));

let serial = 0;
for (const [mode, start] of Object.entries(MODES)) {
  test(`${mode}: the phone's older address, sent after the laptop's newer one, does not overwrite it; its other field lands`, async (t) => {
    const store = await start();
    const email = `two-devices-${serial++}@stale.test`;
    const phone = await browser.newContext();
    const laptop = await browser.newContext();
    try {
      // The phone's clock is a day ahead: by its own clock its capture is a day newer than the laptop's.
      await phone.clock.install({ time: Date.now() + DAY });
      const phonePage = await open(phone, store.url);
      await phone.setOffline(true);
      await identify(phonePage, email, { street1: '1 Phone Lane', first_name: 'Pat' });
      assert.ok((await phonePage.evaluate(() => window.idcapture.flush())).pending > 0, 'queued while offline');
      // An hour passes on the phone while it stays offline.
      await phone.clock.fastForward(HOUR);

      const laptopPage = await open(laptop, store.url);
      await identify(laptopPage, email, { street1: '2 Laptop Road' });
      await flushed(laptopPage);
      assert.equal(profileOf(email)?.street1, '2 Laptop Road', "the laptop's address landed");

      await phone.setOffline(false);
      await flushed(phonePage);
      const profile = profileOf(email);
      t.diagnostic(`profile: street1 ${JSON.stringify(profile.street1)}, first_name ${JSON.stringify(profile.first_name)}`);
      assert.equal(profile.first_name, 'Pat', "the phone's other field landed");
      assert.equal(profile.street1, '2 Laptop Road', "the laptop's newer address stayed");
      if (store.handled?.length > 1) assert.ok(store.handled.every((n) => n > 0), `each proxy took requests: ${store.handled}`);
    } finally {
      await phone.close();
      await laptop.close();
      await store.close();
    }
  });
}
