// Coalescing and pacing: the proxy handler in front of the real emulator (its 10 requests/s limit on) on 127.0.0.1.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { EventEmitter, once } from 'node:events';
import { createProxy } from '../../dist/proxy.js';
import { createEmulator, startEmulator } from '../../dist/emulator.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';
import { jumpClock, manualClock } from './helpers/clocks.js';

const KEY = 'example.apiKey';
let running;

before(async () => {
  running = await startEmulator({ port: 0 });
});
beforeEach(() => running.emulator.reset());
after(() => running.close());

// These tests pin merging and ordering, not identity: every record is forwarded as sent (verify: false).
const proxy = (options = {}) => createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream: running.url, rateLimit: false, verify: false, ...options });

const send = (handle, records, ip = '203.0.113.9') =>
  handle(
    new Request(`http://proxy.test${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify(records.map((attributes) => ({ attributes }))),
    }),
    { clientIp: ip },
  );

const emails = () => new Set(running.emulator.profiles().flatMap((p) => p.attributes?.emails ?? p.emails ?? [p.attributes?.email ?? p.email]));

/**
 * A loopback upstream in front of the emulator that can drop or hold requests, chosen by their body; its server emits
 * `'seen'` as each request's body has been read.
 */
async function startGate(decide) {
  const seen = [];
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const body = Buffer.concat(chunks).toString();
    seen.push({ body, req });
    server.emit('seen');
    const action = decide(body);
    if (action == 'drop') return req.socket.destroy();
    if (action == 'hold') return;
    const answer = await fetch(`${running.url}/profiles`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': KEY }, body });
    res.writeHead(answer.status, { 'content-type': 'application/json' }).end(await answer.text());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}/v3`,
    server,
    seen,
    close: () => (server.closeAllConnections(), new Promise((resolve) => server.close(resolve))),
  };
}

test('200 concurrent browser-sized requests: one upstream request, every one 202, every profile in the emulator', { timeout: 30_000 }, async () => {
  // The batching wait (50 ms) ends when the test moves the proxy's clock, not when a busy machine gets round to it,
  // so how many requests arrive within it does not depend on the machine.
  const clock = manualClock();
  const handle = proxy({ clock });
  let n = 0;
  const batches = Array.from({ length: 200 }, (_, i) => Array.from({ length: 1 + (i % 3) }, () => ({ email: `c${n++}@test.com`, first_name: 'C' })));
  const answers = Promise.all(batches.map((records, i) => send(handle, records, `198.51.100.${i % 50}`).then((r) => r.status)));
  // All are validated and queued without I/O, within this turn of the event loop; then the wait ends, and time stands
  // still while the upstream answers.
  await new Promise((resolve) => setImmediate(resolve));
  await clock.advance(50);
  const statuses = await answers;
  assert.deepEqual(new Set(statuses), new Set([202]));
  const stats = running.emulator.stats();
  assert.equal(stats.requests[429], undefined, 'no upstream 429');
  assert.equal(stats.requests[202], 1, `${stats.requests[202]} upstream requests for ${n} records`);
  const stored = emails();
  for (let i = 0; i < n; i++) assert.ok(stored.has(`c${i}@test.com`), `c${i}@test.com is in the emulator`);
});

test('upstream requests leave evenly spaced at upstreamRps, checked on the proxy\'s clock', async () => {
  const clock = manualClock();
  // In-process: nothing but the proxy's own pace decides when a request leaves.
  const api = createEmulator({ clock });
  const sentAt = [];
  const handle = proxy({
    clock,
    coalesce: { maxRecords: 2, maxWaitMs: 0 },
    fetch: (url, init) => {
      sentAt.push(clock.now());
      return api.fetch(new Request(url, init));
    },
  });
  let done = false;
  const answers = Promise.all(Array.from({ length: 20 }, (_, i) => send(handle, [{ email: `p${i}@test.com` }], `192.0.2.${i}`))).finally(() => (done = true));
  for (let slots = 0; !done && slots < 100; slots++) await clock.advance(125);
  assert.deepEqual(new Set((await answers).map((r) => r.status)), new Set([202]));
  assert.equal(sentAt.length, 10);
  assert.deepEqual(
    sentAt.slice(1).map((t, i) => t - sentAt[i]),
    Array(9).fill(125),
    'one request every 1000 / 8 ms',
  );
  assert.deepEqual(api.stats().requests, { 202: 10 });
});

