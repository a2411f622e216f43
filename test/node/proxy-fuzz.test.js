// A bounded, seeded fuzz of the proxy: thousands of malformed methods, paths, headers and bodies. Every one is
// invalid by construction, so none may reach the upstream; none may get a 5xx; the process and server stay up.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener } from '../../dist/proxy-node.js';
import { keyWatch, API_KEY } from './helpers/proxy-key-watch.js';
import { ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

const SEED = 0x1dca9;
const RUNS = 3000;
const HTTP_RUNS = 300;

/** mulberry32: small, fast and reproducible; a failure message names the seed and the run. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const watch = keyWatch();
let upstreamCalls = 0;
const proxy = () =>
  createProxy({
    apiKey: API_KEY,
    allowedOrigins: [ORIGIN],
    upstream: 'http://127.0.0.1:9/v3',
    rateLimit: false,
    maxBodyBytes: 16 * 1024,
    maxBatch: 20,
    fetch: async () => (upstreamCalls++, new Response(null, { status: 202 })),
    log: (entry) => watch.text(JSON.stringify(entry)),
  });

function generator(random) {
  const int = (n) => Math.floor(random() * n);
  const pick = (list) => list[int(list.length)];
  const chance = (p) => random() < p;
  const CHARS = 'aZ09 _-@.%"\\\u0000\u00e9\u{1F600}[]{},:';
  const junk = (max = 20) => Array.from({ length: int(max) }, () => pick([...CHARS])).join('');
  // No valid identifier among these keys, so a record built only from them can never be valid.
  const KEYS = ['attributes', 'x', 'first_name', 'City', '__proto__', 'constructor', 'prototype', '', 'a-b', 'zaius_id', 'emails', 'data_source', 'customer_id'];

  function json(depth = 0) {
    const kind = depth > 3 ? int(4) : int(7);
    if (kind == 0) return pick([null, true, false, 0, -1, 1e308, 3.5]);
    if (kind == 1) return junk();
    if (kind == 2) return int(1000);
    if (kind == 3) return '';
    if (kind == 4) return Array.from({ length: int(4) }, () => json(depth + 1));
    return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(KEYS), json(depth + 1)]));
  }

  const validRecord = () => ({ attributes: { vuid: VUID, email: `u${int(1e6)}@test.com`, first_name: 'Ann' } });
  /** Each makes a valid record invalid, by exactly one rule. */
  const BREAKERS = [
    (a) => {
      a.email = junk(10).replace(/@/g, '');
    },
    (a) => {
      a.vuid = pick(['', 'ABC', VUID.toUpperCase(), `${VUID}0`, 42]);
      delete a.email;
    },
    // A name outside the allowlist is removed, not refused, so it breaks a record only by taking its last identifier.
    (a) => {
      a[pick(['favourite', 'Bad-Name', 'zaius_id', 'vuids', 'data_source', 'constructor', 'x'.repeat(70)])] = a.email;
      delete a.vuid;
      delete a.email;
    },
    (a) => {
      a.city = 'x'.repeat(1025 + int(100));
    },
    (a) => {
      a.first_name = pick([{}, [], { a: 1 }, [1]]);
    },
    (a) => {
      delete a.vuid;
      delete a.email;
    },
    (a) => {
      a.vuid = null;
      a.email = null;
    },
  ];


  function body() {
    const kind = int(9);
    if (kind == 0) return Uint8Array.from({ length: int(2000) }, () => int(256));
    if (kind == 1) {
      const text = JSON.stringify(Array.from({ length: 1 + int(5) }, validRecord));
      return text.slice(0, int(text.length));
    }
    if (kind == 2) return JSON.stringify(json());
    if (kind == 3) return pick(['[', '{', '"']).repeat(1 + int(5000));
    if (kind == 4) return JSON.stringify(Array.from({ length: 21 + int(30) }, validRecord));
    if (kind == 5) return JSON.stringify([{ attributes: { vuid: VUID, city: 'x'.repeat(17 * 1024) } }]);
    if (kind == 6) {
      const bytes = new TextEncoder().encode(JSON.stringify([validRecord()]));
      bytes[1 + int(bytes.length - 2)] = 0xc0 | int(2);
      return bytes;
    }
    if (kind == 7) return `[{"attributes":{"first_name":"Ann","__proto__":{"vuid":"${VUID}","polluted":true}}}]`;
    const records = Array.from({ length: 1 + int(5) }, validRecord);
    const single = chance(0.2);
    pick(BREAKERS)(records[single ? 0 : int(records.length)].attributes);
    return JSON.stringify(single ? records[0] : records);
  }

  const maybe = (value, p = 0.85) => (chance(p) ? value : undefined);
  return () => {
    const method = chance(0.8) ? 'POST' : pick(['GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'PROPFIND', 'FOO']);
    const path = chance(0.85) ? PATH : pick([`${PATH}/`, '/api/Profiles', '//api/profiles', `${PATH}%00`, '/', `${PATH}/../x`]);
    const headers = {
      origin: maybe(chance(0.9) ? ORIGIN : pick(['https://evil.example', 'null', `${ORIGIN}/`, 'HTTPS://SHOP.EXAMPLE', junk().replace(/[^\x21-\x7e]/g, '')])),
      'content-type': maybe(
        chance(0.8) ? pick(['application/json', 'text/plain;charset=UTF-8']) : pick(['application/jsonx', 'application/json; charset=latin1', 'multipart/form-data', 'text/html']),
      ),
      'x-forwarded-for': maybe(`${int(256)}.0.0.${int(256)}`, 0.3),
      'content-length': maybe(pick(['abc', '-1', '99999999', '0', '1e3']), 0.1),
      cookie: maybe('vuid=x', 0.2),
    };
    const withBody = method != 'GET' && method != 'HEAD';
    return { method, path, headers: Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)), body: withBody ? body() : undefined };
  };
}

