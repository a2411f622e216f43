// The proxy with its default budgets (300 records/min per IP, 100 per vuid, 8 requests/s global) under bounded floods on loopback,
// through the Node adapter: from one IP, from one vuid on many IPs, and from many vuids on many IPs (source addresses
// 127.0.x.y). The budgets hold, the upstream (the emulator, 10 requests/s per key) never sees more than its rate, a
// bystander's requests keep flowing, and the proxy's memory stays bounded (RSS reported).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { startEmulator } from '../../dist/emulator.js';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener } from '../../dist/proxy-node.js';

const ORIGIN = 'http://shop.test';
const KEY = 'flood-key-9c1d4e';
let upstream, server, url;
const upstreamCalls = [];
/** Every proxy decision, with the client IP it was for (from the request's async context). */
const decisions = [];
const client = new AsyncLocalStorage();

before(async () => {
  upstream = await startEmulator({ apiKeys: [KEY] });
  const observe = (input, init) => (upstreamCalls.push(performance.now()), fetch(input, init));
  const handle = createProxy({
    apiKey: KEY,
    allowedOrigins: [ORIGIN],
    upstream: upstream.url,
    fetch: observe,
    log: (entry) => decisions.push({ ip: client.getStore(), ...entry }),
  });
  server = http.createServer(toNodeListener((request, ctx) => client.run(ctx?.clientIp, () => handle(request, ctx))));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${server.address().port}/api/profiles`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await upstream.close();
});

const agents = new Map();
const agentFor = (ip) => agents.get(ip) ?? agents.set(ip, new http.Agent({ keepAlive: true, localAddress: ip, maxSockets: 8 })).get(ip);
const vuid = () => randomBytes(16).toString('hex');

/** One upsert from `ip`; resolves `{ status, retryAfter }`. */
const post = (ip, id = vuid()) =>
  new Promise((resolve, reject) => {
    const body = JSON.stringify([{ attributes: { vuid: id, first_name: 'Flood' } }]);
    const req = http.request(url, { method: 'POST', agent: agentFor(ip), headers: { origin: ORIGIN, 'content-type': 'application/json' } }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode, retryAfter: Number(res.headers['retry-after'] ?? 0) }));
    });
    req.on('error', reject);
    req.end(body);
  });

/** `concurrency` senders posting `next()` until `stop()` is true or `max` requests were sent; resolves the statuses. */
async function flood({ next, max, concurrency = 16, stop = () => false }) {
  const statuses = {};
  let sent = 0;
  const sender = async () => {
    while (sent < max && !stop()) {
      sent++;
      const { status } = await next();
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, sender));
  return { sent, statuses };
}

/** The most upstream calls in any window of `ms`. */
function busiestWindow(times, ms = 1000) {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[i] - times[j] >= ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

test('a flood from one IP is held to its budget, and another visitor keeps getting through', async () => {
  const flooder = '127.0.0.2';
  const bystander = '127.0.0.3';
  let probing = true;
  const refusedByIp = () => decisions.some((d) => d.ip == flooder && d.scope == 'ip');
  const flooding = flood({ next: () => post(flooder), max: 20_000, stop: () => !probing });
  // Once the flooder's own budget is spent, the bystander posts a few times while the flood goes on: its own budget,
  // and its fair share of the coalescing backlog, let every one through at once, with no Retry-After to wait out.
  const bystanderAnswers = [];
  try {
    while (!refusedByIp()) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 3; i++) bystanderAnswers.push(await post(bystander));
  } finally {
    probing = false;
  }
  const { sent, statuses } = await flooding;
  const mine = decisions.filter((d) => d.ip == flooder);
  // One record a request: the per-IP budget of 300 records is 300 requests.
  assert.ok(mine.filter((d) => d.scope != 'ip').length <= 300, 'more than 300 records passed the per-IP budget');
  assert.ok((statuses[202] ?? 0) <= 300);
  assert.equal(statuses[429] + (statuses[202] ?? 0), sent);
  assert.deepEqual(bystanderAnswers.map((a) => a.status), [202, 202, 202], JSON.stringify(bystanderAnswers));
  console.log(`one IP: ${sent} requests, ${statuses[202] ?? 0} accepted, ${statuses[429]} refused; bystander: 3 of 3 through; RSS ${rssMb()} MB`);
});

test('one vuid posted from many IPs is held to the per-vuid budget', async () => {
  const id = vuid();
  let n = 0;
  const { sent, statuses } = await flood({ next: () => post(`127.0.1.${1 + (n++ % 40)}`, id), max: 400 });
  assert.ok((statuses[202] ?? 0) <= 100, `${statuses[202]} accepted for one vuid`);
  assert.ok(decisions.some((d) => d.scope == 'vuid'));
  assert.equal(sent, 400);
});

test('many vuids from many IPs: the global budget keeps the upstream under its rate; memory stays bounded', async () => {
  const rssBefore = rssMb();
  let n = 0;
  const started = performance.now();
  const { sent, statuses } = await flood({ next: () => post(`127.0.2.${1 + (n++ % 200)}`), max: 3000, concurrency: 32 });
  const seconds = (performance.now() - started) / 1000;
  const stats = upstream.emulator.stats();
  assert.equal(sent, 3000);
  // The upstream's own verdict on its rate: the emulator (10 requests/s) refused nothing. The busiest second measured
  // here is reported, not asserted: the spacing of the pace is checked exactly on an injected clock
  // (proxy-coalesce.test.js), and a wall-clock window would only measure how busy this machine is.
  assert.equal(stats.requests['429'] ?? 0, 0, 'the emulator refused a request for its rate');
  assert.equal(stats.requests['202'], upstreamCalls.length);
  assert.ok(rssMb() - rssBefore < 150, `RSS grew from ${rssBefore} to ${rssMb()} MB`);
  console.log(
    `many vuids: ${sent} requests in ${seconds.toFixed(1)} s, ${statuses[202] ?? 0} accepted, ${statuses[429]} refused; ` +
      `upstream busiest second ${busiestWindow(upstreamCalls)} calls (limit 8, emulator 10), ${upstreamCalls.length} in all; RSS ${rssBefore} → ${rssMb()} MB`,
  );
});