test('coalesce: false sends each browser request as its own upstream request, at the same pace', async () => {
  const clock = manualClock();
  const api = createEmulator({ clock });
  const sent = [];
  const handle = proxy({
    clock,
    coalesce: false,
    fetch: (url, init) => {
      sent.push({ at: clock.now(), records: JSON.parse(init.body).length });
      return api.fetch(new Request(url, init));
    },
  });
  let done = false;
  const batches = Array.from({ length: 5 }, (_, i) => [{ email: `s${i}@test.com` }, { email: `t${i}@test.com` }]);
  const answers = Promise.all(batches.map((records, i) => send(handle, records, `192.0.2.${i}`))).finally(() => (done = true));
  for (let slots = 0; !done && slots < 20; slots++) await clock.advance(125);
  assert.deepEqual(new Set((await answers).map((r) => r.status)), new Set([202]));
  assert.deepEqual(sent.map((r) => r.records), [2, 2, 2, 2, 2], 'one upstream request per browser request, never merged');
  assert.deepEqual(sent.slice(1).map((r, i) => r.at - sent[i].at), Array(4).fill(125), 'one request every 1000 / 8 ms');
  assert.deepEqual(api.stats().requests, { 202: 5 });
});

test('an invalid record in a merged batch fails only its own browser request, by its own index', async () => {
  // The proxy allows a field the account (the emulator) lacks, so the upstream refuses it inside the merged batch.
  const handle = proxy({ allowedAttributes: ['vuid', 'email', 'first_name', 'loyalty_tier'] });
  const [a, bad, c] = await Promise.all([
    send(handle, [{ email: 'a@test.com' }]),
    send(handle, [{ email: 'b1@test.com' }, { email: 'b2@test.com', loyalty_tier: 'gold' }]),
    send(handle, [{ email: 'c@test.com' }, { email: 'c2@test.com' }]),
  ]);
  assert.equal(a.status, 202);
  assert.equal(c.status, 202);
  assert.equal(bad.status, 400);
  assert.deepEqual((await bad.json()).detail.invalids, [{ event: 1, message: 'refused by the profiles API' }]);
  const stored = emails();
  for (const email of ['a@test.com', 'c@test.com', 'c2@test.com']) assert.ok(stored.has(email), email);
  // The refused browser request is applied whole or not at all, as its answer says.
  assert.ok(!stored.has('b1@test.com') && !stored.has('b2@test.com'));
  assert.deepEqual(running.emulator.stats().requests, { 400: 1, 202: 1 }, 'one merged request, one resend without the bad browser batch');
});

test('a killed upstream connection gives 502 to exactly the browser requests in that batch, none reported accepted', async () => {
  const gate = await startGate((body) => (body.includes('kill@') ? 'drop' : 'pass'));
  try {
    // Three records per upstream request: requests 0–2 make the first batch, 3–5 the second (one IP: first come first).
    const handle = proxy({ upstream: gate.url, coalesce: { maxRecords: 3 } });
    const statuses = await Promise.all(
      ['kill@test.com', 'k1@test.com', 'k2@test.com', 'ok0@test.com', 'ok1@test.com', 'ok2@test.com'].map((email) =>
        send(handle, [{ email }]).then((r) => r.status),
      ),
    );
    assert.deepEqual(statuses, [502, 502, 502, 202, 202, 202]);
    const stored = emails();
    for (const email of ['ok0@test.com', 'ok1@test.com', 'ok2@test.com']) assert.ok(stored.has(email), email);
    for (const email of ['kill@test.com', 'k1@test.com', 'k2@test.com']) assert.ok(!stored.has(email), email);
    // The killed batch was tried twice (one retry), the other once.
    assert.equal(gate.seen.length, 3);
  } finally {
    await gate.close();
  }
});

