// Issue 26, stale writes: each record's `age` (ms since its capture, on the browser's clock) gives its capture time on
// the proxy's clock; `maxAgeDays` refuses older records; the newest write per identity and attribute wins by capture
// time, not arrival (in memory for one process, in Redis with `shared`); an upstream request carries its records in
// capture order. The proxy runs in process in front of the real emulator on 127.0.0.1, and a real redis-server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import Redis from 'ioredis';
import { createProxy } from '../../dist/proxy.js';
import { signIdentity } from '../../dist/server.js';
import { useEmulator } from './helpers/emulator.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';
import { jumpClock, manualClock } from './helpers/clocks.js';
import { startRedis } from '../helpers/redis.js';
import { until } from '../helpers/e2e.js';

const server = useEmulator({ rateLimit: false });
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PHONE = '0123456789abcdef0123456789abc001';
const LAPTOP = '0123456789abcdef0123456789abc002';

let redis;
const clients = [];
before(async () => {
  redis = await startRedis();
});
after(async () => {
  for (const c of clients) c.disconnect();
  await redis.stop();
});

/** Every upstream body the proxies sent, parsed, in order. */
const forwarded = [];
const observe = (url, init) => (forwarded.push(JSON.parse(init.body)), fetch(url, init));

const proxy = (options = {}) =>
  createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream: server.url, rateLimit: false, verify: false, fetch: observe, ...options });

