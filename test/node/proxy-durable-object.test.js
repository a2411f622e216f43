// The Durable Object variant of the Worker (dist/edge/worker.js, class ProfileWriter) in workerd through Miniflare:
// two Worker instances send to one writer object, which coalesces and paces into the real emulator (10 requests/s on).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import { Miniflare } from 'miniflare';
import { startEmulator } from '../../dist/emulator.js';
import { signIdentity } from '../../dist/server.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';
import { until } from '../helpers/e2e.js';

const KEY = 'example.apiKey';
const SECRET = 'a-site-secret-of-at-least-32-chars!';
let running;
let mf;
/** The two Worker instances, each as `{ fetch(path, init) }`. */
let workers;

const worker = (name) => ({
  name,
  // Each instance answers its own host, so dispatchFetch can address either.
  routes: [`${name}.shop.example/*`],
  modules: true,
  scriptPath: 'dist/edge/worker.js',
  compatibilityDate: '2026-04-01',
  bindings: { ZAIUS_API_KEY: KEY, ALLOWED_ORIGINS: ORIGIN, UPSTREAM: running.url, IDENTITY_SECRET: SECRET },
  // Both instances bind the same class of the first script: one object per name, whichever Worker asks.
  durableObjects: { PROFILE_WRITER: { className: 'ProfileWriter', scriptName: 'a' } },
});

before(async () => {
  running = await startEmulator({ port: 0 });
  mf = new Miniflare({ host: '127.0.0.1', port: 0, workers: [worker('a'), worker('b')] });
  await mf.ready;
  workers = ['a', 'b'].map((name) => ({ fetch: (path, init) => mf.dispatchFetch(`http://${name}.shop.example${path}`, init) }));
});
beforeEach(() => running.emulator.reset());
after(async () => {
  await mf?.dispose();
  await running?.close();
});

/** POSTs `records`, each attributes alone or, as `{ attributes, age }`, with the age the client gives it. */
const send = (w, records, ip) =>
  w.fetch(PATH, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', 'cf-connecting-ip': ip },
    body: JSON.stringify(records.map((record) => ('attributes' in record ? record : { attributes: record }))),
  });

const emails = () => new Set(running.emulator.profiles().flatMap((p) => p.emails ?? []));

test('200 concurrent requests through two Worker instances: one writer, every one 202, zero upstream 429s, all stored', async () => {
  let n = 0;
  const batches = Array.from({ length: 200 }, (_, i) => Array.from({ length: 1 + (i % 3) }, () => ({ email: `do${n++}@test.com` })));
  const started = Date.now();
  const responses = await Promise.all(batches.map((records, i) => send(workers[i % 2], records, `198.51.100.${i % 50}`)));
  const statuses = await Promise.all(responses.map(async (r) => (await r.arrayBuffer(), r.status)));
  const elapsedMs = Date.now() - started;
  assert.deepEqual(new Set(statuses), new Set([202]));
  const stats = running.emulator.stats();
  assert.equal(stats.requests[429], undefined, 'no upstream 429');
  // One writer, one pace for both Workers: never more upstream requests than 8/s allows over the run (an isolate
  // each would allow twice that), and far fewer than the 200 browser requests. How many it takes depends on how fast
  // the requests arrive, which a busy machine decides.
  const paced = Math.floor(elapsedMs / 125) + 1;
  assert.ok(stats.requests[202] <= paced && stats.requests[202] < batches.length / 2, `${stats.requests[202]} upstream requests in ${elapsedMs} ms`);
  const stored = emails();
  for (let i = 0; i < n; i++) assert.ok(stored.has(`do${i}@test.com`), `do${i}@test.com`);
});

test('preflights stay in the Worker; a POST reaches the writer and the emulator from either instance', async () => {
  const preflight = await workers[1].fetch(PATH, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'POST' } });
  assert.equal(preflight.status, 204);
  for (const [i, w] of workers.entries()) assert.equal((await send(w, [{ email: `one${i}@test.com` }], '192.0.2.1')).status, 202);
  assert.ok(emails().has('one0@test.com') && emails().has('one1@test.com'));
});

test("newest write wins in the writer's storage: the phone's older first_name, arriving later through the other Worker and after the writer restarted, is taken out; its newer field lands", async () => {
  // A writer whose storage outlives it: a Miniflare of its own persisting Durable Objects to a directory, started
  // again on the same directory, as an evicted object starts again on its storage. Both devices' records are signed:
  // only a write a token vouches for records its capture time.
  const persist = mkdtempSync(join(tmpdir(), 'idcapture-do-'));
  const start = async () => {
    const own = new Miniflare({ host: '127.0.0.1', port: 0, durableObjectsPersist: persist, workers: [worker('a'), worker('b')] });
    await own.ready;
    return { own, at: (name) => ({ fetch: (path, init) => own.dispatchFetch(`http://${name}.shop.example${path}`, init) }) };
  };
  try {
    let { own, at } = await start();
    const email = 'two-devices@test.com';
    const token = await signIdentity({ email, expiresIn: 3600 }, { secret: SECRET });
    const laptop = await send(at('a'), [{ attributes: { email, first_name: 'Laptop' }, token, age: 0 }], '192.0.2.10');
    assert.equal(laptop.status, 202);
    await own.dispose();
    ({ own, at } = await start());
    const phone = await send(at('b'), [{ attributes: { email, first_name: 'Phone', last_name: 'Newer' }, token, age: 3_600_000 }], '192.0.2.11');
    assert.equal(phone.status, 202);
    assert.deepEqual((await phone.json()).detail.stale, ['first_name']);
    await own.dispose();
    const profile = running.emulator.profiles().find((p) => p.emails?.includes(email));
    assert.equal(profile.first_name, 'Laptop');
    assert.equal(profile.last_name, 'Newer');
  } finally {
    rmSync(persist, { recursive: true, force: true });
  }
});

test("the writer's alarm forgets the capture times of identities not written for maxAgeDays: its storage does not grow without end", async () => {
  // maxAgeDays of two seconds: the alarm the first write plans fires on workerd's own clock, polled for, not slept on.
  const bundle = await rollup({ input: new URL('./helpers/sweep-worker.js', import.meta.url).pathname, plugins: [resolve({ browser: true })] });
  const { output } = await bundle.generate({ format: 'es' });
  const own = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    modules: true,
    script: output[0].code,
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: KEY, ALLOWED_ORIGINS: ORIGIN, UPSTREAM: running.url, MAX_AGE_DAYS: String(2 / 86_400) },
    durableObjects: { PROFILE_WRITER: 'Writer' },
  });
  try {
    const at = { fetch: (path, init) => own.dispatchFetch(`http://shop.example${path}`, init) };
    const stored = async () => (await at.fetch('/__stored')).json();
    const startedAt = Date.now();
    assert.equal((await send(at, [{ email: 'sweep@test.com', first_name: 'Sam' }], '192.0.2.20')).status, 202);
    const planned = await stored();
    assert.equal(planned.entries, 1);
    assert.ok(planned.alarm >= startedAt + 2000 && planned.alarm <= Date.now() + 2000, `alarm at +${planned.alarm - startedAt} ms`);
    const swept = await until(async () => ((s) => s.entries == 0 && s)(await stored()), 'the entry swept');
    assert.equal(swept.alarm, null, 'nothing left: no further sweep planned');
  } finally {
    await own.dispose();
  }
});
