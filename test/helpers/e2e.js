// The Playwright side of the end-to-end suites: the repository served on 127.0.0.1 with the real proxy (and the
// emulator behind it) mounted at /api/profiles, and Chromium.
import { startStaticServer } from './static-server.js';
import { startBackend } from './backend.js';
import { launchBrowser } from './browser.js';

export async function startE2e() {
  const routes = {};
  const server = await startStaticServer(routes);
  const backend = await startBackend({ origin: server.url });
  Object.assign(routes, backend.routes);
  const browser = await launchBrowser();
  return {
    server,
    /** Path → node request listener, tried before the files: add pages that need headers of their own. */
    routes,
    backend,
    browser,
    url: (path) => `${server.url}${path}`,
    async close() {
      await browser.close();
      await backend.close();
      await server.close();
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
