// docs/recipes.md's Cloudflare Workers recipe, run as a new user would: the package packed and installed from the
// tarball into a scratch Worker project holding docs/edge.md's worker.ts and wrangler.toml (read from the page), served
// by `wrangler dev --local` on loopback (no login, no metrics, no Request.cf download), with the secrets in .dev.vars.
// The tag is served first-party, and a two-record batch goes through the Worker and its ProfileWriter Durable Object
// to the emulator this file starts. Needs `npm run build` first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator } from '../../dist/emulator.js';
import { allBlocks } from './docs-examples.js';
import { freePort, installPacked, modules, startCommand, writeFiles } from './helpers/scratch-app.js';

const API_KEY = 'example.apiKey';
const wrangler = join(modules, 'wrangler/bin/wrangler.js');
const wranglerVersion = JSON.parse(readFileSync(join(modules, 'wrangler/package.json'), 'utf8')).version;
const ORIGIN = 'https://shop.example.com';

let emulator, dir, dev, url, startSeconds;
before(
  async () => {
    emulator = await startEmulator({ rateLimit: false });
    dir = await mkdtemp(join(tmpdir(), 'idcapture-wrangler-'));
    await installPacked(dir);
    const blocks = allBlocks().filter((b) => b.page == 'docs/edge.md');
    const worker = blocks.find((b) => b.markers.includes('typecheck: worker')).code;
    const config = blocks.find((b) => b.lang == 'toml').code;
    // The emulator instead of the API.
    const workerHere = worker.replace('  apiKey: env.ZAIUS_API_KEY,', `  apiKey: env.ZAIUS_API_KEY,\n  upstream: '${emulator.url}',`);
    assert.notEqual(workerHere, worker, "the page's Worker sets apiKey: env.ZAIUS_API_KEY");
    assert.match(config, /^main = "src\/worker.ts"$/m);
    await writeFiles(dir, {
      'src/worker.ts': workerHere,
      'wrangler.toml': config,
      // What `wrangler secret put` gives the deployed Worker, wrangler dev reads from .dev.vars.
      '.dev.vars': `ZAIUS_API_KEY=${API_KEY}\nIDENTITY_SECRET=test-identity-secret-0123456789abcdef\n`,
    });
    const [port, inspectorPort] = [await freePort(), await freePort()];
    const env = { ...process.env };
    for (const name of Object.keys(env)) if (/^(CLOUDFLARE_|CF_|WRANGLER_)/.test(name)) delete env[name];
    Object.assign(env, {
      // wrangler's config, logs and login (none) stay in the scratch project.
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, '.config'),
      WRANGLER_SEND_METRICS: 'false',
      // No banner, so no update check against the registry.
      WRANGLER_HIDE_BANNER: 'true',
      // Miniflare's Request.cf object: its placeholder, not a download from workers.cloudflare.com.
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    });
    const started = Date.now();
    dev = startCommand(
      process.execPath,
      [wrangler, 'dev', '--local', '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort), '--show-interactive-dev-session=false'],
      { cwd: dir, env, ready: /Ready on (http:\/\/\S+)/, timeoutMs: 120_000 },
    );
    [, url] = await dev.done;
    startSeconds = (Date.now() - started) / 1000;
  },
  { timeout: 180_000 },
);
after(async () => {
  await dev?.stop();
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test(`wrangler dev (${wranglerVersion}) serves the tag from the tarball, first-party`, async (t) => {
  t.diagnostic(`wrangler dev was ready in ${startSeconds} s`);
  const response = await fetch(`${url}/idcapture.js`);
  assert.equal(response.status, 200, dev.output());
  assert.equal(response.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const tag = await readFile(join(dir, 'node_modules/idcapture/dist/idcapture.js'), 'utf8');
  assert.equal(await response.text(), tag);
});

test('a two-record batch through the Worker and its Durable Object reaches the emulator', async () => {
  const response = await fetch(`${url}/api/profiles`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/json', 'cf-connecting-ip': '198.51.100.1' },
    body: JSON.stringify([{ attributes: { email: 'worker-1@test.com' } }, { attributes: { email: 'worker-2@test.com' } }]),
  });
  assert.equal(response.status, 202, `${await response.text()}\n${dev.output()}`);
  for (const email of ['worker-1@test.com', 'worker-2@test.com']) {
    const stored = await fetch(`${emulator.url}/profiles?email=${email}`, { headers: { 'x-api-key': API_KEY } });
    assert.equal(stored.status, 200, email);
  }
  assert.match(dev.output(), /env\.PROFILE_WRITER \(ProfileWriter\)\s+Durable Object\s+local/);
});

test("a page on wrangler dev's own address is another origin: refused until allowedOrigins lists it", async () => {
  const response = await fetch(`${url}/api/profiles`, {
    method: 'POST',
    headers: { origin: url, 'content-type': 'application/json' },
    body: JSON.stringify([{ attributes: { email: 'worker-3@test.com' } }]),
  });
  assert.equal(response.status, 403);
});