test('an upstream that hangs past the deadline: the waiting browsers get 504, and their memory is freed', async () => {
  let hang = true;
  const gate = await startGate(() => (hang ? 'hold' : 'pass'));
  try {
    // Five IPs with one record each fill half the backlog cap: if the timed-out records were still held, the same five
    // IPs would be over their share of it and the next five requests would get 503.
    // The pace and the batching wait pass in real time; the deadline (10 s) only when the test jumps the clock past it.
    const clock = jumpClock();
    const handle = proxy({ upstream: gate.url, clock, coalesce: { maxPendingRecords: 10 } });
    const first = Promise.all(Array.from({ length: 5 }, (_, i) => send(handle, [{ email: `h${i}@test.com` }], `192.0.2.${i}`).then((r) => r.status)));
    if (!gate.seen.length) await once(gate.server, 'seen');
    clock.jump(10_000);
    assert.deepEqual(await first, [504, 504, 504, 504, 504]);
    // The hanging upstream request was abandoned, not left open.
    await Promise.all(gate.seen.map(({ req }) => (req.destroyed ? undefined : once(req, 'close'))));
    hang = false;
    const second = await Promise.all(Array.from({ length: 5 }, (_, i) => send(handle, [{ email: `after${i}@test.com` }], `192.0.2.${i}`).then((r) => r.status)));
    assert.deepEqual(second, [202, 202, 202, 202, 202]);
  } finally {
    await gate.close();
  }
});

test('past the backlog cap new requests get 503 with a Retry-After, the waiting ones are still delivered', async () => {
  let release;
  const held = new Promise((resolve) => (release = resolve));
  const gate = await startGate(() => 'pass');
  const handle = proxy({
    upstream: gate.url,
    coalesce: { maxPendingRecords: 6 },
    // The first upstream request waits until the cap has been shown.
    fetch: async (url, init) => (await held, fetch(url, init)),
  });
  try {
    // Three IPs fill half the cap; four more records from a fourth would pass the cap.
    const waiting = Array.from({ length: 3 }, (_, i) => send(handle, [{ email: `w${i}@test.com` }], `192.0.2.${i}`));
    const refused = await send(handle, [1, 2, 3, 4].map((i) => ({ email: `late${i}@test.com` })), '192.0.2.99');
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await refused.json()).detail.reason, 'upstream_busy');
    release();
    assert.deepEqual(await Promise.all(waiting.map((r) => r.then((x) => x.status))), [202, 202, 202]);
    assert.ok(!emails().has('late1@test.com'));
  } finally {
    await gate.close();
  }
});

