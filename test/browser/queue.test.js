import { createIdCapture } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { capturingConsole, storedRecords, uniqueEndpoint } from './helpers.js';

const emails = (records) => records.map((r) => r.upsert.attributes.email);

describe('durable queue', () => {
  it('resolves identify() only once the upsert is in IndexedDB, as a plain record', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    const before = Date.now();
    await idc.identify({ email: 'sample@test.com' }, { first_name: 'Johnny' });
    const [record] = await storedRecords(endpoint);
    deepEqual(Object.keys(record).sort(), ['at', 'id', 'upsert']);
    deepEqual(record.upsert, { attributes: { vuid: idc.vuid, first_name: 'Johnny', email: 'sample@test.com' } });
    assert(record.at >= before && record.at <= Date.now(), 'capture time');
  });

  it('keeps upserts in the order they were queued', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    const sent = Array.from({ length: 20 }, (_, i) => `user${i}@test.com`);
    await Promise.all(sent.map((email) => idc.identify({ email })));
    deepEqual(emails(await storedRecords(endpoint)), sent);
  });

  it('coalesces consecutive upserts with identical identifiers, later attributes winning', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    await idc.identify({ email: 'a@test.com' }, { first_name: 'Jo', city: 'Boston' });
    await idc.identify({ email: 'A@Test.com' }, { first_name: 'Joanna', zip: '02101' });
    const records = await storedRecords(endpoint);
    equal(records.length, 1, 'one record:');
    deepEqual(records[0].upsert.attributes, {
      vuid: idc.vuid, first_name: 'Joanna', city: 'Boston', email: 'a@test.com', zip: '02101',
    });
  });

  it('never coalesces different identifiers, nor upserts that are not consecutive', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    await idc.identify({ email: 'a@test.com' }, { first_name: 'A' });
    await idc.identify({ email: 'a@test.com', phone: '555' }, { first_name: 'B' });
    await idc.identify({ email: 'b@test.com' }, { first_name: 'C' });
    await idc.identify({ email: 'a@test.com' }, { first_name: 'D' });
    idc.reset();
    await idc.identify({ email: 'a@test.com' }, { first_name: 'E' });
    const names = (await storedRecords(endpoint)).map((r) => r.upsert.attributes.first_name);
    deepEqual(names, ['A', 'B', 'C', 'D', 'E']);
  });

  it('keeps at most maxQueueSize upserts, dropping the oldest with a drop event', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint, maxQueueSize: 3 });
    const dropped = [];
    idc.on('drop', ({ upsert, reason }) => dropped.push([upsert.attributes.email, reason]));
    for (let i = 0; i < 5; i++) await idc.identify({ email: `u${i}@test.com` });
    deepEqual(emails(await storedRecords(endpoint)), ['u2@test.com', 'u3@test.com', 'u4@test.com']);
    deepEqual(dropped, [['u0@test.com', 'maxQueueSize'], ['u1@test.com', 'maxQueueSize']]);
  });

  it("emits 'queued' for each upsert, and off() stops it", async () => {
    const idc = createIdCapture({ endpoint: uniqueEndpoint() });
    const seen = [];
    const off = idc.on('queued', ({ upsert }) => seen.push(upsert.attributes.email));
    await idc.identify({ email: 'one@test.com' });
    off();
    await idc.identify({ email: 'two@test.com' });
    deepEqual(seen, ['one@test.com']);
  });

  it('gives two endpoints on one origin separate queues', async () => {
    const [e1, e2] = [uniqueEndpoint(), uniqueEndpoint()];
    await createIdCapture({ endpoint: e1 }).identify({ email: 'one@test.com' });
    await createIdCapture({ endpoint: e2 }).identify({ email: 'two@test.com' });
    deepEqual(emails(await storedRecords(e1)), ['one@test.com']);
    deepEqual(emails(await storedRecords(e2)), ['two@test.com']);
  });

  it('shares one queue between two clients of the same endpoint, in order', async () => {
    const endpoint = uniqueEndpoint();
    const [a, b] = [createIdCapture({ endpoint }), createIdCapture({ endpoint })];
    await a.identify({ email: '1@test.com' });
    await b.identify({ email: '2@test.com' });
    await a.identify({ email: '3@test.com' });
    deepEqual(emails(await storedRecords(endpoint)), ['1@test.com', '2@test.com', '3@test.com']);
  });

  it('makes 1,000 identify() calls durable', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => idc.identify({ customer_id: i })));
    const records = await storedRecords(endpoint);
    equal(records.length, 1000);
    deepEqual(records.map((r) => r.upsert.attributes.customer_id), Array.from({ length: 1000 }, (_, i) => i));
  });
});

