// Server-side rendering: a framework imports the client in Node and may call it there. Importing must be safe, and a
// call must fail with a clear IdCaptureError (after the options are checked), not a ReferenceError.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('importing the client in Node is safe; createIdCapture there checks the options, then says to create the client in the browser', async () => {
  const { createIdCapture, IdCaptureError } = await import('../../dist/index.js');
  assert.throws(() => createIdCapture({}), { name: 'TypeError', message: /endpoint/ });
  assert.throws(() => createIdCapture({ endpoint: '/api/profiles', batchSize: 0 }), { name: 'RangeError', message: /batchSize/ });
  assert.throws(
    () => createIdCapture({ endpoint: '/api/profiles' }),
    (error) => error instanceof IdCaptureError && error.name == 'IdCaptureError' && /create the client in the browser/.test(error.message) && /server-side rendering/.test(error.message),
  );
});
