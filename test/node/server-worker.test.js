// idcapture/server on the edge: a Worker using it (bundled with ky) runs in workerd through Miniflare, against the
// emulator on loopback, retries included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import { Miniflare } from 'miniflare';
import { startEmulator } from '../../dist/emulator.js';

let emulator, mf;
before(async () => {
  emulator = await startEmulator({ port: 0 });
  const bundle = await rollup({ input: new URL('./helpers/server-worker.js', import.meta.url).pathname, plugins: [resolve({ browser: true })] });
  const { output } = await bundle.generate({ format: 'es' });
  mf = new Miniflare({
    modules: true,
    script: output[0].code,
    compatibilityDate: '2026-04-01',
    bindings: { ZAIUS_API_KEY: 'example.apiKey', UPSTREAM: emulator.url },
  });
});
after(async () => {
  await mf?.dispose();
  await emulator?.close();
});

test('in workerd, the server client upserts (through injected 503s), reports invalids and reads profiles', async () => {
  emulator.emulator.setFaults({ errorRate: 0.5, seed: 2 });
  const answer = await (await mf.dispatchFetch('http://worker.test/')).json();
  assert.equal(answer.upserted.accepted, 1);
  assert.deepEqual(answer.upserted.invalids.map((i) => [i.index, i.field]), [[1, 'email']]);
  assert.equal(answer.profile.email, 'edge@test.com');
  assert.equal(answer.profile.first_name, 'Edge');
  assert.equal(answer.missing, null);
  assert.equal(answer.invalid, 'first_name');
  const { requests } = emulator.emulator.stats();
  assert.ok((requests[500] ?? 0) + (requests[503] ?? 0) > 0, `faults were injected: ${JSON.stringify(requests)}`);
});
