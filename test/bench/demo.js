// `npm run demo` on a warm machine (dist/ built): the time from the command to the printed URL answering 200, as a
// newcomer would see it, npm included. Five runs; the median and the slowest.
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { count } from './quick.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const RUNS = count(5, 1);

/** One start: ms until GET / answers 200, then Ctrl-C to the whole process group (npm and node, as a terminal does). */
function once() {
  const started = performance.now();
  const child = spawn('npm', ['run', '--silent', 'demo'], { cwd: root, env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    let output = '';
    let answered = false;
    child.stdout.setEncoding('utf8').on('data', async (chunk) => {
      const match = /idcapture demo: (http:\/\/\S+?)\//.exec((output += chunk));
      if (!match || answered) return;
      answered = true;
      const response = await fetch(`${match[1]}/`);
      const ms = performance.now() - started;
      process.kill(-child.pid, 'SIGINT');
      await exited;
      response.ok ? resolve(ms) : reject(new Error(`GET / answered ${response.status}`));
    });
    exited.then(() => answered || reject(new Error(`npm run demo exited before answering:\n${output}`)));
  });
}

export async function bench() {
  const times = [];
  for (let i = 0; i < RUNS; i++) times.push(await once());
  times.sort((a, b) => a - b);
  return [
    { name: '`npm run demo` to the URL answering, warm: median', value: Math.round(times[RUNS >> 1]), unit: 'ms' },
    { name: '`npm run demo` to the URL answering, warm: slowest of 5', value: Math.round(times[RUNS - 1]), unit: 'ms' },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) console.table(await bench());
