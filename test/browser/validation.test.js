import { createIdCapture, ValidationError, IdCaptureError } from '../../dist/index.js';
import { assert, deepEqual, equal, rejects } from './assert.js';
import { storedRecords, uniqueEndpoint } from './helpers.js';

const long = 'x'.repeat(1025);

// [title, identifiers, attributes, field named in the ValidationError]
const invalid = [
  ['no identifier at all', {}, undefined, 'identifiers'],
  ['identifiers that are not an object', 'sample@test.com', undefined, 'identifiers'],
  ['attributes that are not an object', { email: 'a@b.co' }, ['x'], 'attributes'],
  ['a malformed email', { email: 'not-an-email' }, undefined, 'email'],
  ['an email without a dotted domain', { email: 'a@localhost' }, undefined, 'email'],
  ['an email with two @', { email: 'a@b@c.com' }, undefined, 'email'],
  ['an email with a space inside', { email: 'jo hn@test.com' }, undefined, 'email'],
  ['an email local part over 64 characters', { email: 'a'.repeat(65) + '@test.com' }, undefined, 'email'],
  // Issue 22: markup, and lookalikes that Unicode folding would turn into another address (test/node/email-rules.test.js).
  ['markup as an email', { email: '<img/src=x/onerror=alert(1)>@evil.test' }, undefined, 'email'],
  ['an email with a double quote', { email: '"kate"@shop.test' }, undefined, 'email'],
  ['an email with a control character', { email: 'kate\u0000@shop.test' }, undefined, 'email'],
  ['an email with the Kelvin sign (lower case: k)', { email: '\u212Aate@shop.test' }, undefined, 'email'],
  ['an email with a dotless i', { email: '\u0131nfo@shop.test' }, undefined, 'email'],
  ['an email with a dotted capital I', { email: '\u0130nfo@shop.test' }, undefined, 'email'],
  ['a full-width email', { email: '\uFF4B\uFF41\uFF54\uFF45@shop.test' }, undefined, 'email'],
  ['an email with a long s', { email: 'ro\u017Fe@shop.test' }, undefined, 'email'],
  ['an identifier name the API does not know', { username: 'jo' }, undefined, 'username'],
  ['an identifier with an object value', { customer_id: { id: 1 } }, undefined, 'customer_id'],
  ['an identifier with a boolean value', { customer_id: true }, undefined, 'customer_id'],
  ['an attribute name with capitals', { email: 'a@b.co' }, { firstName: 'J' }, 'firstName'],
  ['an attribute name with a space', { email: 'a@b.co' }, { 'first name': 'J' }, 'first name'],
  ['an attribute name starting with a digit', { email: 'a@b.co' }, { '1st': 'J' }, '1st'],
  ['an attribute name over 64 characters', { email: 'a@b.co' }, { ['a'.repeat(65)]: 'J' }, 'a'.repeat(65)],
  ['a nested object value', { email: 'a@b.co' }, { address: { city: 'Boston' } }, 'address'],
  ['an array value', { email: 'a@b.co' }, { tags: ['a'] }, 'tags'],
  ['a non-finite number', { email: 'a@b.co' }, { dob_year: Infinity }, 'dob_year'],
  ['NaN', { email: 'a@b.co' }, { dob_year: NaN }, 'dob_year'],
  ['text over 1024 characters', { email: 'a@b.co' }, { first_name: long }, 'first_name'],
  ['an identifier over 1024 characters', { customer_id: long }, undefined, 'customer_id'],
  ['a vuid override that is not 32 hex', { email: 'a@b.co' }, { vuid: 'abc' }, 'vuid'],
  ['a vuid identifier in capitals', { vuid: 'A'.repeat(32) }, undefined, 'vuid'],
  // Only the emulator takes the Zaius cookie's dashed form: the snippet sends what ODP stores (issue 11).
  ['a dashed vuid override', { email: 'a@b.co' }, { vuid: '3fdb5249-4fc3-4060-b87a-680be86aeb57' }, 'vuid'],
  ['the reserved zaius_id', { email: 'a@b.co' }, { zaius_id: '1' }, 'zaius_id'],
  ['a plural identifier array', { email: 'a@b.co' }, { emails: 'x' }, 'emails'],
  ['a plural custom identifier', { email: 'a@b.co' }, { customer_ids: 'x' }, 'customer_ids'],
  ['an empty email', { email: '' }, undefined, 'email'],
  ['a non-ASCII capital, which full case folding turns into another address', { email: 'JOSÉ@bücher.de' }, undefined, 'email'],
  ['a numeric email', { email: 5 }, undefined, 'email'],
  ['a numeric vuid override', { email: 'a@b.co' }, { vuid: 42 }, 'vuid'],
  ['a boolean email attribute', { phone: '555' }, { email: true }, 'email'],
];

