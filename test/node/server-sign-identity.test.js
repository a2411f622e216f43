// signIdentity (idcapture/server): the JWT (compact JWS, HS256) a site's back end gives the page for the proxy's `verify`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { signIdentity } from '../../dist/server.js';

const secret = 'site-secret-0123456789abcdef0123456789';
const now = () => Date.UTC(2026, 11, 1, 12);
const part = (token, index) => JSON.parse(Buffer.from(token.split('.')[index], 'base64url'));
const claims = (token) => part(token, 1);

test('a token is a JWT: an HS256 header, the normalised claims with audience and expiry, and a 32-byte HMAC', async () => {
  const token = await signIdentity(
    { email: ' Sample@Test.COM ', customer_id: ' c-42 ', vuid: '01234567-89ab-4def-8123-456789abcdef|1764590400000', expiresIn: 600 },
    { secret, now },
  );
  assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(part(token, 0), { alg: 'HS256', typ: 'JWT' });
  assert.deepEqual(claims(token), {
    email: 'sample@test.com',
    customer_id: 'c-42',
    vuid: '0123456789ab4def8123456789abcdef',
    aud: 'idcapture-identity',
    iat: now() / 1000,
    exp: now() / 1000 + 600,
  });
});

test('without expiresIn a token lasts one day; at most seven days may be asked (issue 22)', async () => {
  assert.equal(claims(await signIdentity({ email: 'a@test.com' }, { secret, now })).exp, now() / 1000 + 86400);
  assert.equal(claims(await signIdentity({ email: 'a@test.com', expiresIn: 7 * 86400 }, { secret, now })).exp, now() / 1000 + 7 * 86400);
  await assert.rejects(signIdentity({ email: 'a@test.com', expiresIn: 7 * 86400 + 1 }, { secret, now }), RangeError);
});

test('the same identity, secret and clock sign to the same token; another secret to another', async () => {
  const one = await signIdentity({ email: 'a@test.com', expiresIn: 60 }, { secret, now });
  assert.equal(await signIdentity({ email: 'a@test.com', expiresIn: 60 }, { secret, now }), one);
  assert.notEqual(await signIdentity({ email: 'a@test.com', expiresIn: 60 }, { secret: `${secret}!`, now }), one);
});

test('a token for a 30-character email and a vuid is 275 bytes (202 before JWT); without the vuid 219 (146)', async () => {
  const token = await signIdentity({ email: 'firstname.lastname@example.com', vuid: '0123456789abcdef0123456789abcdef', expiresIn: 86400 }, { secret });
  assert.equal(token.length, 275);
  assert.equal((await signIdentity({ email: 'firstname.lastname@example.com', expiresIn: 86400 }, { secret })).length, 219);
});

test('bad input is refused with an error naming what is wrong', async () => {
  const bad = [
    [{ email: 'a@test.com', expiresIn: 0 }, RangeError, /expiresIn/],
    [{ email: 'a@test.com', expiresIn: 8 * 86400 }, RangeError, /expiresIn/],
    [{ expiresIn: 60 }, TypeError, /no identifier/],
    [{ vuid: '0123456789abcdef0123456789abcdef', expiresIn: 60 }, TypeError, /besides the vuid/],
    [{ email: 'not-an-email', expiresIn: 60 }, TypeError, /email/],
    [{ email: 'a@test.com', first_name: 'Ann', expiresIn: 60 }, TypeError, /first_name is not an identifier/],
    [{ phone: 5550100, expiresIn: 60 }, TypeError, /phone is not a non-empty string/],
    [{ vuid: 'nope', email: 'a@test.com', expiresIn: 60 }, TypeError, /vuid/],
  ];
  for (const [identity, type, message] of bad) {
    await assert.rejects(signIdentity(identity, { secret }), (error) => error instanceof type && message.test(error.message), JSON.stringify(identity));
  }
  await assert.rejects(signIdentity({ email: 'a@test.com', expiresIn: 60 }, { secret: 'short' }), RangeError);
  await assert.rejects(signIdentity({ email: 'a@test.com' }, { secret, lnk: true }), /unknown option lnk \(did you mean link\?\)/);
  await assert.rejects(signIdentity({ email: 'a@test.com' }, { secret, link: 'yes' }), /link must be true or false/);
});

test('a link token names one identifier for the idcapture-link audience, lasts 7 days by default and 30 at most (issue 26)', async () => {
  const token = await signIdentity({ email: 'Firstname.Lastname@Example.com' }, { secret, now, link: true });
  assert.deepEqual(claims(token), { email: 'firstname.lastname@example.com', aud: 'idcapture-link', iat: now() / 1000, exp: now() / 1000 + 7 * 86400 });
  assert.equal(token.length, 213);
  assert.equal(claims(await signIdentity({ email: 'a@test.com', expiresIn: 30 * 86400 }, { secret, now, link: true })).exp, now() / 1000 + 30 * 86400);
  await assert.rejects(signIdentity({ email: 'a@test.com', expiresIn: 30 * 86400 + 1 }, { secret, link: true }), RangeError);
  await assert.rejects(signIdentity({ email: 'a@test.com', customer_id: 'c-1' }, { secret, link: true }), /exactly one identifier/);
  await assert.rejects(signIdentity({ email: 'a@test.com', vuid: '0123456789abcdef0123456789abcdef' }, { secret, link: true }), /exactly one identifier/);
});
