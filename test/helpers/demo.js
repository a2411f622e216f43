// Runs `npm run demo`'s entry (node demo/server.js) as a child process on a free port, as a newcomer would, and reads
// the URL it prints.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../../demo/server.js', import.meta.url));

/** Starts the demo; resolves `{ url, output(), stop() }` once it prints its URL. `stop()` sends SIGINT (Ctrl-C). */
export function startDemo(env = {}) {
  const child = spawn(process.execPath, [entry], {
    env: { ...process.env, PORT: '0', ZAIUS_API_KEY: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /idcapture demo: (http:\/\/[^\s/]+)\//.exec(output);
      if (!match) return;
      child.stdout.off('data', onData);
      child.stdout.on('data', (more) => (output += more));
      resolve({
        url: match[1],
        output: () => output,
        stop: () => (child.kill('SIGINT'), exited),
        kill: () => child.exitCode === null && child.kill('SIGKILL'),
      });
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (chunk) => (output += chunk));
    exited.then(({ code }) => reject(new Error(`the demo exited (${code}) before printing its URL:\n${output}`)));
  });
}
