// The one place that lists the engines the browser and end-to-end suites drive, and how each is started. Debian's
// packages are used where they exist (these machines cannot download Playwright's Firefox or WebKit builds):
// chromium, firefox-esr (driven by puppeteer-core over WebDriver BiDi, so no geckodriver is needed), and WebKitGTK's
// MiniBrowser (driven by WebKitWebDriver, which test/with-browsers.js starts under Xvfb). `BROWSERS=chromium` (or a
// comma-separated list) narrows a run.
import { existsSync } from 'node:fs';

const firstExisting = (...paths) => paths.find((path) => path && existsSync(path));

/** Launch options for Playwright's `chromium.launch()`. */
export const chromiumLaunchOptions = {
  headless: true,
  executablePath: firstExisting(process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'),
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};

/** Launch options for puppeteer-core's `launch()`: Firefox over WebDriver BiDi (Firefox ≥ 129). */
export const firefoxLaunchOptions = {
  browser: 'firefox',
  headless: true,
  executablePath: firstExisting(process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox') ?? 'firefox',
};

/** WebKitGTK: the WebDriver server test/with-browsers.js runs, and the browser it opens for each session. */
export const webkit = {
  driver: firstExisting(process.env.WEBKIT_WEBDRIVER_PATH, '/usr/bin/WebKitWebDriver') ?? 'WebKitWebDriver',
  /** Set by test/with-browsers.js once its WebKitWebDriver answers. */
  url: () => process.env.IDCAPTURE_WEBKIT_WEBDRIVER,
  capabilities: {
    browserName: 'MiniBrowser',
    'wdio:enforceWebDriverClassic': true,
    'webkitgtk:browserOptions': {
      binary: firstExisting(
        process.env.MINIBROWSER_PATH,
        '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
        '/usr/lib/aarch64-linux-gnu/webkit2gtk-4.1/MiniBrowser',
      ),
      args: ['--automation'],
    },
  },
};

/** Every engine, in the order the suites run them. */
export const ENGINES = ['chromium', 'firefox', 'webkit'];

/** The engines of this run: all of them, or those `$BROWSERS` names. An unknown name is an error, not a silent skip. */
export function selectedEngines(list = process.env.BROWSERS) {
  if (!list?.trim()) return ENGINES;
  const names = list.split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
  const unknown = names.filter((name) => !ENGINES.includes(name));
  if (unknown.length) throw new Error(`BROWSERS names unknown engines (${unknown.join(', ')}); known: ${ENGINES.join(', ')}`);
  return ENGINES.filter((name) => names.includes(name));
}
