// createNodeServer: idle, slow-header, slow-body and per-IP connection floods are closed on time while other clients
// are served. Loopback only, a handful of sockets, small timeouts; every wait is on an event, never a sleep.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createProxy } from '../../dist/proxy.js';
import { createNodeServer } from '../../dist/proxy-node.js';
import { startUpstream } from './helpers/proxy-upstream.js';
import { ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

let upstream;
before(async () => (upstream = await startUpstream()));
after(() => upstream.close());

const handler = () => createProxy({ apiKey: 'k', allowedOrigins: [ORIGIN], upstream: upstream.url, rateLimit: false });

async function serve(options) {
  const server = createNodeServer(handler(), options);
  const sockets = [];
  server.on('connection', (socket) => sockets.push(socket));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, sockets, port: server.address().port, close: () => (server.closeAllConnections(), new Promise((r) => server.close(r))) };
}

/** A raw TCP client from `localAddress` (any 127.x address is loopback on Linux: one IP per simulated client). */
function connect(port, localAddress = '127.0.0.1') {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  const closed = new Promise((resolve) => socket.on('close', () => resolve(Date.now())));
  socket.on('error', () => {});
  const received = [];
  socket.on('data', (d) => received.push(d.toString()));
  return new Promise((resolve) => socket.on('connect', () => resolve({ socket, closed, received })));
}

const body = JSON.stringify([{ attributes: { vuid: VUID } }]);
const post = (port) =>
  fetch(`http://127.0.0.1:${port}${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body });

test('connections that never send a request are closed after headersTimeoutMs; others are served meanwhile', async () => {
  const { port, close } = await serve({ headersTimeoutMs: 300, idleTimeoutMs: 60_000 });
  try {
    const idle = await Promise.all(Array.from({ length: 5 }, () => connect(port, '127.0.0.2')));
    assert.equal((await post(port)).status, 202);
    await Promise.all(idle.map((c) => c.closed));
    assert.equal((await post(port)).status, 202);
  } finally {
    await close();
  }
});

test('a request whose headers trickle in is closed after headersTimeoutMs', async () => {
  const { port, close } = await serve({ headersTimeoutMs: 300, idleTimeoutMs: 60_000 });
  try {
    const slow = await connect(port, '127.0.0.2');
    slow.socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\n`);
    const timer = setInterval(() => slow.socket.writable && slow.socket.write('x-pad: 1\r\n'), 50);
    try {
      assert.equal((await post(port)).status, 202);
      await slow.closed;
    } finally {
      clearInterval(timer);
    }
  } finally {
    await close();
  }
});

