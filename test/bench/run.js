// `npm run bench`: runs every benchmark in this folder and prints one table.
import { readdirSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';
import { readFileSync } from 'node:fs';

const here = new URL('.', import.meta.url);
const bundle = readFileSync(new URL('../../dist/idcapture.js', here));
const rows = [
  { bench: 'size', name: 'dist/idcapture.js minified', value: bundle.length, unit: 'B' },
  {
    bench: 'size',
    name: 'dist/idcapture.js brotli (budget 8192)',
    value: brotliCompressSync(bundle, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
    unit: 'B',
  },
];
for (const file of readdirSync(here).filter((f) => f.endsWith('.js') && f !== 'run.js').sort()) {
  const { bench } = await import(new URL(file, here));
  for (const row of await bench()) rows.push({ bench: file.replace(/\.js$/, ''), ...row });
}
console.table(rows);