test('fairness: while three IPs flood, every request of a normal client goes in the next batch taken', async () => {
  // Small upstream requests make a long backlog: 20 records per request, and the backlog is capped at 160 records.
  // First come, first served would put a normal client's record about 8 upstream requests back; the round robin across
  // IPs puts it in the next batch taken. Time moves only when the test moves it, one slot of the pace (125 ms) at a time, and
  // only until the record has gone upstream, so neither the verdict nor a deadline depends on how busy the machine is.
  const clock = manualClock();
  const api = await startEmulator({ clock });
  const bodies = [];
  const upstream = new EventEmitter();
  const handle = proxy({
    upstream: api.url,
    clock,
    coalesce: { maxRecords: 20, maxPendingRecords: 160 },
    fetch: (url, init) => {
      bodies.push(init.body);
      upstream.emit('request');
      return fetch(url, init);
    },
  });
  /** Moves time one slot of the pace on, and waits for the upstream request that slot lets go. */
  const slot = async () => {
    const sent = once(upstream, 'request');
    await clock.advance(125);
    await sent;
  };
  let flooding = true;
  const flood = { 202: 0, 503: 0 };
  let m = 0;
  const flooder = async (ip) => {
    const inFlight = new Set();
    while (flooding) {
      const p = send(handle, [1, 2, 3].map(() => ({ email: `f${m++}@test.com` })), ip).then((r) => (flood[r.status] = (flood[r.status] ?? 0) + 1));
      inFlight.add(p);
      p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 100) await Promise.race(inFlight);
      // Refusals are answered without I/O: yield, as a client over the network would, or nothing else would run.
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const floods = ['10.0.0.1', '10.0.0.2', '10.0.0.3'].map(flooder);
  const normal = [];
  const behind = [];
  try {
    // The flood fills the backlog first, so that there is a line to jump; its first batch leaves at once, full.
    while (flood[503] == 0 || !bodies.length) await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 10; i++) {
      const before = bodies.length;
      const answer = send(handle, [{ email: `normal${i}@test.com` }], '192.0.2.200');
      // The request is validated and queued without I/O, within this turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      const carries = () => bodies.findIndex((body) => body.includes(`normal${i}@test.com`));
      for (let slots = 0; carries() < 0 && slots < 50; slots++) await slot();
      behind.push(carries() - before);
      normal.push((await answer).status);
    }
  } finally {
    flooding = false;
    await Promise.all(floods);
    // Lets the flood's last requests go upstream or reach their deadline, then stops the emulator.
    await clock.advance(20_000);
    await api.close();
  }
  assert.deepEqual(normal, Array(10).fill(202));
  // The next request, or the one after when a batch was already taken and waiting for its slot of the pace.
  assert.ok(behind.every((n) => n <= 1), `upstream requests sent ahead of each normal record since it arrived: ${behind}`);
  assert.ok(flood[503] > 0, 'the flood met the cap');
  assert.equal(api.emulator.stats().requests[429], undefined);
});

test('last write wins: a request for a vuid whose earlier request is still upstream waits for it; other vuids do not', async () => {
  const V = 'a'.repeat(32);
  const W = 'b'.repeat(32);
  // The first upstream request (A's) is held until C (another vuid, sent after B) has its answer and every other
  // upstream request has been answered: an upstream where the older request lands last, as with injected latency.
  let seeA;
  const sawA = new Promise((resolve) => (seeA = resolve));
  let releaseA;
  const heldA = new Promise((resolve) => (releaseA = resolve));
  const others = new Set();
  let cAnswered = false;
  const maybeRelease = () => cAnswered && others.size == 0 && releaseA();
  let calls = 0;
  const handle = proxy({
    fetch: async (url, init) => {
      if (calls++ == 0) {
        seeA();
        await heldA;
        return fetch(url, init);
      }
      const answer = fetch(url, init);
      others.add(answer);
      const settled = () => (others.delete(answer), maybeRelease());
      answer.then(settled, settled);
      return answer;
    },
  });
  const zipOf = (vuid) => running.emulator.profiles().find((p) => p.vuid == vuid)?.zip;
  const a = send(handle, [{ vuid: V, zip: '10001' }], '192.0.2.1');
  await sawA;
  const b = send(handle, [{ vuid: V, zip: '10001' }, { vuid: V, zip: '10002' }], '192.0.2.1');
  const c = send(handle, [{ vuid: W, zip: '20001' }], '192.0.2.2');
  // C is not held behind A: it is answered while A is still upstream (A is released only after C's answer).
  assert.equal((await c).status, 202);
  cAnswered = true;
  maybeRelease();
  assert.deepEqual([(await a).status, (await b).status], [202, 202]);
  assert.equal(zipOf(V), '10002', 'the last zip the browser wrote is the one stored');
  assert.equal(zipOf(W), '20001');
});
