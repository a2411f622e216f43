// Three (or `processes`) proxy processes sharing one Redis, behind a round-robin TCP forwarder, in front of the
// emulator with its documented limit (10 requests/s): the Node deployment `shared: { redis }` is for, on loopback.
// Each server is its own process; the forwarder and the load run in the caller. Used by
// test/node/proxy-shared-processes.test.js (bounded) and test/bench/shared.js (the figures).
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(import.meta.url);
export const ORIGIN = 'https://shop.example';
export const PATH = '/api/profiles';

const roles = {
  async upstream() {
    const { startEmulator } = await import('../../dist/emulator.js');
    return { url: (await startEmulator({ port: 0 })).url };
  },
  async proxy(upstream, options) {
    const { createProxy } = await import('../../dist/proxy.js');
    const { createNodeServer } = await import('../../dist/proxy-node.js');
    const handle = createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream, verify: false, ...JSON.parse(options) });
    const server = createNodeServer(handle, { maxConnectionsPerIp: false, trustProxyHeader: 'x-real-ip' });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${server.address().port}` };
  },
};

/** Starts `role` in a child process; its stderr (the proxy's warnings) is collected in `output`. */
function start(role, args = []) {
  const child = fork(HERE, ['serve', role, ...args], { stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.once('message', (info) =>
      resolve({ ...info, output: () => output, stop: () => new Promise((done) => (child.exitCode !== null ? done() : (child.once('exit', done), process.kill(child.pid, 'SIGTERM')))) }),
    );
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}: ${output}`)));
  });
}

/** A TCP forwarder handing each new connection to the next backend in turn. */
async function roundRobin(urls) {
  const ports = urls.map((url) => Number(new URL(url).port));
  let next = 0;
  const sockets = new Set();
  const server = net.createServer((client) => {
    const backend = net.connect(ports[next++ % ports.length], '127.0.0.1');
    for (const s of [client, backend]) (sockets.add(s), s.on('close', () => sockets.delete(s)), s.on('error', () => {}));
    client.pipe(backend).pipe(client);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => (sockets.forEach((s) => s.destroy()), new Promise((resolve) => server.close(resolve))),
  };
}

/** The emulator, `processes` proxies with `options` (JSON-able), and the forwarder in front of them. */
export async function startCluster({ processes = 3, options }) {
  const upstream = await start('upstream');
  const proxies = await Promise.all(Array.from({ length: processes }, () => start('proxy', [upstream.url, JSON.stringify(options)])));
  const balancer = await roundRobin(proxies.map((p) => p.url));
  const base = upstream.url.replace(/\/v3$/, '');
  return {
    url: `${balancer.url}${PATH}`,
    stats: async () => (await fetch(`${base}/__emulator/stats`)).json(),
    emails: async () => new Set((await (await fetch(`${base}/__emulator/profiles`)).json()).flatMap((p) => p.emails ?? [])),
    output: () => proxies.map((p) => p.output()).join(''),
    stop: async () => {
      await balancer.close();
      await Promise.all([...proxies, upstream].map((s) => s.stop()));
    },
  };
}

/**
 * `browsers` loops sending `size(n)` fresh profiles per request (1–3) through `url` until `until()` says stop (each new
 * connection goes to the next proxy); a refused one waits its Retry-After (at most `maxWaitMs`), as the snippet does.
 * Resolves the emails that got a 202, the answers by status, and the seconds it ran.
 */
export async function load(url, { browsers, until, maxWaitMs = 1000, ip = (b) => `198.51.100.${b % 250}`, tag = 'b', size = (n) => 1 + (n % 3) }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: browsers });
  const accepted = [];
  const statuses = {};
  let n = 0;
  const post = (body, from) =>
    new Promise((resolve) => {
      const req = http.request(url, { agent, method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-real-ip': from } }, (res) => {
        res.resume().on('end', () => resolve({ status: res.statusCode, retryAfter: Number(res.headers['retry-after'] ?? 1) }));
      });
      req.on('error', () => resolve({ status: 'error', retryAfter: 1 }));
      req.end(body);
    });
  const browser = async (b) => {
    while (!until()) {
      const emails = Array.from({ length: size(n) }, () => `${tag}${b}.${n++}@shared.test`);
      const { status, retryAfter } = await post(JSON.stringify(emails.map((email) => ({ attributes: { email, first_name: 'S' } }))), ip(b));
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status == 202) accepted.push(...emails);
      else await new Promise((resolve) => setTimeout(resolve, Math.min(retryAfter * 1000, maxWaitMs)));
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: browsers }, (_, b) => browser(b)));
  agent.destroy();
  return { accepted, statuses, seconds: (performance.now() - t0) / 1000 };
}

if (process.argv[1] == HERE && process.argv[2] == 'serve') {
  const info = await roles[process.argv[3]](...process.argv.slice(4));
  process.send(info);
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}
