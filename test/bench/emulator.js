// Upserts per second the emulator applies: loopback, batches of 500, rate limit off, a bounded run.
// The emulator runs in its own process (the CLI) so the load generator does not share its thread.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { count } from './quick.js';

const CLI = fileURLToPath(new URL('../../dist/emulator-cli.js', import.meta.url));
const KEY = 'example.apiKey';
const SECONDS = count(3, 1);
const CONNECTIONS = 4;
const BATCH = 500;

async function startCli() {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--rate-limit', 'off'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/http:\/\/\S+\/v3/);
      if (found) resolve(found[0]);
    });
    child.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
  });
  return { url, root: url.replace(/\/v3$/, ''), stop: () => child.kill('SIGTERM') };
}

/** Request bodies built before the clock starts: `count` batches of fresh profiles (new emails and vuids). */
function bodies(count, size, tag) {
  return Array.from({ length: count }, (_, b) =>
    JSON.stringify(
      Array.from({ length: size }, (_, i) => {
        const n = b * size + i;
        const vuid = n.toString(16).padStart(32, '0');
        return { attributes: { email: `${tag}${n}@bench.test`, vuid, first_name: 'Bench', city: 'Boston' } };
      }),
    ),
  );
}

/**
 * POSTs `payloads` in turn over `CONNECTIONS` keep-alive connections for `SECONDS` with autocannon (a cheaper client
 * than fetch, which would otherwise be what is measured); returns the 202s and the elapsed seconds.
 */
async function load(url, payloads) {
  let next = 0;
  const result = await autocannon({
    url: `${url}/profiles`,
    method: 'POST',
    connections: CONNECTIONS,
    duration: SECONDS,
    headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
    requests: [{ setupRequest: (request) => ({ ...request, body: payloads[next++ % payloads.length] }) }],
  });
  if (result.non2xx || result.errors) throw new Error(`${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return { done: result['2xx'], seconds: result.duration };
}

const stats = async (root) => (await fetch(`${root}/__emulator/stats`)).json();

export async function bench() {
  const emulator = await startCli();
  try {
    const batches = bodies(400, BATCH, 'b');
    const before = await stats(emulator.root);
    const big = await load(emulator.url, batches);
    const applied = (await stats(emulator.root)).recordsApplied - before.recordsApplied;
    // autocannon leaves out answers still in flight when the run ends; the emulator's own count is the truth.
    if (applied < big.done * BATCH) throw new Error(`${applied} applied of ${big.done * BATCH} accepted`);

    await fetch(`${emulator.root}/__emulator/reset`, { method: 'POST' });
    const singles = await load(emulator.url, bodies(30_000, 1, 's'));
    const perSecond = (n, seconds) => Math.round(n / seconds);
    return [
      {
        name: `upserts applied/s (batches of ${BATCH}, loopback, rate limit off)`,
        value: perSecond(applied, big.seconds),
        unit: 'upserts/s',
      },
      { name: `batch requests/s (${BATCH} profiles each)`, value: perSecond(applied / BATCH, big.seconds), unit: 'req/s' },
      {
        name: 'single-profile POSTs/s (loopback, rate limit off)',
        value: perSecond(singles.done, singles.seconds),
        unit: 'req/s',
      },
    ];
  } finally {
    emulator.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.table(await bench());
