import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

// DESIGN.md section 9: the script-tag file, everything included, at most 8 KiB brotli. Issue 20 freed 1,200 B of that
// for the features to come: CEILING is where the production tag stands, so nothing grows it by accident; a feature
// that spends headroom raises CEILING in its own commit, saying what for, and never past BUDGET. The debug tag carries
// every message and has no budget. Spent since: issue 21, 50 B (the client asks a same-origin proxy to clear the vuid's
// HttpOnly server twin on a denial and on reset()); issue 22, 100 B (emails that cannot collide, 88 B; the 'queued'
// event without the identity token, 12 B); issue 23, 145 B (data-consent-source: the tag imports the named source's
// adapter file from beside itself, consent follows its answers, the 'consent' event; the adapters live in
// dist/consent/). Together 307 B (brotli does not add up exactly), less the 26 B the shorter email rule gave back.
// Issue 26, 43 B: the tag looks for the link parameter in location.search and imports dist/link.js from beside itself
// when it is there (37 B); the rest is brotli's context after the identity token's claims moved to the JWT's second part.
// The chaos fix, 55 B: an unload hand-off never carries an older copy of what a flush has on the wire.
// All five measure 384 B together.
// Issue 26's stale writes, 139 B: each record goes with its age since capture (capture time taken as an upsert is made,
// kept by held and unstored captures), upserts older than maxAgeDays are dropped unsent ('expired'), and an upsert
// replaces a queued one only when it supersedes it. 5 B more: and only when it was captured no earlier (an upsert held
// for consent, or left unstored by a page, reaches the queue after newer ones).
// Issue 26's links, 53 B more: the tag takes the link token out of the address bar itself, as it starts, rather than
// once dist/link.js has loaded (about 95 ms later on a busy machine), so fewer of the page's scripts can read it.
const BUDGET = 8192;
const CEILING = BUDGET - 1200 + 384 + 139 + 5 + 53;
const brotli = (code) => brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
const read = (file) => readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');

// Measured once, printed for the record.
const production = read('idcapture.js');
const debug = read('idcapture.debug.js');
const size = brotli(production);
console.log(`# dist/idcapture.js: ${Buffer.byteLength(production)} B minified, ${size} B brotli (budget ${BUDGET}, ${BUDGET - size} B free)`);
console.log(`# dist/idcapture.debug.js: ${Buffer.byteLength(debug)} B minified, ${brotli(debug)} B brotli (no budget)`);

test(`dist/idcapture.js is at most ${BUDGET} bytes brotli`, () => {
  assert.ok(size <= BUDGET, `${size} B brotli is over the ${BUDGET} B budget`);
});

test(`dist/idcapture.js stays at its ceiling, ${CEILING} bytes brotli (${BUDGET - CEILING} B of the budget free)`, () => {
  assert.ok(CEILING <= BUDGET);
  assert.ok(size <= CEILING, `${size} B brotli is over the ${CEILING} B ceiling: find the bytes, or raise CEILING for a feature`);
});

// Each text the production tag shortens or leaves out, as the debug tag has it: one per kind (a validation reason,
// the profile rules' reasons, a storage warning, a capture decision, a bad push(), a token that does not fit, the
// client's own debug output, a bad data-* option).
const FULL_TEXTS = [
  'is not a lower snake_case name starting with a letter (at most 64 characters)',
  'has no identifier (email, phone, vuid or a custom *_id)',
  'is not an identifier (email, phone, vuid, *_id, *_key, ...)',
  'IndexedDB is unavailable; the queue is in memory only',
  'too large for the endpoint',
  'not captured: no identifier',
  'skipped: ',
  "push(['method', ...args])",
  'that the proxy is running',
  'still retrying, with backoff',
  'does not name these identifiers',
  'started: endpoint',
  'the URL of your proxy',
];

test('the production tag holds none of the full diagnostic texts, the debug tag each of them', () => {
  assert.deepEqual(FULL_TEXTS.filter((text) => production.includes(text)), [], 'in dist/idcapture.js');
  assert.deepEqual(FULL_TEXTS.filter((text) => !debug.includes(text)), [], 'missing from dist/idcapture.debug.js');
  // Where the production tag sends a store that debugs.
  assert.ok(production.includes('debug output: load') && !debug.includes('debug output: load'));
});

/** `file` bundled and minified as an app's bundler would (idb-keyval included), in brotli bytes. */
async function bundled(file) {
  const build = await rollup({ input: new URL(`../../dist/${file}`, import.meta.url).pathname, plugins: [resolve({ browser: true })] });
  const { output } = await build.generate({ format: 'es', plugins: [terser({ compress: { passes: 2 }, format: { comments: false } })] });
  // What the page loads up front: the entry chunk and the chunks it imports statically. A chunk only imported
  // dynamically (a consent source named by `consentSource`) loads when used, and is measured on its own below.
  const chunks = new Map(output.map((chunk) => [chunk.fileName, chunk]));
  const upFront = new Set();
  const add = (chunk) => !upFront.has(chunk) && (upFront.add(chunk), chunk.imports.forEach((name) => add(chunks.get(name))));
  add(output.find((chunk) => chunk.isEntry));
  const code = [...upFront].map((chunk) => chunk.code).join('\n');
  const size = brotli(code);
  console.log(`# dist/${file} bundled: ${code.length} B minified, ${size} B brotli`);
  return size;
}

