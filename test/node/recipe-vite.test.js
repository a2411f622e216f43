// docs/recipes.md's React + Vite recipe, run: the page's vite.config.ts (read from the page) serves a real Vite dev
// server whose `server.proxy` passes /api/profiles to a Node proxy in front of the emulator. The browser's Origin goes
// through unchanged, so the dev server's origin must be in allowedOrigins, and a refused origin is named in the log.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { createServer as createVite } from 'vite';
import { createProxy } from '../../dist/proxy.js';
import { createNodeServer } from '../../dist/proxy-node.js';
import { startEmulator } from '../../dist/emulator.js';
import { allBlocks, root } from './docs-examples.js';

const logs = [];
let emulator, proxyServer, vite, viteOrigin, dir;

async function freePort() {
  const server = createNetServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

before(async () => {
  emulator = await startEmulator({ rateLimit: false });
  const vitePort = await freePort();
  viteOrigin = `http://127.0.0.1:${vitePort}`;
  const handle = createProxy({ apiKey: 'example.apiKey', upstream: emulator.url, allowedOrigins: [viteOrigin], log: (entry) => logs.push(entry) });
  proxyServer = createNodeServer(handle).listen(0, '127.0.0.1');
  await once(proxyServer, 'listening');
  const config = allBlocks().find((b) => b.page == 'docs/recipes.md' && b.code.startsWith('// vite.config.ts'));
  assert.ok(config, 'docs/recipes.md shows a vite.config.ts');
  const code = config.code.replace('http://127.0.0.1:8788', `http://127.0.0.1:${proxyServer.address().port}`);
  assert.notEqual(code, config.code, 'the config proxies to the Node proxy of the docs, on 8788');
  // Inside the repository (git-ignored), so the config's `import 'vite'` resolves as in an app.
  dir = join(root, 'test-results', `vite-recipe-${process.pid}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'vite.config.ts'), code);
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>app</title>');
  vite = await createVite({ root: dir, configFile: join(dir, 'vite.config.ts'), logLevel: 'silent', server: { host: '127.0.0.1', port: vitePort, strictPort: true, hmr: false } });
  await vite.listen();
});
after(async () => {
  await vite?.close();
  proxyServer?.close();
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = (origin, email) =>
  fetch(`${viteOrigin}/api/profiles`, {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify([{ attributes: { email } }]),
  });

test("a page on the dev server posts to its own origin; Vite's proxy passes it, Origin and all, and the profile is stored", async () => {
  assert.equal((await fetch(`${viteOrigin}/`)).status, 200, 'the dev server serves the app');
  const response = await post(viteOrigin, 'vite@test.com');
  assert.equal(response.status, 202, await response.text());
  const stored = await fetch(`${emulator.url}/profiles?email=vite@test.com`, { headers: { 'x-api-key': 'example.apiKey' } });
  assert.equal(stored.status, 200);
});

test('an origin the proxy does not list is refused through the dev server too, and the log entry names it', async () => {
  logs.length = 0;
  const response = await post('http://localhost:5173', 'other@test.com');
  assert.equal(response.status, 403);
  assert.deepEqual([logs.at(-1).reason, logs.at(-1).origin], ['origin_not_allowed', 'http://localhost:5173']);
});
