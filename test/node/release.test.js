// What a release is checked for, on the tarball `npm pack` makes of the build, as the registry would get it:
// - publint (strict) and @arethetypeswrong/cli (every entry point, under node16 from ESM and bundler: the package is
//   ESM-only, so its profile is `esm-only`) find nothing;
// - `npm pack --dry-run` lists no tests, no demo, no source maps, nothing outside dist/ but the usual files;
// - each artifact of size-budgets.json (size-limit's fields: path, import, brotli, limit) is within its limit;
// - package.json's version is the one the client reports (`VERSION`, the debug tag's start-up line), the pinned tag's
//   file name, and the newest release of CHANGELOG.md.
// Needs `npm run build` first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = (path) => join(root, 'node_modules', path);
const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

let dir;
let tarball;
let packed;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idcapture-release-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir, root], { cwd: dir });
  [packed] = JSON.parse(stdout);
  tarball = join(dir, packed.filename);
});
after(() => dir && rm(dir, { recursive: true, force: true }));

/** Runs a command-line tool; resolves its output, or rejects with it. */
async function tool(args) {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: dir, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    return stdout + stderr;
  } catch (error) {
    throw new Error(`${args.slice(0, 2).join(' ')} failed:\n${error.stdout}${error.stderr}`);
  }
}

test('publint --strict finds nothing in the tarball', async () => {
  const out = await tool([bin('publint/src/cli.js'), 'run', tarball, '--strict']);
  assert.match(out, /All good!/, out);
});

test('@arethetypeswrong/cli finds nothing: every entry point typed, under node16 (from ESM) and bundler', async () => {
  const out = await tool([bin('@arethetypeswrong/cli/dist/index.js'), tarball, '--profile', 'esm-only', '--format', 'ascii', '--no-emoji']);
  // attw exits 1 on any problem (tool() rejects then); each export path is analysed, OK in both resolution modes.
  const entries = out.split('***********************************');
  for (const path of Object.keys(manifest.exports)) {
    const entry = entries.find((e) => e.includes(`"${manifest.name}${path.slice(1)}"`));
    assert.ok(entry, `${path} analysed\n${out}`);
    for (const mode of ['node16 \\(from ESM\\)', 'bundler']) assert.match(entry, new RegExp(`^${mode}: OK`, 'm'), `${path}: ${mode}\n${entry}`);
  }
});