// [title, identifiers, attributes, expected attributes besides the vuid]
const valid = [
  ['an email', { email: 'sample@test.com' }, undefined, { email: 'sample@test.com' }],
  ['an email, trimmed and lower-cased', { email: '  Sample@Test.COM ' }, undefined, { email: 'sample@test.com' }],
  ['an email with a + tag', { email: 'jo+shop@test.com' }, undefined, { email: 'jo+shop@test.com' }],
  ['an email with an international domain', { email: 'josé@bücher.de' }, undefined, { email: 'josé@bücher.de' }],
  ['an apostrophe', { email: "o'brien@test.com" }, undefined, { email: "o'brien@test.com" }],
  ['a phone', { phone: '555-867-5309' }, undefined, { phone: '555-867-5309' }],
  ['a numeric custom identifier', { customer_id: 42 }, undefined, { customer_id: 42 }],
  ['custom identifier suffixes', { loyalty_number: 'L1', login_alias: 'jo', device_token: 't', email_hash: 'h' }, undefined,
    { loyalty_number: 'L1', login_alias: 'jo', device_token: 't', email_hash: 'h' }],
  ['every value type', { email: 'a@b.co' }, { first_name: 'Johnny', dob_year: 1990, ccpa_opted_out: false, city: null },
    { first_name: 'Johnny', dob_year: 1990, ccpa_opted_out: false, city: null, email: 'a@b.co' }],
  ['text of exactly 1024 characters', { email: 'a@b.co' }, { first_name: 'y'.repeat(1024) },
    { first_name: 'y'.repeat(1024), email: 'a@b.co' }],
  // Default customer fields since issue 11; the proxy's default allowlist still leaves them out.
  ['a data_source field and ccpa_opted_out', { email: 'a@b.co' }, { data_source: 'x', ccpa_opted_out: true },
    { data_source: 'x', ccpa_opted_out: true, email: 'a@b.co' }],
  ['a custom lower snake_case attribute', { email: 'a@b.co' }, { favourite_colour_2: 'green' },
    { favourite_colour_2: 'green', email: 'a@b.co' }],
];

describe('identify() validation', () => {
  for (const [title, identifiers, attributes, field] of invalid) {
    it(`rejects ${title}, naming ${JSON.stringify(field).slice(0, 40)}`, async () => {
      const endpoint = uniqueEndpoint();
      const idc = createIdCapture({ endpoint });
      const error = await rejects(idc.identify(identifiers, attributes), ValidationError, { field });
      assert(error instanceof IdCaptureError, 'ValidationError extends IdCaptureError');
      equal(error.name, 'ValidationError');
      assert(error.reason.length > 5, 'has a reason');
      equal((await storedRecords(endpoint)).length, 0, 'nothing queued:');
    });
  }

  for (const [title, identifiers, attributes, expected] of valid) {
    it(`queues ${title}`, async () => {
      const endpoint = uniqueEndpoint();
      const idc = createIdCapture({ endpoint });
      await idc.identify(identifiers, attributes);
      const [record] = await storedRecords(endpoint);
      deepEqual(record.upsert, { attributes: { vuid: idc.vuid, ...expected } });
    });
  }

  it('accepts a valid vuid override', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    const vuid = 'a'.repeat(32);
    await idc.identify({ email: 'a@b.co' }, { vuid });
    equal((await storedRecords(endpoint))[0].upsert.attributes.vuid, vuid);
  });

  it('never throws synchronously, even for absurd arguments', async () => {
    const idc = createIdCapture({ endpoint: uniqueEndpoint() });
    let promise;
    try {
      promise = idc.identify(null, 5);
    } catch (e) {
      throw new Error(`threw synchronously: ${e}`);
    }
    await rejects(promise, ValidationError, { field: 'identifiers' });
  });
});

