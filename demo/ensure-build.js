// Builds dist/ when it is missing or older than what it is built from, so a warm `npm run demo` starts at once and a
// fresh clone (or an edited source) still gets a current build.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** What the demo loads from dist/. */
const OUTPUTS = ['idcapture.js', 'idcapture.debug.js', 'proxy.js', 'proxy-node.js', 'emulator.js', 'server.js'].map((f) => join(root, 'dist', f));
const INPUTS = ['src', 'rollup.config.mjs', 'package.json', 'tsconfig.json'];

const newest = (path) => {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
};

/** Whether dist/ has to be (re)built. */
export function stale() {
  if (!OUTPUTS.every(existsSync)) return true;
  const built = Math.min(...OUTPUTS.map((f) => statSync(f).mtimeMs));
  return Math.max(...INPUTS.map((p) => newest(join(root, p)))) > built;
}

/** Runs the build when `stale()`; exits the process if it fails. */
export function ensureBuild(log = console.log) {
  if (!stale()) return;
  log('Building dist/ (first run or sources changed)...');
  const result = spawnSync(process.execPath, [join(root, 'node_modules/rollup/dist/bin/rollup'), '-c', '--silent'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}
