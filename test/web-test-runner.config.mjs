import { playwrightLauncher } from '@web/test-runner-playwright';
import { chromeLauncher } from '@web/test-runner-chrome';
import { webdriverLauncher } from '@web/test-runner-webdriver';
import * as puppeteer from 'puppeteer-core';
import { chromiumLaunchOptions, firefoxLaunchOptions, selectedEngines, webkit } from './browsers.js';
import { startBackend } from './helpers/backend.js';
import { startStaticServer } from './helpers/static-server.js';

const readBody = (req) =>
  new Promise((resolve) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk)).on('end', () => resolve(body));
  });

/**
 * Starts the real proxies (and the emulator behind them) on their own origin, so pages post cross-origin through
 * CORS as a storefront with a separate API host does. The pages' own server answers /__backend/api (the proxies'
 * base URL), /__backend/forwarded (what the proxies sent upstream), /__backend/reset and the emulator's /__emulator/.
 */
function backend() {
  let server, api;
  const stubHits = {};
  const plugin = {
    name: 'idcapture-backend',
    async serverStart({ config }) {
      server = await startBackend({ origin: `http://${config.hostname}:${config.port}` });
      api = await startStaticServer(server.routes);
    },
    async serverStop() {
      await api?.close();
      await server?.close();
    },
  };
  const middleware = async (ctx, next) => {
      if (ctx.path == '/__backend/api') return void (ctx.body = { url: api.url });
      if (ctx.path.startsWith('/__emulator/')) {
        const response = await fetch(new URL(ctx.url, server.emulatorUrl), {
          method: ctx.method,
          headers: { 'content-type': 'application/json' },
          body: ctx.method == 'POST' ? await readBody(ctx.req) : undefined,
        });
        ctx.status = response.status;
        ctx.type = 'json';
        ctx.body = await response.text();
        return;
      }
      if (ctx.path == '/__backend/sign') return void (ctx.body = { token: await server.sign(Object.fromEntries(new URLSearchParams(ctx.querystring))) });
      if (ctx.path == '/__backend/forwarded') return void (ctx.body = server.forwarded);
      if (ctx.path == '/__backend/reset') return void (server.reset(), (ctx.body = {}));
      // Endpoints that misbehave in ways the real proxy never does, for the client's defences.
      if (ctx.path.startsWith('/stub/')) {
        const name = ctx.path.slice('/stub/'.length);
        stubHits[name] = (stubHits[name] ?? 0) + 1;
        if (name == 'retry-after-30-days') {
          ctx.status = 503;
          ctx.set('retry-after', String(30 * 86400));
          return void (ctx.body = '');
        }
        if (name == 'junk-invalids') {
          const batch = JSON.parse(await readBody(ctx.req));
          ctx.status = batch.length > 1 ? 400 : 202;
          const invalids = [{ event: 'length' }, { event: 0, message: 'bad' }, { event: 0 }, { event: -1 }, { event: 1.5 }, { event: 9 }];
          return void (ctx.body = batch.length > 1 ? { detail: { invalids } } : {});
        }
      }
      if (ctx.path == '/__backend/stub-hits') return void (ctx.body = stubHits);
      // An endpoint that is always busy for an hour: storage tests use it so no delivery interferes.
      if (ctx.path.startsWith('/unavailable/')) {
        ctx.status = 503;
        ctx.set('retry-after', '3600');
        return void (ctx.body = '');
      }
      return next();
  };
  return { plugin, middleware };
}

const { plugin, middleware } = backend();

/** How @web/test-runner starts each engine of test/browsers.js; results are reported under the engine's name. */
const launchers = {
  chromium: () => playwrightLauncher({ product: 'chromium', launchOptions: chromiumLaunchOptions }),
  // Passing puppeteer makes the launcher honour launchOptions.browser: Firefox over WebDriver BiDi.
  firefox: () => chromeLauncher({ puppeteer, launchOptions: firefoxLaunchOptions }),
  webkit: () => {
    const url = webkit.url();
    if (!url) throw new Error('WebKit needs the WebDriver server test/with-browsers.js starts: run through it, or set BROWSERS');
    const { hostname, port } = new URL(url);
    return webdriverLauncher({ automationProtocol: 'webdriver', hostname, port: Number(port), path: '/', capabilities: webkit.capabilities });
  },
};

export default {
  rootDir: '.',
  files: ['test/browser/**/*.test.js'],
  nodeResolve: true,
  concurrency: 1,
  // One engine at a time: they share the emulator, its faults and the stubs' counters, which tests set and read.
  concurrentBrowsers: 1,
  hostname: '127.0.0.1',
  browsers: selectedEngines().map((engine) => launchers[engine]()),
  plugins: [plugin],
  middleware: [middleware],
  testFramework: { config: { timeout: 20000 } },
};
