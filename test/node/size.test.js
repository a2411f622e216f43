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
