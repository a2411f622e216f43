// Verified identity from the page: tokens signed by the test back end (signIdentity), sent with the upserts they
// cover to the real proxy with `verify` ('/api/verified'), on its own origin, in front of the real emulator.
import { createIdCapture, ValidationError } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { holdQueue, storedRecords } from './helpers.js';

const json = async (path, body) =>
  (await fetch(path, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) })).json();
const profiles = () => json('/__emulator/profiles');
const profileOf = async (email) => (await profiles()).find((p) => p.email === email);
const forwarded = () => json('/__backend/forwarded');
/** What the site's back end hands a logged-in visitor's page. */
const sign = async (identity) => (await json(`/__backend/sign?${new URLSearchParams(identity)}`)).token;

const api = (await json('/__backend/api')).url;

let clients = [];
async function client(options = {}) {
  const endpoint = `${api}/api/verified?run=${Math.random().toString(36).slice(2)}`;
  const release = await holdQueue(endpoint);
  const idc = createIdCapture({ endpoint, autocapture: false, ...options });
  clients.push(idc);
  const drops = [];
  idc.on('drop', (detail) => drops.push(detail));
  return { idc, endpoint, release, drops };
}

const unique = (name) => `${name}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}@shop.test`;

describe('identity token', () => {
  beforeEach(() => json('/__backend/reset', {}));
  afterEach(() => {
    clients.forEach((c) => c.destroy());
    clients = [];
    document.querySelectorAll('form').forEach((f) => f.remove());
  });

  it('identify with a token: the signed upsert may set and clear any allowed field, and the token is not forwarded', async () => {
    const { idc, endpoint, release } = await client();
    const email = unique('signed');
    const token = await sign({ email, vuid: idc.vuid });
    await idc.identify({ email }, { first_name: 'Sig', street1: '1 Real St', city: null }, { token });
    equal((await storedRecords(endpoint))[0].upsert.token, token);
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    const stored = await profileOf(email);
    deepEqual([stored.first_name, stored.street1, stored.vuid], ['Sig', '1 Real St', idc.vuid]);
    deepEqual(await forwarded(), [[{ attributes: { vuid: idc.vuid, first_name: 'Sig', street1: '1 Real St', city: null, email } }]]);
  });

  it('without a token the same upsert is reduced: no street, no clear, no vuid pairing', async () => {
    const { idc, release } = await client();
    const email = unique('anon');
    await idc.identify({ email }, { first_name: 'Anon', street1: '1 Real St', city: null });
    release();
    deepEqual(await idc.flush(), { sent: 1, pending: 0, dropped: 0 });
    deepEqual(await forwarded(), [[{ attributes: { first_name: 'Anon', email } }]]);
  });

  it('identify refuses a token that names other identifiers, with a ValidationError on token', async () => {
    const { idc } = await client();
    const token = await sign({ email: unique('someone') });
    let error;
    await idc.identify({ email: unique('else') }, {}, { token }).catch((e) => (error = e));
    assert(error instanceof ValidationError, `${error}`);
    equal(error.field, 'token');
  });

  it('setIdentityToken: the token goes with the upserts it covers only, and reset() forgets it', async () => {
    const { idc, endpoint, release } = await client();
    const email = unique('member');
    const token = await sign({ email, vuid: idc.vuid });
    idc.setIdentityToken(token);
    await idc.identify({ email: email.toUpperCase() }, { last_name: 'Member' });
    await idc.identify({ email: unique('friend') }, { first_name: 'Friend' });
    idc.reset();
    await idc.identify({ email }, { first_name: 'After logout' });
    deepEqual((await storedRecords(endpoint)).map((r) => r.upsert.token), [token, undefined, undefined]);
    release();
    deepEqual(await idc.flush(), { sent: 3, pending: 0, dropped: 0 });
  });

  it('an expired or foreign token makes the proxy refuse the upsert, reported as a drop', async () => {
    const { idc, release, drops } = await client();
    const email = unique('forged');
    const token = await sign({ email });
    await idc.identify({ email }, { first_name: 'X' }, { token: `${token.slice(0, -2)}AA` });
    release();
    deepEqual(await idc.flush(), { sent: 0, pending: 0, dropped: 1 });
    equal(drops.length, 1);
    equal(await profileOf(email), undefined);
  });

  it('form auto-capture is unverified unless the page set a token for that identity', async () => {
    const { idc, endpoint } = await client({ autocapture: true });
    const member = unique('form-member');
    idc.setIdentityToken(await sign({ email: member, vuid: idc.vuid }));
    const submit = async (email) => {
      const form = document.createElement('form');
      form.innerHTML = `<input type="email" name="email" value="${email}"><input autocomplete="address-line1" value="9 Form St"><button>Go</button>`;
      form.addEventListener('submit', (e) => e.preventDefault());
      document.body.append(form);
      const queued = new Promise((resolve) => idc.on('queued', resolve));
      form.requestSubmit();
      await queued;
    };
    await submit(member);
    await submit(unique('form-stranger'));
    const records = await storedRecords(endpoint);
    equal(records.length, 2);
    assert(records[0].upsert.token, 'the member form carries the token');
    equal(records[1].upsert.token, undefined);
  });

  it('the queued event does not carry the token; the queue keeps it for delivery (issue 22)', async () => {
    const { idc, endpoint } = await client();
    const email = unique('event');
    const token = await sign({ email, vuid: idc.vuid });
    const queued = new Promise((resolve) => idc.on('queued', resolve));
    await idc.identify({ email }, { city: 'Oslo' }, { token });
    const { upsert } = await queued;
    equal('token' in upsert, false);
    equal(upsert.attributes.email, email);
    equal((await storedRecords(endpoint))[0].upsert.token, token);
  });
});
