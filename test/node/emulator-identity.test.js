// Identity resolution: upserts, merges on high-confidence identifiers, vuid moves, plural arrays, ordering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmulator, startEmulator } from '../../dist/emulator.js';
import { manualClock } from './helpers/clocks.js';
import { KEY, post, profile, upsert, useEmulator, vuid } from './helpers/emulator.js';

const server = useEmulator({ rateLimit: false, fields: ['customer_id', 'loyalty_tier'] });
const count = () => server.emulator.profiles().length;

test('an upsert changes the fields it sends and leaves the others as they were', async () => {
  await upsert(server.url, { email: 'a@test.com', first_name: 'Ann', city: 'Boston' });
  await upsert(server.url, { email: 'a@test.com', city: 'Leesburg', dob_year: 1990 });
  const a = await profile(server.url, 'email=a@test.com');
  assert.deepEqual([a.first_name, a.city, a.dob_year], ['Ann', 'Leesburg', 1990]);
  assert.equal(count(), 1);
});

test('explicit null clears a field; an empty string changes nothing', async () => {
  await upsert(server.url, { email: 'a@test.com', first_name: 'Ann', city: 'Boston' });
  await upsert(server.url, { email: 'a@test.com', city: null, first_name: '' });
  const a = await profile(server.url, 'email=a@test.com');
  assert.equal(a.first_name, 'Ann');
  assert.equal('city' in a, false);
});

test('emails match case-insensitively and around blanks, and keep the spelling last sent', async () => {
  await upsert(server.url, { email: 'Sample@Test.com', first_name: 'Johnny' });
  await upsert(server.url, { email: 'SAMPLE@TEST.COM', last_name: 'Zaius' });
  assert.equal(count(), 1);
  const johnny = await profile(server.url, 'email=%20sample@test.com%20');
  assert.deepEqual([johnny.first_name, johnny.last_name, johnny.email], ['Johnny', 'Zaius', 'SAMPLE@TEST.COM']);
  assert.deepEqual(johnny.emails, ['SAMPLE@TEST.COM']);
});

test('upserts apply in the order received, within a batch and across batches', async () => {
  await upsert(server.url, { email: 'a@test.com', first_name: 'one' }, { email: 'a@test.com', first_name: 'two' });
  assert.equal((await profile(server.url, 'email=a@test.com')).first_name, 'two');
  for (const name of ['three', 'four', 'five']) await upsert(server.url, { email: 'a@test.com', first_name: name });
  assert.equal((await profile(server.url, 'email=a@test.com')).first_name, 'five');
});

test('two profiles named by one upsert merge: the older survives, attributes last-write-win, arrays unite', async () => {
  await upsert(server.url, { email: 'a@test.com', first_name: 'Old', city: 'Boston', gender: 'F' });
  await upsert(server.url, { phone: '555-0100', first_name: 'New', zip: '02101' });
  const older = (await profile(server.url, 'email=a@test.com')).zaius_id;
  await upsert(server.url, { email: 'a2@test.com', phone: '555-0100', city: 'Leesburg' });
  await upsert(server.url, { email: 'a@test.com', phone: '555-0100', gender: 'M' });

  assert.equal(count(), 1);
  assert.equal(server.emulator.stats().merges, 1);
  const merged = await profile(server.url, 'phone=555-0100');
  assert.equal(merged.zaius_id, older);
  assert.deepEqual(
    [merged.first_name, merged.city, merged.zip, merged.gender],
    ['New', 'Leesburg', '02101', 'M'],
  );
  assert.deepEqual(new Set(merged.emails), new Set(['a@test.com', 'a2@test.com']));
  assert.equal(merged.email, 'a@test.com', 'the singular identifier is the last seen');
  assert.deepEqual(await profile(server.url, 'email=a2@test.com'), merged);
});

test('the dev-docs example: an email of profile 2 and an id of profile 1 leave one profile, zaius_id 1', async () => {
  await upsert(server.url, { customer_id: 'shop-1', first_name: 'John' });
  await upsert(server.url, { email: 'john@test.com', last_name: 'Doe' });
  const [first] = server.emulator.profiles();
  await upsert(server.url, { customer_id: 'shop-1', email: 'john@test.com' });
  assert.equal(count(), 1);
  const john = await profile(server.url, 'email=john@test.com');
  assert.equal(john.zaius_id, first.zaius_id);
  assert.deepEqual(
    [john.first_name, john.last_name, john.customer_ids, john.emails],
    ['John', 'Doe', ['shop-1'], ['john@test.com']],
  );
});

