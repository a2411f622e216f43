// The same table through the node:http adapter over real HTTP on 127.0.0.1, plus what only a socket can show:
// a chunked body refused while it is still arriving, a declared oversize body, and spoofed client-IP headers.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener } from '../../dist/proxy-node.js';
import { startUpstream } from './helpers/proxy-upstream.js';
import { useLoopback } from './helpers/loopback.js';
import { keyWatch, API_KEY } from './helpers/proxy-key-watch.js';
import { cases, checkAnswer, headersOf, ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

const watch = keyWatch();
let upstream;
const { serve: listen, servers } = useLoopback();
/** Serves `handle` through the adapter on 127.0.0.1; returns the base URL. */
const serve = (handle, options) => listen(toNodeListener(handle, options));

// The pipeline over HTTP pins transport, not identity: records are forwarded as sent (verify: false).
const proxy = (options = {}) =>
  createProxy({ apiKey: API_KEY, allowedOrigins: [ORIGIN], upstream: upstream.url, rateLimit: false, verify: false, log: (e) => watch.text(JSON.stringify(e)), ...options });

before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

const valid = JSON.stringify([{ attributes: { vuid: VUID, email: 'sample@test.com' } }]);

/**
 * The two bridges the adapter has: createProxy's handler runs in its plain form (read from node:http, no Request or
 * Response), any other Fetch handler (here one wrapping the proxy's) through the Fetch bridge. Each must answer alike.
 */
const bridges = {
  plain: (handle) => handle,
  'Fetch (a wrapped handler)': (handle) => (request, ctx) => handle(request, ctx),
};

for (const [bridge, wrap] of Object.entries(bridges)) describe(`the pipeline table over HTTP, ${bridge} bridge`, () => {
  let base;
  before(async () => {
    base = await serve(wrap(proxy()));
  });
  for (const c of cases) {
    test(c.name, async () => {
      upstream.reset();
      const response = await fetch(`${base}${c.path ?? PATH}`, { method: c.method ?? 'POST', headers: headersOf(c), body: c.body });
      await checkAnswer(assert, c, await watch.response(response), upstream.requests.length);
    });
  }
});

for (const [bridge, wrap] of Object.entries(bridges)) describe(`bodies on the socket, ${bridge} bridge`, () => {
  let base;
  before(async () => {
    base = await serve(wrap(proxy()));
  });

  test('a chunked body over the limit is answered 413 before the client has sent the rest', async () => {
    upstream.reset();
    const { port } = new URL(base);
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: PATH, headers: { origin: ORIGIN, 'content-type': 'application/json' } });
    req.on('error', () => {});
    const response = new Promise((resolve) => req.on('response', resolve));
    // Twice the limit (64 KiB), and the request is never ended: the answer can only come while the body is arriving.
    req.write(Buffer.alloc(128 * 1024, 0x20));
    const res = await response;
    assert.equal(res.statusCode, 413);
    assert.equal(req.writableEnded, false, 'the client had not finished its body');
    assert.equal(res.headers.connection, 'close');
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    const text = await new Promise((resolve) => {
      let body = '';
      res.on('data', (d) => (body += d)).on('end', () => resolve(body));
    });
    watch.text(text);
    assert.equal(JSON.parse(text).detail.reason, 'payload_too_large');
    req.destroy();
    assert.equal(upstream.requests.length, 0);
  });

  test('a declared Content-Length over the limit is answered 413 without waiting for the body', async () => {
    const { port } = new URL(base);
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\n\r\n[`);
    const text = await new Promise((resolve) => {
      let data = '';
      socket.on('data', (d) => {
        data += d;
        if (/\r\n\r\n\{.*\}$/s.test(data)) resolve(data);
      });
    });
    socket.destroy();
    watch.text(text);
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /connection: close/i);
  });

  test('a client that goes away mid-body leaves the server answering the next request', async () => {
    const { port } = new URL(base);
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: PATH, headers: { origin: ORIGIN, 'content-type': 'application/json' } });
    req.on('error', () => {});
    const arrived = once(servers.at(-1), 'request');
    req.write('[{"attributes":');
    const [incoming] = await arrived;
    // 'close', not events.once: that would reject on the 'aborted' error the request emits first.
    const gone = new Promise((resolve) => incoming.on('close', resolve));
    req.destroy();
    await gone;
    const response = await fetch(`${base}${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: valid });
    assert.equal((await watch.response(response)).status, 202);
  });

  test('a repeated header reads as Headers.get reads it (every value, joined): two content types are refused 415', async () => {
    upstream.reset();
    const { port } = new URL(base);
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    // node:http keeps only the first Content-Type of a request; a Fetch Request joins both, and so must the plain bridge.
    socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Type: text/html\r\nContent-Length: ${valid.length}\r\nConnection: close\r\n\r\n${valid}`);
    const text = await new Promise((resolve) => {
      let data = '';
      socket.on('data', (d) => (data += d)).on('end', () => resolve(data));
    });
    watch.text(text);
    assert.match(text, /^HTTP\/1\.1 415 /);
    assert.equal(upstream.requests.length, 0);
  });

  test('keep-alive carries several answers, including refusals whose small bodies were never read', async () => {
    let connections = 0;
    servers.at(-1).on('connection', () => connections++);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const statuses = [];
    for (const origin of [ORIGIN, 'https://evil.example', ORIGIN]) {
      statuses.push(
        await new Promise((resolve, reject) => {
          const { port } = new URL(base);
          const req = http.request({ agent, host: '127.0.0.1', port, method: 'POST', path: PATH, headers: { origin, 'content-type': 'application/json' } }, (res) => {
            res.resume().on('end', () => resolve(res.statusCode));
          });
          req.on('error', reject);
          req.end(valid);
        }),
      );
    }
    agent.destroy();
    assert.deepEqual(statuses, [202, 403, 202]);
    assert.equal(connections, 1);
  });

  test('a body still arriving at bodyTimeoutMs has its connection destroyed; the server answers the next request', async () => {
    const slowBase = await serve(wrap(proxy()), { bodyTimeoutMs: 200 });
    const { port } = new URL(slowBase);
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    // 'close', not events.once: that would reject on the ECONNRESET the destroyed connection may give first.
    const closed = new Promise((resolve) => socket.on('close', resolve));
    let answer = '';
    socket.on('data', (d) => (answer += d));
    socket.write(`POST ${PATH} HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[`);
    // A byte every 50 ms: never idle, never done; only the deadline ends it.
    const trickle = setInterval(() => socket.writable && socket.write(' '), 50);
    try {
      await closed;
    } finally {
      clearInterval(trickle);
    }
    assert.equal(answer, '', 'no answer: the connection was destroyed');
    const response = await fetch(`${slowBase}${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: valid });
    assert.equal((await watch.response(response)).status, 202);
  });
});

