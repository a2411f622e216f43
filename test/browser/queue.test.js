import { createStore, get } from 'idb-keyval';
import { createIdCapture } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { capturingConsole, storedRecords, uniqueEndpoint } from './helpers.js';

const emails = (records) => records.map((r) => r.upsert.attributes.email);

/**
 * Runs `fn` while watching the readwrite transactions opened on the queue of `endpoint` (IndexedDB itself is real and
 * untouched): `fn` gets the list, each entry `{ completed }` turning true on the transaction's 'complete' event.
 */
async function watchingWrites(endpoint, fn) {
  const transaction = IDBDatabase.prototype.transaction;
  const writes = [];
  IDBDatabase.prototype.transaction = function (...args) {
    const tx = transaction.apply(this, args);
    if (this.name == `idcapture:${endpoint}` && args[1] == 'readwrite') {
      const entry = { completed: false };
      writes.push(entry);
      tx.addEventListener('complete', () => (entry.completed = true));
    }
    return tx;
  };
  try {
    return await fn(writes);
  } finally {
    IDBDatabase.prototype.transaction = transaction;
  }
}

/** What a queue holds, for comparing two: the upserts and the 'drop' events, ids left out. */
async function outcome(endpoint, dropped) {
  return { upserts: (await storedRecords(endpoint)).map((r) => r.upsert.attributes), dropped };
}

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

  it('replaces the newest record with an upsert that supersedes it: the same identifiers, and every attribute it has', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    await idc.identify({ email: 'a@test.com' }, { first_name: 'Jo', city: 'Boston' });
    const [first] = await storedRecords(endpoint);
    await idc.identify({ email: 'A@Test.com' }, { first_name: 'Joanna', city: 'Cambridge', zip: '02139' });
    const records = await storedRecords(endpoint);
    equal(records.length, 1, 'one record:');
    deepEqual(records[0].upsert.attributes, {
      vuid: idc.vuid, first_name: 'Joanna', city: 'Cambridge', zip: '02139', email: 'a@test.com',
    });
    assert(records[0].id > first.id, 'a new id');
    assert(records[0].at >= first.at, 'the capture time of the upsert that replaced it');
  });

  // Merged, Boston would be sent with the time of the zip's capture, as new as the zip: it could then undo a newer
  // city written from another device.
  it('keeps an upsert that lacks an attribute of the newest record as a record of its own, with its own capture time', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    await idc.identify({ email: 'a@test.com' }, { first_name: 'Jo', city: 'Boston' });
    await idc.identify({ email: 'a@test.com' }, { zip: '02101' });
    const records = await storedRecords(endpoint);
    deepEqual(
      records.map((r) => r.upsert.attributes),
      [
        { vuid: idc.vuid, first_name: 'Jo', city: 'Boston', email: 'a@test.com' },
        { vuid: idc.vuid, zip: '02101', email: 'a@test.com' },
      ],
    );
    assert(records[1].at >= records[0].at, 'each its own capture time');
  });

  it('never replaces a record with different identifiers, nor one that is not the newest', async () => {
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

describe('adds made together', () => {
  it('share one transaction, and each resolves only once it has completed and a second connection reads the record', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    const sent = Array.from({ length: 25 }, (_, i) => `burst${i}@test.com`);
    await watchingWrites(endpoint, async (writes) => {
      await Promise.all(
        sent.map((email) =>
          idc.identify({ email }).then(async () => {
            assert(writes.length && writes.every((w) => w.completed), `${email} resolved before its transaction completed`);
            assert(emails(await storedRecords(endpoint)).includes(email), `${email} resolved but is not stored`);
          }),
        ),
      );
      equal(writes.length, 1, 'readwrite transactions:');
    });
    deepEqual(emails(await storedRecords(endpoint)), sent);
  });

  it('one after another, each resolves once its own transaction has completed', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    await watchingWrites(endpoint, async (writes) => {
      for (let i = 0; i < 3; i++) {
        await idc.identify({ email: `one${i}@test.com` });
        equal(writes.length, i + 1, 'readwrite transactions:');
        assert(writes[i].completed, `add ${i} resolved before its transaction completed`);
      }
    });
  });

  it('from two clients of one queue (as two tabs), keep ids unique and growing and each client in its own order', async () => {
    const endpoint = uniqueEndpoint();
    const [a, b] = [createIdCapture({ endpoint }), createIdCapture({ endpoint })];
    const burst = (idc, name, from) => Array.from({ length: 10 }, (_, i) => idc.identify({ email: `${name}${from + i}@test.com` }));
    await Promise.all([...burst(a, 'a', 0), ...burst(b, 'b', 0)]);
    const first = await storedRecords(endpoint);
    await Promise.all([...burst(b, 'b', 10), ...burst(a, 'a', 10)]);
    const records = await storedRecords(endpoint);
    equal(records.length, 40, 'records:');
    const ids = records.map((r) => r.id);
    assert(ids.every((id, i) => i == 0 || id > ids[i - 1]), `ids unique and growing: ${ids}`);
    const newest = Math.max(...first.map((r) => r.id));
    assert(records.slice(20).every((r) => r.id > newest), 'the second bursts come after the first');
    equal(await get('seq', createStore(`idcapture:${endpoint}`, 'queue')), ids[39], 'the id counter:');
    for (const name of ['a', 'b']) {
      const own = emails(records).filter((e) => e.startsWith(name));
      deepEqual(own, Array.from({ length: 20 }, (_, i) => `${name}${i}@test.com`), `client ${name} in order:`);
    }
  });

  it('replace and keep at most maxQueueSize exactly as the same adds awaited one by one', async () => {
    // The batch replaces the record stored before it, pushes out records stored before it and one of its own.
    const calls = [
      [{ email: 'x2@test.com' }, { first_name: 'X', city: 'Paris' }],
      [{ email: 'y@test.com' }, { first_name: 'Y' }],
      [{ email: 'z@test.com' }],
      [{ email: 'w@test.com' }],
    ];
    const run = async (together) => {
      const endpoint = uniqueEndpoint();
      const idc = createIdCapture({ endpoint, maxQueueSize: 3 });
      const dropped = [];
      idc.on('drop', ({ upsert, reason }) => dropped.push([upsert.attributes, reason]));
      await idc.identify({ email: 'x1@test.com' });
      await idc.identify({ email: 'x2@test.com' }, { first_name: 'X' });
      if (together) await Promise.all(calls.map((args) => idc.identify(...args)));
      else for (const args of calls) await idc.identify(...args);
      return outcome(endpoint, dropped);
    };
    const [batched, oneByOne] = [await run(true), await run(false)];
    deepEqual(batched, oneByOne, 'together vs one by one:');
    deepEqual(batched.upserts.map((attributes) => attributes.email), ['y@test.com', 'z@test.com', 'w@test.com']);
    deepEqual(
      batched.dropped.map(([attributes]) => attributes.email),
      ['x1@test.com', 'x2@test.com'],
      'pushed out, oldest first:',
    );
    equal(batched.dropped[1][0].city, 'Paris', 'the record that replaced it is the one pushed out:');
  });

  it('within the batch, replace the record before only when they supersede it', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    await Promise.all([
      idc.identify({ email: 'm@test.com' }, { first_name: 'Jo', city: 'Boston' }),
      idc.identify({ email: 'm@test.com' }, { first_name: 'Joanna', city: 'Boston' }),
      idc.identify({ email: 'm@test.com' }, { zip: '02101' }),
      idc.identify({ email: 'm@test.com' }, { zip: '02102' }),
      idc.identify({ email: 'n@test.com' }),
    ]);
    const records = await storedRecords(endpoint);
    deepEqual(
      records.map((r) => r.upsert.attributes),
      [
        { vuid: idc.vuid, first_name: 'Joanna', city: 'Boston', email: 'm@test.com' },
        { vuid: idc.vuid, zip: '02102', email: 'm@test.com' },
        { vuid: idc.vuid, email: 'n@test.com' },
      ],
    );
  });

  it('made just before consent is denied are purged with the rest', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint });
    const burst = Array.from({ length: 10 }, (_, i) => idc.identify({ email: `gone${i}@test.com` }));
    idc.setConsent('denied');
    await Promise.all(burst);
    idc.setConsent('granted');
    // Operations wait for a purge under way, so once this is stored the purge has run.
    await idc.identify({ email: 'after@test.com' });
    deepEqual(emails(await storedRecords(endpoint)), ['after@test.com']);
    // 'pending' keeps no choice for the next pages.
    idc.setConsent('pending');
  });
});

