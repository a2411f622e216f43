// Consent done fully: nothing stored while pending, the vuid persisted only on 'granted', withdrawal purges, and the
// choice is remembered for the next pages (other tabs and reloads are driven by Playwright in test/e2e/consent.test.js).
import { createIdCapture } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { capturingConsole, clearIdentity, cookieValue, storedRecords, uniqueEndpoint } from './helpers.js';

const dashed = (vuid) => vuid.replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
/** Whether the database `name` exists, asked in a way every engine supports (indexedDB.databases() is recent). */
const databaseExists = (name) =>
  new Promise((resolve, reject) => {
    let existed = true;
    const open = indexedDB.open(name);
    open.onupgradeneeded = (e) => (existed = e.oldVersion > 0);
    open.onsuccess = () => {
      open.result.close();
      if (!existed) indexedDB.deleteDatabase(name);
      resolve(existed);
    };
    open.onerror = () => reject(open.error);
  });
const stay = (e) => e.preventDefault();

let clients = [];
let forms = [];
let endpoints = [];
function client(options) {
  const endpoint = uniqueEndpoint();
  endpoints.push(endpoint);
  const idc = createIdCapture({ endpoint, ...options });
  clients.push(idc);
  const captures = [];
  idc.on('capture', ({ upsert }) => captures.push(upsert.attributes));
  return { idc, endpoint, captures };
}
function newsletter(email) {
  const form = document.createElement('form');
  form.innerHTML = `<input type="email" name="contact[email]" value="${email}"><button>Subscribe</button>`;
  document.body.append(form);
  forms.push(form);
  return form;
}
const queuedOnce = (idc, email) =>
  new Promise((resolve) => idc.on('queued', ({ upsert }) => upsert.attributes.email == email && resolve()));
/** A choice made with setConsent() on an earlier page. */
function chooseEarlier(state) {
  const earlier = createIdCapture({ endpoint: uniqueEndpoint(), autocapture: false });
  earlier.setConsent(state);
  earlier.destroy();
}
/** The consent the next page starts with when its option says 'pending', as what it does with an upsert shows. */
async function nextPageConsent() {
  const { idc, endpoint } = client({ consent: 'pending', autocapture: false });
  await idc.identify({ email: 'next-page@test.com' });
  if ((await storedRecords(endpoint)).length) return 'granted';
  return (await idc.flush()).pending ? 'pending' : 'denied';
}