describe('createIdCapture options', () => {
  const bad = [
    [{}, TypeError, 'endpoint'],
    [{ endpoint: '' }, TypeError, 'endpoint'],
    [{ endpoint: '/x', consent: 'maybe' }, TypeError, 'consent'],
    [{ endpoint: '/x', maxQueueSize: 0 }, RangeError, 'maxQueueSize'],
    [{ endpoint: '/x', maxQueueSize: NaN }, RangeError, 'maxQueueSize'],
    [{ endpoint: '/x', cookie: { maxAgeDays: -1 } }, RangeError, 'cookie.maxAgeDays'],
    [{ endpoint: '/x', maxAgeDays: 0 }, RangeError, 'option maxAgeDays must be a number above 0'],
    [{ endpoint: '/x', maxAgeDays: -30 }, RangeError, 'option maxAgeDays'],
    [{ endpoint: '/x', maxAgeDays: Infinity }, RangeError, 'option maxAgeDays'],
    [{ endpoint: '/x', maxAgeDays: NaN }, RangeError, 'option maxAgeDays'],
    [{ endpoint: '/x', maxAgeDays: '30' }, RangeError, 'option maxAgeDays'],
    [{ endpoint: '/x', cookie: { name: 'a;b' } }, TypeError, 'cookie.name'],
  ];
  for (const [options, type, name] of bad) {
    it(`throws ${type.name} naming ${name} for ${JSON.stringify(options)}`, () => {
      let error;
      try {
        createIdCapture(options);
      } catch (e) {
        error = e;
      }
      assert(error instanceof type, `expected ${type.name}, got ${error}`);
      assert(error.message.includes(name), `message names ${name}: ${error.message}`);
    });
  }

  // A misspelt option would otherwise be ignored without a word: the closest known name is suggested, if one is close.
  const unknown = [
    ['flushIntervall', 'idcapture: unknown option flushIntervall (did you mean flushInterval?)'],
    ['batchsize', 'idcapture: unknown option batchsize (did you mean batchSize?)'],
    ['respectGPC', 'idcapture: unknown option respectGPC'],
    ['color', 'idcapture: unknown option color'],
  ];
  for (const [name, message] of unknown) {
    it(`throws a TypeError for the unknown option ${name}`, () => {
      let error;
      try {
        createIdCapture({ endpoint: uniqueEndpoint(), [name]: 1 });
      } catch (e) {
        error = e;
      }
      assert(error instanceof TypeError, `expected a TypeError, got ${error}`);
      equal(error.message, message);
    });
  }

  // Inside an option object too: a misspelt `forms` would otherwise capture every form of the page.
  const nested = [
    [{ autocapture: { form: '.checkout' } }, 'idcapture: unknown option autocapture.form (did you mean autocapture.forms?)'],
    [{ cookie: { domian: '.shop.example' } }, 'idcapture: unknown option cookie.domian (did you mean cookie.domain?)'],
  ];
  for (const [options, message] of nested) {
    it(`throws a TypeError for ${message.split(' ')[3]}`, () => {
      let error;
      try {
        createIdCapture({ endpoint: uniqueEndpoint(), ...options });
      } catch (e) {
        error = e;
      }
      assert(error instanceof TypeError, `expected a TypeError, got ${error}`);
      equal(error.message, message);
    });
  }

  it('takes every documented option name', () => {
    const idc = createIdCapture({
      endpoint: uniqueEndpoint(),
      autocapture: false,
      consent: 'pending',
      respectGlobalPrivacyControl: true,
      batchSize: 10,
      flushInterval: 1000,
      fetch: (input, init) => fetch(input, init),
      maxQueueSize: 10,
      maxAgeDays: 7,
      cookie: false,
      debug: false,
    });
    idc.destroy();
  });

  it('rejects identify() after destroy()', async () => {
    const idc = createIdCapture({ endpoint: uniqueEndpoint() });
    idc.destroy();
    await rejects(idc.identify({ email: 'a@b.co' }), IdCaptureError);
  });
});