test('a slow body is cut at bodyTimeoutMs by the adapter, while another client is served', async () => {
  const { port, close } = await serve({ bodyTimeoutMs: 300, idleTimeoutMs: 60_000 });
  try {
    const slow = await connect(port, '127.0.0.2');
    slow.socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[`);
    // One byte every 50 ms: never idle, never done.
    const timer = setInterval(() => slow.socket.writable && slow.socket.write(' '), 50);
    try {
      assert.equal((await post(port)).status, 202);
      await slow.closed;
    } finally {
      clearInterval(timer);
    }
    assert.equal(upstream.requests.filter((r) => r.body == body).length >= 1, true);
  } finally {
    await close();
  }
});

test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
  const { port, close } = await serve({ keepAliveTimeoutMs: 200, idleTimeoutMs: 60_000 });
  try {
    const client = await connect(port);
    const answered = new Promise((resolve) => client.socket.once('data', resolve));
    client.socket.write(
      `POST ${PATH} HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    assert.match(String(await answered), /^HTTP\/1.1 202/);
    await client.closed;
  } finally {
    await close();
  }
});

test('past maxConnectionsPerIp a client IP gets no more connections; another IP still does', async () => {
  const { port, sockets, close } = await serve({ maxConnectionsPerIp: 3, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
  try {
    const held = await Promise.all(Array.from({ length: 3 }, () => connect(port, '127.0.0.2')));
    const extra = await connect(port, '127.0.0.2');
    await extra.closed;
    assert.equal(extra.received.length, 0);
    assert.equal((await post(port)).status, 202);
    // A slot freed is a slot usable again.
    const serverSide = sockets.find((s) => s.remotePort == held[0].socket.localPort);
    const freed = new Promise((resolve) => serverSide.once('close', resolve));
    held[0].socket.destroy();
    await freed;
    const again = await connect(port, '127.0.0.2');
    again.socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    await again.closed;
    assert.match(again.received.join(''), /^HTTP\/1.1 202/);
    held.slice(1).forEach((c) => c.socket.destroy());
  } finally {
    await close();
  }
});

/** A server whose handler holds every request until `release()`; resolves `held()` as each one arrives. */
async function serveHolding(options) {
  let release;
  const released = new Promise((resolve) => (release = resolve));
  const arrivals = [];
  let arrived;
  const handle = async () => {
    arrived?.();
    arrivals.push(1);
    await released;
    return new Response(null, { status: 204 });
  };
  const server = createNodeServer(handle, { maxConnectionsPerIp: false, headersTimeoutMs: 60_000, requestTimeoutMs: 60_000, idleTimeoutMs: 60_000, keepAliveTimeoutMs: 60_000, ...options });
  const connected = [];
  server.on('connection', () => connected.push(1));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  /** A client the server has seen connect (its 'connection' event has run). */
  const open = async () => {
    const seen = connected.length;
    const client = await connect(port);
    while (connected.length == seen) await new Promise((resolve) => setImmediate(resolve));
    return client;
  };
  /** A client whose request the handler is now holding. */
  const busy = async () => {
    const client = await open();
    const count = arrivals.length;
    const inHandler = new Promise((resolve) => (arrived = resolve));
    client.socket.write(`GET / HTTP/1.1\r\nHost: x\r\n\r\n`);
    if (arrivals.length == count) await inHandler;
    return client;
  };
  const close = () => (server.closeAllConnections(), new Promise((r) => server.close(r)));
  return { open, busy, release: () => release(), close };
}

const isOpen = (client) => !client.socket.destroyed && client.socket.readyState == 'open';

test('at maxConnections the oldest connection that has not finished its headers is closed for the new one', { timeout: 10_000 }, async () => {
  const { open, busy, close, release } = await serveHolding({ maxConnections: 3 });
  try {
    const a = await open();
    a.socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\n`); // half a request head, never finished
    const b = await open();
    const c = await busy();
    const d = await open(); // the fourth: a, the oldest without headers, makes room
    await a.closed;
    assert.deepEqual([b, c, d].map(isOpen), [true, true, true]);
    const e = await open(); // then b
    await b.closed;
    assert.deepEqual([c, d, e].map(isOpen), [true, true, true]);
    // c is answered and waits, idle, for its next request head: now the newest such connection, after d and e.
    release();
    await new Promise((resolve) => c.socket.once('data', resolve));
    const f = await open();
    await d.closed;
    assert.deepEqual([c, e, f].map(isOpen), [true, true, true]);
    for (const client of [c, e, f]) client.socket.destroy();
  } finally {
    await close();
  }
});

test('at maxConnections with every connection inside a request, the new connection is the one closed', { timeout: 10_000 }, async () => {
  const { open, busy, close, release } = await serveHolding({ maxConnections: 2 });
  try {
    const held = [await busy(), await busy()];
    const late = await open();
    await late.closed;
    assert.deepEqual(held.map(isOpen), [true, true]);
    release();
    for (const client of held) client.socket.destroy();
  } finally {
    await close();
  }
});

test('bad limits throw at creation', () => {
  assert.throws(() => createNodeServer(handler(), { headersTimeoutMs: 0 }), RangeError);
  assert.throws(() => createNodeServer(handler(), { maxConnectionsPerIp: 1.5 }), RangeError);
  assert.throws(() => createNodeServer(handler(), { headersTimeoutMs: 40_000 }), /headersTimeoutMs must not exceed requestTimeoutMs/);
  assert.doesNotThrow(() => createNodeServer(handler(), { maxConnectionsPerIp: false }));
});
