// docs/recipes.md's Next.js (App Router) recipe, built and served as a new user would: the package packed and installed
// from the tarball into a scratch App Router app that holds the page's app/api/profiles/route.ts and
// app/idcapture-provider.ts as the page shows them (read from the page), a real `next build` with no network at all
// (its own network namespace: Turbopack's native binary from @next/swc-linux-x64-gnu, no font or SWC download, no
// telemetry), then `next start` on loopback. A two-record batch to /api/profiles reaches the emulator this file starts,
// the client IP is the `x-real-ip` header the route names, and in Chromium the provider's client delivers a form's email.
// Needs `npm run build` first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { startEmulator } from '../../dist/emulator.js';
import { launchBrowser } from '../helpers/browser.js';
import { allBlocks } from './docs-examples.js';
import { freePort, installPacked, modules, offlineNamespace, root, startCommand, writeFiles } from './helpers/scratch-app.js';

const API_KEY = 'example.apiKey';
const next = join(modules, 'next/dist/bin/next');
const nextVersion = JSON.parse(readFileSync(join(modules, 'next/package.json'), 'utf8')).version;

/** The page's block that starts with `// <path>`. */
function shown(path) {
  const block = allBlocks().find((b) => b.page == 'docs/recipes.md' && b.code.startsWith(`// ${path}\n`));
  assert.ok(block, `docs/recipes.md shows ${path}`);
  return block.code;
}

/** The parts of the app the page does not show: the root layout that renders the provider, and a sign-up page. */
const APP = {
  'app/layout.tsx': `import type { ReactNode } from 'react';
import { IdCaptureProvider } from './idcapture-provider';

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <IdCaptureProvider>{children}</IdCaptureProvider>
      </body>
    </html>
  );
}
`,
  'app/page.tsx': `export default function Home() {
  return (
    <form>
      <label>
        Email <input type="email" name="email" />
      </label>
      <button type="button">Sign up</button>
    </form>
  );
}
`,
};

/** The common folder of two paths. */
function commonFolder(a, b) {
  const [x, y] = [a.split(sep), b.split(sep)];
  let i = 0;
  while (i < x.length && x[i] == y[i]) i++;
  return x.slice(0, i).join(sep) || sep;
}

let emulator, dir, server, origin, build;
before(
  async () => {
    emulator = await startEmulator({ rateLimit: false });
    // Inside the repository (git-ignored), so next, react and react-dom resolve from its node_modules as an app's do.
    dir = join(root, 'test-results', `next-recipe-${process.pid}`);
    await installPacked(dir);
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    const route = shown('app/api/profiles/route.ts');
    // The emulator instead of the API; the page's origin among the allowed ones; a per-IP budget of two records, so a
    // test can tell which address the route gave the proxy.
    const routeHere = route
      .replace('  serverCookie: true,', `  upstream: '${emulator.url}',\n  rateLimit: { ip: { limit: 2, period: 60 } },\n  serverCookie: true,`)
      .replace("'http://localhost:3000'", `'http://localhost:3000', '${origin}'`);
    assert.equal(routeHere.split('\n').length, route.split('\n').length + 2, 'the route has serverCookie: true');
    assert.ok(routeHere.includes(`'${origin}'`), 'the route lists http://localhost:3000');
    const files = { ...APP, 'app/api/profiles/route.ts': routeHere, 'app/idcapture-provider.ts': shown('app/idcapture-provider.ts') };
    // Turbopack compiles nothing outside its root, the folder of the nearest lockfile: the repository. Where the
    // repository's node_modules is a link to another clone's (a git worktree), the root must hold both.
    const workspace = commonFolder(root, realpathSync(modules));
    if (workspace != root.replace(/\/$/, '')) files['next.config.mjs'] = `export default { turbopack: { root: '${workspace}' }, outputFileTracingRoot: '${workspace}' };\n`;
    await writeFiles(dir, files);

    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' };
    // `next build` loads the route to read its configuration, so createProxy runs there too and needs a key: a
    // placeholder the emulator does not accept, so a stored profile shows `next start` read the real one.
    const offline = await offlineNamespace();
    const [command, ...args] = [...(offline ?? []), process.execPath, next, 'build'];
    const started = Date.now();
    const output = await startCommand(command, args, { cwd: dir, env: { ...env, ZAIUS_API_KEY: 'build.placeholder' }, timeoutMs: 300_000 }).done;
    build = { output, seconds: (Date.now() - started) / 1000, offline: !!offline };
    server = startCommand(process.execPath, [next, 'start', '--hostname', '127.0.0.1', '--port', String(port)], {
      cwd: dir,
      env: { ...env, ZAIUS_API_KEY: API_KEY },
      ready: /Ready in/,
      timeoutMs: 60_000,
    });
    await server.done;
  },
  { timeout: 420_000 },
);
after(async () => {
  await server?.stop();
  await emulator?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const post = (ip, emails) =>
  fetch(`${origin}/api/profiles`, {
    method: 'POST',
    headers: { origin: 'https://shop.example', 'content-type': 'application/json', ...(ip && { 'x-real-ip': ip }) },
    body: JSON.stringify(emails.map((email) => ({ attributes: { email } }))),
  });
const stored = (email) => fetch(`${emulator.url}/profiles?email=${email}`, { headers: { 'x-api-key': API_KEY } });

test(`next build (Next ${nextVersion}, Turbopack) type-checks and builds the app with no network, the route dynamic`, (t) => {
  t.diagnostic(`next build took ${build.seconds} s${build.offline ? ', in a network namespace of its own' : ' (no network namespace here: unshare failed)'}`);
  assert.match(build.output, /Turbopack/);
  assert.match(build.output, /Running TypeScript/, 'the route and the provider are type-checked against Next and React');
  assert.match(build.output, /ƒ \/api\/profiles/, 'the route is served on demand');
});

test("a two-record batch to the route is accepted and reaches the emulator, with the key next start's environment gives", async () => {
  const response = await post('198.51.100.1', ['next-1@test.com', 'next-2@test.com']);
  assert.equal(response.status, 202, `${await response.text()}\n${server.output()}`);
  assert.equal(response.headers.get('access-control-allow-origin'), 'https://shop.example');
  for (const email of ['next-1@test.com', 'next-2@test.com']) assert.equal((await stored(email)).status, 200, email);
});

test('the client IP is the x-real-ip header, as the route says: one address spent its budget, another has its own', async () => {
  assert.equal((await post('198.51.100.2', ['ip-1@test.com', 'ip-2@test.com'])).status, 202);
  assert.equal((await post('198.51.100.2', ['ip-3@test.com'])).status, 429, 'the same address: its two records are spent');
  assert.equal((await post('198.51.100.3', ['ip-4@test.com'])).status, 202, 'another address');
});

test("in Chromium, the provider's client (created in its effect) sends an email typed in a form through the route", async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/`);
    // The client exists once the provider's effect has run: its vuid cookie is set.
    await page.waitForFunction(() => document.cookie.includes('vuid='), null, { timeout: 15_000 });
    const delivered = page.waitForResponse((r) => r.url() == `${origin}/api/profiles` && r.request().method() == 'POST', { timeout: 15_000 });
    // Auto-capture sends an email field's value once it changes (the field loses focus).
    await page.fill('input[name=email]', 'next-page@test.com');
    await page.press('input[name=email]', 'Tab');
    assert.equal((await delivered).status(), 202, server.output());
    assert.equal((await stored('next-page@test.com')).status, 200);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