test('npm pack --dry-run: no tests, no demo, no source maps, only dist/ and the usual files', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', root], { cwd: dir });
  const files = JSON.parse(stdout)[0].files.map((f) => f.path);
  assert.deepEqual(files, packed.files.map((f) => f.path), 'the dry run lists what pack writes');
  const outside = files.filter((f) => !f.startsWith('dist/') && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(f));
  assert.deepEqual(outside, []);
  // dist/edge/ is the demo's Worker; dist/types/src/edge/ the declarations of idcapture/edge.
  assert.deepEqual(files.filter((f) => /^dist\/(edge|test|types\/(demo|test))\/|(^|\/)(demo|test)\//.test(f.replace(/^dist\/types\/src\//, ''))), [], 'no tests, no demo');
  assert.deepEqual(files.filter((f) => f.endsWith('.map')), [], 'no source maps (they would carry the paths of the machine that built them)');
  assert.ok(files.includes('CHANGELOG.md'));
  // Nothing packed names a path of the machine that built it.
  const readable = files.filter((f) => /\.(js|ts|json|md)$/.test(f));
  const text = await Promise.all(readable.map((f) => readFile(join(root, f), 'utf8')));
  assert.deepEqual(readable.filter((_, i) => text[i].includes(root.replace(/\/$/, ''))), [], `no file names ${root}`);
});

const brotli = (code) => brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

/** What an artifact of size-budgets.json costs: the file, or what a bundler keeps of it for `import`. */
async function measure({ path, import: names, conditions = [], brotli: useBrotli, gzip }) {
  let code = await readFile(join(root, path), 'utf8');
  if (names) {
    const entry = `import ${names} from ${JSON.stringify(join(root, path))}; console.log(${names.replace(/[{}]/g, '')});`;
    const bundle = await rollup({
      input: 'budget-entry',
      plugins: [{ name: 'entry', resolveId: (id) => (id == 'budget-entry' ? id : null), load: (id) => (id == 'budget-entry' ? entry : null) }, resolve({ browser: conditions.includes('production'), exportConditions: conditions })],
      external: (id) => id.startsWith('node:') || id.startsWith('cloudflare:'),
      onwarn: () => {},
    });
    ({ code } = (await bundle.generate({ format: 'es', plugins: [terser({ compress: { passes: 2 }, format: { comments: false } })] })).output[0]);
    await bundle.close();
  }
  return useBrotli ? brotli(code) : gzip ? gzipSync(code, { level: 9 }).length : Buffer.byteLength(code);
}

const budgets = JSON.parse(await readFile(join(root, 'size-budgets.json'), 'utf8'));
for (const budget of budgets) {
  test(`size budget: ${budget.name} is within ${budget.limit}`, async () => {
    const limit = Number(/^(\d+) B$/.exec(budget.limit)?.[1]);
    assert.ok(limit, `limit in bytes, e.g. "8192 B": ${budget.limit}`);
    const size = await measure(budget);
    console.log(`# ${budget.path}${budget.import ? ` ${budget.import}` : ''}: ${size} B ${budget.brotli ? 'brotli' : budget.gzip ? 'gzip' : 'raw'} (limit ${limit})`);
    assert.ok(size <= limit, `${size} B is over ${limit} B`);
  });
}

test('size-budgets.json covers the tag, the ESM client and the Worker', () => {
  assert.deepEqual(budgets.map((b) => b.path).sort(), ['dist/edge.js', 'dist/idcapture.js', 'dist/index.production.js']);
});

test('one version: package.json, the client (VERSION, the debug tag), the pinned tag, CHANGELOG.md', async () => {
  const { version } = manifest;
  const client = await import('../../dist/index.js');
  assert.equal(client.VERSION, version);
  const debugTag = await readFile(join(root, 'dist/idcapture.debug.js'), 'utf8');
  assert.ok(debugTag.includes(`"${version}"`) || debugTag.includes(`'${version}'`) || debugTag.includes(`idcapture ${version}`), 'the debug tag reports the version');
  const pinned = await readFile(join(root, `dist/idcapture-${version}.js`), 'utf8');
  assert.equal(pinned, await readFile(join(root, 'dist/idcapture.js'), 'utf8'), 'the pinned tag is the production tag');
  const changelog = await readFile(join(root, 'CHANGELOG.md'), 'utf8');
  const released = [...changelog.matchAll(/^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$/gm)].map((m) => m[1]);
  assert.equal(released[0], version, 'the newest release in CHANGELOG.md is package.json\'s version');
  assert.match(changelog, /^## \[Unreleased\]$/m, 'Keep a Changelog: an Unreleased section on top');
  assert.ok(released.includes('0.1.0'), 'the changelog starts at 0.1.0');
  // README's commands and tag name the files this version builds.
  const readme = await readFile(join(root, 'README.md'), 'utf8');
  const named = [...readme.matchAll(/idcapture-(\d+\.\d+\.\d+)\.(js|tgz)/g)].map((m) => m[1]);
  assert.ok(named.length >= 2, 'README names the tarball and the pinned tag');
  assert.deepEqual([...new Set(named)], [version]);
});

test('the pinned tag: dist/integrity.json holds its sha384, as the build printed it', async () => {
  const { createHash } = await import('node:crypto');
  const name = `idcapture-${manifest.version}.js`;
  const integrity = JSON.parse(await readFile(join(root, 'dist/integrity.json'), 'utf8'))[name];
  const code = await readFile(join(root, 'dist', name));
  assert.equal(integrity, `sha384-${createHash('sha384').update(code).digest('base64')}`);
});
