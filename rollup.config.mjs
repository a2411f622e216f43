import typescript from '@rollup/plugin-typescript';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { basename, posix, resolve as resolvePath } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';

const ts = (options = {}) => typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts', 'demo/**/*.ts'], ...options });

/**
 * TypeScript writes declarations with the extensionless relative imports of the sources, which `moduleResolution`
 * `node16`/`nodenext` cannot follow (every import then turns into `any` under `skipLibCheck`). This gives each
 * relative import in an emitted `.d.ts` the path Node would load: `./x.js`, or `./x/index.js` for a folder. It works
 * on whatever declarations the build emits, so a new entry needs nothing beyond its `input` and `exports` lines.
 */
const nodeDeclarations = () => ({
  name: 'node-declarations',
  generateBundle(_, bundle) {
    const declared = new Set(Object.keys(bundle).filter((name) => name.endsWith('.d.ts')));
    for (const name of declared) {
      const file = bundle[name];
      const resolve = (quote, spec) => {
        const target = posix.join(posix.dirname(name), spec);
        if (declared.has(`${target}.d.ts`)) return `${quote}${spec}.js${quote}`;
        if (declared.has(`${target}/index.d.ts`)) return `${quote}${spec}/index.js${quote}`;
        this.error(`${name}: cannot resolve the declaration import ${spec}`);
      };
      file.source = String(file.source).replace(
        /(\bfrom\s*|\bimport\s*\(\s*|^import\s+)(['"])(\.\.?\/[^'"]*?)(?<!\.js)\2/gm,
        (_, before, quote, spec) => before + resolve(quote, spec),
      );
    }
  },
});

/**
 * Members of the client's internal objects (queue, delivery, backoff, hand-off, identity) that the minifier may
 * rename in the script-tag file: their names are long, repeated, and never part of the public API or of a browser
 * object the client touches (terser refuses DOM names anyway). test/node/size.test.js checks that no public
 * declaration uses one, and that each is renamed indeed.
 */
export const INTERNAL_MEMBERS = ['afterMs', 'answered', 'cleared', 'down', 'drain', 'endsAt', 'fail', 'failed', 'handOff', 'held', 'inMemory', 'oldest', 'raise', 'record', 'replaced', 'storing'];

const VERBOSE_MODULE = resolvePath('src/verbose.ts');
/** idcapture/consent, which the client imports only when `consentSource` names a platform. */
const CONSENT_MODULE = resolvePath('src/consent/index.ts');

/**
 * The production tag's build of src/verbose.ts: `VERBOSE` is false, so rollup and terser drop the full diagnostic
 * text and the debug output that the rest of the code writes as `VERBOSE ? full : short` or `if (VERBOSE)`. Placed
 * before the TypeScript plugin, whose own `load` would otherwise read the file.
 */
const terse = () => ({
  name: 'terse',
  load: (id) => (id == VERBOSE_MODULE ? 'export const VERBOSE = false;' : null),
});

/**
 * `idcapture:tag` (src/edge/tag.d.ts): the production tag's exact bytes and their strong ETag, read when the edge is
 * built, after the tag (rollup builds this file's configurations in order). The edge then needs no file system.
 */
const embedTag = () => ({
  name: 'embed-tag',
  resolveId: (id) => (id == 'idcapture:tag' ? '\0idcapture:tag' : null),
  load(id) {
    if (id != '\0idcapture:tag') return null;
    const code = readFileSync('dist/idcapture.js', 'utf8');
    const etag = `"${createHash('sha256').update(code).digest('hex').slice(0, 32)}"`;
    return `export const code = ${JSON.stringify(code)};\nexport const etag = ${JSON.stringify(etag)};`;
  },
});

/** The demo's Worker imports `idcapture/edge` by name, as a store's would (tsconfig.json's `paths` says the same). */
const selfReference = () => ({
  name: 'self-reference',
  resolveId: (id) => (id == 'idcapture/edge' ? resolvePath('src/edge/index.ts') : null),
});

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));

/**
 * The pinned copy of the production tag: `dist/idcapture-<version>.js`, the same bytes under a name that never changes
 * meaning, so a page can hold it to a Subresource Integrity hash. The hash is printed and kept in dist/integrity.json.
 */
const pinned = () => ({
  name: 'pinned',
  writeBundle({ file }, bundle) {
    const code = bundle[basename(file)].code;
    const integrity = `sha384-${createHash('sha384').update(code).digest('base64')}`;
    writeFileSync(`dist/idcapture-${version}.js`, code);
    writeFileSync('dist/integrity.json', `${JSON.stringify({ [`idcapture-${version}.js`]: integrity }, null, 2)}\n`);
    console.log(`dist/idcapture-${version}.js integrity="${integrity}"`);
  },
});

/**
 * Declarations of the files a page loads rather than imports: the script tags (imported for their side effect only)
 * and the consent adapters (the tag's; an app imports idcapture/consent). Type checkers resolving them find these.
 */
const pageFileDeclarations = () => ({
  name: 'page-file-declarations',
  generateBundle() {
    this.emitFile({ type: 'asset', fileName: 'types/script-tag.d.ts', source: '// The script tag, for a page or a side-effect import: it starts the client on window.idcapture.\nexport {};\n' });
    this.emitFile({
      type: 'asset',
      fileName: 'types/consent-adapter.d.ts',
      source:
        "import type { ConsentSource } from './src/consent/source.js';\n" +
        "/** The script tag's consent source, made from the tag's data-* attributes; an app imports idcapture/consent. */\n" +
        'declare const adapter: (data: DOMStringMap) => ConsentSource;\nexport default adapter;\n',
    });
    this.emitFile({
      type: 'asset',
      fileName: 'types/link-file.d.ts',
      source:
        "import type { IdCapture } from './src/client/create.js';\n" +
        "/** The script tag's link follower: reads the tag's link parameter from the address, cleans it and sends the link. */\n" +
        'declare const follow: (client: IdCapture, data: DOMStringMap) => Promise<void> | undefined;\nexport default follow;\n',
    });
  },
});

/** A script-tag file: one minified IIFE with idb-keyval inside. */
const tag = (file, plugins = []) => ({
  input: 'src/script-tag.ts',
  output: {
    file,
    format: 'iife',
    plugins: [
      terser({
        // The output's syntax is ES2020 already (tsconfig's target): terser may write ES2020 shorthands too.
        ecma: 2020,
        compress: { passes: 3, unsafe: true },
        mangle: { properties: { regex: new RegExp(`^(${INTERNAL_MEMBERS.join('|')})$`) } },
        format: { comments: false },
      }),
    ],
  },
  plugins: [...plugins, resolve({ browser: true }), ts({ declaration: false })],
});

/** The consent sources, each with an adapter file for the script tag (src/consent/<name>.ts). */
export const CONSENT_SOURCES = ['tcf', 'gcm', 'shopify', 'onetrust', 'cookiebot'];

/**
 * A consent source's adapter file for the script tag: only the source's default export (its options read from the
 * tag's data-* attributes), minified, with the production tag's short messages. The tag imports it from beside itself
 * when `data-consent-source` names the source, so a page loads the one it uses and the tag carries none of them.
 */
const adapter = (name) => ({
  input: `consent-tag:${name}`,
  output: { file: `dist/consent/${name}.js`, format: 'es', plugins: [terser({ ecma: 2020, compress: { passes: 3, unsafe: true }, format: { comments: false } })] },
  plugins: [
    {
      name: 'consent-tag',
      resolveId: (id) => (id.startsWith('consent-tag:') ? id : null),
      load: (id) => (id.startsWith('consent-tag:') ? `export { default } from ${JSON.stringify(resolvePath(`src/consent/${id.slice(12)}.ts`))};` : null),
    },
    terse(),
    ts({ declaration: false }),
  ],
});

export default [
  // The production tag, the artefact the size budget is about: short messages, no debug output.
  tag('dist/idcapture.js', [terse(), pinned()]),
  // The debug tag, for a store that debugs: every message in full, and each decision logged with `data-debug`.
  tag('dist/idcapture.debug.js'),
  ...CONSENT_SOURCES.map(adapter),
  // The link follower the tag loads from beside itself when the address carries its link parameter (issue 26).
  {
    input: 'src/link-tag.ts',
    output: { file: 'dist/link.js', format: 'es', plugins: [terser({ ecma: 2020, compress: { passes: 3, unsafe: true }, format: { comments: false } })] },
    plugins: [terse(), ts({ declaration: false })],
  },
  // The npm package: one ESM file per export path, dependencies left to the user's bundler, with declarations.
  {
    input: {
      index: 'src/index.ts',
      proxy: 'src/proxy/index.ts',
      'proxy-node': 'src/proxy/node.ts',
      emulator: 'src/emulator/index.ts',
      'emulator-cli': 'src/emulator/cli.ts',
      server: 'src/server/index.ts',
      edge: 'src/edge/index.ts',
      consent: 'src/consent/index.ts',
    },
    output: { dir: 'dist', format: 'es', chunkFileNames: 'chunks/[name].js' },
    external: (id) => /^(node:|idb-keyval$|ky$|jose$)/.test(id),
    // Declarations of src only: the demo is no part of the package.
    plugins: [embedTag(), ts({ include: ['src/**/*.ts'], declaration: true, declarationDir: 'dist/types', rootDir: '.', outDir: 'dist' }), nodeDeclarations(), pageFileDeclarations()],
  },
  // The npm entry as an app's production build resolves it (the `production` export condition): the client with the
  // production tag's short messages and no debug output. Development builds and Node get dist/index.js, with all of it.
  {
    input: 'src/index.ts',
    // A consent source named by `consentSource` stays the module beside this one, loaded only when named; the link
    // follower is a chunk of its own, loaded only on landing from a link.
    output: {
      dir: 'dist',
      entryFileNames: 'index.production.js',
      chunkFileNames: 'chunks/[name].production.js',
      format: 'es',
      paths: { [CONSENT_MODULE]: './consent.production.js' },
    },
    external: ['idb-keyval', CONSENT_MODULE],
    plugins: [terse(), ts({ declaration: false })],
  },
  // idcapture/consent as an app's production build resolves it: the sources with the short messages, as the client.
  {
    input: 'src/consent/index.ts',
    output: { file: 'dist/consent.production.js', format: 'es' },
    plugins: [terse(), ts({ declaration: false })],
  },
  // Test only, never packed: the client's internal modules (a clock the tests advance, the answer policy, the
  // backoff), for test/browser to import beside the public build.
  {
    input: 'test/browser/internals.js',
    output: { file: 'dist/test/internals.js', format: 'es', inlineDynamicImports: true, paths: { [CONSENT_MODULE]: '../consent.js' } },
    external: ['idb-keyval', CONSENT_MODULE],
    plugins: [ts({ declaration: false })],
  },
  // Test only, never packed: every entry point's defaults, for test/node to check the README's tables against.
  {
    input: 'test/node/internals.js',
    output: { file: 'dist/test/node-internals.js', format: 'es' },
    external: (id) => /^(node:|idb-keyval$|ky$|jose$)/.test(id),
    plugins: [ts({ declaration: false })],
  },
  // The example Cloudflare Worker, self-contained so workerd (and wrangler) can load it as is.
  {
    input: 'demo/edge/worker.ts',
    output: { file: 'dist/edge/worker.js', format: 'es' },
    plugins: [selfReference(), embedTag(), resolve(), ts({ declaration: false })],
  },
];
