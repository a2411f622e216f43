// idcapture/edge: what the Worker costs an HTML page (injection on, in workerd through Miniflare's HTTP server) beside
// the origin served directly, how many visitors keep their vuid across Safari's wipe of script-writable storage with
// and without the server twin (per engine, real browsers), and the tag's bytes on the wire with and without a 304.
// Bounded: PAGES sequential requests per path, VISITORS per store and engine.
import http from 'node:http';
import { Miniflare } from 'miniflare';
import { selectedEngines, webkit } from '../browsers.js';
import { launch } from '../helpers/drivers.js';
import { grantAndIdentify, startStores, stored, vuidAfterReload, wipeScriptStorage } from '../helpers/stores.js';
import { count } from './quick.js';

const PAGES = count(400, 4);
const VISITORS = count(5, 1);
/** A storefront page of a realistic size (about 30 KB of HTML), with a <head> to inject into. */
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Store</title></head><body>${'<div class="product"><h2>Item</h2><p>A fine thing to buy, described at length for the bench.</p></div>'.repeat(300)}</body></html>`;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** p50 and p99 in ms of PAGES sequential GETs of `url`, body read, after 30 unmeasured ones. */
async function latency(url) {
  const times = [];
  for (let i = 0; i < PAGES + 30; i++) {
    const t = performance.now();
    const response = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
    await response.arrayBuffer();
    if (i >= 30) times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99) };
}

/** The bytes of one answer on the wire: status line, headers and body as sent (compressed if it was). */
const wireBytes = (url, headers) =>
  new Promise((resolve, reject) => {
    http.get(url, { headers }, (res) => {
      let body = 0;
      res.on('data', (chunk) => (body += chunk.length));
      res.on('end', () => {
        const head = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n` + res.rawHeaders.map((v, i) => (i % 2 ? `${v}\r\n` : `${v}: `)).join('') + '\r\n';
        resolve({ status: res.statusCode, bytes: Buffer.byteLength(head) + body, etag: res.headers.etag, encoding: res.headers['content-encoding'] ?? 'identity' });
      });
    }).on('error', reject);
  });

async function overhead() {
  const origin = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE));
  await new Promise((resolve) => origin.listen(0, '127.0.0.1', resolve));
  const direct = `http://127.0.0.1:${origin.address().port}`;
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    upstream: direct,
    modules: true,
    scriptPath: 'dist/edge/worker.js',
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: 'example.apiKey', ALLOWED_ORIGINS: direct, INJECT: 'true' },
  });
  const edge = (await mf.ready).origin;
  try {
    const page = await (await fetch(`${edge}/`, { headers: { 'accept-encoding': 'identity' } })).text();
    if (!page.includes('src="/idcapture.js"')) throw new Error('the Worker did not inject the tag');
    const base = await latency(`${direct}/`);
    const worker = await latency(`${edge}/`);
    const full = await wireBytes(`${edge}/idcapture.js`, { 'accept-encoding': 'br, gzip' });
    const revalidated = await wireBytes(`${edge}/idcapture.js`, { 'accept-encoding': 'br, gzip', 'if-none-match': full.etag });
    if (full.status != 200 || revalidated.status != 304) throw new Error(`tag answered ${full.status}, then ${revalidated.status}`);
    const note = `${PAGES} sequential GETs of a ${(PAGE.length / 1024).toFixed(0)} KB page, keep-alive, loopback`;
    return [
      { name: 'HTML page through the Worker, injection on: p50', value: worker.p50, unit: 'ms', reference: 'origin direct', referenceValue: base.p50, ratio: worker.p50 / base.p50, note },
      { name: 'HTML page through the Worker, injection on: p99', value: worker.p99, unit: 'ms', reference: 'origin direct', referenceValue: base.p99, ratio: worker.p99 / base.p99 },
      { name: 'Worker overhead per page, p50 (goal ≤ 2 ms)', value: worker.p50 - base.p50, unit: 'ms' },
      // Miniflare's entry worker compresses as Cloudflare's edge would, with what it supports of the Accept-Encoding.
      { name: `/idcapture.js on the wire, 200 (headers + body, ${full.encoding})`, value: full.bytes, unit: 'B' },
      { name: '/idcapture.js on the wire, 304 (If-None-Match)', value: revalidated.bytes, unit: 'B', reference: '200', referenceValue: full.bytes, ratio: revalidated.bytes / full.bytes },
    ];
  } finally {
    await mf.dispose();
    origin.closeAllConnections();
    await new Promise((resolve) => origin.close(resolve));
  }
}

/** Share of VISITORS on `store` whose vuid is the same after the wipe. */
async function survival(browser, backend, store, engine) {
  const base = backend.stores[store].url;
  let kept = 0;
  for (let i = 0; i < VISITORS; i++) {
    const session = await browser.session();
    try {
      const tab = await session.open(`${base}/`);
      const email = `bench-${engine}-${store}-${i}@test.com`;
      const before = await grantAndIdentify(tab, email);
      await stored(backend.emulator, email);
      await wipeScriptStorage(session, tab, base);
      if ((await vuidAfterReload(tab, base)) == before) kept++;
    } finally {
      await session.close();
    }
  }
  return (100 * kept) / VISITORS;
}

async function survivals() {
  const rows = [];
  const backend = await startStores();
  try {
    for (const engine of selectedEngines().filter((e) => e != 'firefox')) {
      if (engine == 'webkit' && !webkit.url()) {
        rows.push({ name: 'vuid survival after the wipe, webkit', value: 'not measured', unit: '', reference: 'run through test/with-browsers.js (npm run bench does)' });
        continue;
      }
      const browser = await launch(engine);
      try {
        const note = `${VISITORS} visitors each: consent, identify, wipe of non-HttpOnly cookies + localStorage + IndexedDB, reload`;
        for (const store of ['node', 'edge', 'plain']) {
          const label = { node: 'twin via the Node proxy', edge: 'twin via idcapture/edge (workerd)', plain: 'no twin (static site)' }[store];
          rows.push({ name: `vuid survival after the wipe, ${engine}, ${label}`, value: await survival(browser, backend, store, engine), unit: '%', ...(store == 'node' ? { note } : {}) });
        }
      } finally {
        await browser.close();
      }
    }
  } finally {
    await backend.close();
  }
  return rows;
}

export async function bench() {
  return [...(await overhead()), ...(await survivals())];
}