describe('consent', () => {
  // setConsent() remembers the choice for the next pages, and a remembered choice wins over the option.
  afterEach(() => localStorage.removeItem('idcapture-consent'));
  it("holds upserts in memory while 'pending' and queues them, in order, when granted", async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint, consent: 'pending' });
    await idc.identify({ email: 'p1@test.com' });
    await idc.identify({ email: 'p2@test.com' });
    equal((await storedRecords(endpoint)).length, 0, 'nothing stored while pending:');
    const queued = new Promise((resolve) => idc.on('queued', ({ upsert }) => upsert.attributes.email == 'p2@test.com' && resolve()));
    idc.setConsent('granted');
    await queued;
    deepEqual(emails(await storedRecords(endpoint)), ['p1@test.com', 'p2@test.com']);
  });

  it("discards what was pending when consent is denied, and stores nothing while denied", async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint, consent: 'pending' });
    await idc.identify({ email: 'p1@test.com' });
    idc.setConsent('denied');
    await idc.identify({ email: 'p2@test.com' });
    idc.setConsent('granted');
    await idc.identify({ email: 'p3@test.com' });
    deepEqual(emails(await storedRecords(endpoint)), ['p3@test.com']);
  });

  it('starts denied when the browser sends Global Privacy Control, unless told not to', async () => {
    Object.defineProperty(navigator, 'globalPrivacyControl', { value: true, configurable: true });
    try {
      const [e1, e2] = [uniqueEndpoint(), uniqueEndpoint()];
      await createIdCapture({ endpoint: e1 }).identify({ email: 'gpc@test.com' });
      await createIdCapture({ endpoint: e2, respectGlobalPrivacyControl: false }).identify({ email: 'gpc@test.com' });
      equal((await storedRecords(e1)).length, 0, 'GPC respected:');
      equal((await storedRecords(e2)).length, 1, 'GPC ignored on request:');
    } finally {
      delete navigator.globalPrivacyControl;
    }
  });
});

describe('memory fallback', () => {
  it('falls back to memory, warning once, when IndexedDB is missing', async () => {
    const original = Object.getOwnPropertyDescriptor(window, 'indexedDB');
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
    try {
      const queued = [];
      const warnings = await capturingConsole('warn', async () => {
        const idc = createIdCapture({ endpoint: uniqueEndpoint() });
        idc.on('queued', ({ upsert }) => queued.push(upsert.attributes.email));
        await idc.identify({ email: 'a@test.com' });
        await idc.identify({ email: 'b@test.com' });
      });
      deepEqual(queued, ['a@test.com', 'b@test.com']);
      equal(warnings.length, 1, 'warned once:');
    } finally {
      Object.defineProperty(window, 'indexedDB', original);
    }
  });

  it('falls back to memory when the database exists in a shape it cannot use', async () => {
    const endpoint = uniqueEndpoint();
    // Another script owns this database name at version 3 without our object store.
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open(`idcapture:${endpoint}`, 3);
      open.onupgradeneeded = () => open.result.createObjectStore('other');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    db.close();
    const queued = [];
    const warnings = await capturingConsole('warn', async () => {
      const idc = createIdCapture({ endpoint });
      idc.on('queued', () => queued.push(1));
      await idc.identify({ email: 'a@test.com' });
    });
    equal(queued.length, 1);
    equal(warnings.length, 1, 'warned once:');
  });
});
