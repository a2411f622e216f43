// Payloads shaped like those of real Zaius/ODP clients (issue 11): the Node SDK's single object and batch of 100,
// the Magento 2 integration's customer record, dashed vuids from the tag's cookie, data_source fields, and
// undeclared fields in both unknownFields modes. Expected answers come from the API document and the rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmulator } from '../../dist/emulator.js';
import { get, post, profile, useEmulator, vuid } from './helpers/emulator.js';

const strict = useEmulator({ rateLimit: false, fields: ['customer_id'] });
const lenient = useEmulator({ rateLimit: false, fields: ['customer_id'], unknownFields: 'drop' });

const DASHED = '3fdb5249-4fc3-4060-b87a-680be86aeb57';
const PLAIN = '3fdb52494fc34060b87a680be86aeb57';

/** Where a record came from, as ODP's default customer fields say it (set by integrations on every upsert). */
const SOURCE = {
  data_source: 'magento2',
  data_source_type: 'app',
  data_source_details: 'customer_save_after',
  data_source_instance: 'https://shop.example',
  data_source_version: '3.4.1',
};

/** The customer record the Magento 2 integration builds (CustomerRepository::getCustomerEventData), plus SOURCE. */
const MAGENTO = {
  customer_id: '1042',
  email: 'jane@shop.example',
  first_name: 'Jane',
  last_name: 'Doe',
  store_view_code: 'base',
  store_view: 'en_US',
  street1: '123 Fake St',
  street2: '',
  city: 'Boston',
  state: 'MA',
  zip: '02101',
  country: 'US',
  phone: '555-867-5309',
  gender: 'F',
  vuid: DASHED,
  zaius_engage_version: '3.4.1',
  ...SOURCE,
};
const MAGENTO_UNDECLARED = ['store_view_code', 'store_view', 'zaius_engage_version'];

async function invalids(url, body) {
  const response = await post(url, body);
  assert.equal(response.status, 400);
  return (await response.json()).detail.invalids;
}

test('a single {attributes} object, as the Node and PHP SDKs post one customer, is accepted', async () => {
  const response = await post(strict.url, { attributes: { email: 'one@test.com', vuid: vuid(1), first_name: 'One' } });
  assert.equal(response.status, 202);
  assert.equal((await profile(strict.url, 'email=one@test.com')).first_name, 'One');
});

test('an array of 100, the Node SDK batch limit, is applied whole: 100 profiles, each findable', async () => {
  const batch = Array.from({ length: 100 }, (_, i) => ({ attributes: { email: `u${i}@test.com`, vuid: vuid(i + 1), zip: String(i) } }));
  assert.equal((await post(strict.url, batch)).status, 202);
  const stats = strict.emulator.stats();
  assert.equal(stats.recordsApplied, 100);
  assert.equal(stats.profiles, 100);
  assert.equal((await profile(strict.url, `vuid=${vuid(100)}`)).email, 'u99@test.com');
  assert.equal((await profile(strict.url, 'email=u0@test.com')).zip, '0');
});

test('a dashed vuid is stored, matched and shown as 32 lowercase hex, on POST and GET', async () => {
  assert.equal((await post(strict.url, [{ attributes: { vuid: DASHED, first_name: 'Anon' } }])).status, 202);
  const byDashed = await profile(strict.url, `vuid=${DASHED}`);
  assert.deepEqual(byDashed, await profile(strict.url, `vuid=${PLAIN}`));
  assert.equal(byDashed.vuid, PLAIN);
  assert.deepEqual(byDashed.vuids, [PLAIN]);
});

test('the dashed and the plain form are one identifier: posting both leaves one profile and one vuid', async () => {
  await post(strict.url, [{ attributes: { vuid: DASHED, email: 'a@test.com' } }]);
  await post(strict.url, [{ attributes: { vuid: PLAIN, email: 'b@test.com' } }]);
  // The vuid moved to b@test.com's profile (low confidence): one owner, whichever form was sent.
  assert.deepEqual((await profile(strict.url, 'email=b@test.com')).vuids, [PLAIN]);
  assert.equal((await profile(strict.url, 'email=a@test.com')).vuids, undefined);
  assert.equal(strict.emulator.stats().profiles, 2);
});

