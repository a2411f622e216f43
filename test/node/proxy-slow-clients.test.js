// Hostile connections against the proxy on a plain `http.createServer(toNodeListener(handle))`, with the server's
// timeouts set deliberately (below): slow headers and slow bodies (slowloris), many idle connections, a header flood,
// and request-smuggling shapes (Content-Length with Transfer-Encoding, duplicate Content-Length). Each must end with
// the connection closed or refused by Node, nothing forwarded upstream, and another client still answered meanwhile.
// The waits are on the server's own timers (events: 'close', 'data'), bounded by the test's timeout.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { startEmulator } from '../../dist/emulator.js';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener } from '../../dist/proxy-node.js';

const ORIGIN = 'http://shop.test';
const KEY = 'slow-clients-key-51b7';
/** The timeouts this server sets: short here, so the test is quick; see README (The proxy, Node) for production. */
const TIMEOUTS = { headersTimeout: 1000, requestTimeout: 2000, keepAliveTimeout: 1000, connectionsCheckingInterval: 250 };
const VALID = JSON.stringify([{ attributes: { email: 'slow@test.com', first_name: 'Slow' } }]);

let upstream, server, port;
let forwarded = [];
before(async () => {
  upstream = await startEmulator({ apiKeys: [KEY], rateLimit: false });
  const observe = (input, init) => (forwarded.push(init?.body ?? ''), fetch(input, init));
  const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream: upstream.url, fetch: observe, rateLimit: false });
  server = http.createServer({ connectionsCheckingInterval: TIMEOUTS.connectionsCheckingInterval }, toNodeListener(handle));
  server.headersTimeout = TIMEOUTS.headersTimeout;
  server.requestTimeout = TIMEOUTS.requestTimeout;
  server.keepAliveTimeout = TIMEOUTS.keepAliveTimeout;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = server.address().port;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await upstream.close();
});

/** A raw socket; `answer` resolves everything it received once the server closes it. */
function raw() {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let received = '';
  socket.on('data', (chunk) => (received += chunk));
  const answer = new Promise((resolve) => socket.on('close', () => resolve(received)));
  socket.on('error', () => {});
  return { socket, answer, opened: new Promise((resolve) => socket.once('connect', resolve)) };
}

/** A normal upsert from another client: its status. */
const normal = () =>
  new Promise((resolve, reject) => {
    const req = http.request({ port, host: '127.0.0.1', path: '/api/profiles', method: 'POST', agent: false, headers: { origin: ORIGIN, 'content-type': 'application/json' } }, (res) =>
      res.resume().on('end', () => resolve(res.statusCode)),
    );
    req.on('error', reject);
    req.end(VALID);
  });

const head = (extra = '') => `POST /api/profiles HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\n${extra}`;

test('slow headers, slow bodies and idle connections are closed by the server; others are answered meanwhile', async () => {
  forwarded = [];
  const slowHeaders = Array.from({ length: 40 }, raw);
  const slowBodies = Array.from({ length: 40 }, raw);
  const idle = Array.from({ length: 100 }, raw);
  await Promise.all([...slowHeaders, ...slowBodies, ...idle].map((c) => c.opened));
  // Slowloris: a header line now and then, never the blank line that ends them.
  for (const { socket } of slowHeaders) socket.write(head());
  const drip = setInterval(() => slowHeaders.forEach(({ socket }) => socket.writable && socket.write(`X-Drip: ${Date.now()}\r\n`)), 200);
  // Slow body: full headers, then a byte now and then of a body that never completes.
  for (const { socket } of slowBodies) socket.write(`${head(`Content-Length: ${VALID.length}\r\n`)}\r\n${VALID.slice(0, 5)}`);
  const trickle = setInterval(() => slowBodies.forEach(({ socket }) => socket.writable && socket.write(' ')), 200);
  try {
    // While all of them hang on, another client is answered, and end to end.
    assert.equal(await normal(), 202);
    const [h, b, i] = await Promise.all([slowHeaders, slowBodies, idle].map((group) => Promise.all(group.map((c) => c.answer))));
    // Node answers a late request 408 where it still can; either way the connection is closed and nothing went on.
    for (const text of [...h, ...b]) assert.ok(text == '' || /^HTTP\/1\.1 408/.test(text), JSON.stringify(text.slice(0, 80)));
    assert.ok(i.every((text) => text == '' || /^HTTP\/1\.1 408/.test(text)));
    console.log(
      `slow headers: ${h.filter((t) => t.startsWith('HTTP/1.1 408')).length}/40 answered 408, the rest closed; slow bodies: ${b.filter((t) => t.startsWith('HTTP/1.1 408')).length}/40 answered 408; idle: 100 closed`,
    );
  } finally {
    clearInterval(drip);
    clearInterval(trickle);
  }
  assert.deepEqual(forwarded, [VALID], 'only the normal request reached the upstream');
});

test('a header flood is refused by Node before the proxy runs', async () => {
  forwarded = [];
  const many = raw();
  await many.opened;
  many.socket.end(`${head(Array.from({ length: 3000 }, (_, k) => `X-Flood-${k}: ${'a'.repeat(20)}\r\n`).join(''))}Content-Length: ${VALID.length}\r\n\r\n${VALID}`);
  assert.match(await many.answer, /^HTTP\/1\.1 431 /);
  assert.equal(await normal(), 202);
  assert.equal(forwarded.length, 1);
});

const SMUGGLED = 'GET /api/profiles HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
for (const [name, headers, body] of [
  ['Content-Length with Transfer-Encoding: chunked', `Content-Length: 4\r\nTransfer-Encoding: chunked\r\n`, `0\r\n\r\n${SMUGGLED}`],
  ['two different Content-Lengths', `Content-Length: ${VALID.length}\r\nContent-Length: 3\r\n`, `${VALID}${SMUGGLED}`],
  ['Transfer-Encoding other than chunked, last', `Transfer-Encoding: chunked, identity\r\n`, `0\r\n\r\n${SMUGGLED}`],
  ['an obfuscated Transfer-Encoding', `Transfer-Encoding : chunked\r\nContent-Length: 4\r\n`, `0\r\n\r\n${SMUGGLED}`],
]) {
  test(`request smuggling, ${name}: refused, nothing forwarded, no second request answered`, async () => {
    forwarded = [];
    const c = raw();
    await c.opened;
    c.socket.write(`${head(headers)}\r\n${body}`);
    const text = await c.answer;
    const statuses = [...text.matchAll(/^HTTP\/1\.1 (\d+)/gm)].map((m) => Number(m[1]));
    assert.deepEqual(statuses, [400], JSON.stringify(text.slice(0, 120)));
    assert.equal(forwarded.length, 0);
    assert.equal(await normal(), 202);
  });
}
