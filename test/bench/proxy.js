// What the proxy costs: requests/s and latency of the proxy (Node adapter) next to a bare node:http pass-through to
// the same upstream, measured side by side in one run on loopback, rate limit off, bounded. The upstream is the
// emulator (rate limit off), or a trivial 202 server where the emulator is not built. Each server runs in its own
// process, so the load generator (autocannon) and the servers do not share a thread.
// Also (issue 24): two-record POSTs through the proxy with the pace opened (upstreamRps 1000, coalescing) against a bare
// node:http JSON echo (read, parse, serialize, answer 202), the floor of any Node JSON endpoint, in the same run; and
// the same proxy through @hono/node-server's getRequestListener, the bridge we are measured against (when installed).
// Run alone with `node test/bench/proxy.js`, or through `npm run bench`.
import { fork } from 'node:child_process';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { count } from './quick.js';

const HERE = fileURLToPath(import.meta.url);
const KEY = 'example.apiKey';
const ORIGIN = 'https://shop.example';
const PATH = '/api/profiles';
const SECONDS = count(3, 1);
const CONNECTIONS = 10;
const SEQUENTIAL = count(1000, 20);
// Enough connections that a full upstream batch (500 records, 250 requests) always waits: with fewer (200 before, 400
// records) every batch waited out the 50 ms merge wait, so the figure measured that wait (200 requests per 50 ms and
// the upstream call: about 3,000/s), not the proxy.
const OPEN_CONNECTIONS = count(600, 4);
const BODY = JSON.stringify([{ attributes: { vuid: '0123456789abcdef0123456789abcdef', email: 'bench@test.com', first_name: 'Bench' } }]);
const TWO = JSON.stringify([
  { attributes: { vuid: '0123456789abcdef0123456789abcdef', email: 'bench@test.com', first_name: 'Bench' } },
  { attributes: { vuid: '0123456789abcdef0123456789abcde0', email: 'bench2@test.com', first_name: 'Bench' } },
]);

const listen = (server) => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));

/** The server roles, each started in a child process by `start(role)`. */
const roles = {
  async upstream() {
    const { startEmulator } = await import('../../dist/emulator.js').catch(() => ({}));
    if (startEmulator) return { url: (await startEmulator({ port: 0, rateLimit: false })).url, kind: 'emulator' };
    const server = http.createServer((req, res) => req.resume().on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"title":"Accepted","status":202}')));
    return { url: `${await listen(server)}/v3`, kind: 'trivial 202 server' };
  },
  // The least a server can do and still keep the key: read the body, POST it on with the key, relay the status.
  async passthrough(upstream) {
    const server = http.createServer(async (req, res) => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const answer = await fetch(`${upstream}/profiles`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': KEY },
        body: Buffer.concat(chunks),
      });
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(Buffer.from(await answer.arrayBuffer()));
    });
    return { url: await listen(server) };
  },
  // The floor of a Node JSON endpoint: read the body, parse it, serialize an answer.
  async echo() {
    const server = http.createServer(async (req, res) => {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const records = JSON.parse(Buffer.concat(chunks).toString());
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 202, records: records.length }));
    });
    return { url: await listen(server) };
  },
  async proxyOpen(upstream) {
    const { createProxy } = await import('../../dist/proxy.js');
    const { toNodeListener } = await import('../../dist/proxy-node.js');
    const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream, rateLimit: false, verify: false, upstreamRps: 1000 });
    return { url: await listen(http.createServer(toNodeListener(handle))) };
  },
  // The same proxy through Hono's Node bridge, as Hono runs it (its lighter global Request and Response included).
  async proxyHono(upstream) {
    const { getRequestListener } = await import('@hono/node-server');
    const { createProxy } = await import('../../dist/proxy.js');
    const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream, rateLimit: false, verify: false, upstreamRps: 1000 });
    return { url: await listen(http.createServer(getRequestListener((request, { incoming }) => handle(request, { clientIp: incoming.socket.remoteAddress })))) };
  },
  async proxy(upstream) {
    const { createProxy } = await import('../../dist/proxy.js');
    const { toNodeListener } = await import('../../dist/proxy-node.js');
    // Transport only, as before issue 22, with the pace opened and no merge wait (what waits when a slot comes is
    // merged, nothing waits for more), so the sequential latency is the hop's, not the 8/s pace's (125 ms a request,
    // which made this part take minutes) nor the 50 ms merge wait's.
    const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream, rateLimit: false, verify: false, coalesce: { maxWaitMs: 0 }, upstreamRps: 1000 });
    return { url: await listen(http.createServer(toNodeListener(handle))) };
  },
};

function start(role, ...args) {
  const child = fork(HERE, ['serve', role, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (info) => resolve({ ...info, stop: () => child.kill() }));
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
  });
}

async function load(url, { headers = {}, expect = 202, body = BODY, connections = CONNECTIONS } = {}) {
  const result = await autocannon({
    url,
    method: 'POST',
    connections,
    duration: SECONDS,
    headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-api-key': KEY, ...headers },
    body,
  });
  const expected = expect == 202 ? result['2xx'] : result.non2xx;
  if (result.errors || expected < result.requests.total) {
    throw new Error(`${url}: ${result.errors} errors, ${result.requests.total - expected} unexpected answers`);
  }
  return { rps: Math.round(result.requests.average) };
}

/**
 * Latency one request at a time over one kept-alive connection, timed here in microseconds (autocannon rounds to
 * whole milliseconds, too coarse for what one hop adds). Under load latency is mostly queueing, which hides it.
 */