/** What every answer must look like, whatever was sent. */
async function checkAnswer(response, run, c) {
  assert.ok(response.status < 500, `run ${run} (seed ${SEED}): status ${response.status}`);
  assert.notEqual(response.status, 202, `run ${run} (seed ${SEED}) was accepted: ${JSON.stringify(c)}`);
  const text = await response.text();
  if (response.status == 204 || !text) return;
  const body = JSON.parse(text);
  assert.equal(body.status, response.status);
  assert.equal(typeof body.detail.reason, 'string');
}

test(`${RUNS} malformed requests to the handler: no 5xx, nothing upstream`, async () => {
  const handle = proxy();
  const next = generator(prng(SEED));
  const statuses = {};
  for (let run = 0; run < RUNS; run++) {
    const c = next();
    let request;
    try {
      request = new Request(`http://proxy.test${c.path}`, { method: c.method, headers: c.headers, body: c.body });
    } catch {
      // Something the Fetch API itself refuses to build (e.g. a body on a method that cannot have one).
      continue;
    }
    const response = await watch.response(await handle(request, { clientIp: '203.0.113.1' }));
    statuses[response.status] = (statuses[response.status] ?? 0) + 1;
    await checkAnswer(response, run, c);
  }
  assert.equal(upstreamCalls, 0);
  // The fuzz must reach the deep steps, not stop at the door.
  for (const status of [400, 403, 405, 413, 415]) assert.ok(statuses[status] > 20, `too few ${status}: ${JSON.stringify(statuses)}`);
});

// Bounded: a raw request the server neither answers nor closes would otherwise hold the test for ever.
test(`${HTTP_RUNS} malformed requests and raw garbage through the Node adapter: the server stays up`, { timeout: 60_000 }, async () => {
  const server = http.createServer(toNodeListener(proxy()));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => (server.closeAllConnections(), new Promise((resolve) => server.close(resolve))));
  const base = `http://127.0.0.1:${server.address().port}`;
  const next = generator(prng(SEED + 1));
  for (let run = 0; run < HTTP_RUNS; run++) {
    const c = next();
    delete c.headers['content-length'];
    const response = await watch.response(await fetch(`${base}${c.path}`, { method: c.method, headers: c.headers, body: c.body }));
    await checkAnswer(response, run, c);
  }
  const random = prng(SEED + 2);
  const raw = [
    `POST ${PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
    `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcde`,
    `POST ${PATH} HTTP/1.1\r\nHost: [::1\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]`,
    `POST http://evil.example${PATH} HTTP/1.1\r\nHost: x\r\nOrigin: ${ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]`,
    `GARBAGE\r\n\r\n`,
    ...Array.from({ length: 40 }, () => Buffer.from(Array.from({ length: 1 + Math.floor(random() * 300) }, () => Math.floor(random() * 256)))),
  ];
  for (const bytes of raw) {
    const answer = await new Promise((resolve) => {
      const socket = net.connect(server.address().port, '127.0.0.1');
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('error', () => resolve(data));
      socket.on('close', () => resolve(data));
      // Half-closed: the server answers what it can parse and closes, so the wait ends on 'close', not on a timer.
      socket.end(bytes);
    });
    watch.text(answer);
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
    assert.ok(status < 500, `raw request answered ${status}`);
  }
  assert.equal(upstreamCalls, 0);
  const valid = JSON.stringify([{ attributes: { vuid: VUID } }]);
  const response = await fetch(`${base}${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: valid });
  assert.equal(response.status, 202);
});

test('the key appears in no answer or log entry of the fuzz', () => {
  watch.assertClean();
});
