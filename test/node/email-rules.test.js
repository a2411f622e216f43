// Issue 22: an email is normalised by one rule (src/profile/rules.ts) that can never map two distinct addresses onto
// one: only ASCII A–Z are folded, and a character that Unicode case mapping or NFKC would turn into another address
// (the Kelvin sign, dotted and dotless i, full-width forms, the long s) is refused. Markup and what an unquoted local
// part cannot hold are refused too. Each row runs through signIdentity, the proxy, the emulator and the server client;
// the browser client's rows are in test/browser/validation.test.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy } from '../../dist/proxy.js';
import { createServerClient, signIdentity } from '../../dist/server.js';
import { KEY, post, profile, useEmulator } from './helpers/emulator.js';
import { ORIGIN, PATH } from './helpers/proxy-cases.js';

const SECRET = 'site-secret-0123456789abcdef0123456789';
const server = useEmulator({ rateLimit: false });

// [what it is, the address as typed]: refused everywhere, each would otherwise become (or pass for) another address.
const confusables = [
  ['KELVIN SIGN, lower case ASCII k', '\u212Aate@shop.test'],
  ['LATIN CAPITAL I WITH DOT ABOVE, lower case i + dot', '\u0130nfo@shop.test'],
  ['LATIN SMALL DOTLESS I, upper case ASCII I', '\u0131nfo@shop.test'],
  ['full-width letters, NFKC ASCII', '\uFF4B\uFF41\uFF54\uFF45@shop.test'],
  ['full-width capitals', '\uFF2Bate@shop.test'],
  ['full-width domain', 'kate@\uFF53hop.test'],
  ['LATIN SMALL LONG S, upper case ASCII S', 'ro\u017Fe@shop.test'],
  ['ANGSTROM SIGN, NFKC Å', '\u212Bsa@shop.test'],
  ['a ligature, NFKC fi', '\uFB01n@shop.test'],
  ['a decomposed accent, NFKC composes it', 'jose\u0301@shop.test'],
  ['a non-ASCII capital, which full case folding (upstream, perhaps) turns into its lower case', 'JOS\u00C9@b\u00FCcher.de'],
  ['LATIN SMALL SHARP S, upper case SS', 'stra\u00DFe@shop.test'],
];

// [what it is, the address]: not an email an unquoted local part can hold, or markup.
const malformed = [
  ['markup', '<img/src=x/onerror=alert(1)>@evil.test'],
  ['angle brackets', 'kate<x>@shop.test'],
  ['a double quote', '"kate"@shop.test'],
  ['a space', 'ka te@shop.test'],
  ['a NUL', 'kate\u0000@shop.test'],
  ['a line feed', 'kate\n@shop.test'],
  ['DEL', 'kate\u007F@shop.test'],
  ['a C1 control (NEL)', 'kate\u0085@shop.test'],
  ['parentheses', 'kate(x)@shop.test'],
  ['a comma', 'kate,x@shop.test'],
  ['a semicolon', 'kate;x@shop.test'],
  ['a backslash', 'kate\\x@shop.test'],
  ['square brackets', 'kate[x]@shop.test'],
];

// [what it is, the address as typed, as compared and stored]: accepted, and never equal to another row's.
const kept = [
  ['ASCII capitals, folded', '  KATE@Shop.Test ', 'kate@shop.test'],
  ['an apostrophe (O\u2019Brien), which an unquoted local part may hold', "o'brien@shop.test", "o'brien@shop.test"],
  ['a non-ASCII lower-case letter, kept as written', 'jos\u00E9@b\u00FCcher.de', 'jos\u00E9@b\u00FCcher.de'],
  ['Cyrillic a, kept distinct from ASCII a', 'k\u0430te@shop.test', 'k\u0430te@shop.test'],
  ['a + tag', 'Kate+Shop@shop.test', 'kate+shop@shop.test'],
];

const refused = [...confusables, ...malformed];

async function throughProxy(...emails) {
  const handle = createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream: server.url, rateLimit: false, verify: false });
  const response = await handle(
    new Request(`http://proxy.test${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify(emails.map((email) => ({ attributes: { email, first_name: 'Stranger' } }))),
    }),
    { clientIp: '203.0.113.9' },
  );
  return { status: response.status, body: await response.json() };
}

test('signIdentity refuses every confusable and malformed email, naming the field; it never signs for kate', async () => {
  for (const [name, email] of refused) {
    await assert.rejects(signIdentity({ email, expiresIn: 60 }, { secret: SECRET }), /the identity email (is not|has)/, name);
  }
});

test('signIdentity signs the kept rows for exactly their own normalised address', async () => {
  const seen = new Set();
  for (const [name, email, normal] of kept) {
    const token = await signIdentity({ email, expiresIn: 60 }, { secret: SECRET });
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
    assert.equal(claims.email, normal, name);
    seen.add(claims.email);
  }
  assert.equal(seen.size, kept.length, 'no two rows signed for the same address');
});

test('the proxy answers 400 naming each refused record by its index, and forwards nothing', async () => {
  const { status, body } = await throughProxy('kate@shop.test', ...refused.map(([, email]) => email));
  assert.equal(status, 400);
  assert.deepEqual(body.detail.invalids.map((i) => i.event), refused.map((_, i) => i + 1));
  for (const [i, invalid] of body.detail.invalids.entries()) assert.match(invalid.message, /^email (is not|has)/, refused[i][0]);
  assert.deepEqual(server.emulator.stats().requests, {}, 'nothing reached the emulator');
});

test('the proxy forwards the kept rows as their own addresses, so kate’s profile is never written by a lookalike', async () => {
  await post(server.url, [{ attributes: { email: 'kate@shop.test', first_name: 'Kate' } }]);
  const { status } = await throughProxy(...kept.map(([, email]) => email).filter((e) => !/kate@shop/i.test(e)));
  assert.equal(status, 202);
  assert.equal((await profile(server.url, 'email=kate@shop.test')).first_name, 'Kate');
  for (const [name, , normal] of kept.filter(([, email]) => !/kate@shop/i.test(email))) {
    assert.equal((await profile(server.url, `email=${encodeURIComponent(normal)}`))?.email, normal, name);
  }
});

test('the emulator refuses the same rows with a 400 per record', async () => {
  const response = await post(server.url, refused.map(([, email]) => ({ attributes: { email } })));
  assert.equal(response.status, 400);
  const { detail } = await response.json();
  assert.deepEqual(detail.invalids.map((i) => i.event), refused.map((_, i) => i));
});

test('the emulator stores a non-ASCII address as written, and refuses its capital', async () => {
  assert.equal((await post(server.url, [{ attributes: { email: 'jos\u00E9@b\u00FCcher.de', first_name: 'Lower' } }])).status, 202);
  assert.equal((await post(server.url, [{ attributes: { email: 'JOS\u00C9@b\u00FCcher.de', first_name: 'Upper' } }])).status, 400);
  assert.equal((await profile(server.url, `email=${encodeURIComponent('jos\u00E9@b\u00FCcher.de')}`)).first_name, 'Lower');
});

test('the server client reports each refused record and sends none of them', async () => {
  const zaius = createServerClient({ apiKey: KEY, baseUrl: server.url });
  const result = await zaius.upsertProfiles(refused.map(([, email]) => ({ attributes: { email } })));
  assert.deepEqual(result.invalids.map((i) => i.index ?? i.event), refused.map((_, i) => i));
  assert.deepEqual(server.emulator.stats().requests, {});
  await assert.rejects(zaius.getProfile({ email: '\u212Aate@shop.test' }), { name: 'ValidationError', field: 'email' });
});