describe('consent', () => {
  before(() => addEventListener('submit', stay));
  after(() => removeEventListener('submit', stay));
  beforeEach(() => {
    clearIdentity();
    localStorage.clear();
  });
  afterEach(() => {
    clients.forEach((c) => c.destroy());
    forms.forEach((f) => f.remove());
    clients = [];
    forms = [];
  });

  it("while 'pending' writes no cookie, no localStorage and no IndexedDB; captures wait in memory", async () => {
    const { idc, endpoint, captures } = client({ consent: 'pending' });
    newsletter('waiting@test.com').requestSubmit();
    await idc.identify({ email: 'called@test.com' });
    deepEqual(await idc.flush(), { sent: 0, pending: 2, dropped: 0 });
    deepEqual(captures, [{ vuid: idc.vuid, email: 'waiting@test.com' }], 'captured, held:');
    equal(cookieValue('vuid'), undefined, 'cookie:');
    equal(localStorage.length, 0, 'localStorage:');
    assert(!(await databaseExists(`idcapture:${endpoint}`)), 'no database created');
  });

  it("'granted' then persists the vuid, remembers the choice and queues what waited, in order", async () => {
    const { idc, endpoint } = client({ consent: 'pending' });
    const vuid = idc.vuid;
    newsletter('first@test.com').requestSubmit();
    await idc.identify({ email: 'second@test.com' });
    const queued = queuedOnce(idc, 'second@test.com');
    idc.setConsent('granted');
    await queued;
    equal(idc.vuid, vuid, 'the same visitor:');
    equal(decodeURIComponent(cookieValue('vuid')).split('|')[0], dashed(vuid));
    equal(localStorage.getItem('vuid').split('|')[0], dashed(vuid));
    deepEqual(
      (await storedRecords(endpoint)).map((r) => r.upsert.attributes),
      [{ vuid, email: 'first@test.com' }, { vuid, email: 'second@test.com' }],
    );
    equal(await nextPageConsent(), 'granted', 'the choice remembered:');
  });

  it('denying on a later page that started pending still purges what an earlier grant stored, creating nothing new', async () => {
    const { idc, endpoint } = client();
    await idc.identify({ email: 'earlier@test.com' });
    idc.setConsent('pending');
    idc.destroy();
    // The next page: no stored choice, so it starts pending.
    const next = createIdCapture({ endpoint, consent: 'pending' });
    clients.push(next);
    assert(cookieValue('vuid') && localStorage.getItem('vuid'), 'the earlier grant stored the vuid');
    next.setConsent('denied');
    equal(cookieValue('vuid'), undefined, 'cookie:');
    equal(localStorage.getItem('vuid'), null, 'localStorage vuid:');
    // The purge first finds out whether the database exists, without creating it.
    while ((await storedRecords(endpoint)).length) await new Promise((r) => setTimeout(r));

    const never = client({ consent: 'pending' });
    never.idc.setConsent('denied');
    assert(!(await databaseExists(`idcapture:${never.endpoint}`)), 'no database created by the purge');
  });

  it('touches no storage while not granted: a debug start, flush() while denied, reset() after granted → pending', async () => {
    await capturingConsole('log', () => client({ consent: 'pending', debug: true }));
    const denied = client({ consent: 'denied' });
    deepEqual(await denied.idc.flush(), { sent: 0, pending: 0, dropped: 0 });
    for (const endpoint of endpoints.slice(-2)) assert(!(await databaseExists(`idcapture:${endpoint}`)), `database created for ${endpoint}`);

    const { idc } = client();
    const stored = cookieValue('vuid');
    idc.setConsent('pending');
    idc.reset();
    equal(cookieValue('vuid'), stored, 'cookie:');
    equal(localStorage.getItem('vuid'), decodeURIComponent(stored), 'localStorage:');
  });

  it('what was withdrawn never leaves in the unload hand-off after consent is granted again', async () => {
    const sent = [];
    // Upserts only: the denial's DELETE (asking for the vuid's server twin to be cleared) has no body.
    const { idc } = client({ fetch: (url, init) => (init.body && sent.push(...JSON.parse(init.body)), fetch(url, init)) });
    await idc.identify({ email: 'withdrawn@test.com' });
    idc.setConsent('denied');
    idc.setConsent('granted');
    dispatchEvent(new PageTransitionEvent('pagehide'));
    deepEqual(sent, [], 'handed off:');
    await idc.identify({ email: 'regranted@test.com' });
    dispatchEvent(new PageTransitionEvent('pageshow'));
    dispatchEvent(new PageTransitionEvent('pagehide'));
    deepEqual(sent.map((u) => u.attributes.email), ['regranted@test.com']);
  });

  it("unload hands captures still on their way into IndexedDB to delivery's keepalive requests, first", async () => {
    const sent = [];
    const { idc } = client({ fetch: (url, init) => (sent.push(...JSON.parse(init.body).map((u) => [u.attributes.email, init.keepalive])), fetch(url, init)) });
    await idc.identify({ email: 'queued@test.com' });
    newsletter('leaving@test.com').requestSubmit();
    dispatchEvent(new PageTransitionEvent('pagehide'));
    deepEqual(sent, [['leaving@test.com', true], ['queued@test.com', true]]);
  });

  it('a capture still on its way into IndexedDB when the page goes is kept in localStorage and queued by the next page', async () => {
    // A fetch that refuses: the keepalive hand-off fails, as it does when the network is down.
    const { idc, endpoint } = client({ fetch: () => Promise.reject(new TypeError('offline')) });
    newsletter('left-unstored@test.com').requestSubmit();
    dispatchEvent(new PageTransitionEvent('pagehide'));
    idc.destroy();

    const offline = () => Promise.reject(new TypeError('offline'));
    const next = createIdCapture({ endpoint, autocapture: false, fetch: offline });
    const queued = queuedOnce(next, 'left-unstored@test.com');
    await queued;
    assert((await storedRecords(endpoint)).some((r) => r.upsert.attributes.email == 'left-unstored@test.com'));
    next.destroy();

    // Taken over once queued: the page after that queues it no more. Its own upserts, queued one after the other,
    // come after anything it found left over.
    const third = createIdCapture({ endpoint, autocapture: false, fetch: offline });
    const queuedThere = [];
    third.on('queued', ({ upsert }) => queuedThere.push(upsert.attributes.email));
    await third.identify({ email: 'third-1@test.com' });
    await third.identify({ email: 'third-2@test.com' });
    deepEqual(queuedThere, ['third-1@test.com', 'third-2@test.com'], 'taken out once queued:');
    third.destroy();
  });

  it('granted then denied in the same tick stores none of what waited', async () => {
    const { idc, endpoint } = client({ consent: 'pending' });
    await idc.identify({ email: 'held@test.com' });
    idc.setConsent('granted');
    idc.setConsent('denied');
    idc.setConsent('granted');
    await idc.identify({ email: 'later@test.com' });
    // IndexedDB runs transactions in the order they were made: a held upsert's write would come before this read.
    deepEqual((await storedRecords(endpoint)).map((r) => r.upsert.attributes.email), ['later@test.com']);
  });

  it('withdrawing (granted → denied) purges the queue and the stored vuid; nothing is captured after (the next test: the last capture is forgotten too)', async () => {
    const { idc, endpoint, captures } = client();
    const before = idc.vuid;
    const queued = queuedOnce(idc, 'kept@test.com');
    newsletter('kept@test.com').requestSubmit();
    await queued;
    equal((await storedRecords(endpoint)).length, 1);

    idc.setConsent('denied');
    deepEqual(await idc.flush(), { sent: 0, pending: 0, dropped: 0 });
    // IndexedDB runs transactions in the order they were made: this read, on a connection opened later, sees the purge.
    deepEqual(await storedRecords(endpoint), []);
    equal(cookieValue('vuid'), undefined, 'cookie:');
    equal(localStorage.getItem('vuid'), null, 'localStorage vuid:');
    assert(idc.vuid != before, 'a new vuid, in memory only');

    newsletter('after@test.com').requestSubmit();
    await idc.identify({ email: 'after-identify@test.com' });
    equal(captures.length, 1, 'no capture while denied:');
    deepEqual(await storedRecords(endpoint), []);
    equal(cookieValue('vuid'), undefined, 'still no cookie:');
    equal(await nextPageConsent(), 'denied', 'the choice remembered:');
  });

  it('granting again after a withdrawal captures the same form again, under the new vuid', async () => {
    const { idc, endpoint } = client();
    const first = queuedOnce(idc, 'again@test.com');
    newsletter('again@test.com').requestSubmit();
    await first;
    idc.setConsent('denied');
    newsletter('again@test.com').requestSubmit();
    idc.setConsent('granted');
    const queued = queuedOnce(idc, 'again@test.com');
    newsletter('again@test.com').requestSubmit();
    await queued;
    deepEqual((await storedRecords(endpoint)).map((r) => r.upsert.attributes), [{ vuid: idc.vuid, email: 'again@test.com' }]);
  });

  it('a remembered choice wins over the consent option on the next page; Global Privacy Control wins over both', async () => {
    chooseEarlier('granted');
    const pending = client({ consent: 'pending' });
    await pending.idc.identify({ email: 'remembered@test.com' });
    equal((await storedRecords(pending.endpoint)).length, 1, 'granted by the remembered choice:');

    chooseEarlier('denied');
    const denied = client({ consent: 'granted' });
    await denied.idc.identify({ email: 'refused@test.com' });
    deepEqual(await storedRecords(denied.endpoint), [], 'denied by the remembered choice:');

    chooseEarlier('granted');
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true });
    try {
      const gpc = client();
      newsletter('gpc@test.com').requestSubmit();
      await gpc.idc.identify({ email: 'gpc-identify@test.com' });
      equal(gpc.captures.length, 0, 'no capture under GPC:');
      deepEqual(await storedRecords(gpc.endpoint), []);
      const ignored = client({ respectGlobalPrivacyControl: false });
      await ignored.idc.identify({ email: 'gpc-ignored@test.com' });
      equal((await storedRecords(ignored.endpoint)).length, 1, 'respectGlobalPrivacyControl: false:');
    } finally {
      delete navigator.globalPrivacyControl;
    }
  });

  it("'pending' forgets the remembered choice but keeps the stored vuid", async () => {
    const { idc } = client();
    idc.setConsent('granted');
    idc.setConsent('pending');
    equal(localStorage.getItem('vuid').split('|')[0], dashed(idc.vuid));
    equal(await nextPageConsent(), 'pending');
  });
});
