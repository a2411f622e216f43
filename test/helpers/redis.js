// A real redis-server for a test: its own loopback port and data directory, started here and stopped by its pid.
// `restart()` starts it again on the same port and directory (a Redis that went away and came back).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port free on 127.0.0.1 now (redis-server cannot be told to pick one). */
const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

function launch(port, dir) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--enable-debug-command', 'local'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('Ready to accept connections')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
}

/** Starts redis-server; resolves `{ url, port, stop(), restart(), kill() }`. */
export async function startRedis() {
  const dir = mkdtempSync(join(tmpdir(), 'idcapture-redis-'));
  const port = await freePort();
  let child = await launch(port, dir);
  const end = (signal) =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode) return resolve();
      child.once('exit', resolve);
      process.kill(child.pid, signal);
    });
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    /** Kills it at once (SIGKILL), as a crash would. */
    kill: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGKILL');
      child = await launch(port, dir);
    },
    stop: async () => {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
