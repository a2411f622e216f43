// Issue 22: a bystander's requests while strangers flood the proxy, on loopback, bounded in time and sockets.
// - Records: 20 source addresses post 100-record batches of new profiles as fast as they are answered; the bystander
//   (its own address) posts one record at a time. Its latency is compared with the same requests on a quiet proxy,
//   under the default budgets (300 records/min per address) and under 6,000 records/min, what the old budget of 60
//   requests/min let a 100-record batch sender store.
// - Slow headers: 32 addresses × 32 connections that send a partial request head and never finish it, re-opened as
//   they are closed, against `createNodeServer`'s defaults (1,000 connections in all); the bystander opens a new
//   connection per request. Counted: its requests answered.
// The proxy and the emulator run in a child process, so the load and the server do not share a thread.
// Run alone with `node test/bench/floods.js`, or through `npm run bench`.
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { count } from './quick.js';

const HERE = fileURLToPath(import.meta.url);
const KEY = 'example.apiKey';
const ORIGIN = 'https://shop.example';
const FLOOD_S = count(6, 1);
const FLOODERS = 20;
const SLOW_ADDRESSES = 32;
const SLOW_PER_ADDRESS = count(32, 2);
const BYSTANDER = '127.0.9.9';

async function serve(rateLimit) {
  const { startEmulator } = await import('../../dist/emulator.js');
  const { createProxy } = await import('../../dist/proxy.js');
  const { createNodeServer } = await import('../../dist/proxy-node.js');
  const upstream = await startEmulator({ port: 0 });
  const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream: upstream.url, ...(rateLimit && { rateLimit }) });
  const server = createNodeServer(handle);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.send({ url: `http://127.0.0.1:${server.address().port}/api/profiles`, port: server.address().port });
  // Asked by the parent: profiles stored so far.
  process.on('message', () => process.send({ profiles: upstream.emulator.profiles().length }));
}

function start(rateLimit) {
  const child = fork(HERE, ['serve', JSON.stringify(rateLimit ?? null)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (info) =>
      resolve({
        ...info,
        profiles: () => new Promise((done) => (child.once('message', (m) => done(m.profiles)), child.send('profiles'))),
        stop: () => child.kill(),
      }),
    );
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

let serial = 0;
const records = (n) => JSON.stringify(Array.from({ length: n }, () => ({ attributes: { email: `b${serial++}@flood.test`, first_name: 'F' } })));

/** One POST from `localAddress` on a new or pooled connection; resolves `{ status, ms }` (status 0: no answer). */
function post(url, localAddress, body, agent) {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.request(url, { method: 'POST', agent, localAddress, headers: { origin: ORIGIN, 'content-type': 'application/json' } }, (res) => {
      res.resume().on('end', () => resolve({ status: res.statusCode, ms: performance.now() - started }));
    });
    req.setTimeout(15_000, () => req.destroy());
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};

/** The bystander posting one record at a time until `until()`; its answers. */
async function bystander(url, until, agent) {
  const answers = [];
  while (!until()) answers.push(await post(url, BYSTANDER, records(1), agent));
  return answers;
}

async function recordFlood(rateLimit) {
  const server = await start(rateLimit);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    let end = Date.now() + 2000;
    const quiet = await bystander(server.url, () => Date.now() > end, agent);
    const before = await server.profiles();
    end = Date.now() + FLOOD_S * 1000;
    const flooders = Array.from({ length: FLOODERS }, async (_, i) => {
      const own = new http.Agent({ keepAlive: true, maxSockets: 2 });
      const statuses = {};
      const sender = async () => {
        while (Date.now() < end) {
          const { status } = await post(server.url, `127.0.8.${i + 1}`, records(100), own);
          statuses[status] = (statuses[status] ?? 0) + 1;
        }
      };
      await Promise.all([sender(), sender()]);
      own.destroy();
      return statuses;
    });
    const loud = await bystander(server.url, () => Date.now() > end, agent);
    await Promise.all(flooders);
    const junk = (await server.profiles()) - before - loud.length;
    return { quiet, loud, junk };
  } finally {
    agent.destroy();
    server.stop();
  }
}

/** 32 × 32 sockets that send half a request head and never finish it, each re-opened as soon as it closes. */
function slowHeaders(port, until) {
  const sockets = new Set();
  const open = (address) => {
    if (until()) return;
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: address });
    sockets.add(socket);
    socket.on('connect', () => socket.write('POST /api/profiles HTTP/1.1\r\nHost: x\r\nX-Slow: '));
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      setTimeout(() => open(address), 10);
    });
  };
  for (let a = 0; a < SLOW_ADDRESSES; a++) for (let c = 0; c < SLOW_PER_ADDRESS; c++) open(`127.0.7.${a + 1}`);
  return () => {
    for (const socket of sockets) socket.destroy();
  };
}

async function slowHeaderFlood() {
  const server = await start();
  try {
    let end = Date.now() + FLOOD_S * 1000;
    const stop = slowHeaders(server.port, () => Date.now() > end);
    // Let the attack fill the server's connections before the bystander starts.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    end = Date.now() + FLOOD_S * 1000;
    const answers = await bystander(server.url, () => Date.now() > end, false);
    stop();
    return answers;
  } finally {
    server.stop();
  }
}

export async function bench() {
  const rows = [];
  for (const [name, rateLimit] of [
    ['default budgets (300 records/min per address)', undefined],
    ['old budget equivalent (6,000 records/min per address)', { ip: { limit: 6000, period: 60 }, vuid: { limit: 6000, period: 60 } }],
  ]) {
    const { quiet, loud, junk } = await recordFlood(rateLimit);
    const q50 = quantile(quiet.map((a) => a.ms), 0.5);
    const l50 = quantile(loud.map((a) => a.ms), 0.5);
    rows.push(
      { name: `records flood, ${name}: bystander p50 while 20 addresses flood`, value: l50, unit: 'ms', reference: 'bystander p50, quiet', referenceValue: q50, ratio: l50 / q50 },
      { name: `records flood, ${name}: bystander p95 while flooding`, value: quantile(loud.map((a) => a.ms), 0.95), unit: 'ms' },
      { name: `records flood, ${name}: bystander answered 202`, value: loud.filter((a) => a.status == 202).length, unit: `of ${loud.length}` },
      { name: `records flood, ${name}: junk profiles stored in ${FLOOD_S} s`, value: junk, unit: 'profiles' },
    );
  }
  const answers = await slowHeaderFlood();
  const answered = answers.filter((a) => a.status == 202).length;
  rows.push(
    { name: `slow headers, 32 × 32 sockets on createNodeServer: bystander requests answered`, value: answered, unit: `of ${answers.length}` },
    { name: 'slow headers: share answered (goal ≥ 95%)', value: (100 * answered) / answers.length, unit: '%' },
    { name: 'slow headers: bystander p50', value: quantile(answers.filter((a) => a.status).map((a) => a.ms), 0.5), unit: 'ms' },
  );
  return rows;
}

if (process.argv[2] == 'serve') await serve(JSON.parse(process.argv[3]));
else if (process.argv[1] == HERE) console.table((await bench()).map((r) => ({ ...r, value: +Number(r.value).toFixed(1) })));
