// Issue 24: `shared: { redis }` makes several proxies one account: budgets exact across them, one pace, an upstream
// Retry-After holding every one, and a fallback while Redis is away. Each proxy here has its own Redis connection, as
// a process would (the three-process run behind a balancer is test/node/proxy-shared-processes.test.js). A real
// redis-server on 127.0.0.1 with its own data dir, started and stopped by this file; the emulator in process.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createProxy } from '../../dist/proxy.js';
import { createEdge } from '../../dist/edge.js';
import { useEmulator } from './helpers/emulator.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';
import { startRedis } from '../helpers/redis.js';
import { until } from '../helpers/e2e.js';

const server = useEmulator({ rateLimit: false });
let redis;
let admin;
let prefix = 0;
before(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
  // Its errors while Redis is killed are expected; its commands fail fast meanwhile.
  admin.on('error', () => {});
  await admin.connect();
});
const clients = [];
after(async () => {
  for (const c of [admin, ...clients]) c.disconnect();
  await redis.stop();
});

/**
 * A client of each proxy's own, made as idcapture/proxy makes one for a URL (fail fast while disconnected, reconnect on
 * its own), so this file can close them at its end (a URL's client lives as long as its process: the three-process
 * test gives URLs).
 */
const connected = () => until(() => clients.every((c) => c.status == 'ready'), 'the clients connected');

function client() {
  const c = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (n) => Math.min(n * 100, 100) });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

/** `count` proxies sharing one prefix of their own (each test its own account), each with its own connection. */
async function proxies(count, options = {}, shared = {}) {
  const key = `test${prefix++}`;
  const warnings = [];
  const logs = [];
  const handles = Array.from({ length: count }, () =>
    createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream: server.url, verify: false, log: (e) => logs.push(e), ...options, shared: { redis: client(), prefix: key, ...shared } }),
  );
  await connected();
  return { handles, logs, warnings, key };
}

let serial = 0;
const records = (n, extra = {}) => Array.from({ length: n }, () => ({ attributes: { email: `s${serial++}@shared.test`, first_name: 'S', ...extra } }));