// An SPA imports the npm entry instead: what its production build ships (the `production` export condition) has the
// tag's budget. Development builds get dist/index.js, every message included, with no budget.
test(`dist/index.production.js, bundled and minified as an app's bundler would, is at most ${BUDGET} bytes brotli`, async () => {
  const size = await bundled('index.production.js');
  assert.ok(size <= BUDGET, `${size} B brotli is over the ${BUDGET} B budget`);
  assert.ok(size < (await bundled('index.js')), 'the production entry is smaller than the development one');
});

test('the browser bundles carry no Node module and no emulator or proxy code', () => {
  for (const file of ['idcapture.js', 'idcapture.debug.js', 'index.js', 'index.production.js']) {
    const code = read(file);
    assert.doesNotMatch(code, /node:|require\(/, file);
    assert.doesNotMatch(code, /x-api-key|__emulator/i, file);
  }
});

// The script-tag build renames these members of the client's internal objects (rollup.config.mjs): none may be part
// of the public API, or the script tag would expose a renamed member where the npm entry has the real one.
test('no member the script-tag build renames is part of the public API', async () => {
  const { INTERNAL_MEMBERS } = await import('../../rollup.config.mjs');
  const { default: ts } = await import('typescript');
  const entry = new URL('../../dist/types/src/index.d.ts', import.meta.url).pathname;
  const program = ts.createProgram([entry], { noEmit: true, skipLibCheck: true });
  const checker = program.getTypeChecker();
  const seen = new Set();
  const names = new Set();
  const walk = (type, depth) => {
    if (depth > 4 || seen.has(type)) return;
    seen.add(type);
    for (const part of type.isUnionOrIntersection() ? type.types : [type]) {
      for (const property of checker.getPropertiesOfType(part)) {
        names.add(property.name);
        walk(checker.getTypeOfSymbol(property), depth + 1);
      }
      for (const signature of part.getCallSignatures()) {
        signature.parameters.forEach((p) => walk(checker.getTypeOfSymbol(p), depth + 1));
        walk(signature.getReturnType(), depth + 1);
      }
    }
  };
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry));
  for (const symbol of checker.getExportsOfModule(module)) {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    walk(checker.getDeclaredTypeOfSymbol(target), 0);
    walk(checker.getTypeOfSymbol(target), 0);
  }
  assert.ok(names.has('identify') && names.has('dropped') && names.has('upsert'), 'the walk reaches the public members');
  assert.deepEqual(INTERNAL_MEMBERS.filter((name) => names.has(name)), []);
  // And each is renamed indeed: a name terser keeps (a DOM property) would cost a line here and save nothing.
  assert.deepEqual(INTERNAL_MEMBERS.filter((name) => new RegExp(`[.{,]${name}\\b`).test(production)), []);
  // And each is a member the client still has (the npm build keeps names): a name the code lost only stands in the list.
  const npm = read('index.js');
  assert.deepEqual(INTERNAL_MEMBERS.filter((name) => !new RegExp(`[.{,]\\s*${name}\\b`).test(npm)), []);
});

// A page that names a consent source loads that source's adapter file besides the tag (dist/consent/<name>.js), and
// only that one: each keeps under a budget of its own, so what a store pays for its source stays small.
const ADAPTER_BUDGET = 1024;
for (const name of ['tcf', 'gcm', 'shopify', 'onetrust', 'cookiebot']) {
  test(`dist/consent/${name}.js is at most ${ADAPTER_BUDGET} bytes brotli`, () => {
    const code = read(`consent/${name}.js`);
    const size = brotli(code);
    console.log(`# dist/consent/${name}.js: ${Buffer.byteLength(code)} B minified, ${size} B brotli`);
    assert.ok(size <= ADAPTER_BUDGET, `${size} B brotli is over the ${ADAPTER_BUDGET} B budget`);
    assert.doesNotMatch(code, /node:|require\(/);
  });
}

// An app imports its source from idcapture/consent: its bundle keeps that source only (the others are shaken out),
// within the same budget as the tag's adapter file.
test('each source imported from idcapture/consent (production) bundles alone, under the adapter budget', async () => {
  const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const dir = await mkdtemp(`${tmpdir()}/idcapture-consent-`);
  const marks = { tcf: '__tcfapi', gcm: 'dataLayer', shopify: 'visitorConsentCollected', onetrust: 'OnetrustActiveGroups', cookiebot: 'CookiebotOnAccept' };
  try {
    for (const name of Object.keys(marks)) {
      const entry = `${dir}/${name}.js`;
      const from = new URL('../../dist/consent.production.js', import.meta.url).pathname;
      await writeFile(entry, `import { ${name} } from ${JSON.stringify(from)}; console.log(${name});`);
      const build = await rollup({ input: entry, plugins: [resolve({ browser: true })], onwarn: () => {} });
      const { output } = await build.generate({ format: 'es', plugins: [terser({ compress: { passes: 2 }, format: { comments: false } })] });
      const size = brotli(output[0].code);
      console.log(`# ${name} from idcapture/consent, bundled alone: ${output[0].code.length} B minified, ${size} B brotli`);
      assert.ok(size <= ADAPTER_BUDGET, `${name}: ${size} B brotli`);
      const others = Object.entries(marks).filter(([other, mark]) => other != name && output[0].code.includes(mark));
      assert.deepEqual(others, [], `${name}'s bundle holds other sources`);
    }
  } finally {
    await rm(dir, { recursive: true });
  }
});
