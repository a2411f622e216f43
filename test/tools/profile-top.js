// The costs in a V8 CPU profile (`--cpu-prof`, or `BENCH_CPU_PROF=dir node test/bench/coalesce.js`), by self time:
// `node test/tools/profile-top.js <file.cpuprofile> [count]` prints the busy time and the `count` (default 5) functions
// that spent the most of it, idle left out. Issue 24's before/after profiles of the proxy were read with it.
import { readFileSync } from 'node:fs';

const [file, count = 5] = process.argv.slice(2);
if (!file) {
  console.error('usage: node test/tools/profile-top.js <file.cpuprofile> [count]');
  process.exit(2);
}
const { nodes, samples, timeDeltas } = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(nodes.map((node) => [node.id, node]));
const self = new Map();
let total = 0;
samples.forEach((id, i) => {
  const { functionName, url, lineNumber } = byId.get(id).callFrame;
  const name = `${functionName || '(anonymous)'} ${url.split('/').slice(-2).join('/')}${url ? `:${lineNumber + 1}` : ''}`;
  self.set(name, (self.get(name) ?? 0) + (timeDeltas[i] ?? 0));
  total += timeDeltas[i] ?? 0;
});
const idle = self.get('(idle) ') ?? 0;
self.delete('(idle) ');
const ms = (us) => `${(us / 1000).toFixed(0)} ms`;
console.log(`${file}: ${ms(total)} profiled, ${ms(total - idle)} busy`);
for (const [name, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(count))) {
  console.log(`${ms(us).padStart(9)}  ${((100 * us) / total).toFixed(1).padStart(5)}% of all, ${((100 * us) / (total - idle)).toFixed(1).padStart(5)}% of busy  ${name}`);
}