test('vuids in other shapes are still refused: capitals, the raw cookie value, a short id', async () => {
  const shapes = [DASHED.toUpperCase(), `${DASHED}|1568394081239`, `${DASHED}%7C1568394081239`, DASHED.slice(0, 35)];
  const list = await invalids(strict.url, shapes.map((v) => ({ attributes: { vuid: v } })));
  assert.deepEqual(list.map((i) => i.event), [0, 1, 2, 3]);
  for (const { message } of list) assert.match(message, /^Invalid field `vuid`: is not 32 lowercase hex/);
  const query = await get(strict.url, `vuid=${encodeURIComponent(shapes[1])}`);
  assert.equal(query.status, 404);
});

test('data_source fields and ccpa_opted_out are default fields: set, shown, and cleared like any other', async () => {
  const response = await post(strict.url, [{ attributes: { email: 'src@test.com', ...SOURCE, ccpa_opted_out: true } }]);
  assert.equal(response.status, 202, await response.text());
  const stored = await profile(strict.url, 'email=src@test.com');
  assert.deepEqual({ ...stored, zaius_id: 0 }, { zaius_id: 0, ...SOURCE, ccpa_opted_out: true, email: 'src@test.com', emails: ['src@test.com'] });
  await post(strict.url, [{ attributes: { email: 'src@test.com', data_source_details: null } }]);
  assert.equal('data_source_details' in (await profile(strict.url, 'email=src@test.com')), false);
});

test('zaius_id and the plural identifier arrays stay reserved, in both modes', async () => {
  for (const url of [strict.url, lenient.url]) {
    const list = await invalids(url, [{ attributes: { email: 'r@test.com', zaius_id: 1, emails: 'x@test.com', vuids: PLAIN } }]);
    assert.deepEqual(list, [
      { event: 0, message: 'Invalid field `zaius_id`: is reserved by the profiles API' },
      { event: 0, message: 'Invalid field `emails`: is reserved by the profiles API' },
      { event: 0, message: 'Invalid field `vuids`: is reserved by the profiles API' },
    ]);
  }
});

test('strict (the default): the Magento record is refused, each undeclared field listed once', async () => {
  const list = await invalids(strict.url, [{ attributes: MAGENTO }]);
  assert.deepEqual(list, MAGENTO_UNDECLARED.map((name) => ({ event: 0, message: `Unknown field \`${name}\`` })));
  assert.equal(strict.emulator.stats().recordsApplied, 0);
});

test('drop: the Magento record is applied without its undeclared fields, named in a header and in the stats', async () => {
  const response = await post(lenient.url, [{ attributes: MAGENTO }, { attributes: { email: 'k@test.com', store_view: 'de_DE' } }]);
  const body = await response.json();
  assert.equal(response.status, 202, JSON.stringify(body));
  assert.deepEqual(Object.keys(body), ['title', 'status', 'timestamp'], 'the documented 202 body, nothing added');
  assert.equal(response.headers.get('x-emulator-dropped-fields'), MAGENTO_UNDECLARED.join(', '));
  assert.deepEqual(lenient.emulator.stats().droppedFields, { store_view_code: 1, store_view: 2, zaius_engage_version: 1 });

  const stored = await profile(lenient.url, 'customer_id=1042');
  for (const name of MAGENTO_UNDECLARED) assert.equal(name in stored, false, name);
  assert.equal(stored.vuid, PLAIN);
  assert.equal(stored.city, 'Boston');
  assert.equal(stored.data_source_version, '3.4.1');
  assert.equal('street2' in stored, false, 'an empty string carries nothing');
  assert.deepEqual(await profile(lenient.url, `vuid=${DASHED}`), stored);
});