/** POSTs `records` (each `{ attributes, age? }`); resolves `{ status, body }`. */
async function send(handle, records) {
  const request = new Request(`http://proxy.test${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify(records) });
  const response = await handle(request, { clientIp: '203.0.113.5' });
  return { status: response.status, body: await response.json() };
}

const profileOf = (email) => server.emulator.profiles().find((p) => p.emails?.includes(email));

let serial = 0;
const email = () => `stale${serial++}@order.test`;

/**
 * The two-device story against `phone` and `laptop` (two handles, or one): the phone queued an address an hour ago,
 * the laptop set another one since, and the phone comes back online. Resolves the phone's answer.
 */
async function phoneComesBack(phone, laptop, address) {
  const laptopSent = await send(laptop, [{ attributes: { vuid: LAPTOP, email: address, street1: '2 Laptop Road' }, age: 5_000 }]);
  assert.equal(laptopSent.status, 202);
  return send(phone, [{ attributes: { vuid: PHONE, email: address, street1: '1 Phone Lane', first_name: 'Pat' }, age: HOUR }]);
}

test("a record's age is read and never forwarded; a bad age names the record", async () => {
  forwarded.length = 0;
  const handle = proxy();
  const address = email();
  assert.equal((await send(handle, [{ attributes: { email: address, city: 'Oslo' }, age: 1234 }])).status, 202);
  assert.deepEqual(forwarded.at(-1), [{ attributes: { email: address, city: 'Oslo' } }]);
  const bad = await send(handle, [{ attributes: { email: address }, age: -5 }, { attributes: { email: address }, age: '7' }, { attributes: { email: address } }]);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.detail.invalids, [
    { event: 0, message: 'age is not a whole number of milliseconds, at least 0' },
    { event: 1, message: 'age is not a whole number of milliseconds, at least 0' },
  ]);
  assert.equal(forwarded.length, 1, 'nothing of a refused batch is sent');
  // The profiles API (the emulator, as the real one) knows no age: it is the proxy's key alone.
  const direct = await fetch(`${server.url}/profiles`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'example.apiKey' },
    body: JSON.stringify([{ attributes: { email: address }, age: 5 }]),
  });
  assert.equal(direct.status, 400);
  assert.match(JSON.stringify(await direct.json()), /Unknown field `age`/);
});

test('maxAgeDays bounds a record\'s age: older is refused as expired, the client drops it; the option is checked', async () => {
  const handle = proxy({ maxAgeDays: 2 });
  const address = email();
  const answer = await send(handle, [{ attributes: { email: address }, age: 2 * DAY }, { attributes: { email: address }, age: 2 * DAY + 1 }]);
  assert.equal(answer.status, 400);
  assert.deepEqual(answer.body.detail.invalids, [{ event: 1, message: 'record expired: captured longer ago than this proxy accepts (maxAgeDays)' }]);
  assert.equal((await send(proxy(), [{ attributes: { email: address }, age: 30 * DAY }])).status, 202, 'the default is 30 days');
  const base = { apiKey: 'k', allowedOrigins: [ORIGIN] };
  assert.throws(() => createProxy({ ...base, maxAgeDays: 0 }), /maxAgeDays must be a number above 0/);
  assert.throws(() => createProxy({ ...base, maxAgeDays: '30' }), RangeError);
  assert.throws(() => createProxy({ ...base, maxAgeDay: 30 }), /unknown option maxAgeDay \(did you mean maxAgeDays\?\)/);
});

test("in one process: the laptop's later address stays when the phone's older one arrives after it; the phone's other field lands", async () => {
  const logs = [];
  const handle = proxy({ log: (entry) => logs.push(entry) });
  const address = email();
  const phone = await phoneComesBack(handle, handle, address);
  assert.equal(phone.status, 202);
  assert.deepEqual(phone.body.detail.stale, ['street1']);
  assert.match(phone.body.detail.message, /newest write wins/);
  assert.deepEqual(logs.at(-1).stale, ['street1']);
  assert.deepEqual(forwarded.at(-1), [{ attributes: { vuid: PHONE, email: address, first_name: 'Pat' } }], 'the identifiers still go: they link');
  const profile = profileOf(address);
  assert.equal(profile.street1, '2 Laptop Road');
  assert.equal(profile.first_name, 'Pat');
  assert.deepEqual(new Set(profile.vuids), new Set([PHONE, LAPTOP]));
});

test('a write captured later than the one known wins even when it arrives first; the same value resent never counts as older', async () => {
  const handle = proxy();
  const address = email();
  // The phone's week-old record arrives first (nothing known yet), then the laptop's: arrival order and capture order agree.
  assert.equal((await send(handle, [{ attributes: { email: address, street1: '1 Phone Lane' }, age: 7 * DAY }])).status, 202);
  const laptop = { attributes: { email: address, street1: '2 Laptop Road' }, age: 0 };
  assert.equal((await send(handle, [laptop])).body.detail, undefined);
  // A resend of the laptop's record, its capture time reckoned again a little earlier (the network's delay moved).
  const resent = await send(handle, [{ ...laptop, age: 900 }]);
  assert.equal(resent.body.detail, undefined, 'nothing taken out of a resend');
  assert.equal(profileOf(address).street1, '2 Laptop Road');
});

// Anyone may send an unverified record naming the customer's email, as often as the budgets let them: were its time
// recorded, fresh junk would hold back every signed write the customer's own devices had queued.
test("an unverified record's capture time never holds back a signed record; a signed one holds back an older unverified one", async () => {
  const secret = 's'.repeat(32);
  const handle = proxy({ verify: { secret } });
  const address = email();
  const token = await signIdentity({ email: address, vuid: PHONE, expiresIn: 3600 }, { secret });
  const forged = await send(handle, [{ attributes: { email: address, first_name: 'Mallory' }, age: 0 }]);
  assert.equal(forged.status, 202);
  const signed = await send(handle, [{ attributes: { vuid: PHONE, email: address, first_name: 'Pat' }, token, age: HOUR }]);
  assert.equal(signed.status, 202);
  assert.equal(signed.body.detail, undefined, 'nothing taken out of the signed record');
  assert.equal(profileOf(address).first_name, 'Pat');
  const older = await send(handle, [{ attributes: { email: address, first_name: 'Mallory' }, age: 2 * HOUR }]);
  assert.deepEqual(older.body.detail.stale, ['first_name'], 'the signed write is newer:');
  assert.equal(profileOf(address).first_name, 'Pat');
});

test("the newest write is known under every identity the record names: the laptop wrote under its vuid and the email", async () => {
  const handle = proxy();
  const address = email();
  // The laptop writes under its vuid and the email; the phone's old record names only the email.
  assert.equal((await send(handle, [{ attributes: { vuid: LAPTOP, email: address, city: 'Bergen' } }])).status, 202);
  const phone = await send(handle, [{ attributes: { email: address, city: 'Oslo', last_name: 'Lee' }, age: HOUR }]);
  assert.deepEqual(phone.body.detail.stale, ['city']);
  // (A record that names the laptop's vuid comes from the laptop's browser, whose queue orders its writes: see below.)
  assert.equal(profileOf(address).city, 'Bergen');
  assert.equal(profileOf(address).last_name, 'Lee');
});

test("the skew of the browser's clock cancels out: only the age counts, the proxy's clock gives the time", async () => {
  // The proxy's clock jumps a day between the two arrivals: the phone's record, 25 hours old on arrival, was captured
  // before the laptop's, which arrived a day earlier aged 0.
  const clock = jumpClock();
  const handle = proxy({ clock });
  const address = email();
  assert.equal((await send(handle, [{ attributes: { email: address, street1: '2 Laptop Road' }, age: 0 }])).status, 202);
  clock.jump(DAY);
  const phone = await send(handle, [{ attributes: { email: address, street1: '1 Phone Lane' }, age: DAY + HOUR }]);
  assert.deepEqual(phone.body.detail.stale, ['street1']);
  // 23 hours old a day later: captured an hour after the laptop's write, so it wins.
  const later = await send(handle, [{ attributes: { email: address, street1: '3 Later Street' }, age: DAY - HOUR }]);
  assert.equal(later.body.detail, undefined);
  assert.equal(profileOf(address).street1, '3 Later Street');
});

test('one upstream request carries its records in capture order, whatever order they arrived in', async () => {
  // Two browser requests in one batch: the batching wait ends only when the test moves the proxy's clock.
  const clock = manualClock();
  const handle = proxy({ clock });
  const address = email();
  forwarded.length = 0;
  const first = send(handle, [{ attributes: { email: address, city: 'Newer' }, age: 0 }]);
  const second = send(handle, [{ attributes: { email: address, street1: 'Older Street', city: 'Oldest' }, age: 60_000 }, { attributes: { email: address, zip: '0150' }, age: 30_000 }]);
  await new Promise((resolve) => setImmediate(resolve));
  await clock.advance(50);
  assert.deepEqual([(await first).status, (await second).status], [202, 202]);
  assert.equal(forwarded.length, 1, 'one upstream request');
  assert.deepEqual(
    forwarded[0].map((r) => Object.keys(r.attributes).filter((n) => n != 'email')),
    [['street1'], ['zip'], ['city']],
    'the older city was taken out; the rest goes oldest first',
  );
  assert.equal(profileOf(address).city, 'Newer');
});

test("a browser request's own records keep their order: its queue, not its clock, orders what one browser wrote", async () => {
  // Two tabs of one browser date their captures a few milliseconds apart in either order; the queue decides.
  forwarded.length = 0;
  const address = email();
  const answer = await send(proxy(), [
    { attributes: { vuid: PHONE, email: address, city: 'First' }, age: 10 },
    { attributes: { vuid: PHONE, email: address, zip: '0150' }, age: 30 },
  ]);
  assert.equal(answer.status, 202);
  assert.deepEqual(forwarded[0].map((r) => Object.keys(r.attributes).at(-1)), ['city', 'zip']);
});

/** A proxy process of its own on the shared Redis: its own connection, as a process has. */
function sharedProxy(prefix, options = {}) {
  const c = new Redis(redis.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, retryStrategy: (n) => Math.min(n * 100, 100) });
  c.on('error', () => {});
  clients.push(c);
  return { handle: proxy({ shared: { redis: c, prefix, retryMs: 100 }, ...options }), ready: () => until(() => c.status == 'ready', 'connected') };
}

test("through Redis, across processes: the laptop's address stays when the phone's older one reaches another process", async () => {
  const [a, b] = [sharedProxy('newest1'), sharedProxy('newest1')];
  await a.ready();
  await b.ready();
  const address = email();
  const phone = await phoneComesBack(b.handle, a.handle, address);
  assert.deepEqual(phone.body.detail.stale, ['street1']);
  assert.equal(profileOf(address).street1, '2 Laptop Road');
  assert.equal(profileOf(address).first_name, 'Pat');
  // What Redis holds: digests of the identities, never the email itself, and each key expires with maxAgeDays.
  const admin = new Redis(redis.url);
  const keys = await admin.keys('newest1:newest:*');
  assert.equal(keys.length, 3, keys.join());
  assert.ok(keys.every((key) => /^newest1:newest:[0-9a-f]{32}$/.test(key)));
  const ttl = await admin.pttl(keys[0]);
  assert.ok(ttl > 29 * DAY && ttl <= 30 * DAY, `${ttl} ms`);
  assert.ok(!JSON.stringify(await admin.hgetall(keys[0])).includes('Laptop'), 'values are kept as digests');
  admin.disconnect();
});

// A request can wait in the browser (its connections busy with answers still to come) after its body, and its ages,
// were made: its records then look captured later than they were, by seconds. Between two devices that blurs a
// near tie; within one browser it must never undo its queue's order, which is the order its writes were made.
test("one browser's writes never hold back each other: its queue orders them, in memory and through Redis", async () => {
  const shared = [sharedProxy('newest3'), sharedProxy('newest3')];
  await Promise.all(shared.map((p) => p.ready()));
  for (const [first, second] of [[proxy(), undefined], [shared[0].handle, shared[1].handle]]) {
    const address = email();
    // The zip 10073 waited 5 s in the browser before it left, so it reads as captured 4 s after the zip 10099 that
    // the same browser queued after it and sent at once.
    assert.equal((await send(first, [{ attributes: { vuid: PHONE, email: address, zip: '10073' }, age: 1_000 }])).status, 202);
    const later = await send(second ?? first, [{ attributes: { vuid: PHONE, email: address, zip: '10099' }, age: 5_000 }]);
    assert.equal(later.body.detail, undefined, 'nothing taken out');
    assert.equal(profileOf(address).zip, '10099');
    // Another browser's write, captured before the newest one known, is still held back.
    const other = await send(first, [{ attributes: { vuid: LAPTOP, email: address, zip: '10001' }, age: 60_000 }]);
    assert.deepEqual(other.body.detail.stale, ['zip']);
    assert.equal(profileOf(address).zip, '10099');
  }
});

test('Redis down: each process keeps the newest write of what it forwarded itself (log: fallback), and shares again after', async () => {
  const warn = console.warn;
  console.warn = () => {};
  try {
    const logs = [];
    const one = sharedProxy('newest2', { log: (e) => logs.push(e) });
    await one.ready();
    await redis.kill();
    const address = email();
    const phone = await phoneComesBack(one.handle, one.handle, address);
    assert.deepEqual(phone.body.detail.stale, ['street1']);
    assert.equal(logs.at(-1).shared, 'fallback');
    assert.equal(profileOf(address).street1, '2 Laptop Road');
  } finally {
    await redis.restart();
    console.warn = warn;
  }
});
