// DESIGN.md section 1: the proxy's handler and the emulator's Fetch handler use Web-standard APIs only, so an edge
// runtime's bundler takes them as they are; only their Node adapters and the emulator's CLI touch node:. Shown by
// bundling each export for the browser platform and listing the Node built-ins the bundle still imports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dist, nodeImportsOf } from './helpers/bundle.js';

test('createProxy bundles for the browser platform with no node: import', async () => {
  assert.deepEqual(await nodeImportsOf(`export { createProxy } from '${dist('proxy.js')}';`), []);
});

test('createServerClient and signIdentity bundle for the browser platform with no node: import', async () => {
  assert.deepEqual(await nodeImportsOf(`export { createServerClient, signIdentity } from '${dist('server.js')}';`), []);
});

test("createEmulator's Fetch handler bundles for the browser platform with no node: import", async () => {
  assert.deepEqual(await nodeImportsOf(`export { createEmulator } from '${dist('emulator.js')}';`), []);
});

test('the Node adapters are where node:http is, so the check above can see it', async () => {
  assert.deepEqual(await nodeImportsOf(`export { startEmulator } from '${dist('emulator.js')}';`), ['node:http']);
  assert.deepEqual(await nodeImportsOf(`export { createNodeServer } from '${dist('proxy-node.js')}';`), ['node:http']);
});
