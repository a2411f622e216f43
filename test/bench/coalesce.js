// Coalescing on versus off, side by side in one run: many simulated browsers send 1–3-profile requests through the
// proxy (Node adapter) into the emulator with its 10 requests/s limit on (500 profiles per request), for SECONDS each.
// Reported: profiles/s the emulator applied, the p50/p99 latency the browsers saw, and the 429/503 answers they got.
// Each server runs in its own process; a refused browser waits its Retry-After, as the snippet does.
// Run alone with `node test/bench/coalesce.js` (BENCH_CPU_PROF=dir writes a CPU profile of each proxy there).
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { count } from './quick.js';

const HERE = fileURLToPath(import.meta.url);
const KEY = 'example.apiKey';
const ORIGIN = 'https://shop.example';
const PATH = '/api/profiles';
const SECONDS = count(10, 1);
const BROWSERS = count(1000, 20);
/**
 * Seconds the browsers take to be all sending (1,000 connections opened, first requests in): the ceiling is measured
 * from then, as the pace carries a steady load, not while the first batches wait for the browsers to arrive.
 */
const RAMP_S = count(1, 0.25);

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));

const roles = {
  async upstream() {
    const { startEmulator } = await import('../../dist/emulator.js');
    // The documented limit: 10 requests/s per key, 500 profiles per request.
    return { url: (await startEmulator({ port: 0 })).url };
  },
  async proxy(upstream, options) {
    const { createProxy } = await import('../../dist/proxy.js');
    const { toNodeListener } = await import('../../dist/proxy-node.js');
    const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream, rateLimit: { ip: false, vuid: false }, verify: false, ...JSON.parse(options) });
    const server = http.createServer(toNodeListener(handle));
    server.maxConnections = BROWSERS * 2;
    return { url: await listen(server) };
  },
};

function start(role, args = [], execArgv = []) {
  const child = fork(HERE, ['serve', role, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  /** The child's CPU time so far (user + system), in ms. */
  const cpuMs = () =>
    new Promise((resolve) => {
      child.once('message', ({ user, system }) => resolve((user + system) / 1000));
      child.send('cpu');
    });
  return new Promise((resolve, reject) => {
    child.once('message', (info) => resolve({ ...info, cpuMs, stop: () => new Promise((done) => (child.once('exit', done), child.kill('SIGINT'))) }));
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

const stats = async (upstream) => (await fetch(`${upstream.url.replace(/\/v3$/, '')}/__emulator/stats`)).json();

/**
 * BROWSERS loops, each sending its next request when the last is answered, for SECONDS. `snapshot()` is called once
 * they all send (RAMP_S) and when they stop: `window` holds both answers and the seconds between them.
 */
async function load(url, snapshot) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: BROWSERS });
  const latencies = [];
  const statuses = {};
  let accepted = 0;
  let n = 0;
  let requests = 0;
  const until = Date.now() + SECONDS * 1000;
  const post = (body) =>
    new Promise((resolve) => {
      const req = http.request(url, { agent, method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' } }, (res) => {
        res.resume().on('end', () => resolve({ status: res.statusCode, retryAfter: Number(res.headers['retry-after'] ?? 1) }));
      });
      req.on('error', () => resolve({ status: 'error', retryAfter: 1 }));
      req.end(body);
    });
  const browser = async (b) => {
    while (Date.now() < until) {
      // 1, 2, 3, 1, … profiles a request, 2 on average (counted on `n`, the profiles, it was 1, 2, 1, 2: 1.5).
      const count = 1 + (requests++ % 3);
      const records = Array.from({ length: count }, () => ({ attributes: { email: `b${b}.${n++}@bench.test`, first_name: 'Bench' } }));
      const started = performance.now();
      const { status, retryAfter } = await post(JSON.stringify(records));
      latencies.push(performance.now() - started);
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status == 202) accepted += count;
      else await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter * 1000, until - Date.now())));
    }
  };
  const t0 = performance.now();
  const snap = (s) => new Promise((resolve) => setTimeout(async () => resolve({ taken: await snapshot(), at: performance.now() / 1000 }), s * 1000));
  const window = Promise.all([snap(RAMP_S), snap(SECONDS)]).then(([from, to]) => ({ from: from.taken, to: to.taken, seconds: to.at - from.at }));
  await Promise.all(Array.from({ length: BROWSERS }, (_, b) => browser(b)));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { accepted, elapsed, statuses, p50: at(0.5), p99: at(0.99), window: await window };
}

