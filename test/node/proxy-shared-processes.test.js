// Issue 24, the deployment itself: three proxy processes sharing one real redis-server (own port and data dir, started
// and stopped here), behind a round-robin TCP forwarder, in front of the emulator at its 10 requests/s limit. Bounded:
// a few seconds of load from 60 simulated browsers. Checked: no upstream 429 at upstreamRps 9.5 across the three,
// every profile that got a 202 is in the emulator, the per-IP budget holds exactly across the three, and with Redis
// killed mid-run and started again nothing is lost and each process logs the fallback and the recovery. The rate the
// three reach (≥ 95% of the ceiling) is a timing figure: `npm run bench` (test/bench/shared.js).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startRedis } from '../helpers/redis.js';
import { startCluster, load } from '../helpers/shared-cluster.js';

let redis;
before(async () => (redis = await startRedis()));
after(() => redis.stop());

const budgets = { ip: { limit: 20, period: 60 }, vuid: false };

test('three processes at upstreamRps 9.5 in all: no upstream 429, every accepted profile stored, the IP budget exact', async () => {
  const cluster = await startCluster({ options: { upstreamRps: 9.5, rateLimit: budgets, shared: { redis: redis.url, prefix: 'three', expectedInstances: 3 } } });
  try {
    // 60 browsers, each its own address (budget 20 records a minute: a browser's budget runs out, then it waits).
    const ends = Date.now() + 3000;
    const { accepted, statuses } = await load(cluster.url, { browsers: 60, until: () => Date.now() > ends, tag: 'a' });
    const stats = await cluster.stats();
    assert.equal(stats.requests[429] ?? 0, 0, `upstream 429s: ${JSON.stringify(stats.requests)}`);
    assert.ok(accepted.length > 0, JSON.stringify(statuses));
    const stored = await cluster.emails();
    assert.deepEqual(accepted.filter((e) => !stored.has(e)), [], 'accepted profiles missing upstream');
    // One address across the three processes: 20 records, then 429, whichever process each connection reaches.
    let requests = 0;
    const flood = await load(cluster.url, { browsers: 6, until: () => requests++ >= 40, ip: () => '203.0.113.99', tag: 'f', size: () => 1, maxWaitMs: 0 });
    assert.equal(flood.accepted.length, 20, JSON.stringify(flood.statuses));
  } finally {
    await cluster.stop();
  }
});

test('Redis killed mid-run and started again: nothing accepted is lost, each process logs the fallback and the recovery', async () => {
  const cluster = await startCluster({ options: { upstreamRps: 9, rateLimit: budgets, shared: { redis: redis.url, prefix: 'restart', expectedInstances: 3, retryMs: 200 } } });
  try {
    let phase = 'before';
    const running = load(cluster.url, { browsers: 30, until: () => phase == 'done', tag: 'k' });
    // Redis goes away a second into the run and comes back a second later; the load stops a second after that.
    const step = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    await step(1000);
    await redis.kill();
    await step(1000);
    await redis.restart();
    await step(1500);
    phase = 'done';
    const { accepted, statuses } = await running;
    assert.ok(accepted.length > 0, JSON.stringify(statuses));
    const stored = await cluster.emails();
    assert.deepEqual(accepted.filter((e) => !stored.has(e)), [], 'accepted profiles missing upstream');
    const output = cluster.output();
    assert.equal(output.match(/Redis unavailable/g)?.length, 3, output);
    assert.equal(output.match(/Redis answers again/g)?.length, 3, output);
  } finally {
    await cluster.stop();
  }
});