test('a vuid moves to the customer it is seen with, and never merges two customers', async () => {
  await upsert(server.url, { email: 'john@test.com', vuid: vuid(0xa), first_name: 'John' });
  await upsert(server.url, { email: 'jane@test.com', first_name: 'Jane' });
  await upsert(server.url, { email: 'jane@test.com', vuid: vuid(0xa) });

  assert.equal(count(), 2);
  assert.equal(server.emulator.stats().merges, 0);
  const jane = await profile(server.url, `vuid=${vuid(0xa)}`);
  assert.deepEqual([jane.first_name, jane.vuid, jane.vuids], ['Jane', vuid(0xa), [vuid(0xa)]]);
  const john = await profile(server.url, 'email=john@test.com');
  assert.equal(john.first_name, 'John');
  assert.equal('vuid' in john || 'vuids' in john, false, 'John lost the vuid');
});

test('a profile with only a vuid becomes the customer when an email arrives with that vuid', async () => {
  await upsert(server.url, { vuid: vuid(1), city: 'Boston' });
  const anonymous = await profile(server.url, `vuid=${vuid(1)}`);
  await upsert(server.url, { vuid: vuid(1), email: 'new@test.com', first_name: 'Nia' });
  assert.equal(count(), 1);
  const nia = await profile(server.url, 'email=new@test.com');
  assert.deepEqual([nia.zaius_id, nia.city, nia.first_name], [anonymous.zaius_id, 'Boston', 'Nia']);
});

test("a vuid-only profile is absorbed into the customer whose email comes with it, keeping the customer's id", async () => {
  await upsert(server.url, { vuid: vuid(2), city: 'Boston', first_name: 'Anonymous' });
  await upsert(server.url, { email: 'kim@test.com', first_name: 'Kim', vuid: vuid(3) });
  const kim = await profile(server.url, 'email=kim@test.com');
  await upsert(server.url, { email: 'kim@test.com', vuid: vuid(2) });

  assert.equal(count(), 1);
  assert.equal(server.emulator.stats().merges, 1);
  const after = await profile(server.url, `vuid=${vuid(2)}`);
  assert.equal(after.zaius_id, kim.zaius_id);
  assert.equal(after.city, 'Boston', 'anonymous history attached');
  assert.equal(after.first_name, 'Kim', 'the later write wins');
  assert.deepEqual(after.vuids, [vuid(3), vuid(2)]);
});

test('a shared computer: a new email with customer A\'s vuid creates a new customer and takes the vuid', async () => {
  await upsert(server.url, { email: 'a@test.com', vuid: vuid(7), first_name: 'Ann' });
  await upsert(server.url, { email: 'b@test.com', vuid: vuid(7), first_name: 'Bob' });

  assert.equal(count(), 2);
  const a = await profile(server.url, 'email=a@test.com');
  const b = await profile(server.url, 'email=b@test.com');
  assert.notEqual(a.zaius_id, b.zaius_id);
  assert.deepEqual([a.first_name, a.email, a.vuid], ['Ann', 'a@test.com', undefined]);
  assert.deepEqual([b.first_name, b.vuid], ['Bob', vuid(7)]);
});

test('an update with only a vuid goes to whoever the vuid was last seen with', async () => {
  await upsert(server.url, { email: 'a@test.com', vuid: vuid(8) });
  await upsert(server.url, { vuid: vuid(8), loyalty_tier: 'gold' });
  assert.equal(count(), 1);
  assert.equal((await profile(server.url, 'email=a@test.com')).loyalty_tier, 'gold');
});

test('plural arrays keep the 25 most recently seen values; older ones no longer find the profile', async () => {
  for (let i = 0; i < 30; i++) await upsert(server.url, { customer_id: 'c1', email: `e${i}@test.com` });
  let c = await profile(server.url, 'customer_id=c1');
  assert.equal(c.emails.length, 25);
  assert.deepEqual(c.emails, Array.from({ length: 25 }, (_, i) => `e${i + 5}@test.com`));
  assert.equal(c.email, 'e29@test.com');
  assert.equal(await profile(server.url, 'email=e4@test.com'), undefined);
  assert.equal((await profile(server.url, 'email=e5@test.com')).zaius_id, c.zaius_id);

  await upsert(server.url, { customer_id: 'c1', email: 'e5@test.com' });
  await upsert(server.url, { customer_id: 'c1', email: 'e30@test.com' });
  c = await profile(server.url, 'customer_id=c1');
  assert.equal(c.emails.length, 25);
  assert.deepEqual(c.emails.slice(-2), ['e5@test.com', 'e30@test.com'], 'seeing a value again makes it the newest');
  assert.equal(c.emails[0], 'e7@test.com');
});