async function sequential(url, count = SEQUENTIAL) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times = [];
  const once = () =>
    new Promise((resolve, reject) => {
      const started = process.hrtime.bigint();
      const req = http.request(url, { agent, method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-api-key': KEY } }, (res) => {
        res.resume().on('end', () => (res.statusCode == 202 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${url}: ${res.statusCode}`))));
      });
      req.on('error', reject);
      req.end(BODY);
    });
  for (let i = 0; i < count; i++) times.push(await once());
  agent.destroy();
  times.sort((a, b) => a - b);
  const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
  return { p50: at(0.5), p99: at(0.99) };
}

const ms = (value) => value.toFixed(2);

/** Rows `{ name, value, unit }` for `npm run bench`. */
export async function bench() {
  const upstream = await start('upstream');
  const servers = [upstream];
  try {
    const passthrough = await start('passthrough', upstream.url);
    const proxy = await start('proxy', upstream.url);
    servers.push(passthrough, proxy);
    const targets = { [`upstream direct (${upstream.kind})`]: `${upstream.url}/profiles`, 'bare node:http pass-through': `${passthrough.url}${PATH}`, 'proxy, Node adapter': `${proxy.url}${PATH}` };
    // Warm both paths (JIT, keep-alive pools) before the clock matters.
    for (const url of Object.values(targets)) await autocannon({ url, method: 'POST', connections: 2, amount: count(200, 10), headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-api-key': KEY }, body: BODY });
    const rows = [];
    const figures = {};
    for (const [name, url] of Object.entries(targets)) {
      const busy = await load(url);
      const alone = await sequential(url);
      figures[name] = { busy, alone };
      rows.push(
        { name: `${name}: requests/s (${CONNECTIONS} connections, ${SECONDS} s)`, value: busy.rps, unit: 'req/s' },
        { name: `${name}: latency p50 / p99 (${SEQUENTIAL} sequential)`, value: `${ms(alone.p50)} / ${ms(alone.p99)}`, unit: 'ms' },
      );
    }
    const bare = figures['bare node:http pass-through'];
    const ours = figures['proxy, Node adapter'];
    rows.push(
      { name: 'proxy: requests/s', value: ours.busy.rps, unit: 'req/s', reference: 'bare node:http pass-through', referenceValue: bare.busy.rps, ratio: ours.busy.rps / bare.busy.rps },
      { name: 'proxy: latency p50', value: +ms(ours.alone.p50), unit: 'ms', reference: 'bare node:http pass-through', referenceValue: +ms(bare.alone.p50), ratio: ours.alone.p50 / bare.alone.p50 },
      { name: 'proxy: latency p99', value: +ms(ours.alone.p99), unit: 'ms', reference: 'bare node:http pass-through', referenceValue: +ms(bare.alone.p99), ratio: ours.alone.p99 / bare.alone.p99 },
      { name: 'proxy vs pass-through: added latency p50 / p99', value: `${ms(ours.alone.p50 - bare.alone.p50)} / ${ms(ours.alone.p99 - bare.alone.p99)}`, unit: 'ms' },
    );
    const echo = await start('echo');
    const open = await start('proxyOpen', upstream.url);
    servers.push(echo, open);
    const hono = await import('@hono/node-server').then(() => start('proxyHono', upstream.url), () => undefined);
    if (hono) servers.push(hono);
    const openUrls = { echo: echo.url, ours: `${open.url}${PATH}`, ...(hono && { hono: `${hono.url}${PATH}` }) };
    for (const url of Object.values(openUrls)) await autocannon({ url, method: 'POST', connections: 2, amount: count(200, 10), headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: TWO });
    // Many connections: a coalescing proxy answers when the upstream has applied the batch (a wait of up to maxWaitMs
    // plus the upstream call), so a few connections would measure that wait, not what the proxy can do.
    const floor = await load(openUrls.echo, { body: TWO, connections: OPEN_CONNECTIONS });
    const opened = await load(openUrls.ours, { body: TWO, connections: OPEN_CONNECTIONS });
    const through = `two-record requests/s (${OPEN_CONNECTIONS} connections, ${SECONDS} s)`;
    rows.push({ name: `proxy, pace opened (upstreamRps 1000): ${through}`, value: opened.rps, unit: 'req/s', reference: 'bare node:http JSON echo', referenceValue: floor.rps, ratio: opened.rps / floor.rps });
    if (hono) {
      const theirs = await load(openUrls.hono, { body: TWO, connections: OPEN_CONNECTIONS });
      rows.push(
        { name: `the same proxy on @hono/node-server's getRequestListener: ${through}`, value: theirs.rps, unit: 'req/s', reference: 'bare node:http JSON echo', referenceValue: floor.rps, ratio: theirs.rps / floor.rps },
        { name: 'proxy, pace opened: our Node bridge vs Hono\'s', value: opened.rps, unit: 'req/s', reference: "@hono/node-server's getRequestListener", referenceValue: theirs.rps, ratio: opened.rps / theirs.rps },
      );
    } else rows.push({ name: "the same proxy on @hono/node-server's getRequestListener", value: 'not measured', unit: '', reference: '@hono/node-server is not installed' });
    const refused = await load(`${proxy.url}${PATH}`, { headers: { origin: 'https://evil.example' }, expect: 403 });
    rows.push({ name: 'proxy refusing (403, no upstream call): requests/s', value: refused.rps, unit: 'req/s' });
    return rows;
  } finally {
    for (const server of servers) server.stop();
  }
}

if (process.argv[1] == HERE) {
  if (process.argv[2] == 'serve') {
    const info = await roles[process.argv[3]](process.argv[4]);
    process.send(info);
    process.on('disconnect', () => process.exit(0));
  } else {
    console.table(await bench());
  }
}
