// The storage limits Safari users meet, in every engine (WebKit's results are the ones these exist for):
// - private browsing and WebKit's ephemeral sessions (the ones WebDriver opens, too) open IndexedDB but fail writes:
//   a value the engine cannot store throws at once (WPE: "BlobURLs are not yet supported"), or the transaction aborts
//   later with no error at all (WebKitGTK: "Error preparing Blob/File data", transaction.error null);
// - ITP caps a cookie set by script at 7 days, while the site's own server can set one that lasts.
// The failures are the engine's own: a write given a value it cannot clone, or a transaction aborted after the write.
import { createIdCapture } from '../../dist/index.js';
import { assert, deepEqual, equal } from './assert.js';
import { capturingConsole, clearIdentity, cookieValue, holdQueue, storedRecords } from './helpers.js';

const json = async (path) => (await fetch(path)).json();
const api = (await json('/__backend/api')).url;
const profileOf = async (email) => (await json('/__emulator/profiles')).find((p) => p.email === email);

/**
 * Makes every IndexedDB write of this page fail as private browsing does, until the returned function is called:
 * `'throws'` hands the engine a value it cannot clone (a DataCloneError at once); `'aborts'` lets the write start,
 * then aborts its transaction, which fails with a null error as WebKit's does.
 */
function failingWrites(how) {
  const proto = IDBObjectStore.prototype;
  const originals = { add: proto.add, put: proto.put };
  for (const [name, write] of Object.entries(originals)) {
    proto[name] = function (value, key) {
      if (how == 'throws') return write.call(this, { value, unclonable: () => {} }, key);
      const request = write.call(this, value, key);
      this.transaction.abort();
      return request;
    };
  }
  return () => Object.assign(proto, originals);
}

describe('Safari storage limits', () => {
  for (const how of ['throws', 'aborts']) {
    it(`IndexedDB opens but every write ${how == 'throws' ? 'throws' : 'aborts'}: memory with one warning, nothing lost, all delivered`, async () => {
      const endpoint = `${api}/api/profiles?run=${Math.random().toString(36).slice(2)}`;
      const emails = [1, 2, 3].map((i) => `private-${how}-${i}-${Date.now()}@test.com`);
      const restore = failingWrites(how);
      let idc;
      const errors = [];
      try {
        const warnings = await capturingConsole('warn', async () => {
          idc = createIdCapture({ endpoint });
          idc.on('error', ({ error }) => errors.push(error));
          for (const email of emails) await idc.identify({ email });
        });
        equal(warnings.length, 1, 'warned once:');
        equal(errors.length, 1, 'one error event:');
        assert(errors[0] instanceof Error, `the error event carries an Error, not ${errors[0]}`);
      } finally {
        restore();
      }
      equal((await storedRecords(endpoint)).length, 0, 'nothing reached IndexedDB:');
      deepEqual(await idc.flush(), { sent: 3, pending: 0, dropped: 0 });
      for (const email of emails) assert(await profileOf(email), `${email} delivered`);
      idc.destroy();
    });
  }

  it('a write that aborts with no error once records are stored: an Error is reported, the records stay queued', async () => {
    // Delivered, the record is deleted: a write awaited on its transaction alone, made to abort here with a null
    // error in every engine, as WebKit's failed Blob writes do. Held until then, so no scheduled flush goes first.
    const endpoint = `${api}/api/profiles?queue=${Math.random().toString(36).slice(2)}`;
    const release = await holdQueue(endpoint);
    const idc = createIdCapture({ endpoint });
    const errors = [];
    idc.on('error', ({ error }) => errors.push(error));
    await idc.identify({ email: 'kept@test.com' });
    const { delete: remove } = IDBObjectStore.prototype;
    IDBObjectStore.prototype.delete = function (key) {
      const request = remove.call(this, key);
      this.transaction.abort();
      return request;
    };
    try {
      release();
      const warnings = await capturingConsole('warn', () => idc.flush());
      equal(warnings.length, 1, 'warned once:');
    } finally {
      IDBObjectStore.prototype.delete = remove;
    }
    assert(errors[0] instanceof Error, `the error event carries an Error, not ${errors[0]}`);
    deepEqual((await storedRecords(endpoint)).map((r) => r.upsert.attributes.email), ['kept@test.com']);
    idc.destroy();
  });

  describe('the vuid cookie', () => {
    beforeEach(() => clearIdentity());

    it('survives the 7-day cap on script-set cookies through its localStorage mirror, and is written again', () => {
      const first = createIdCapture({ endpoint: `/unavailable/${Math.random()}`, cookie: { maxAgeDays: 365 } }).vuid;
      const stored = localStorage.getItem('vuid');
      // What Safari does to it after 7 days: the cookie is gone, the mirror is not.
      document.cookie = 'vuid=; Path=/; Max-Age=0';
      equal(cookieValue('vuid'), undefined);
      equal(createIdCapture({ endpoint: `/unavailable/${Math.random()}` }).vuid, first);
      equal(decodeURIComponent(cookieValue('vuid')), stored, 'the cookie is back, with the same value:');
    });

    it('leaves a vuid cookie it can read as it is, so one the site\'s server set keeps its lifetime', () => {
      // As a server would send it: a year, not capped by ITP because no script wrote it.
      const zaius = '0f4e6a48-25a8-4c3b-9a3e-0d3c5d7e8f90|1700000000000';
      document.cookie = `vuid=${encodeURIComponent(zaius)}; Path=/; Max-Age=31536000`;
      const writes = [];
      const setter = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
      Object.defineProperty(document, 'cookie', {
        configurable: true,
        get: () => setter.get.call(document),
        set: (value) => (writes.push(value), setter.set.call(document, value)),
      });
      try {
        equal(createIdCapture({ endpoint: `/unavailable/${Math.random()}` }).vuid, zaius.split('|')[0].replace(/-/g, ''));
        deepEqual(writes, [], 'no cookie written over it:');
        equal(localStorage.getItem('vuid'), zaius, 'mirrored:');
      } finally {
        delete document.cookie;
      }
    });
  });
});
