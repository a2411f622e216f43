// Time for 1,000 identify() calls to be durable in IndexedDB, in Chromium, via the script-tag bundle.
import { pathToFileURL } from 'node:url';
import { startStaticServer } from '../helpers/static-server.js';
import { launchBrowser } from '../helpers/browser.js';

const N = 1000;

/** Milliseconds until `N` identify() calls have resolved, in a fresh browser context (an empty queue). */
async function measure(browser, url, concurrent) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.evaluate(() => window.ready);
  const { ms, stored } = await page.evaluate(
    async ([n, concurrent]) => {
      const idc = window.idcapture;
      await idc.identify({ customer_id: 'warm-up' });
      const t = performance.now();
      if (concurrent) await Promise.all(Array.from({ length: n }, (_, i) => idc.identify({ customer_id: `c${i}` })));
      else for (let i = 0; i < n; i++) await idc.identify({ customer_id: `c${i}` });
      const ms = performance.now() - t;
      const ids = (await window.storedRecords()).map((r) => r.upsert.attributes.customer_id);
      return { ms, stored: ids.filter((id) => id !== 'warm-up').length };
    },
    [N, concurrent],
  );
  await context.close();
  if (stored !== N) throw new Error(`${stored} of ${N} upserts stored`);
  return Math.round(ms);
}

export async function bench() {
  const server = await startStaticServer();
  const browser = await launchBrowser();
  try {
    const url = `${server.url}/test/e2e/pages/identify.html`;
    return [
      { name: `${N} identify() durable, concurrent`, value: await measure(browser, url, true), unit: 'ms' },
      { name: `${N} identify() durable, one after another`, value: await measure(browser, url, false), unit: 'ms' },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
