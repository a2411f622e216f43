// Issue 22: the per-IP and per-vuid budgets count records, not requests, so 100-record batches buy no more than 100
// single records would. In process against the real emulator on 127.0.0.1, with the default budgets (300 records a
// minute per IP, 100 per vuid). The whole file runs in a few seconds, far inside the budgets' one-minute window: a
// slower machine could only let fewer records through, never more. The bystander's latency under a 20-IP flood is a
// timing figure: `npm run bench` (test/bench/floods.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy } from '../../dist/proxy.js';
import { useEmulator, vuid } from './helpers/emulator.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';

const server = useEmulator({ rateLimit: false });
const proxy = (options = {}) => createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream: server.url, ...options });

let serial = 0;
/** `n` junk records, each a new profile: a fresh email and a first name (what the unverified policy lets through). */
const junk = (n, extra = {}) => Array.from({ length: n }, () => ({ attributes: { email: `junk-${serial++}@flood.test`, first_name: 'Junk', ...extra } }));

async function send(handle, records, ip) {
  const response = await handle(
    new Request(`http://proxy.test${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify(records) }),
    { clientIp: ip },
  );
  const body = await response.json();
  return { status: response.status, scope: body.detail?.scope, retryAfter: Number(response.headers.get('retry-after')) };
}

const stored = () => server.emulator.profiles().length;

test('one IP sending 100-record batches stores at most 300 records a minute, then gets 429 with a Retry-After', async () => {
  const handle = proxy();
  const answers = [];
  for (let i = 0; i < 12; i++) answers.push(await send(handle, junk(100), '203.0.113.1'));
  assert.deepEqual(answers.map((a) => a.status), [202, 202, 202, ...Array(9).fill(429)]);
  assert.ok(answers.slice(3).every((a) => a.retryAfter >= 1 && a.retryAfter <= 60), JSON.stringify(answers[3]));
  assert.equal(stored(), 300, 'profiles created by one IP in a minute');
  // Another address is a budget of its own.
  assert.equal((await send(handle, junk(1), '203.0.113.2')).status, 202);
});

test('a batch that would pass the IP budget is refused whole; a refused body costs one record', async () => {
  const handle = proxy();
  assert.equal((await send(handle, junk(250), '203.0.113.3')).status, 413, 'over maxBatch: refused, and it costs 1');
  assert.equal((await send(handle, junk(100), '203.0.113.3')).status, 202);
  assert.equal((await send(handle, junk(100), '203.0.113.3')).status, 202);
  assert.equal((await send(handle, junk(90), '203.0.113.3')).status, 202);
  assert.equal((await send(handle, junk(10), '203.0.113.3')).status, 429, '1 + 290 spent: 10 more would pass 300');
  assert.equal(stored(), 290);
  assert.equal((await send(handle, junk(9), '203.0.113.3')).status, 202, 'what is left of the budget is still usable');
  assert.equal(stored(), 299);
});

test('one vuid is held to 100 records a minute, however they are batched and from however many IPs', async () => {
  const scopes = [];
  const handle = proxy({ log: (entry) => scopes.push(entry.scope) });
  const id = vuid(0x22);
  const answers = [];
  for (let i = 0; i < 6; i++) answers.push(await send(handle, Array.from({ length: 40 }, () => ({ attributes: { vuid: id, first_name: `n${i}` } })), `198.51.100.${i}`));
  assert.deepEqual(answers.map((a) => a.status), [202, 202, 429, 429, 429, 429]);
  assert.deepEqual(scopes, [undefined, undefined, 'vuid', 'vuid', 'vuid', 'vuid']);
});

test('a batch larger than a budget still gets through once its window is empty, so a visitor’s backlog is never stuck', async () => {
  const handle = proxy({ rateLimit: { ip: { limit: 10, period: 60 } } });
  assert.equal((await send(handle, junk(50), '203.0.113.4')).status, 202, 'a 50-record batch under a 10-record budget');
  assert.equal((await send(handle, junk(1), '203.0.113.4')).status, 429, 'and it spent the whole window');
});

test('a RateLimiter of your own is called once per request and budget with { key } alone, as Cloudflare’s binding takes it', async () => {
  const calls = [];
  const limiter = { limit: async (options) => (calls.push(options), { success: true }) };
  const handle = proxy({ rateLimit: { ip: limiter, vuid: limiter } });
  await send(handle, [...junk(3), { attributes: { vuid: vuid(7), first_name: 'V' } }, { attributes: { vuid: vuid(7), first_name: 'W' } }], '203.0.113.5');
  // It counts requests: give it a limit in requests (README, Rate limiter interface).
  assert.deepEqual(calls, [{ key: 'ip:203.0.113.5' }, { key: `vuid:${vuid(7)}` }]);
});
