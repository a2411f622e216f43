// The whole server side: the proxy handler (and its Node adapter) in front of the real emulator on 127.0.0.1.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createProxy } from '../../dist/proxy.js';
import { toNodeListener } from '../../dist/proxy-node.js';
import { startEmulator } from '../../dist/emulator.js';
import { keyWatch } from './helpers/proxy-key-watch.js';
import { manualClock } from './helpers/clocks.js';
import { ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

const KEY = 'example.apiKey';
// The emulator's key is public and its parts ("example") occur in our origins, so this suite looks for it whole.
const watch = keyWatch(KEY, KEY.length);
let running;

before(async () => {
  running = await startEmulator({ port: 0, rateLimit: false });
});
beforeEach(() => running.emulator.reset());
after(() => running.close());

// These tests pin forwarding and answers, not identity: every record is forwarded as sent (verify: false).
const proxy = (options = {}) => createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream: running.url, rateLimit: false, verify: false, ...options });

const send = async (handle, body, headers = {}) =>
  watch.response(
    await handle(
      new Request(`http://proxy.test${PATH}`, {
        method: 'POST',
        headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers },
        body: typeof body == 'string' ? body : JSON.stringify(body),
      }),
      { clientIp: '203.0.113.9' },
    ),
  );

async function profile(query) {
  const response = await fetch(`${running.url}/profiles?${query}`, { headers: { 'x-api-key': KEY } });
  return response.status == 200 ? (await response.json()).attributes : response.status;
}

test('an accepted batch is stored by the emulator and reads back by email', async () => {
  const response = await send(proxy(), [
    { attributes: { vuid: VUID, email: 'sample@test.com', first_name: 'Johnny', city: 'Boston' } },
    { attributes: { email: 'other@test.com', last_name: 'Doe' } },
  ]);
  assert.equal(response.status, 202);
  assert.deepEqual(Object.keys(await response.json()).sort(), ['status', 'timestamp', 'title']);
  const stored = await profile('email=sample@test.com');
  assert.equal(stored.first_name, 'Johnny');
  assert.equal(stored.city, 'Boston');
  assert.equal(stored.vuid, VUID);
  assert.equal((await profile('email=other@test.com')).last_name, 'Doe');
});

test('a batch with a bad record is refused whole by the proxy and nothing reaches the emulator', async () => {
  const response = await send(proxy(), [{ attributes: { email: 'ok@test.com' } }, { attributes: { email: 'nope' } }]);
  assert.equal(response.status, 400);
  assert.deepEqual((await response.json()).detail.invalids.map((i) => i.event), [1]);
  assert.deepEqual(running.emulator.stats().requests, {});
  assert.equal(await profile('email=ok@test.com'), 404);
});

test('what the proxy accepts the emulator accepts: the shared rules agree', async () => {
  const attributes = { vuid: VUID, email: ' Mixed.Case+tag@Test.com ', phone: '+15552108050', dob_year: 1990, gender: null, zip: '02101' };
  assert.equal((await send(proxy(), [{ attributes }])).status, 202);
  assert.deepEqual(running.emulator.stats().requests, { 202: 1 });
});

test('a wrong key is the emulator 403, answered 502 and never echoed', async () => {
  const response = await send(proxy({ apiKey: 'wrong.key-value' }), [{ attributes: { vuid: VUID } }]);
  assert.equal(response.status, 502);
  const body = await response.text();
  assert.equal(JSON.parse(body).detail.reason, 'upstream_rejected');
  assert.doesNotMatch(body, /wrong\.key|Forbidden"\}/);
});

test('injected upstream failures map to 502, 503 with Retry-After, and 504', async () => {
  // A fresh proxy per fault: the 429 holds a proxy's pace for its Retry-After. The default deadline (10 s) leaves
  // the retry of a 5xx or a dropped connection all the time it needs, however busy the machine.
  running.emulator.setFaults({ errorRate: 1 });
  assert.equal((await send(proxy(), [{ attributes: { vuid: VUID } }])).status, 502);
  running.emulator.setFaults({ burstRate: 1, burstLength: 5 });
  const busy = await send(proxy(), [{ attributes: { vuid: VUID } }]);
  assert.equal(busy.status, 503);
  assert.ok(Number(busy.headers.get('retry-after')) >= 1);
  running.emulator.setFaults({ dropRate: 1 });
  assert.equal((await send(proxy(), [{ attributes: { vuid: VUID } }])).status, 502);
  running.emulator.setFaults({});

  // Latency longer than the deadline, on one clock the test moves for both: the deadline ends the wait.
  const clock = manualClock();
  const slow = await startEmulator({ rateLimit: false, clock, faults: { latencyMs: 60_000 } });
  try {
    const answer = send(proxy({ upstream: slow.url, clock, coalesce: { maxWaitMs: 0 } }), [{ attributes: { vuid: VUID } }]);
    await clock.asleep((ms) => ms == 60_000);
    await clock.advance(10_000);
    assert.equal((await answer).status, 504);
  } finally {
    await clock.advance(50_000);
    await slow.close();
  }
});

test("without coalescing, the default global budget keeps a burst under the emulator's 10 requests/s", async () => {
  // Time stands still for both except when the test moves it, so the burst is one instant however long it takes to
  // arrive: 8 pass the proxy's budget and leave at the pace (one slot of 125 ms each), and the emulator, which would
  // refuse an 11th within a second, refuses none.
  const clock = manualClock();
  const limited = await startEmulator({ port: 0, clock });
  try {
    const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream: limited.url, coalesce: false, clock });
    const answers = Promise.all(
      Array.from({ length: 30 }, (_, i) => send(handle, [{ attributes: { vuid: i.toString(16).padStart(32, '0') } }]).then((r) => r.status)),
    );
    for (let sent = 1; sent < 8; sent++) {
      await clock.asleep((ms) => ms == 125);
      await clock.advance(125);
    }
    const statuses = await answers;
    assert.equal(statuses.filter((s) => s == 202).length, 8);
    assert.equal(statuses.filter((s) => s == 429).length, 22);
    assert.equal(limited.emulator.stats().requests[429], undefined);
    assert.equal(limited.emulator.stats().requests[202], 8);
  } finally {
    await limited.close();
  }
});

test('through the Node adapter over HTTP the upsert reaches the emulator too', async () => {
  const server = http.createServer(toNodeListener(proxy()));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${server.address().port}${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'text/plain;charset=UTF-8' },
      body: JSON.stringify([{ attributes: { email: 'beacon@test.com', first_name: 'Bea' } }]),
    });
    assert.equal((await watch.response(response)).status, 202);
    assert.equal((await profile('email=beacon@test.com')).first_name, 'Bea');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('the key appears in no answer of this suite', () => {
  assert.ok(watch.count >= 35, `only ${watch.count} answers seen`);
  watch.assertClean();
});

test('a record the emulator refuses but the proxy allows comes back as 400 naming only that record', async () => {
  // The proxy allows a custom field the account (the emulator) was never given.
  const handle = proxy({ allowedAttributes: ['vuid', 'email', 'first_name', 'loyalty_tier'] });
  const response = await send(handle, [
    { attributes: { email: 'fine@test.com', first_name: 'Fine' } },
    { attributes: { email: 'tier@test.com', loyalty_tier: 'gold' } },
  ]);
  assert.equal(response.status, 400);
  assert.deepEqual((await response.json()).detail.invalids, [{ event: 1, message: 'refused by the profiles API' }]);
  assert.equal(await profile('email=fine@test.com'), 404, 'the API applied nothing of the refused request');
});
