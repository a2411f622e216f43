// Issues 16 and 22: the attacks a stranger can make through the proxy, against the real emulator on 127.0.0.1. Each
// runs through a proxy with `verify: false` (the explicit opt-out: the attack lands), one created without `verify`
// (the default: reduced per the unverified policy) and one with a secret (refused, or reduced); signed records are
// then allowed, but only for the identity the token names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy } from '../../dist/proxy.js';
import { signIdentity } from '../../dist/server.js';
import { profile, upsert, useEmulator, vuid } from './helpers/emulator.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';

const SECRET = 'site-secret-0123456789abcdef0123456789';
const server = useEmulator({ rateLimit: false });
let clock = Date.UTC(2026, 11, 1, 12);
const now = () => clock;

const A = { email: 'customer-a@shop.test', phone: '+15550100', vuid: vuid(0xa) };
const B = { email: 'customer-b@shop.test', phone: '+15550200', vuid: vuid(0xb) };
const X = { email: 'attacker@evil.test', vuid: vuid(0xe) };

const proxy = (options = {}) =>
  createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream: server.url, rateLimit: false, ...options });
const open = () => proxy({ verify: false });
const byDefault = () => proxy();
const guarded = (unverified) => proxy({ verify: { secret: SECRET, now, unverified } });
const sign = (identity, options = {}) => signIdentity({ expiresIn: 3600, ...identity }, { secret: SECRET, now, ...options });

