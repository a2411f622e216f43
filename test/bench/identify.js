// Time until identify() calls are durable in IndexedDB, against floors measured in the same page: a bare idb-keyval
// `set` loop of the same records, awaited one after another or all started at once as identify() is; for a burst of
// 10,000, one `setMany` of them all (a single transaction, the least any queue can do); and, one after another, a
// bare loop of the requests each add must make to stay ordered across tabs (read the newest record, the id counter
// and the count inside the readwrite transaction, then write the record and the counter), which shows what of the
// gap to `set` is IndexedDB's and what is ours. Each figure is the median of ROUNDS fresh queues, ours and the floors
// taking turns so that a busy machine slows all alike. The flush lock of each endpoint is held: no delivery runs.
// Chromium (Playwright) and Firefox (puppeteer-core over WebDriver BiDi, as the browser suite drives it).
import { pathToFileURL } from 'node:url';
import * as puppeteer from 'puppeteer-core';
import { firefoxLaunchOptions } from '../browsers.js';
import { startStaticServer } from '../helpers/static-server.js';
import { launchBrowser } from '../helpers/browser.js';
import { count } from './quick.js';

const ROUNDS = count(3, 1);
const CASES = [
  {
    n: count(1000, 10),
    mode: 'sequential',
    name: '1,000 identify() durable, one after another',
    references: { set: 'idb-keyval set loop, one after another', requests: 'bare loop of the requests an ordered add makes' },
  },
  { n: count(1000, 10), mode: 'concurrent', name: '1,000 identify() durable, all started at once', references: { set: 'idb-keyval set loop, all started at once' } },
  { n: count(10_000, 10), mode: 'burst', name: '10,000 identify() durable, all started at once', references: { setMany: 'one idb-keyval setMany of the 10,000' } },
];

/** Runs in the page: the median milliseconds of ours and of each floor, after checking every upsert was stored. */
async function measureInPage({ n, mode, rounds, floors }) {
  const { set, setMany, createStore, promisifyRequest: request, values } = await import('idb-keyval');
  const median = (list) => [...list].sort((a, b) => a - b)[list.length >> 1];
  const time = async (write) => {
    const started = performance.now();
    if (mode == 'sequential') for (let i = 0; i < n; i++) await write(i);
    else await Promise.all(Array.from({ length: n }, (_, i) => write(i)));
    return performance.now() - started;
  };
  const numbered = () => IDBKeyRange.upperBound(Infinity);
  const writes = {
    set: (store, record) => time((i) => set(i, record(i), store)),
    setMany: async (store, record) => {
      const started = performance.now();
      await setMany(Array.from({ length: n }, (_, i) => [i, record(i)]), store);
      return performance.now() - started;
    },
    requests: (store, record) =>
      time((i) =>
        store('readwrite', async (os) => {
          os.openCursor(numbered(), 'prev');
          os.get('seq');
          await request(os.count(numbered()));
          os.add({ id: i + 1, ...record(i) }, i + 1);
          os.put(i + 1, 'seq');
          return request(os.transaction);
        }),
      ),
  };
  const times = { ours: [] };
  for (let round = 0; round < rounds; round++) {
    const endpoint = `/bench/${mode}-${round}-${Math.random().toString(36).slice(2)}`;
    // Held for the page's life: scheduled flushes skip, so delivery reads nothing while we write.
    navigator.locks.request(`idcapture:${endpoint}`, () => new Promise(() => {}));
    const idc = window.createIdCapture({ endpoint, maxQueueSize: n + 1, autocapture: false });
    await idc.identify({ customer_id: 'warm-up' });
    times.ours.push(await time((i) => idc.identify({ customer_id: `c${i}` })));
    const stored = (await values(createStore(`idcapture:${endpoint}`, 'queue'))).filter((v) => typeof v == 'object');
    if (stored.length != n + 1) throw new Error(`${stored.length - 1} of ${n} upserts stored`);
    const record = (i) => ({ upsert: { attributes: { vuid: idc.vuid, customer_id: `c${i}` } }, at: Date.now() });
    for (const floor of floors) {
      const store = createStore(`bench-${floor}-${endpoint}`, 'records');
      await set('warm-up', 1, store);
      (times[floor] ??= []).push(await writes[floor](store, record));
    }
    idc.destroy();
  }
  return Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
}

/** The engines measured: each opens a fresh page (Chromium: in a context of its own, so no databases carry over). */
const ENGINES = {
  Chromium: async () => {
    const browser = await launchBrowser();
    return {
      async page() {
        const context = await browser.newContext();
        return Object.assign(await context.newPage(), { done: () => context.close() });
      },
      close: () => browser.close(),
    };
  },
  Firefox: async () => {
    const browser = await puppeteer.launch(firefoxLaunchOptions);
    return {
      async page() {
        const page = await browser.newPage();
        return Object.assign(page, { done: () => page.close() });
      },
      close: () => browser.close(),
    };
  },
};

export async function bench() {
  const server = await startStaticServer();
  const rows = [];
  try {
    for (const [engine, launch] of Object.entries(ENGINES)) {
      const browser = await launch();
      try {
        for (const { n, mode, name, references } of CASES) {
          const page = await browser.page();
          await page.goto(`${server.url}/test/e2e/pages/module.html`);
          await page.evaluate(() => window.ready);
          const { ours, ...floors } = await page.evaluate(measureInPage, { n, mode, rounds: ROUNDS, floors: Object.keys(references) });
          await page.done();
          for (const [floor, reference] of Object.entries(references)) {
            rows.push({
              name: `${name}, ${engine} (median of ${ROUNDS})`,
              value: Math.round(ours),
              unit: 'ms',
              reference,
              referenceValue: Math.round(floors[floor]),
              ratio: ours / floors[floor],
            });
          }
        }
      } finally {
        await browser.close();
      }
    }
    return rows;
  } finally {
    await server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
