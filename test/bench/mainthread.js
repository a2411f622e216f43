// Main thread in Chromium: the snippet's init time (its script's parse, compile and run, from the end of its download
// to the next script) next to the two references of bundles.js loaded the same way, median of fresh contexts; and the
// long tasks (over 50 ms) observed from the first byte through init and 100 auto-captured submits: they must be 0.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { launchBrowser } from '../helpers/browser.js';
import { buildReferences, REFERENCES } from './bundles.js';
import { count } from './quick.js';

const LOADS = count(7, 1);
const SUBMITS = count(100, 5);

const page = (script) => `<!doctype html><meta charset="utf-8"><title>init</title>
<script>window.longTasks = []; new PerformanceObserver((l) => longTasks.push(...l.getEntries().map((e) => e.duration))).observe({ type: 'longtask', buffered: true });</script>
<form id="f" action="/done"><input name="email" type="email" autocomplete="email"><input name="first_name" autocomplete="given-name"><button>Go</button></form>
<script>window.idcapture = [];</script>
<script src="/${script}.js" data-endpoint="/api/profiles"></script>
<script>window.initEnd = performance.now();</script>`;

export async function bench() {
  const scripts = { ours: readFileSync(new URL('../../dist/idcapture.js', import.meta.url), 'utf8'), ...(await buildReferences()) };
  const server = http.createServer((req, res) => {
    const name = /^\/(\w+)\.(js|html)$/.exec(req.url);
    if (name?.[2] == 'html') return res.writeHead(200, { 'content-type': 'text/html' }).end(page(name[1]));
    if (name && scripts[name[1]]) return res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' }).end(scripts[name[1]]);
    // The proxy and the collector stay busy, so no delivery runs while measuring.
    res.writeHead(503, { 'retry-after': '3600' }).end();
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchBrowser();
  try {
    const init = {};
    let longTasks = [];
    for (const name of Object.keys(scripts)) {
      const times = [];
      for (let i = 0; i < LOADS; i++) {
        const context = await browser.newContext();
        const tab = await context.newPage();
        await tab.goto(`${base}/${name}.html`);
        times.push(await tab.evaluate((src) => initEnd - performance.getEntriesByName(new URL(src, location.href).href)[0].responseEnd, `/${name}.js`));
        if (name == 'ours' && i == 0) {
          longTasks = await tab.evaluate(async (n) => {
            const form = document.querySelector('form');
            form.addEventListener('submit', (e) => e.preventDefault());
            for (let k = 0; k < n; k++) {
              form.elements.email.value = `long-${k}@test.com`;
              form.requestSubmit();
              if (k % 10 == 9) await new Promise((resolve) => setTimeout(resolve, 20));
            }
            await new Promise((resolve) => setTimeout(resolve, 200));
            return window.longTasks;
          }, SUBMITS);
        }
        await context.close();
      }
      times.sort((a, b) => a - b);
      init[name] = times[times.length >> 1];
    }
    const rows = Object.entries(REFERENCES).map(([name, label]) => ({
      name: `init time, main thread (median of ${LOADS} fresh loads)`,
      value: +init.ours.toFixed(2),
      unit: 'ms',
      reference: label,
      referenceValue: +init[name].toFixed(2),
      ratio: init.ours / init[name],
    }));
    rows.push({ name: `long tasks during load, init and ${SUBMITS} captured submits (must be 0)`, value: longTasks.length, unit: 'tasks' });
    if (longTasks.length) rows.at(-1).note = `durations ${longTasks.map((d) => Math.round(d)).join(', ')} ms`;
    return rows;
  } finally {
    await browser.close();
    server.closeAllConnections();
    server.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