describe('the client IP', () => {
  test('comes from the socket; spoofed X-Forwarded-For, CF-Connecting-IP and X-Real-IP change nothing', async () => {
    upstream.reset();
    const keys = [];
    const seen = [];
    const handle = proxy({ rateLimit: { ip: { limit: async ({ key }) => (keys.push(key), { success: true }) }, vuid: false, global: false } });
    const base = await serve((request, ctx) => (seen.push({ headers: [...request.headers.keys()], ctx }), handle(request, ctx)));
    const response = await fetch(`${base}${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6', 'cf-connecting-ip': '6.6.6.6', 'x-real-ip': '6.6.6.6' },
      body: valid,
    });
    assert.equal((await watch.response(response)).status, 202);
    assert.deepEqual(keys, ['ip:127.0.0.1']);
    assert.deepEqual(seen[0].ctx, { clientIp: '127.0.0.1' });
    assert.ok(!seen[0].headers.includes('cf-connecting-ip') && !seen[0].headers.includes('x-real-ip'));
    for (const name of ['x-forwarded-for', 'cf-connecting-ip', 'x-real-ip']) assert.equal(upstream.requests[0].headers[name], undefined);
  });

  test('no client-IP header a client sends reaches the handler: X-Forwarded-For, Forwarded, X-Real-IP, CF-Connecting-IP', async () => {
    const seen = [];
    const base = await serve(async (request, ctx) => (seen.push({ headers: [...request.headers.keys()], ctx }), new Response(null, { status: 204 })));
    const spoofed = { 'x-forwarded-for': '6.6.6.6', forwarded: 'for=6.6.6.6', 'x-real-ip': '6.6.6.6', 'cf-connecting-ip': '6.6.6.6' };
    assert.equal((await fetch(`${base}/`, { headers: spoofed })).status, 204);
    for (const name of Object.keys(spoofed)) assert.ok(!seen[0].headers.includes(name), name);
    assert.deepEqual(seen[0].ctx, { clientIp: '127.0.0.1' });
  });

  test('a proxy told to trust X-Forwarded-For behind an adapter that is not: one socket rotating it is one address', async () => {
    const handle = proxy({ trustProxyHeader: 'x-forwarded-for', rateLimit: { ip: { limit: 5, period: 60 }, vuid: false, global: false } });
    const base = await serve(handle);
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      const response = await fetch(`${base}${PATH}`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-forwarded-for': `198.51.100.${i}` },
        body: valid,
      });
      statuses.push((await watch.response(response)).status);
    }
    assert.deepEqual(statuses, [...Array(5).fill(202), ...Array(7).fill(429)]);
  });

  test('trusted on the adapter alone (one place): the last X-Forwarded-For entry is the client IP, the header is not passed on', async () => {
    const keys = [];
    const seen = [];
    const handle = proxy({ rateLimit: { ip: { limit: async ({ key }) => (keys.push(key), { success: true }) }, vuid: false, global: false } });
    const base = await serve((request, ctx) => (seen.push([...request.headers.keys()]), handle(request, ctx)), { trustProxyHeader: 'x-forwarded-for' });
    const response = await fetch(`${base}${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6, 192.0.2.7', 'x-real-ip': '6.6.6.6' },
      body: valid,
    });
    assert.equal((await watch.response(response)).status, 202);
    assert.deepEqual(keys, ['ip:192.0.2.7']);
    assert.ok(!seen[0].includes('x-forwarded-for') && !seen[0].includes('x-real-ip'));
  });

  test('a trusted front proxy header is used when both adapter and handler are told', async () => {
    const keys = [];
    const handle = proxy({
      rateLimit: { ip: { limit: async ({ key }) => (keys.push(key), { success: true }) }, vuid: false, global: false },
      trustProxyHeader: 'x-real-ip',
    });
    const base = await serve(handle, { trustProxyHeader: 'X-Real-IP' });
    const response = await fetch(`${base}${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json', 'x-real-ip': '192.0.2.9', 'cf-connecting-ip': '6.6.6.6' },
      body: valid,
    });
    assert.equal((await watch.response(response)).status, 202);
    assert.deepEqual(keys, ['ip:192.0.2.9']);
  });
});

test("a client that goes away before its answer aborts the request's signal", { timeout: 10_000 }, async () => {
  let started;
  const handling = new Promise((resolve) => (started = resolve));
  let aborted;
  const abort = new Promise((resolve) => (aborted = resolve));
  const base = await serve(async (request) => {
    request.signal.addEventListener('abort', () => aborted(request.signal.aborted), { once: true });
    started();
    await abort;
    return new Response('too late');
  });
  const req = http.request(`${base}/`);
  req.on('error', () => {});
  req.end();
  await handling;
  req.destroy();
  assert.equal(await abort, true);
});

test('an answered request keeps its signal unaborted', async () => {
  let signal;
  const base = await serve(async (request) => {
    signal = request.signal;
    return new Response('fine');
  });
  assert.equal(await (await fetch(base)).text(), 'fine');
  assert.equal(signal.aborted, false);
});

test('a handler that throws is answered 500 and the server stays up', async () => {
  let calls = 0;
  const base = await serve(async () => {
    if (calls++ == 0) throw new Error('boom');
    return new Response('fine');
  });
  assert.equal((await fetch(base)).status, 500);
  assert.equal(await (await fetch(base)).text(), 'fine');
});

test('the key appears in no answer, header or log entry of this suite', () => {
  assert.ok(watch.count > 40, `only ${watch.count} answers seen`);
  watch.assertClean();
});
