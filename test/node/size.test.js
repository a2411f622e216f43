import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';
import { rollup } from 'rollup';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';

// DESIGN.md section 9: the script-tag file, everything included, at most 8 KiB brotli (goal 7 KiB).
const BUDGET = 8192;
const brotli = (code) => brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;

test(`dist/idcapture.js is at most ${BUDGET} bytes brotli`, () => {
  const bundle = readFileSync(new URL('../../dist/idcapture.js', import.meta.url));
  const size = brotli(bundle);
  console.log(`# dist/idcapture.js: ${bundle.length} B minified, ${size} B brotli (budget ${BUDGET}, goal 7168)`);
  assert.ok(size <= BUDGET, `${size} B brotli is over the ${BUDGET} B budget`);
});

// An SPA imports the npm entry instead: what its bundler ships (idb-keyval included, minified) has the same budget.
test(`dist/index.js, bundled and minified as an app's bundler would, is at most ${BUDGET} bytes brotli`, async () => {
  const build = await rollup({ input: new URL('../../dist/index.js', import.meta.url).pathname, plugins: [resolve({ browser: true })] });
  const { output } = await build.generate({ format: 'es', plugins: [terser({ compress: { passes: 2 }, format: { comments: false } })] });
  const size = brotli(output[0].code);
  console.log(`# dist/index.js bundled: ${output[0].code.length} B minified, ${size} B brotli (budget ${BUDGET})`);
  assert.ok(size <= BUDGET, `${size} B brotli is over the ${BUDGET} B budget`);
});

test('the browser bundles carry no Node module and no emulator or proxy code', () => {
  for (const file of ['idcapture.js', 'index.js']) {
    const code = readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');
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
  const bundle = readFileSync(new URL('../../dist/idcapture.js', import.meta.url), 'utf8');
  assert.deepEqual(INTERNAL_MEMBERS.filter((name) => new RegExp(`[.{,]${name}\\b`).test(bundle)), []);
});
