// The package as a new user gets it: `npm pack` of the build, installed from the tarball into a scratch project in a
// temp dir, then type-checked under each module resolution a TypeScript app may use. Needs `npm run build` first.
// Offline: the dependencies come from this repository's node_modules, linked in by `npm install --offline`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
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

let dir;
let packed;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'idcapture-package-'));
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir, root], { cwd: dir });
  [packed] = JSON.parse(stdout);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--no-package-lock', packed.filename, join(modules, 'idb-keyval'), join(modules, '@types/node')],
    { cwd: dir },
  );
});
after(() => dir && rm(dir, { recursive: true, force: true }));

/** Every export path that declares types, e.g. `idcapture/proxy`: a new entry is checked without editing this test. */
const typedExports = Object.entries(manifest.exports)
  .filter(([, target]) => typeof target == 'object' && target.types)
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
    compilerOptions: { target: 'es2022', lib: ['es2022', 'dom'], types: ['node'], strict: true, noEmit: true, ...compilerOptions },
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
  await assert.rejects(typeCheck('untyped', source, MODES.nodenext), /TS2322/);
});