test('drop: an accepted batch with nothing undeclared has no header, and a refused one drops nothing', async () => {
  const clean = await post(lenient.url, [{ attributes: { email: 'c@test.com' } }]);
  assert.equal(clean.status, 202);
  assert.equal(clean.headers.has('x-emulator-dropped-fields'), false);

  const refused = await post(lenient.url, [{ attributes: { email: 'c@test.com', store_view: 'x' } }, { attributes: { email: 'bad' } }]);
  assert.equal(refused.status, 400);
  assert.equal(refused.headers.has('x-emulator-dropped-fields'), false);
  assert.deepEqual(lenient.emulator.stats().droppedFields, {});
});

test('drop: a record whose only identifier is undeclared is refused for lacking one', async () => {
  const list = await invalids(lenient.url, [{ attributes: { shop_id: 's1', first_name: 'Nobody' } }]);
  assert.deepEqual(list, [{ event: 0, message: 'Missing required identifier' }]);
});

test('drop: names that could never be a field are still refused, with the rest of their record\'s problems', async () => {
  const list = await invalids(lenient.url, [{ attributes: { email: 'x@test.com', 'Store Code': 'x', city: ['a'], store_view: 'x' } }]);
  assert.deepEqual(list, [
    { event: 0, message: 'Invalid field `Store Code`: is not a lower snake_case name starting with a letter (at most 64 characters)' },
    { event: 0, message: 'Invalid field `city`: is not a string, number, boolean or null' },
  ]);
});

test('every problem of every record is listed, one entry per problem with the record\'s index', async () => {
  const list = await invalids(strict.url, [
    { attributes: { email: 'fine@test.com' } },
    { attributes: { email: 'not-an-email', vuid: 'xyz', first_name: 'x'.repeat(1025), favourite: 'blue', dob_year: {} } },
    { attributes: { FirstName: 'J', data_source_type: [] } },
    { attributes: { email: 'also-fine@test.com' }, identifiers: { email: 'y@test.com' } },
  ]);
  assert.deepEqual(list, [
    { event: 1, message: 'Invalid field `email`: is not a valid email address' },
    { event: 1, message: 'Invalid field `vuid`: is not 32 lowercase hex characters' },
    { event: 1, message: 'Invalid field `first_name`: is longer than 1024 characters' },
    { event: 1, message: 'Unknown field `favourite`' },
    { event: 1, message: 'Invalid field `dob_year`: is not a string, number, boolean or null' },
    { event: 2, message: 'Invalid field `FirstName`: is not a lower snake_case name starting with a letter (at most 64 characters)' },
    { event: 2, message: 'Invalid field `data_source_type`: is not a string, number, boolean or null' },
    { event: 2, message: 'Missing required identifier' },
    { event: 3, message: 'Unknown field `identifiers`' },
  ]);
  assert.equal(strict.emulator.stats().recordsApplied, 0, 'one bad record refuses the whole batch');
});

test('drop: a field named like an Object.prototype member is counted like any other', async () => {
  const response = await post(lenient.url, [{ attributes: { email: 'p@test.com', to_string: 'y', has_own_property: 'z' } }]);
  assert.equal(response.status, 202);
  assert.deepEqual(lenient.emulator.stats().droppedFields, { to_string: 1, has_own_property: 1 });
});

test('constructor and prototype are refused in both modes, never dropped: the profile rules forbid them', async () => {
  for (const { url, emulator } of [strict, lenient]) {
    const list = await invalids(url, [{ attributes: { email: 'p@test.com', constructor: 'x' } }, { attributes: { email: 'q@test.com', prototype: 'y' } }]);
    assert.deepEqual(list, [
      { event: 0, message: 'Invalid field `constructor`: is reserved by JavaScript' },
      { event: 1, message: 'Invalid field `prototype`: is reserved by JavaScript' },
    ]);
    assert.equal(emulator.stats().recordsApplied, 0);
  }
  assert.throws(() => createEmulator({ fields: ['constructor'] }), /idcapture emulator: option fields must be/);
});