async function send(handle, ...records) {
  const response = await handle(
    new Request(`http://proxy.test${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify(records),
    }),
    { clientIp: '203.0.113.66' },
  );
  return { status: response.status, detail: (await response.json()).detail };
}

/** Customers A and B as the shop's back end wrote them. */
async function seed() {
  await upsert(server.url, { ...A, first_name: 'Alice', last_name: 'Able', street1: '1 Real St', city: 'Boston' });
  await upsert(server.url, { email: B.email, phone: B.phone, vuid: B.vuid, first_name: 'Bob' });
}

const a = () => profile(server.url, `email=${A.email}`);

// The attacks of the issue. Each: the record a stranger sends, whether it landed, and what the guarded proxy did.
const attacks = {
  overwrite: {
    record: { email: A.email, first_name: 'Attacker', street1: '666 Attacker Rd' },
    landed: async () => (await a()).street1 == '666 Attacker Rd',
  },
  clear: {
    record: { email: A.email, city: null, last_name: null },
    landed: async () => !('city' in (await a())) || !('last_name' in (await a())),
  },
  merge: {
    record: { email: A.email, phone: B.phone },
    landed: async () => server.emulator.stats().merges > 0,
  },
  'vuid attach': {
    record: { email: A.email, vuid: X.vuid },
    landed: async () => (await profile(server.url, `vuid=${X.vuid}`))?.email == A.email,
  },
  'vuid move': {
    record: { email: X.email, vuid: A.vuid },
    landed: async () => (await profile(server.url, `vuid=${A.vuid}`))?.email == X.email,
  },
};

for (const [name, { record, landed }] of Object.entries(attacks)) {
  test(`${name}: lands through a proxy with verify: false`, async () => {
    await seed();
    assert.equal((await send(open(), { attributes: record })).status, 202);
    assert.equal(await landed(), true);
  });

  test(`${name}: does not land through a proxy created without verify (the default)`, async () => {
    await seed();
    const { status, detail } = await send(byDefault(), { attributes: record });
    assert.equal(status, 202);
    assert.ok(detail.reduced.length > 0, 'the answer names what was taken out');
    assert.equal(await landed(), false);
    assert.equal(server.emulator.stats().merges, 0);
  });

  test(`${name}: does not land through a proxy with verify (unverified record reduced)`, async () => {
    await seed();
    const { status, detail } = await send(guarded(), { attributes: record });
    assert.equal(status, 202);
    assert.ok(detail.reduced.length > 0, 'the answer names what was taken out');
    assert.equal(await landed(), false);
    assert.equal(server.emulator.stats().merges, 0);
  });

  test(`${name}: refused through a proxy that takes signed records only`, async () => {
    await seed();
    const { status, detail } = await send(guarded(false), { attributes: record });
    assert.equal(status, 400);
    assert.match(detail.invalids[0].message, /needs an identity token/);
    assert.equal(await landed(), false);
  });

  test(`${name}: refused with a token signed for the attacker`, async () => {
    await seed();
    const token = await sign({ email: X.email, vuid: X.vuid });
    const { status, detail } = await send(guarded(), { attributes: record, token });
    assert.equal(status, 400);
    assert.equal(detail.invalids[0].event, 0);
    assert.equal(await landed(), false);
  });
}

test('without verify, a record carrying a token is reduced like any other: there is no secret to check it with', async () => {
  await seed();
  const token = await sign({ email: A.email });
  const { status, detail } = await send(byDefault(), { attributes: { email: A.email, street1: '3 Token St' }, token });
  assert.equal(status, 202);
  assert.deepEqual(detail.reduced, ['street1']);
  assert.equal((await a()).street1, '1 Real St');
});

test('verify: false warns once, at start-up, naming the risk', (t) => {
  const warn = t.mock.method(console, 'warn', () => {});
  const handle = proxy({ verify: false });
  assert.equal(warn.mock.callCount(), 1);
  assert.match(warn.mock.calls[0].arguments[0], /verify: false.*anyone.*overwrite, clear or merge/);
  proxy();
  proxy({ verify: { secret: SECRET } });
  assert.equal(warn.mock.callCount(), 1, 'the safe forms say nothing');
  assert.equal(typeof handle, 'function');
});

test('the unverified reduction keeps a newsletter form working: one identifier and the names', async () => {
  const { status, detail } = await send(guarded(), {
    attributes: { vuid: X.vuid, email: ' New@Shop.Test ', phone: '+15550300', first_name: 'Nia', last_name: 'New', city: 'Rome', zip: null },
  });
  assert.equal(status, 202);
  assert.deepEqual(new Set(detail.reduced), new Set(['vuid', 'phone', 'city', 'zip']));
  const stored = await profile(server.url, 'email=new@shop.test');
  assert.deepEqual([stored.email, stored.first_name, stored.last_name, stored.city, stored.phone], ['new@shop.test', 'Nia', 'New', undefined, undefined]);
});

test('an anonymous record (vuid only) keeps its vuid and names; linkVuid: true pairs vuid and email as the Zaius tag does', async () => {
  assert.equal((await send(guarded(), { attributes: { vuid: X.vuid, first_name: 'Anon' } })).status, 202);
  assert.equal((await profile(server.url, `vuid=${X.vuid}`)).first_name, 'Anon');
  const { detail } = await send(guarded({ linkVuid: true }), { attributes: { vuid: X.vuid, email: X.email } });
  assert.equal(detail, undefined);
  assert.equal((await profile(server.url, `vuid=${X.vuid}`)).email, X.email);
});

test('unverified.attributes narrows what an unverified record may set (first_name protected too)', async () => {
  await seed();
  const { detail } = await send(guarded({ attributes: ['email'] }), { attributes: { email: A.email, first_name: 'Attacker' } });
  assert.deepEqual(detail.reduced, ['first_name']);
  assert.equal((await a()).first_name, 'Alice');
});

test('a record signed for customer A may overwrite, clear and bind the signed vuid, for A only', async () => {
  await seed();
  const token = await sign({ email: ' Customer-A@Shop.Test ', vuid: A.vuid });
  const { status, detail } = await send(guarded(), {
    attributes: { email: A.email.toUpperCase(), vuid: A.vuid, street1: '2 New St', city: null, phone: null },
    token,
  });
  assert.equal(status, 202);
  assert.equal(detail, undefined);
  const stored = await a();
  assert.deepEqual([stored.street1, 'city' in stored, stored.email], ['2 New St', false, A.email]);
});

test('a signed record may merge only identifiers its token names', async () => {
  await seed();
  const onlyEmail = await sign({ email: A.email });
  assert.equal((await send(guarded(), { attributes: { email: A.email, phone: B.phone }, token: onlyEmail })).status, 400);
  assert.equal(server.emulator.stats().merges, 0);
  const both = await sign({ email: A.email, phone: B.phone });
  assert.equal((await send(guarded(), { attributes: { email: A.email, phone: B.phone }, token: both })).status, 202);
  assert.equal(server.emulator.stats().merges, 1);
});

test('a token that binds no vuid does not carry one: the vuid is removed unless linkVuid', async () => {
  await seed();
  const token = await sign({ email: A.email });
  const { status, detail } = await send(guarded(), { attributes: { email: A.email, vuid: X.vuid, city: 'Paris' }, token });
  assert.equal(status, 202);
  assert.deepEqual(detail.reduced, ['vuid']);
  assert.equal(await profile(server.url, `vuid=${X.vuid}`), undefined);
  assert.equal((await a()).city, 'Paris');
});

test('forged, foreign, expired, replayed and wrong-vuid tokens are refused and nothing is written', async () => {
  await seed();
  const good = await sign({ email: A.email, vuid: A.vuid });
  const [header, claims, mac] = good.split('.');
  const swapped = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url')), email: B.email })).toString('base64url');
  const cases = {
    'claims changed under the same MAC': [`${header}.${swapped}.${mac}`, B.email, A.vuid, /not signed with this site's secret/],
    'signed with another secret': [await sign({ email: A.email }, { secret: 'another-site-secret-0123456789abcdef' }), A.email, undefined, /not signed/],
    'not a token': ['hello', A.email, undefined, /malformed/],
    'MAC cut short': [good.slice(0, -4), A.email, A.vuid, /not signed/],
    expired: [await sign({ email: A.email, expiresIn: 60 }, { now: () => clock - 61_000 }), A.email, undefined, /expired/],
    'replayed for another customer': [good, B.email, A.vuid, /email is not the one the identity token names/],
    'another vuid than the bound one': [good, A.email, X.vuid, /vuid is not the one the identity token binds/],
  };
  for (const [name, [token, email, v, message]] of Object.entries(cases)) {
    const { status, detail } = await send(guarded(), { attributes: { email, ...(v && { vuid: v }), street1: 'forged' }, token });
    assert.equal(status, 400, name);
    assert.match(detail.invalids[0].message, message, name);
  }
  assert.deepEqual(server.emulator.stats().requests, { 202: 2 }, 'only the two seeding requests reached the emulator');
});

test('a token is good until it expires, by the injected clock', async () => {
  const token = await sign({ email: A.email, expiresIn: 60 });
  const handle = guarded();
  assert.equal((await send(handle, { attributes: { email: A.email, city: 'Oslo' }, token })).status, 202);
  clock += 60_000;
  try {
    assert.equal((await send(handle, { attributes: { email: A.email, city: 'Oslo' }, token })).status, 400);
  } finally {
    clock -= 60_000;
  }
});

test('verify.revoked ends old tokens: one issued before the customer signed out is refused, a newer one passes (issue 22)', async () => {
  await seed();
  const signedOut = {}; // what the site's back end records at logout or a password change: email -> Unix seconds
  const seen = [];
  const handle = proxy({ verify: { secret: SECRET, now, revoked: async (claims) => (seen.push(claims), claims.iat < (signedOut[claims.email] ?? 0)) } });
  const old = await sign({ email: A.email });
  signedOut[A.email] = clock / 1000 + 1;
  clock += 2000;
  try {
    const fresh = await sign({ email: A.email });
    const refused = await send(handle, { attributes: { email: A.email, street1: 'stolen' }, token: old });
    assert.equal(refused.status, 400);
    assert.match(refused.detail.invalids[0].message, /identity token is revoked/);
    assert.equal((await send(handle, { attributes: { email: A.email, street1: '5 Fresh St' }, token: fresh })).status, 202);
    assert.equal((await a()).street1, '5 Fresh St');
    assert.deepEqual(Object.keys(seen[0]).sort(), ['email', 'exp', 'iat'], 'the hook sees the claims: identifiers, iat and exp');
    const failing = proxy({ verify: { secret: SECRET, now, revoked: () => { throw new Error('store down'); } } });
    assert.equal((await send(failing, { attributes: { email: A.email }, token: fresh })).status, 400, 'a failing hook revokes (fails closed)');
  } finally {
    clock -= 2000;
  }
});

test('one bad token refuses the batch, naming its record; the signed and unverified rest can be resent', async () => {
  const token = await sign({ email: A.email });
  const { status, detail } = await send(guarded(), { attributes: { email: A.email }, token }, { attributes: { email: B.email }, token }, { attributes: { email: X.email } });
  assert.equal(status, 400);
  assert.deepEqual(detail.invalids.map((i) => i.event), [1]);
  assert.deepEqual(server.emulator.stats().requests, {});
});

test('with verify: false a token is accepted but never forwarded', async () => {
  const token = await sign({ email: A.email });
  assert.equal((await send(open(), { attributes: { email: A.email, first_name: 'Al' }, token })).status, 202);
  const stored = await a();
  assert.equal(stored.first_name, 'Al');
  assert.equal(JSON.stringify(stored).includes(token.split('.')[1]), false);
  const { status, detail } = await send(open(), { attributes: { email: A.email }, token: 42 });
  assert.equal(status, 400);
  assert.match(detail.invalids[0].message, /token is not a string/);
});

test('identifiers are forwarded normalised: trimmed, email lower-cased', async () => {
  assert.equal((await send(open(), { attributes: { email: '  Mixed.Case@Shop.Test ', phone: ' +15550999 ' } })).status, 202);
  const stored = await profile(server.url, 'email=mixed.case@shop.test');
  assert.deepEqual([stored.email, stored.phone], ['mixed.case@shop.test', '+15550999']);
});

test('the log hook counts verified records and names reduced attributes', async () => {
  const entries = [];
  const handle = proxy({ verify: { secret: SECRET, now }, log: (entry) => entries.push(entry) });
  const token = await sign({ email: A.email });
  await send(handle, { attributes: { email: A.email }, token }, { attributes: { email: B.email, street1: 'x' } });
  assert.equal(entries[0].verified, 1);
  assert.deepEqual(entries[0].reduced, ['street1']);
  assert.equal(JSON.stringify(entries).includes(A.email), false);
});

test('bad verify options fail at start-up', () => {
  assert.throws(() => proxy({ verify: { secret: 'short' } }), RangeError);
  assert.throws(() => proxy({ verify: 'secret' }), TypeError);
  assert.throws(() => proxy({ verify: { secret: SECRET, unverified: 'none' } }), TypeError);
  assert.throws(() => proxy({ verify: { secret: SECRET, unverified: { attributes: 'email' } } }), TypeError);
});

test('a vuid the unverified policy removes still pays its per-vuid budget', async () => {
  const handle = proxy({ verify: { secret: SECRET, now }, rateLimit: { ip: false, global: false, vuid: { limit: 1, period: 60 } } });
  assert.equal((await send(handle, { attributes: { email: A.email, vuid: X.vuid } })).status, 202);
  assert.equal((await send(handle, { attributes: { email: B.email, vuid: X.vuid } })).status, 429);
});
