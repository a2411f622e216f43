// One way to drive each engine of test/browsers.js from an end-to-end test: Playwright for Chromium, puppeteer-core
// over WebDriver BiDi for Firefox, WebDriver classic (webdriverio) for WebKitGTK. A session is a fresh visitor: its
// tabs share the origin's IndexedDB, localStorage and cookies with each other and with nothing else.
import { execFileSync } from 'node:child_process';
import { after, before, describe } from 'node:test';
import { chromium } from 'playwright';
import puppeteer from 'puppeteer-core';
import { remote } from 'webdriverio';
import { chromiumLaunchOptions, firefoxLaunchOptions, selectedEngines, webkit } from '../browsers.js';
import { until } from './e2e.js';

/**
 * @typedef {object} Tab
 * @property {(fn: Function, arg?: unknown) => Promise<any>} evaluate runs `fn(arg)` in the page, awaiting a promise
 * @property {(fn: Function, arg?: unknown) => Promise<any>} waitFor resolves once `fn(arg)` is truthy in the page
 * @property {(url: string) => Promise<void>} goto
 * @property {() => Promise<void>} reload
 * @property {() => Promise<void>} close
 *
 * @typedef {object} Session
 * @property {(url: string) => Promise<Tab>} open a new tab at `url`
 * @property {(offline: boolean) => Promise<void>} setOffline takes the network away from every tab, or gives it back
 * @property {() => Promise<{ name: string, value: string, httpOnly: boolean }[]>} cookies the session's cookies (for
 *   WebKit: those of the page its last tab shows)
 * @property {(name: string) => Promise<void>} deleteCookie deletes a cookie, as Safari's ITP does with script-set ones
 * @property {boolean} reloadsOffline whether a tab can be reloaded while offline: Firefox refuses (NS_ERROR_OFFLINE),
 *   Chromium needs a cache in front (Playwright's routes, as test/e2e/delivery.test.js does), WebKit keeps loopback
 * @property {() => Promise<void>} close
 */

/** Polls the page, for engines without a wait of their own. */
const waitByPolling = (evaluate) => (fn, arg) => until(() => evaluate(fn, arg), `${fn} in the page`);

async function launchChromium() {
  const browser = await chromium.launch(chromiumLaunchOptions);
  return {
    /** @returns {Promise<Session>} */
    async session() {
      const context = await browser.newContext();
      return {
        async open(url) {
          const page = await context.newPage();
          await page.goto(url);
          return {
            evaluate: (fn, arg) => page.evaluate(fn, arg),
            waitFor: (fn, arg) => page.waitForFunction(fn, arg, { timeout: 15000 }),
            goto: async (to) => void (await page.goto(to)),
            reload: async () => void (await page.reload()),
            close: () => page.close(),
          };
        },
        setOffline: (offline) => context.setOffline(offline),
        cookies: async () => (await context.cookies()).map(({ name, value, httpOnly }) => ({ name, value, httpOnly })),
        deleteCookie: (name) => context.clearCookies({ name }),
        reloadsOffline: false,
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

async function launchFirefox() {
  const browser = await puppeteer.launch(firefoxLaunchOptions);
  return {
    async session() {
      const context = await browser.createBrowserContext();
      let offline = false;
      return {
        async open(url) {
          const page = await context.newPage();
          if (offline) await page.setOfflineMode(true);
          await page.goto(url);
          const evaluate = (fn, arg) => page.evaluate(fn, arg);
          return {
            evaluate,
            waitFor: waitByPolling(evaluate),
            goto: async (to) => void (await page.goto(to)),
            reload: async () => void (await page.reload()),
            close: () => page.close(),
          };
        },
        // Per page in puppeteer: every open tab, and those opened later.
        async setOffline(value) {
          offline = value;
          for (const page of await context.pages()) await page.setOfflineMode(value);
        },
        reloadsOffline: false,
        close: () => context.close(),
      };
    },
    close: () => browser.close(),
  };
}

/**
 * WebKitGTK through the WebKitWebDriver test/with-browsers.js runs. Each session is a new MiniBrowser with an
 * ephemeral profile; it keeps its first window open, as closing a session's last window ends the session.
 */
async function launchWebKit() {
  const url = webkit.url();
  if (!url) throw new Error('WebKit needs the WebDriver server test/with-browsers.js starts: run through it, or set BROWSERS');
  const { hostname, port } = new URL(url);
  return {
    async session() {
      const driver = await remote({ hostname, port: Number(port), path: '/', logLevel: 'error', capabilities: webkit.capabilities });
      // WebDriver drives one window at a time: every call first switches to its tab's window.
      let current = await driver.getWindowHandle();
      let offline = false;
      const use = async (handle) => {
        if (current != handle) await driver.switchToWindow(handle);
        current = handle;
      };
      return {
        async open(to) {
          const { handle } = await driver.createWindow('tab');
          await use(handle);
          await driver.navigateTo(to);
          const evaluate = async (fn, arg) => {
            await use(handle);
            // WebDriver awaits a returned promise. Values travel as JSON, as with the other drivers: an Event or a
            // window would otherwise come back as a (soon stale) element reference.
            const script = `return Promise.resolve((${fn}).apply(null, arguments)).then((v) => JSON.stringify(v ?? null))`;
            return JSON.parse(await driver.executeScript(script, [arg]));
          };
          return {
            evaluate,
            waitFor: waitByPolling(evaluate),
            goto: async (next) => (await use(handle), await driver.navigateTo(next)),
            reload: async () => (await use(handle), await driver.refresh()),
            close: async () => (await use(handle), await driver.closeWindow()),
          };
        },
        setOffline: async (value) => setNetwork(!(offline = value)),
        cookies: async () => (await driver.getAllCookies()).map(({ name, value, httpOnly }) => ({ name, value, httpOnly: !!httpOnly })),
        deleteCookie: (name) => driver.deleteCookie(name),
        reloadsOffline: true,
        async close() {
          // The namespace is the whole run's: give the network back even when a test failed while offline.
          if (offline) setNetwork(true);
          await driver.deleteSession();
        },
      };
    },
    async close() {},
  };
}

/**
 * WebDriver classic has no offline switch, so the whole run has a network namespace of its own (test/with-browsers.js
 * --own-network): without its default route, WebKit (GLib's network monitor) reports navigator.onLine false and
 * fires `offline`; with it back, `online`. Loopback keeps working, so requests still reach the servers: the tests
 * assert that none is made while offline.
 */
function setNetwork(up) {
  if (process.env.IDCAPTURE_OWN_NETWORK != '1') {
    throw new Error('taking WebKit offline needs test/with-browsers.js --own-network (a network namespace of its own)');
  }
  execFileSync('ip', ['route', up ? 'replace' : 'del', 'default', 'dev', 'idc0']);
}

/** Starts the browser of `engine` (a name from test/browsers.js). */
export const launch = (engine) => ({ chromium: launchChromium, firefox: launchFirefox, webkit: launchWebKit })[engine]();

/**
 * Declares the suite `body` once per engine of this run (test/browsers.js, `$BROWSERS`), under the engine's name, with
 * its browser started before and closed after: `body(engine, browser)` where `browser()` gives the running browser.
 */
export function forEachEngine(body) {
  for (const engine of selectedEngines()) {
    describe(engine, () => {
      let browser;
      before(async () => (browser = await launch(engine)));
      after(() => browser?.close());
      body(engine, () => browser);
    });
  }
}