/** Each variant's options, and the pace it is configured to (`upstreamRps`) when coalescing: its ceiling in profiles/s. */
const VARIANTS = {
  'coalescing off (global budget 8/s)': { options: { coalesce: false } },
  'coalescing on, upstreamRps 8 (default)': { options: {}, upstreamRps: 8 },
  'coalescing on, upstreamRps 9.5': { options: { upstreamRps: 9.5 }, upstreamRps: 9.5 },
};
/** Profiles in one upstream request. */
const PER_REQUEST = 500;

/** Rows `{ name, value, unit }` for `npm run bench`. */
export async function bench() {
  const rows = [];
  for (const [name, { options, upstreamRps }] of Object.entries(VARIANTS)) {
    const upstream = await start('upstream');
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const proxy = await start('proxy', [upstream.url, JSON.stringify(options)], prof);
    try {
      const cpuBefore = await proxy.cpuMs();
      const result = await load(`${proxy.url}${PATH}`, () => stats(upstream));
      const busy = (await proxy.cpuMs()) - cpuBefore;
      const upstreamStats = await stats(upstream);
      const s = result.statuses;
      const applied = upstreamStats.recordsApplied / result.elapsed;
      const sent = upstreamStats.requests[202] ?? 0;
      rows.push({ name: `${name}: profiles/s applied by the emulator (${BROWSERS} browsers, ${SECONDS} s)`, value: Math.round(applied), unit: 'profiles/s' });
      if (upstreamRps) {
        // While every browser sends: before, the first batches wait for 1,000 connections to open; after they stop,
        // the last batches drain what is left, part-full by construction. Neither says what the pace can carry (the
        // row above counts both, over the whole run).
        const { from, to, seconds } = result.window;
        const sending = (to.recordsApplied - from.recordsApplied) / seconds;
        const ceiling = upstreamRps * PER_REQUEST;
        rows.push({ name: `${name}: applied while all browsers send (${RAMP_S}–${SECONDS} s) ÷ the configured ceiling (upstreamRps × ${PER_REQUEST})`, value: Math.round(sending), unit: 'profiles/s', reference: 'configured ceiling', referenceValue: ceiling, ratio: sending / ceiling });
      }
      rows.push(
        { name: `${name}: browser latency p50 / p99`, value: `${Math.round(result.p50)} / ${Math.round(result.p99)}`, unit: 'ms' },
        { name: `${name}: browser answers 202 / 429 / 503 / other`, value: `${s[202] ?? 0} / ${s[429] ?? 0} / ${s[503] ?? 0} / ${Object.entries(s).filter(([k]) => !['202', '429', '503'].includes(k)).reduce((a, [, v]) => a + v, 0)}`, unit: 'answers' },
        { name: `${name}: upstream requests 202 / 429`, value: `${sent} / ${upstreamStats.requests[429] ?? 0}`, unit: 'requests' },
        // Where a shortfall comes from: slots the pace did not use, or batches that left part-full.
        { name: `${name}: upstream requests/s, profiles per request`, value: `${(sent / result.elapsed).toFixed(1)}, ${sent ? Math.round(upstreamStats.recordsApplied / sent) : 0}`, unit: 'req/s, profiles' },
        { name: `${name}: the proxy process's CPU, share of one core`, value: Math.round((100 * busy) / (result.elapsed * 1000)), unit: '%' },
      );
    } finally {
      await proxy.stop();
      await upstream.stop();
    }
  }
  return rows;
}

if (process.argv[1] == HERE) {
  if (process.argv[2] == 'serve') {
    const info = await roles[process.argv[3]](...process.argv.slice(4));
    process.send(info);
    // SIGINT rather than a kill, so --cpu-prof writes its profile on the way out.
    process.on('SIGINT', () => process.exit(0));
    process.on('disconnect', () => process.exit(0));
    process.on('message', (message) => message == 'cpu' && process.send(process.cpuUsage()));
  } else {
    console.table(await bench());
  }
}
