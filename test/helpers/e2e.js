// The end-to-end suites' servers: the repository served on 127.0.0.1 with the real proxy (and the emulator behind it)
// mounted at /api/profiles; with Playwright's Chromium for the suites that use Playwright's own controls.
import { startStaticServer } from './static-server.js';
import { startBackend } from './backend.js';
import { launchBrowser } from './browser.js';

/** The servers alone: the repository on 127.0.0.1 with the proxies (and the emulator behind them) mounted. */
export async function startServers() {
  const routes = {};
  const server = await startStaticServer(routes);
  const backend = await startBackend({ origin: server.url });
  Object.assign(routes, backend.routes);
  return {
    server,
    /** Path → node request listener, tried before the files: add pages that need headers of their own. */
    routes,
    backend,
    url: (path) => `${server.url}${path}`,
    async close() {
      await backend.close();
      await server.close();
    },
  };
}

/** The servers and Playwright's Chromium, for the suites that need Playwright's own controls. */
export async function startE2e() {
  const servers = await startServers();
  const browser = await launchBrowser();
  return {
    ...servers,
    browser,
    async close() {
      await browser.close();
      await servers.close();
    },
  };
}

/**
 * Serves every request of `context` from a cache filled while online, the way a service worker would, so a page
 * can be reloaded while the context is offline. Requests to the proxy pass through untouched.
 */
export async function cacheForOffline(context) {
  const cache = new Map();
  await context.route('**/*', async (route) => {
    const url = route.request().url();
    if (new URL(url).pathname.startsWith('/api/')) return route.fallback();
    if (!cache.has(url)) {
      const response = await route.fetch();
      cache.set(url, { status: response.status(), headers: response.headers(), body: await response.body() });
    }
    return route.fulfill(cache.get(url));
  });
}

/** Polls `fn` until it returns a truthy value, for at most `ms`; throws with `what` otherwise. */
export async function until(fn, what, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Makes `page` count, in localStorage, the upserts it hands to keepalive requests (a pass-through wrapper of its
 * fetch, which the client looks up at each call), so that the next page of the origin can say how many left with it.
 */
export const countKeepalive = (page) =>
  page.evaluate(() => {
    const send = window.fetch;
    window.fetch = (input, init) => {
      // Upserts only: a DELETE asking for the vuid's server twin to be cleared is keepalive too, without a body.
      if (init?.keepalive && init.body) {
        const count = +(localStorage.getItem('keepalive-upserts') ?? 0) + JSON.parse(init.body).length;
        localStorage.setItem('keepalive-upserts', String(count));
      }
      return send(input, init);
    };
  });

/**
 * The batches the backend forwarded whose first upsert's email starts with `prefix`, once all the `page` says the
 * previous page of the origin handed to keepalive requests (see countKeepalive) have arrived.
 */
export async function handedOffBatches(backend, prefix, page) {
  const count = await page.evaluate(() => +localStorage.getItem('keepalive-upserts'));
  if (!count) throw new Error('the page handed nothing to keepalive requests');
  const ours = () => backend.forwarded.filter((batch) => batch[0].attributes.email.startsWith(prefix));
  await until(() => ours().flat().length >= count, `the ${count} upserts handed off to arrive`, 10000);
  return ours();
}
