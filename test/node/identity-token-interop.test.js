// Issues 25 and 26: the identity token is a standard JWT (compact JWS, HS256), so a store's back end signs it with its
// own language's JWT library. Tokens made by PyJWT and by jsonwebtoken (an implementation independent of the `jose`
// the proxy uses) are accepted; tokens of another system, of another algorithm and of the format before 0.2 are
// refused with a reason that says so; a link token links a vuid to its one identifier and does nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import jsonwebtoken from 'jsonwebtoken';
import { createProxy } from '../../dist/proxy.js';
import { signIdentity } from '../../dist/server.js';
import { profile, useEmulator, vuid } from './helpers/emulator.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';
import { allBlocks } from './docs-examples.js';

const SECRET = 'site-secret-0123456789abcdef0123456789';
const server = useEmulator({ rateLimit: false });
const NOW_S = Math.floor(Date.UTC(2026, 11, 1, 12) / 1000);
const now = () => NOW_S * 1000;
const V = vuid(0xa);
const claims = { email: 'ann@shop.test', vuid: V, aud: 'idcapture-identity', iat: NOW_S, exp: NOW_S + 3600 };

const proxy = () =>
  createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream: server.url, rateLimit: false, verify: { secret: SECRET, now } });

async function send(...records) {
  const response = await proxy()(
    new Request(`http://proxy.test${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify(records) }),
    { clientIp: '203.0.113.66' },
  );
  return { status: response.status, detail: (await response.json()).detail };
}

/** The token PyJWT makes for `payload`, or the reason it cannot be made here (no Python, or no PyJWT). */
function pyjwt(payload) {
  const script = 'import jwt, json, sys; print(jwt.encode(json.loads(sys.argv[1]), sys.argv[2], algorithm="HS256"))';
  try {
    return { token: execFileSync('python3', ['-c', script, JSON.stringify(payload), SECRET], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() };
  } catch (error) {
    const missing = error.code == 'ENOENT' ? 'python3 is not installed' : /No module named .jwt/.test(error.stderr) ? 'PyJWT is not installed (pip install PyJWT)' : undefined;
    if (missing) return { missing };
    throw error;
  }
}

test('a token signed by Python\'s PyJWT is accepted and writes what it vouches for', async (t) => {
  const { token, missing } = pyjwt(claims);
  if (missing) return t.skip(`skipped: ${missing}`);
  const { status } = await send({ attributes: { email: 'ann@shop.test', vuid: V, street1: '1 Python Way' }, token });
  assert.equal(status, 202);
  assert.equal((await profile(server.url, 'email=ann@shop.test')).street1, '1 Python Way');
});

/**
 * Runs the docs/identity-token.md example in `lang` (`script(code)` wraps it: the example's inputs, the
 * customer's email with stray spaces and case and the vuid cookie's value, given, its token printed) and posts the
 * token as the proxy gets it; skips where the language or its JWT library is not installed (`missing`).
 */
async function runDocsExample(t, { lang, command: [command, flag], script, missing, street }) {
  const [block] = allBlocks().filter((b) => b.page == 'docs/identity-token.md' && b.lang == lang);
  let token;
  try {
    const options = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, IDCAPTURE_IDENTITY_SECRET: SECRET } };
    token = execFileSync(command, [flag, script(block.code), ' Ann@Shop.test ', V], options).trim();
  } catch (error) {
    if (error.code == 'ENOENT' || missing.test(error.stderr)) return t.skip(`skipped: ${command} with the example's JWT library is not installed`);
    throw error;
  }
  // The example signs with the real clock, so the proxy checks it with the real clock too.
  const handle = createProxy({ apiKey: 'example.apiKey', allowedOrigins: [ORIGIN], upstream: server.url, rateLimit: false, verify: { secret: SECRET } });
  const response = await handle(
    new Request(`http://proxy.test${PATH}`, { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify([{ attributes: { email: 'ann@shop.test', vuid: V, street1: street }, token }]) }),
    { clientIp: '203.0.113.67' },
  );
  assert.equal(response.status, 202);
  assert.equal((await profile(server.url, 'email=ann@shop.test')).street1, street);
}

test('the Python example of docs/identity-token.md, run as written, makes a token the proxy accepts', (t) =>
  runDocsExample(t, {
    lang: 'python',
    command: ['python3', '-c'],
    script: (code) => `import sys\nemail, vuid = sys.argv[1], sys.argv[2]\n${code}\nprint(token)`,
    missing: /No module named .jwt/,
    street: '3 Docs Lane',
  }));

test('the Ruby example of docs/identity-token.md (ruby-jwt), run as written, makes a token the proxy accepts', (t) =>
  runDocsExample(t, {
    lang: 'ruby',
    command: ['ruby', '-e'],
    script: (code) => `email, vuid = ARGV\n${code}\nputs token`,
    missing: /cannot load such file -- jwt/,
    street: '4 Ruby Row',
  }));

test('a token signed by jsonwebtoken (Node, independent of jose) is accepted', async () => {
  const token = jsonwebtoken.sign(claims, SECRET, { algorithm: 'HS256' });
  const { status } = await send({ attributes: { email: 'ann@shop.test', vuid: V, street1: '2 Node Road' }, token });
  assert.equal(status, 202);
  assert.equal((await profile(server.url, 'email=ann@shop.test')).street1, '2 Node Road');
});

test('signIdentity\'s token verifies in jsonwebtoken with the documented claims', async () => {
  const token = await signIdentity({ email: 'Ann@Shop.test', vuid: V, expiresIn: 3600 }, { secret: SECRET, now });
  const decoded = jsonwebtoken.verify(token, SECRET, { algorithms: ['HS256'], audience: 'idcapture-identity', clockTimestamp: NOW_S });
  assert.deepEqual(decoded, claims);
});

test('another system\'s token, another algorithm, alg none and the format before 0.2 are refused, saying why', async () => {
  const { aud, ...noAudience } = claims;
  const { exp, ...noExpiry } = claims;
  const hs512 = jsonwebtoken.sign(claims, SECRET, { algorithm: 'HS512' });
  const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
  const oldClaims = Buffer.from(JSON.stringify({ email: 'ann@shop.test', iat: NOW_S, exp: NOW_S + 3600 })).toString('base64url');
  const old = `${oldClaims}.${createHmac('sha256', SECRET).update(`idcapture-identity-v1.${oldClaims}`).digest('base64url')}`;
  const cases = {
    'no aud (another system)': [jsonwebtoken.sign(noAudience, SECRET), /not for idcapture/],
    'aud of another system': [jsonwebtoken.sign({ ...claims, aud: 'billing' }, SECRET), /not for idcapture/],
    'no exp': [jsonwebtoken.sign(noExpiry, SECRET, { noTimestamp: true }), /malformed/],
    'a claim that is no identifier': [jsonwebtoken.sign({ ...claims, role: 'admin' }, SECRET), /malformed/],
    HS512: [hs512, /malformed/],
    'alg none': [none, /malformed/],
    'the format before 0.2': [old, /format before 0\.2.*sign a JWT/],
  };
  for (const [name, [token, message]] of Object.entries(cases)) {
    const { status, detail } = await send({ attributes: { email: 'ann@shop.test', vuid: V, street1: 'forged' }, token });
    assert.equal(status, 400, name);
    assert.match(detail.invalids[0].message, message, name);
  }
  assert.equal(server.emulator.stats().requests[202], undefined, 'nothing reached the API');
});

test('a link token links the vuid to its email and is refused with any attribute, clear or other identifier', async () => {
  const token = await signIdentity({ email: 'ann@shop.test' }, { secret: SECRET, now, link: true });
  const refused = {
    'an attribute': { email: 'ann@shop.test', vuid: V, first_name: 'Mallory' },
    'a clear': { email: 'ann@shop.test', vuid: V, city: null },
    'another identifier': { email: 'ann@shop.test', vuid: V, phone: '+15550100' },
    'another email': { email: 'bob@shop.test', vuid: V },
    'no vuid': { email: 'ann@shop.test' },
  };
  for (const [name, attributes] of Object.entries(refused)) {
    const { status, detail } = await send({ attributes, token });
    assert.equal(status, 400, name);
    assert.match(detail.invalids[0].message, /a link token only links the vuid to the identifier it names/, name);
  }
  assert.equal((await send({ attributes: { email: 'ann@shop.test', vuid: V }, token })).status, 202);
  assert.equal((await profile(server.url, `vuid=${V}`)).email, 'ann@shop.test');
});

test('a link token is no identity token, and an expired one links nothing', async () => {
  const link = await signIdentity({ email: 'ann@shop.test', expiresIn: 60 }, { secret: SECRET, now: () => now() - 61_000, link: true });
  assert.match((await send({ attributes: { email: 'ann@shop.test', vuid: V }, token: link })).detail.invalids[0].message, /expired/);
  assert.equal(await profile(server.url, `vuid=${V}`), undefined);
});
