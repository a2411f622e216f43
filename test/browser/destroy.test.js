// destroy(), as README says: timers and listeners stop, later calls fail, the queue stays for the next page.
import { createIdCapture, IdCaptureError } from '../../dist/index.js';
import { assert, deepEqual, equal, rejects } from './assert.js';
import { storedRecords, uniqueEndpoint } from './helpers.js';

/** Runs `call` and returns what it threw (undefined if nothing). */
const thrown = (call) => {
  try {
    call();
  } catch (error) {
    return error;
  }
};

describe('destroy()', () => {
  it('makes identify() and flush() reject with an IdCaptureError, never throwing synchronously', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint, autocapture: false });
    idc.destroy();
    for (const call of [() => idc.identify({ email: 'late@test.com' }), () => idc.flush()]) {
      const result = call();
      assert(result instanceof Promise, 'a promise, not a throw');
      const error = await rejects(result, IdCaptureError);
      equal(error.message, 'idcapture: client destroyed');
    }
    deepEqual(await storedRecords(endpoint), [], 'nothing queued');
  });

  for (const [method, call] of [
    ['setConsent', (idc) => idc.setConsent('denied')],
    ['setIdentityToken', (idc) => idc.setIdentityToken(null)],
    ['reset', (idc) => idc.reset()],
    ['on', (idc) => idc.on('sent', () => {})],
  ]) {
    it(`makes ${method}() throw an IdCaptureError and change nothing`, async () => {
      localStorage.clear();
      const idc = createIdCapture({ endpoint: uniqueEndpoint(), autocapture: false });
      const vuid = idc.vuid;
      idc.destroy();
      const error = thrown(() => call(idc));
      assert(error instanceof IdCaptureError, `${method}: ${error}`);
      equal(error.message, 'idcapture: client destroyed');
      equal(idc.vuid, vuid, 'the same visitor:');
      // No consent choice was remembered: the next page starts as its option says, holding what it is given.
      const next = createIdCapture({ endpoint: uniqueEndpoint(), autocapture: false, consent: 'pending' });
      await next.identify({ email: 'next-page@test.com' });
      deepEqual(await next.flush(), { sent: 0, pending: 1, dropped: 0 }, 'no consent choice stored:');
      next.destroy();
    });
  }

  it('keeps the vuid readable, and a second destroy() does nothing', () => {
    const idc = createIdCapture({ endpoint: uniqueEndpoint(), autocapture: false });
    const vuid = idc.vuid;
    idc.destroy();
    equal(thrown(() => idc.destroy()), undefined);
    equal(idc.vuid, vuid);
  });

  it('leaves the queue for the next page', async () => {
    const endpoint = uniqueEndpoint();
    const idc = createIdCapture({ endpoint, autocapture: false });
    await idc.identify({ email: 'kept@test.com' });
    idc.destroy();
    deepEqual((await storedRecords(endpoint)).map((r) => r.upsert.attributes.email), ['kept@test.com']);
  });
});
