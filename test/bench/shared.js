// Issue 24: three proxy processes sharing one Redis (`shared: { redis }`) behind a round-robin TCP forwarder, in front
// of the emulator at its 10 requests/s limit, fed by BROWSERS simulated browsers for SECONDS: the profiles/s the
// emulator applied against the account's ceiling (upstreamRps × 500), upstream 429s, and Redis script calls per
// upstream request (Redis's own command counts; the budgets are off in that run, so these are the pace's). The
// browsers send RECORDS profiles a request (a backlog flushed at once), so that what is measured is the shared pace,
// not how many requests this machine's load generator and forwarder can push (1–3-profile requests, the single
// process's shape in coalesce.js, top out near 1,000 profiles/s here, the load generator busy). Then the same with the
// per-IP budget in Redis and Redis killed a third of the way in and started again at two thirds: what the fallback
// costs, measured.
// Run alone with `node test/bench/shared.js`, or through `npm run bench`.
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import { startRedis } from '../helpers/redis.js';
import { startCluster, load } from '../helpers/shared-cluster.js';
import { count } from './quick.js';

const HERE = fileURLToPath(import.meta.url);
const SECONDS = count(10, 1);
const BROWSERS = count(300, 10);
const RPS = 8;
const RECORDS = 20;
const CEILING = RPS * 500;

/** EVALSHA and EVAL calls Redis has answered so far. */
async function scriptCalls(url) {
  const admin = new Redis(url, { maxRetriesPerRequest: 0, lazyConnect: true });
  admin.on('error', () => {});
  await admin.connect();
  const info = await admin.info('commandstats');
  admin.disconnect();
  return [...info.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function run(redis, { prefix, outage }) {
  const rateLimit = outage ? { ip: { limit: 1e6, period: 60 }, vuid: false } : false;
  const cluster = await startCluster({ options: { upstreamRps: RPS, rateLimit, shared: { redis: redis.url, prefix, expectedInstances: 3 } } });
  try {
    const calls = await scriptCalls(redis.url);
    const ends = Date.now() + SECONDS * 1000;
    const running = load(cluster.url, { browsers: BROWSERS, until: () => Date.now() > ends, size: () => RECORDS });
    if (outage) {
      await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 3));
      await redis.kill();
      await new Promise((resolve) => setTimeout(resolve, (SECONDS * 1000) / 3));
      await redis.restart();
    }
    const result = await running;
    const stats = await cluster.stats();
    const stored = await cluster.emails();
    const requests = Object.values(result.statuses).reduce((a, b) => a + b, 0);
    return {
      applied: stats.recordsApplied / result.seconds,
      upstream: stats.requests,
      lost: result.accepted.filter((e) => !stored.has(e)).length,
      statuses: result.statuses,
      // After a restart Redis counts from zero: the round trips are only read for the run without an outage.
      perUpstream: outage ? undefined : ((await scriptCalls(redis.url)) - calls) / ((stats.requests[202] ?? 0) + (stats.requests[429] ?? 0)),
      perBrowser: requests,
      output: cluster.output(),
    };
  } finally {
    await cluster.stop();
  }
}

/** Rows `{ name, value, unit }` for `npm run bench`. */
export async function bench() {
  const redis = await startRedis();
  try {
    const steady = await run(redis, { prefix: 'steady' });
    const outage = await run(redis, { prefix: 'outage', outage: true });
    const answers = (s) => `${s[202] ?? 0} / ${s[429] ?? 0} / ${s[503] ?? 0} / ${s[504] ?? 0}`;
    const name = `3 processes + Redis, upstreamRps ${RPS} in all, ${BROWSERS} browsers × ${RECORDS} profiles, ${SECONDS} s`;
    return [
      { name: `${name}: profiles/s applied by the emulator`, value: Math.round(steady.applied), unit: 'profiles/s', reference: `ceiling (${RPS} × 500)`, referenceValue: CEILING, ratio: steady.applied / CEILING },
      { name: `${name}: upstream requests 202 / 429`, value: `${steady.upstream[202] ?? 0} / ${steady.upstream[429] ?? 0}`, unit: 'requests' },
      { name: `${name}: browser answers 202 / 429 / 503 / 504`, value: answers(steady.statuses), unit: 'answers' },
      { name: `${name}: Redis script calls per upstream request (2 for the pace, 1 per record for newest write wins; budgets off)`, value: +steady.perUpstream.toFixed(1), unit: 'calls' },
      { name: `${name}: accepted profiles missing upstream`, value: steady.lost, unit: 'profiles' },
      { name: `${name}, IP budget in Redis, Redis killed for the middle third: profiles/s applied`, value: Math.round(outage.applied), unit: 'profiles/s', reference: 'the same without the outage', referenceValue: Math.round(steady.applied), ratio: outage.applied / steady.applied },
      { name: `${name}, Redis killed for the middle third: upstream requests 202 / 429`, value: `${outage.upstream[202] ?? 0} / ${outage.upstream[429] ?? 0}`, unit: 'requests' },
      { name: `${name}, Redis killed for the middle third: browser answers 202 / 429 / 503 / 504`, value: answers(outage.statuses), unit: 'answers' },
      { name: `${name}, Redis killed for the middle third: accepted profiles missing upstream`, value: outage.lost, unit: 'profiles' },
      { name: `${name}, Redis killed for the middle third: fallback warnings / recoveries logged`, value: `${outage.output.match(/Redis unavailable/g)?.length ?? 0} / ${outage.output.match(/Redis answers again/g)?.length ?? 0}`, unit: 'lines' },
    ];
  } finally {
    await redis.stop();
  }
}

if (process.argv[1] == HERE) console.table(await bench());
