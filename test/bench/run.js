// `npm run bench`: runs every benchmark in this folder, one after another, and prints one table; each figure with a
// reference measured in the same run shows it and the ratio (ours / reference). The same rows, with each part's wall
// time, are written to bench-results/ (git-ignored) as bench-<time>.json and latest.json.
// The whole run is meant to end within WHOLE_BUDGET_S on a 2-core machine. BENCH_QUICK=1 (`.ci/run` does so) runs every
// part with token counts and fails when a part takes longer than QUICK_PART_BUDGET_S: a part whose cost stops scaling
// with its counts (as verify.js once waited on the default pace, 86 minutes) is caught there, not in a bench nobody
// finishes.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { brotliCompressSync, constants } from 'node:zlib';
import { cpus } from 'node:os';
import { QUICK } from './quick.js';

const WHOLE_BUDGET_S = 360;
const QUICK_PART_BUDGET_S = 45;

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
/** The slot for issue 13's coalescing bench: it runs when test/bench/coalesce.js exists, and says so when not. */
const COALESCE = 'coalesce.js';
const order = ['bundles.js', 'mainthread.js', 'capture.js', 'identify.js', 'delivery.js', 'proxy.js', COALESCE];
const files = readdirSync(here).filter((f) => f.endsWith('.js') && f !== 'run.js' && f !== 'quick.js');
files.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
const parts = {};
const started = Date.now();
for (const file of files) {
  const t = Date.now();
  const { bench } = await import(new URL(file, here));
  for (const row of await bench()) rows.push({ bench: file.replace(/\.js$/, ''), ...row });
  parts[file.replace(/\.js$/, '')] = (Date.now() - t) / 1000;
  console.error(`bench: ${file} done in ${parts[file.replace(/\.js$/, '')].toFixed(1)} s`);
}
if (!existsSync(new URL(COALESCE, here))) {
  rows.push({ bench: 'coalesce', name: 'coalescing on vs off: profiles/s accepted upstream', value: 'not measured', unit: '', reference: `test/bench/${COALESCE} is not in this tree (issue 13)` });
}
const totalS = (Date.now() - started) / 1000;

const show = (value) => (typeof value == 'number' && !Number.isInteger(value) ? +value.toFixed(2) : value);
console.table(
  rows.map(({ bench, name, value, unit, reference, referenceValue, ratio, note }) => ({
    bench,
    name,
    value: show(value),
    unit,
    reference: reference ?? '',
    'reference value': show(referenceValue) ?? '',
    ratio: ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
    ...(note ? { note } : {}),
  })),
);
console.log(`parts (s): ${Object.entries(parts).map(([name, s]) => `${name} ${s.toFixed(0)}`).join(', ')}; whole ${totalS.toFixed(0)} s`);
if (QUICK) {
  const slow = Object.entries(parts).filter(([, s]) => s > QUICK_PART_BUDGET_S);
  if (slow.length) {
    console.error(`bench (quick): ${slow.map(([name, s]) => `${name} took ${s.toFixed(0)} s`).join(', ')}; each part must end within ${QUICK_PART_BUDGET_S} s with BENCH_QUICK=1`);
    process.exitCode = 1;
  }
  console.log('BENCH_QUICK=1: token counts, the figures above mean nothing; nothing written to bench-results/');
} else if (totalS > WHOLE_BUDGET_S) {
  console.error(`bench: the whole run took ${totalS.toFixed(0)} s, past its ${WHOLE_BUDGET_S} s budget: see the parts above`);
}

if (QUICK) process.exit();
const out = new URL('../../bench-results/', here);
mkdirSync(out, { recursive: true });
const report = JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, totalS, parts, rows }, null, 2);
const name = `bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(new URL(name, out), report);
writeFileSync(new URL('latest.json', out), report);
console.log(`written to bench-results/${name} and bench-results/latest.json`);
