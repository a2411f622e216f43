// The one place that decides which browser the suites drive. Debian's Chromium is used where it exists (these
// machines cannot download Playwright's builds); elsewhere Playwright's own Chromium, so a laptop runs it too.
import { existsSync } from 'node:fs';

const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** Launch options for Playwright's `chromium.launch()`. */
export const chromiumLaunchOptions = {
  headless: true,
  executablePath: candidates.find((path) => path && existsSync(path)),
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
};
