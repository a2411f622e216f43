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

// Issue 24: ioredis is an optional peer dependency that only idcapture/proxy loads, by a name no bundler follows, and
// only for a `shared.redis` URL. The edge (a Worker) and the browser files hold no import of it at all, nor the
// dynamic import by name (workerd refuses a bundle with one: the tag's own import of a consent file is a string inside
// the embedded tag, not the Worker's code).
test('ioredis and the dynamic import that loads it are in dist/proxy.js only, never in the edge, the Worker or a browser file', async () => {
  const { readFileSync, readdirSync } = await import('node:fs');
  const read = (path) => readFileSync(dist(path), 'utf8');
  const files = ['edge.js', 'edge/worker.js', 'idcapture.js', 'idcapture.debug.js', 'index.js', 'index.production.js', 'server.js', ...readdirSync(dist('chunks')).map((f) => `chunks/${f}`)];
  for (const file of files) {
    assert.doesNotMatch(read(file), /ioredis|\bimport\(name\)/, file);
  }
  assert.match(read('proxy.js'), /const name = 'ioredis';\s*\n?\s*let Redis;\s*\n?\s*try \{\s*\n?\s*Redis = \(await import\(name\)\)/);
});
