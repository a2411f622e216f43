// Time for 1,000 and 10,000 identify() calls to be durable in IndexedDB, in Chromium, against the floor: a plain
// idb-keyval `set` loop of the same records in the same page (one transaction each, as idcapture's queue does). The
// context is offline while measuring, so delivery does not run alongside.
import { pathToFileURL } from 'node:url';
import { startStaticServer } from '../helpers/static-server.js';
import { launchBrowser } from '../helpers/browser.js';

/** `{ ours, floor }` milliseconds until `n` writes resolved, in a fresh context (an empty queue). */
async function measure(browser, url, n, concurrent) {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(url);
  await page.evaluate(() => window.ready);
  await page.evaluate(async () => (window.idbKeyval = await import('idb-keyval')));
  await context.setOffline(true);
  const result = await page.evaluate(
    async ([n, concurrent]) => {
      const idc = window.createIdCapture({ endpoint: '/api/profiles', maxQueueSize: n + 1, autocapture: false });
      const run = async (write) => {
        const t = performance.now();
        if (concurrent) await Promise.all(Array.from({ length: n }, (_, i) => write(i)));
        else for (let i = 0; i < n; i++) await write(i);
        return performance.now() - t;
      };
      await idc.identify({ customer_id: 'warm-up' });
      const ours = await run((i) => idc.identify({ customer_id: `c${i}` }));
      const ids = (await window.storedRecords()).map((r) => r.upsert.attributes.customer_id);
      const { set, createStore } = window.idbKeyval;
      const store = createStore('floor', 'records');
      await set('warm-up', 1, store);
      const floor = await run((i) => set(i, { upsert: { attributes: { vuid: idc.vuid, customer_id: `c${i}` } }, at: Date.now() }, store));
      return { ours, floor, stored: ids.filter((id) => id !== 'warm-up').length };
    },
    [n, concurrent],
  );
  await context.close();
  if (result.stored !== n) throw new Error(`${result.stored} of ${n} upserts stored`);
  return result;
}

export async function bench() {
  const server = await startStaticServer();
  const browser = await launchBrowser();
  try {
    const url = `${server.url}/test/e2e/pages/module.html`;
    const rows = [];
    for (const [n, concurrent] of [[1000, true], [1000, false], [10_000, true]]) {
      const { ours, floor } = await measure(browser, url, n, concurrent);
      rows.push({
        name: `${n.toLocaleString('en')} identify() durable, ${concurrent ? 'concurrent' : 'one after another'}`,
        value: Math.round(ours),
        unit: 'ms',
        reference: 'idb-keyval set loop, same records',
        referenceValue: Math.round(floor),
        ratio: ours / floor,
      });
    }
    return rows;
  } finally {
    await browser.close();
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
