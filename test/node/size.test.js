import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';

// DESIGN.md section 9: the script-tag file, everything included, at most 8 KiB brotli (goal 7 KiB).
const BUDGET = 8192;

test(`dist/idcapture.js is at most ${BUDGET} bytes brotli`, () => {
  const bundle = readFileSync(new URL('../../dist/idcapture.js', import.meta.url));
  const size = brotliCompressSync(bundle, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`# dist/idcapture.js: ${bundle.length} B minified, ${size} B brotli (budget ${BUDGET}, goal 7168)`);
  assert.ok(size <= BUDGET, `${size} B brotli is over the ${BUDGET} B budget`);
});

test('the browser bundles carry no Node module and no emulator or proxy code', () => {
  for (const file of ['idcapture.js', 'index.js']) {
    const code = readFileSync(new URL(`../../dist/${file}`, import.meta.url), 'utf8');
    assert.doesNotMatch(code, /node:|require\(/, file);
    assert.doesNotMatch(code, /x-api-key|__emulator/i, file);
  }
});