async function send(handle, body, ip = '203.0.113.7') {
  const response = await handle(new Request(`http://proxy.test${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify(body) }), { clientIp: ip });
  return { status: response.status, retryAfter: Number(response.headers.get('retry-after')) };
}

test('the per-IP budget is exact across three proxies: 10 records a minute in all, whichever proxy is asked', async () => {
  const { handles, logs } = await proxies(3, { rateLimit: { ip: { limit: 10, period: 60 }, vuid: false } });
  const answers = [];
  for (let i = 0; i < 12; i++) answers.push(await send(handles[i % 3], records(1)));
  assert.deepEqual(answers.map((a) => a.status), [...Array(10).fill(202), 429, 429]);
  assert.deepEqual(logs.slice(-2).map((e) => [e.scope, e.shared]), [['ip', 'redis'], ['ip', 'redis']]);
  assert.ok(answers[10].retryAfter >= 1 && answers[10].retryAfter <= 60);
});

test('the per-vuid budget counts records across proxies, a batch paying for each record', async () => {
  const { handles, logs } = await proxies(2, { rateLimit: { ip: false, vuid: { limit: 5, period: 60 } } });
  const vuid = '0123456789abcdef0123456789abcd01';
  assert.equal((await send(handles[0], records(3, { vuid }))).status, 202);
  assert.equal((await send(handles[1], records(2, { vuid }))).status, 202);
  assert.equal((await send(handles[0], records(1, { vuid }))).status, 429);
  assert.equal(logs.at(-1).scope, 'vuid');
});

test("an upstream 429's Retry-After holds every proxy: the other one's next batch waits for it, past its deadline", async () => {
  const key = `test${prefix++}`;
  let calls = 0;
  const refusing = async () => (calls++, new Response('{}', { status: 429, headers: { 'retry-after': '3' } }));
  const shared = { redis: client(), prefix: key };
  const a = createProxy({ apiKey: 'k', allowedOrigins: [ORIGIN], upstream: server.url, verify: false, fetch: refusing, coalesce: false, shared });
  let otherCalls = 0;
  const b = createProxy({ apiKey: 'k', allowedOrigins: [ORIGIN], upstream: server.url, verify: false, coalesce: false, timeoutMs: 1000, fetch: async () => (otherCalls++, new Response('{}', { status: 202 })), shared });
  await connected();
  assert.equal((await send(a, records(1))).status, 503);
  // The hold is in Redis (written without waiting for it): about 3 s from Redis's own now.
  await until(async () => Number(await admin.get(`${key}:pace:held`)) > 0, 'the hold in Redis');
  const [s, us] = await admin.time();
  const heldS = (Number(await admin.get(`${key}:pace:held`)) - (Number(s) * 1e6 + Number(us))) / 1e6;
  assert.ok(heldS > 2 && heldS <= 3, `held for ${heldS} s`);
  const answer = await send(b, records(1));
  assert.equal(answer.status, 504, 'the other proxy waited for the hold until its deadline');
  assert.equal(otherCalls, 0, 'and sent nothing upstream meanwhile');
  assert.equal(calls, 1);
});

test('Redis killed: one warning, requests still accepted through the local pace (log: fallback), then shared again once it returns', async () => {
  const warnings = [];
  const warn = console.warn;
  console.warn = (message) => warnings.push(String(message));
  try {
    const { handles, logs } = await proxies(1, { rateLimit: { ip: { limit: 1000, period: 60 }, vuid: false } }, { retryMs: 100, expectedInstances: 3 });
    const [handle] = handles;
    assert.equal((await send(handle, records(1))).status, 202);
    assert.equal(logs.at(-1).shared, 'redis');
    await redis.kill();
    const before = server.emulator.profiles().length;
    for (let i = 0; i < 5; i++) assert.equal((await send(handle, records(2))).status, 202);
    assert.equal(server.emulator.profiles().length, before + 10, 'every accepted record stored');
    assert.ok(logs.slice(-5).every((e) => e.shared == 'fallback'), JSON.stringify(logs.slice(-5)));
    assert.equal(warnings.filter((w) => w.includes('Redis unavailable')).length, 1, warnings.join('\n'));
    assert.match(warnings.find((w) => w.includes('Redis unavailable')), /upstreamRps \/ 3/);
    await redis.restart();
    await admin.connect().catch(() => {});
    await until(async () => (await send(handle, records(1))).status == 202 && logs.at(-1).shared == 'redis', 'shared again after the restart');
    assert.equal(warnings.filter((w) => w.includes('Redis answers again')).length, 1, warnings.join('\n'));
  } finally {
    console.warn = warn;
  }
});

test('a slow Redis counts as down: the request is answered by the fallback within shared.timeoutMs, not held', async () => {
  const warn = console.warn;
  console.warn = () => {};
  try {
    const { handles, logs } = await proxies(1, {}, { timeoutMs: 100 });
    assert.equal((await send(handles[0], records(1))).status, 202);
    const sleeper = client();
    await until(() => sleeper.status == 'ready', 'the sleeper connected');
    const asleep = sleeper.call('DEBUG', 'SLEEP', '1.5').catch(() => {});
    await until(async () => true, 'a tick');
    const answer = await send(handles[0], records(1));
    assert.equal(answer.status, 202);
    assert.equal(logs.at(-1).shared, 'fallback');
    assert.ok(logs.at(-1).latencyMs < 1000, `answered in ${logs.at(-1).latencyMs} ms while Redis slept 1.5 s`);
    await asleep;
  } finally {
    console.warn = warn;
  }
});

test('shared is checked at start-up, and refused by the edge (a Worker has the Durable Object)', () => {
  const base = { apiKey: 'k', allowedOrigins: [ORIGIN] };
  assert.throws(() => createProxy({ ...base, shared: { redis: 'http://x' } }), /shared\.redis/);
  assert.throws(() => createProxy({ ...base, shared: { redis: redis.url, expectedInstance: 3 } }), /shared\.expectedInstance \(did you mean shared\.expectedInstances\?\)/);
  assert.throws(() => createProxy({ ...base, shared: { redis: redis.url, expectedInstances: 0 } }), RangeError);
  assert.throws(() => createEdge({ ...base, shared: { redis: redis.url } }), /idcapture\/edge.*shared/);
});