test('a merge unites plural arrays up to 25, dropping the least recently seen', async () => {
  for (let i = 0; i < 20; i++) await upsert(server.url, { customer_id: 'x', email: `x${i}@test.com` });
  for (let i = 0; i < 20; i++) await upsert(server.url, { customer_id: 'y', email: `y${i}@test.com` });
  await upsert(server.url, { customer_id: 'x', email: 'y0@test.com' });
  assert.equal(count(), 1);
  const merged = await profile(server.url, 'customer_id=y');
  assert.equal(merged.emails.length, 25);
  assert.deepEqual(merged.customer_ids, ['y', 'x']);
  assert.equal(merged.emails.at(-1), 'y0@test.com');
  assert.ok(merged.emails.includes('x19@test.com') && !merged.emails.includes('x0@test.com'), merged.emails.join());
});

test('concurrent POSTs lose no upsert', async () => {
  const requests = Array.from({ length: 40 }, (_, r) =>
    post(
      server.url,
      Array.from({ length: 25 }, (_, i) => ({ attributes: { email: `r${r}i${i}@test.com`, customer_id: `shared-${i}` } })),
    ),
  );
  const statuses = await Promise.all(requests.map((p) => p.then((response) => response.status)));
  assert.deepEqual(new Set(statuses), new Set([202]));
  const stats = server.emulator.stats();
  assert.equal(stats.recordsApplied, 1000);
  // Each shared id gathered one email from each of the 40 requests: the newest 25 survive, every one findable.
  assert.equal(stats.profiles, 25);
  for (const p of server.emulator.profiles()) assert.equal(p.emails.length, 25);
  const concurrentSingles = await Promise.all(
    Array.from({ length: 100 }, (_, i) => post(server.url, { attributes: { email: `solo${i}@test.com` } }).then((r) => r.status)),
  );
  assert.deepEqual(new Set(concurrentSingles), new Set([202]));
  for (let i = 0; i < 100; i += 9) assert.ok(await profile(server.url, `email=solo${i}@test.com`), `solo${i}`);
  assert.equal(server.emulator.profiles().length, 125);
});

test('with applyDelayMs the 202 comes first and the upsert is applied after the delay', async () => {
  // The delay passes on a clock the test moves, so "not yet applied" holds however slow the machine.
  const clock = manualClock();
  const delayed = await startEmulator({ rateLimit: false, applyDelayMs: 1000, clock });
  try {
    await upsert(delayed.url, { email: 'later@test.com', first_name: 'one' }, { email: 'later@test.com', first_name: 'two' });
    await upsert(delayed.url, { email: 'later@test.com', first_name: 'three' });
    assert.equal(await profile(delayed.url, 'email=later@test.com'), undefined);
    assert.equal(delayed.emulator.stats().pending, 3);
    await clock.advance(999);
    assert.equal(delayed.emulator.stats().pending, 3);
    assert.equal(await profile(delayed.url, 'email=later@test.com'), undefined);
    await clock.advance(1);
    assert.equal(delayed.emulator.stats().pending, 0);
    assert.equal((await profile(delayed.url, 'email=later@test.com')).first_name, 'three', 'applied in the order received');
    assert.equal(delayed.emulator.stats().recordsApplied, 3);
  } finally {
    await delayed.close();
  }
});

test('reset forgets upserts still waiting out applyDelayMs', async () => {
  const clock = manualClock();
  const delayed = createEmulator({ rateLimit: false, applyDelayMs: 1000, clock });
  const body = JSON.stringify({ attributes: { email: 'forgotten@test.com' } });
  const answer = await delayed.fetch(new Request('http://emulator.test/v3/profiles', { method: 'POST', headers: { 'x-api-key': KEY }, body }));
  assert.equal(answer.status, 202);
  assert.equal(delayed.stats().pending, 1);
  delayed.reset();
  assert.deepEqual(clock.pending(), [], 'the wait was called off');
  await clock.advance(1000);
  assert.deepEqual(delayed.stats(), { requests: {}, recordsApplied: 0, pending: 0, merges: 0, profiles: 0, droppedFields: {} });
});

test('lowConfidence makes phone move like a vuid instead of merging customers', async () => {
  const shared = await startEmulator({ rateLimit: false, lowConfidence: ['vuid', 'phone'] });
  try {
    await upsert(shared.url, { email: 'a@test.com', phone: '555-0100' });
    await upsert(shared.url, { email: 'b@test.com', phone: '555-0100' });
    assert.equal(shared.emulator.profiles().length, 2);
    assert.equal((await profile(shared.url, 'phone=555-0100')).email, 'b@test.com');
    assert.equal((await profile(shared.url, 'email=a@test.com')).phone, undefined);
  } finally {
    await shared.close();
  }
  // With the default, the same two upserts are one person.
  await upsert(server.url, { email: 'a@test.com', phone: '555-0100' });
  await upsert(server.url, { email: 'b@test.com', phone: '555-0100' });
  assert.equal(count(), 1);
});
