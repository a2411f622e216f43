// The package as a new user gets it: `npm pack` of the build, installed from the tarball into a scratch project in a
// temp dir, then type-checked under each module resolution a TypeScript app may use. Needs `npm run build` first.
// Offline: the dependencies come from this repository's node_modules, linked in by `npm install --offline`, with
// --ignore-scripts: npm 11 runs a folder dependency's `prepare` (ky's rebuilds itself with tools it does not ship).
// Every export path with types is checked, so a new entry (its `input` in rollup.config.mjs, its `exports` line) is
// covered without editing this file.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const modules = join(root, 'node_modules');
const tsc = join(modules, 'typescript/bin/tsc');
const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

/** The package's own dependencies and Node's types, taken from this repository: the registry is not needed. */
const dependencies = [...Object.keys(manifest.dependencies ?? {}), '@types/node'];

let dir;
let packed;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idcapture-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir, root], { cwd: dir });
  [packed] = JSON.parse(stdout);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  // --ignore-scripts: a dependency installed from a folder would run its own `prepare` build (ky's needs its dev tools).
  await run(
    'npm',
    ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', packed.filename, ...dependencies.map((name) => join(modules, name))],
    { cwd: dir },
  );
});
const children = [];
after(async () => {
  for (const child of children) child.kill();
  await Promise.all(children.map((child) => child.exitCode ?? once(child, 'exit')));
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts `node args` in the scratch project (with `extraEnv`); resolves the first stdout line that matches `ready`. */
async function start(args, ready, extraEnv = {}) {
  const env = { ...process.env };
  delete env.ZAIUS_API_KEY;
  Object.assign(env, extraEnv);
  const child = spawn(process.execPath, args, { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stderr.on('data', (chunk) => (out += chunk));
  for await (const chunk of child.stdout) {
    out += chunk;
    const match = ready.exec(out);
    if (match) return match;
  }
  throw new Error(`${args.join(' ')} exited: ${out}`);
}

/** A TCP port free on loopback now, for an example that names a fixed one. */
async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Every export path that declares types, e.g. `idcapture/proxy`: a new entry is checked without editing this test. */
const typedExports = Object.entries(manifest.exports)
  // The script tags are side-effect imports: their declaration exports nothing.
  .filter(([, target]) => typeof target == 'object' && target.types && !target.types.endsWith('/script-tag.d.ts'))
  .map(([path]) => `${manifest.name}${path.slice(1)}`);

// Each entry's value exports must be typed, not `any`: a declaration whose own imports fail to resolve turns what it
// re-exports into `any`, silently so under skipLibCheck.
const everyEntry = typedExports
  .map(
    (specifier, i) => `import * as entry${i} from '${specifier}';
export const typed${i}: Typed<typeof entry${i}> = true;`,
  )
  .join('\n');

const consumer = `
import { createIdCapture, ValidationError, type IdCaptureOptions } from 'idcapture';
import { createProxy, type ProxyOptions } from 'idcapture/proxy';
import { toNodeListener } from 'idcapture/proxy/node';
import { startEmulator } from 'idcapture/emulator';

/** true when the module has value exports and none of them is \`any\`. */
type Typed<M> = [keyof M] extends [never] ? false : { [K in keyof M]: 0 extends 1 & M[K] ? K : never }[keyof M] extends never ? true : false;
${everyEntry}

const options: IdCaptureOptions = { endpoint: '/api/profiles', consent: 'pending' };
export const idc = createIdCapture(options);
export const field: string = new ValidationError('email', 'is not a valid email address').field;
// @ts-expect-error endpoint is a URL string
createIdCapture({ endpoint: 42 });
// @ts-expect-error consent is one of three states
export const wrong: IdCaptureOptions = { endpoint: '/x', consent: 'maybe' };

const proxyOptions: ProxyOptions = { apiKey: 'k', allowedOrigins: ['https://shop.example'] };
export const listener = toNodeListener(createProxy(proxyOptions));
// @ts-expect-error allowedOrigins is required
createProxy({ apiKey: 'k' });
export const running = startEmulator({ port: 0 });
// @ts-expect-error the port is a number
startEmulator({ port: '8787' });
`;

/** The compiler options of each resolution mode a consumer may use. */
const MODES = {
  bundler: { module: 'esnext', moduleResolution: 'bundler' },
  node16: { module: 'node16', moduleResolution: 'node16' },
  nodenext: { module: 'nodenext', moduleResolution: 'nodenext' },
};

/** Type-checks `source` in the scratch project; resolves tsc's output, or rejects with it. */
async function typeCheck(name, source, compilerOptions) {
  await writeFile(join(dir, `${name}.ts`), source);
  const config = {
    // The standard library's own files are left unchecked, to save time; the package's declarations are the point.
    compilerOptions: { target: 'es2022', lib: ['es2022', 'dom'], types: ['node'], strict: true, noEmit: true, skipDefaultLibCheck: true, ...compilerOptions },
    files: [`${name}.ts`],
  };
  await writeFile(join(dir, `${name}.tsconfig.json`), JSON.stringify(config));
  try {
    await run(process.execPath, [tsc, '-p', `${name}.tsconfig.json`], { cwd: dir });
  } catch (error) {
    throw new Error(`tsc (${name}):\n${error.stdout}${error.stderr}`);
  }
}

for (const [mode, options] of Object.entries(MODES)) {
  for (const skipLibCheck of [false, true]) {
    test(`a consumer type-checks under moduleResolution ${mode}, skipLibCheck ${skipLibCheck}, and a wrong option is an error`, async () => {
      await typeCheck(`consumer-${mode}-${skipLibCheck}`, consumer, { ...options, skipLibCheck });
    });
  }
}

test('the check fails for an entry whose exports are any', async () => {
  // The same check on a stand-in module object, so a check that could not fail would be noticed.
  const source = `type Typed<M> = [keyof M] extends [never] ? false : { [K in keyof M]: 0 extends 1 & M[K] ? K : never }[keyof M] extends never ? true : false;
const entry = { createIdCapture: JSON.parse('0') as any, VERSION: 1 };
export const typed: Typed<typeof entry> = true;
`;
  await assert.rejects(typeCheck('untyped', source, { ...MODES.nodenext, skipLibCheck: true, types: [], lib: ['es2022'] }), /TS2322/);
});

test("docs/proxy-node.md's example runs as pasted beside the emulator, on createNodeServer, and reduces an unsigned record", async () => {
  const section = await readFile(join(root, 'docs/proxy-node.md'), 'utf8');
  const example = /```js\n([\s\S]*?)```/.exec(section)[1];
  const emulatorCommand = /`npx (idcapture-emulator [^`]*)`/.exec(section)[1].split(' ');
  // Free ports instead of the fixed ones a reader uses: other suites run beside this one.
  const args = emulatorCommand.slice(1).map((arg) => (arg == '8787' ? '0' : arg));
  const [, emulatorUrl] = await start([join('node_modules/.bin', emulatorCommand[0]), ...args], /listening on (\S+)\n/);
  const port = await freePort();
  await writeFile(join(dir, 'proxy.mjs'), example.replace('http://127.0.0.1:8787/v3', emulatorUrl).replaceAll('8788', String(port)));
  const [, endpoint] = await start(['proxy.mjs'], /proxy on (\S+)\n/);

  // What the docs' examples send: an email and the customer_id identifier, a first name.
  const record = { attributes: { vuid: '0123456789abcdef0123456789abcdef', email: 'sample@test.com', customer_id: 'c-42', first_name: 'Johnny' } };
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { origin: 'http://127.0.0.1:8080', 'content-type': 'application/json' },
    body: JSON.stringify([record]),
  });
  const answer = await response.json();
  assert.equal(response.status, 202, JSON.stringify(answer));
  // The safe default: one identifier (the email) and the names; no vuid paired with it without a signed identity.
  assert.deepEqual(new Set(answer.detail.reduced), new Set(['vuid', 'customer_id']));
  const stored = await fetch(`${emulatorUrl}/profiles?email=sample@test.com`, { headers: { 'x-api-key': 'example.apiKey' } });
  assert.equal(stored.status, 200);
  const { attributes } = await stored.json();
  assert.deepEqual([attributes.first_name, attributes.customer_id, attributes.vuid], ['Johnny', undefined, undefined]);
});

test("README's five-line Node proxy runs as pasted, answers a preflight from its origin and refuses another", async () => {
  const { marked } = await import('./docs-examples.js');
  const { code } = marked('example', 'readme-node-proxy');
  // A free port instead of 8788, said on stdout so the test can find it.
  const script = code.replace('createNodeServer(handle).listen(8788);', "const server = createNodeServer(handle).listen(0, () => console.log(`port ${server.address().port}`));");
  assert.notEqual(script, code, 'the example ends with createNodeServer(handle).listen(8788)');
  await writeFile(join(dir, 'readme-proxy.mjs'), script);
  const [, port] = await start(['readme-proxy.mjs'], /port (\d+)\n/, { ZAIUS_API_KEY: 'example.apiKey' });
  const preflight = (origin) =>
    fetch(`http://127.0.0.1:${port}/api/profiles`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  const allowed = await preflight('https://shop.example');
  assert.equal(allowed.status, 204);
  assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://shop.example');
  assert.equal((await preflight('http://localhost:5173')).status, 403);
});

test("ESM-only, as docs/recipes.md says: require() works only where Node can load ES modules so, the page's dynamic import everywhere", async () => {
  const { marked } = await import('./docs-examples.js');
  await writeFile(join(dir, 'require.cjs'), "console.log(typeof require('idcapture/proxy').createProxy);");
  const required = await run(process.execPath, ['require.cjs'], { cwd: dir }).catch((error) => error);
  if (process.features.require_module) assert.equal(required.stdout, 'function\n');
  else assert.match(String(required.stderr), /ERR_REQUIRE_ESM/);
  const { code } = marked('example', 'commonjs');
  const port = await freePort();
  const script = code.replace('listen(8788)', `listen(${port}, () => console.log('ready'))`);
  assert.notEqual(script, code, 'the example listens on 8788');
  await writeFile(join(dir, 'proxy.cjs'), script);
  await start(['proxy.cjs'], /ready\n/, { ZAIUS_API_KEY: 'example.apiKey' });
  const preflight = await fetch(`http://127.0.0.1:${port}/api/profiles`, { method: 'OPTIONS', headers: { origin: 'https://shop.example' } });
  assert.equal(preflight.status, 204);
});

test('the tarball holds the license, every exported file, and neither the demo nor its types', () => {
  const files = packed.files.map((f) => f.path);
  assert.ok(files.includes('LICENSE'), 'the LICENSE that "license": "MIT" promises');
  const targets = Object.values(manifest.exports).flatMap((t) => (typeof t == 'string' ? [t] : Object.values(t)));
  for (const target of [...targets, manifest.bin['idcapture-emulator']]) {
    assert.ok(files.includes(target.replace(/^\.\//, '')), `${target} is packed`);
  }
  assert.deepEqual(files.filter((f) => /^dist\/(types\/)?(demo|edge)\//.test(f)), []);
});

test("a bundler keeps `import 'idcapture/idcapture.js'` (and the debug tag), picks the client by build mode, and the other files stay free of side effects", async () => {
  const { rollup } = await import('rollup');
  const { nodeResolve } = await import('@rollup/plugin-node-resolve');
  const bundle = async (code, exportConditions = []) => {
    // A file in the scratch project, so the package is found in its node_modules as an app's bundler would.
    await writeFile(join(dir, 'entry.js'), code);
    const build = await rollup({ input: join(dir, 'entry.js'), plugins: [nodeResolve({ browser: true, exportConditions })], onwarn: () => {} });
    const { output } = await build.generate({ format: 'es' });
    return output[0].code;
  };
  for (const file of ['idcapture.js', 'idcapture.debug.js']) {
    const tag = await bundle(`import 'idcapture/${file}';`);
    const script = await readFile(join(dir, `node_modules/idcapture/dist/${file}`), 'utf8');
    assert.ok(tag.length >= script.length * 0.9, `${file} was dropped: ${tag.length} bytes bundled`);
  }
  // A production build gets the client with the tag's short messages; a development build (and Node) every message.
  const client = "import { createIdCapture } from 'idcapture'; console.log(createIdCapture);";
  const fullText = 'is not a lower snake_case name';
  assert.ok(!(await bundle(client, ['production'])).includes(fullText), 'production condition: short messages');
  assert.ok((await bundle(client, ['development'])).includes(fullText), 'development: every message');
  const dropped = await bundle("import 'idcapture'; import 'idcapture/proxy';");
  assert.equal(dropped.replace(/\/\*[\s\S]*?\*\//g, '').trim(), '', 'only comments are left');
});

/** Declarations of the frameworks the docs' examples import that this repository does not install (React's and Next's
 * types are its devDependencies, linked into the scratch project for the examples). */
const FRAMEWORK_STUBS = `
declare module 'express' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  type Handler = (req: IncomingMessage, res: ServerResponse, next?: () => void) => void;
  interface App { all(path: string, handler: Handler): void; use(handler: Handler): void }
  export default function express(): App;
}
declare module 'vite' {
  export function defineConfig<T>(config: T): T;
}
`;

test('every TypeScript and JavaScript example of README, CONTRIBUTING and docs/ type-checks against the packed package', async () => {
  const { allBlocks } = await import('./docs-examples.js');
  const blocks = allBlocks().filter((b) => b.lang == 'ts' || b.lang == 'js');
  assert.ok(blocks.length >= 15, `${blocks.length} examples found`);
  await writeFile(join(dir, 'framework-stubs.d.ts'), FRAMEWORK_STUBS);
  const frameworks = ['next', 'react', '@types/react'].map((name) => join(modules, name));
  await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', '--no-save', ...frameworks], { cwd: dir });
  const files = { ts: [], js: [] };
  for (const block of blocks) {
    // Each example is a module of its own (top-level await, names that repeat from page to page).
    const name = `example-${block.page.replace(/\W/g, '_')}-${block.line}.${block.lang}`;
    await writeFile(join(dir, name), `${block.prelude}\n${block.code}\nexport {};\n`);
    files[block.lang].push(name);
  }
  const common = { target: 'es2022', lib: ['es2022', 'dom'], types: ['node'], module: 'esnext', moduleResolution: 'bundler', noEmit: true, skipLibCheck: true };
  // TypeScript examples as a strict project has them; JavaScript ones as `// @ts-check` would in a plain Node script.
  const configs = {
    ts: { ...common, strict: true },
    js: { ...common, allowJs: true, checkJs: true, strict: false },
  };
  const failures = [];
  for (const [lang, names] of Object.entries(files)) {
    await writeFile(join(dir, `examples-${lang}.tsconfig.json`), JSON.stringify({ compilerOptions: configs[lang], files: ['framework-stubs.d.ts', ...names] }));
    await run(process.execPath, [tsc, '-p', `examples-${lang}.tsconfig.json`], { cwd: dir }).catch((error) => failures.push(`${error.stdout}${error.stderr}`));
  }
  assert.deepEqual(failures, [], `examples that do not type-check (example-<page>-<line of the fence>):\n${failures.join('\n')}`);
});