describe('consent', () => {
  // setConsent() remembers the choice for the next pages, and a remembered choice wins over the option.
  afterEach(() => localStorage.clear());
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

  it('takes a burst in memory too: in order, replaced and kept within maxQueueSize', async () => {
    const original = Object.getOwnPropertyDescriptor(window, 'indexedDB');
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
    try {
      const queued = [];
      const dropped = [];
      let pending;
      await capturingConsole('warn', async () => {
        // Not held: its flush gets a 503 at once and reports what the memory queue still holds.
        const idc = createIdCapture({ endpoint: `/unavailable/${Math.random().toString(36).slice(2)}`, maxQueueSize: 3 });
        idc.on('queued', ({ upsert }) => queued.push(upsert.attributes.email));
        idc.on('drop', ({ upsert }) => dropped.push(upsert.attributes.email));
        const sent = ['a', 'a', 'b', 'c', 'd'].map((name) => `${name}@test.com`);
        await Promise.all(sent.map((email) => idc.identify({ email })));
        pending = (await idc.flush()).pending;
      });
      deepEqual(queued, ['a@test.com', 'a@test.com', 'b@test.com', 'c@test.com', 'd@test.com']);
      deepEqual(dropped, ['a@test.com'], 'the second a, which replaced the first, pushed out by d:');
      equal(pending, 3, 'held in memory:');
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
