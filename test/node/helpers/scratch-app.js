// A new user's project for the recipe tests: the package as `npm pack` makes it, installed from the tarball into a
// scratch folder, and the framework's own command (`next build`, `next start`, `wrangler dev`) run there as a process
// group of its own, which is ended whole, and whose output is the error when it fails or overstays its time.
// Offline: the package's dependencies are linked in from this repository's node_modules, as in package.test.js.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../..', import.meta.url));
export const modules = join(root, 'node_modules');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** Packs the built package into `dir` and installs the tarball there, with its dependencies; resolves the tarball's name. */
export async function installPacked(dir) {
  await mkdir(dir, { recursive: true });
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir, root], { cwd: dir });
  const [{ filename }] = JSON.parse(stdout);
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true }));
  const dependencies = Object.keys(manifest.dependencies ?? {}).map((name) => join(modules, name));
  // --ignore-scripts: a dependency installed from a folder would run its own `prepare` build (ky's needs its dev tools).
  await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--no-package-lock', filename, ...dependencies], { cwd: dir });
  return filename;
}

/** Writes `files` (`{ 'app/page.tsx': source }`) under `dir`, making their folders. */
export async function writeFiles(dir, files) {
  for (const [path, source] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), source);
  }
}

/** A TCP port free on loopback now, for a command that takes a port rather than choosing one. */
export async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The `unshare` arguments that give a command a network namespace of its own with no interface up, or null where it cannot. */
export async function offlineNamespace() {
  const args = process.getuid?.() === 0 ? ['-n'] : ['-rn'];
  return run('unshare', [...args, 'true']).then(() => ['unshare', ...args], () => null);
}

/**
 * Starts `command args` in `cwd` as a process group of its own. `ready` (a RegExp on stdout and stderr together):
 * resolves its match once seen; without it, resolves when the command exits 0. Rejects, with everything the command
 * printed, when it exits otherwise or `timeoutMs` passes first (the group is then killed). `stop()` kills the group.
 */
export function startCommand(command, args, { cwd, env, ready, timeoutMs }) {
  const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode == null && child.signalCode == null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
      await exited;
    }
  };
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(`did not ${ready ? `print ${ready}` : 'finish'} within ${timeoutMs / 1000} s`), timeoutMs);
    const fail = (why) => {
      clearTimeout(timer);
      stop().then(() => reject(new Error(`${command} ${args.join(' ')} ${why}:\n${output}`)));
    };
    const take = (chunk) => {
      output += chunk;
      const match = ready?.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (error) => fail(`could not start (${error.message})`));
    child.on('exit', (code, signal) => {
      if (!ready && code === 0) {
        clearTimeout(timer);
        resolve(output);
      } else fail(`exited (${signal ?? code})`);
    });
  });
  return { done, stop, output: () => output };
}
