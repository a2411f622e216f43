#!/usr/bin/env node
// Runs a test command with what the selected engines need beside it: for WebKit, an Xvfb display (WebKitGTK's
// MiniBrowser has no headless mode) and a WebKitWebDriver on a free loopback port. Both are started in their own
// process groups and ended with everything they spawned when the command exits, fails, or this script is interrupted.
//
//   node test/with-browsers.js [--own-network] <command> [args...]
//
// --own-network runs the command in a fresh network namespace (loopback, and a veth pair with the default route) so a
// test can take the network away from WebKit, which WebDriver classic cannot: `ip route del default` turns
// navigator.onLine false. The tests learn they may do so from IDCAPTURE_OWN_NETWORK=1.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { selectedEngines, webkit } from './browsers.js';

const args = process.argv.slice(2);
const ownNetwork = args[0] == '--own-network';
if (ownNetwork) args.shift();
if (!args.length) {
  console.error('usage: node test/with-browsers.js [--own-network] <command> [args...]');
  process.exit(2);
}

const groups = new Set();
/** Signals a process group: the driver or Xvfb and everything it spawned. */
const signalGroup = (child, signal) => {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
};
/** Asks every group to end, then kills what is left after a moment. */
async function endAll() {
  const exited = [...groups].map((child) => new Promise((resolve) => child.on('exit', resolve)));
  for (const child of groups) signalGroup(child, 'SIGTERM');
  await Promise.race([Promise.all(exited), new Promise((resolve) => setTimeout(resolve, 3000))]);
  for (const child of groups) signalGroup(child, 'SIGKILL');
}
// Last resort should this script die on an error of its own.
process.on('exit', () => groups.forEach((child) => signalGroup(child, 'SIGKILL')));

/** The command under test, once started: interrupts go to its process group, and cleaning up waits for it to end. */
let command;
/** How long the command has to stop on an interrupt (browsers close, servers stop) before its group is killed. */
const GRACE_MS = 10_000;
/** False while the command is this script again, in a namespace: it must be left the time to clean up itself. */
let killAfterGrace = true;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (!command) return void endAll().then(() => process.exit(128 + constants.signals[signal]));
    signalGroup(command, signal);
    if (killAfterGrace) setTimeout(() => signalGroup(command, 'SIGKILL'), GRACE_MS).unref();
  });
}

/** Starts `command` in a process group of its own, so ending it ends its descendants too. */
const background = (file, argv, options = {}) => {
  const child = spawn(file, argv, { detached: true, stdio: 'ignore', ...options });
  groups.add(child);
  child.on('exit', () => groups.delete(child));
  return child;
};

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** An X display from Xvfb, which picks a free number itself and reports it on fd 3. */
const startXvfb = () =>
  new Promise((resolve, reject) => {
    const xvfb = background('Xvfb', ['-displayfd', '3', '-nolisten', 'tcp', '-screen', '0', '1280x1024x24'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    let out = '';
    xvfb.on('error', reject);
    xvfb.on('exit', (code) => reject(new Error(`Xvfb exited (${code}) before reporting a display`)));
    xvfb.stdio[3].on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
  });

async function startWebKitDriver(env) {
  const port = await freePort();
  const driver = background(webkit.driver, [`--port=${port}`, '--host=local'], { env });
  const url = `http://127.0.0.1:${port}`;
  const failed = new Promise((_, reject) => {
    driver.on('error', reject);
    driver.on('exit', (code) => reject(new Error(`WebKitWebDriver exited (${code}) before answering`)));
  });
  const ready = (async () => {
    for (let tries = 0; tries < 100; tries++) {
      const status = await fetch(`${url}/status`).then((r) => r.json(), () => undefined);
      if (status?.value?.ready) return url;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`WebKitWebDriver did not answer on ${url}`);
  })();
  return Promise.race([ready, failed]);
}

async function main() {
  const webkitRuns = selectedEngines().includes('webkit');
  if (ownNetwork && webkitRuns && process.env.IDCAPTURE_OWN_NETWORK != '1') {
    // Re-run this script inside a new network namespace; as a normal user, in a user namespace too.
    const unshare = process.getuid?.() === 0 ? ['-n'] : ['-rn'];
    // A veth pair stands in for a network card: Chromium counts as online only with a non-loopback address.
    const setup = [
      'ip link set lo up',
      'ip link add idc0 type veth peer name idc1',
      'ip link set idc1 up',
      'ip addr add 10.254.0.1/30 dev idc0',
      'ip link set idc0 up',
      'ip route add default dev idc0',
      'exec "$@"',
    ].join(' && ');
    const script = fileURLToPath(import.meta.url);
    killAfterGrace = false;
    return run('unshare', [...unshare, 'sh', '-c', setup, 'sh', process.execPath, script, '--own-network', ...args], {
      ...process.env,
      IDCAPTURE_OWN_NETWORK: '1',
    });
  }
  const env = { ...process.env };
  if (webkitRuns) {
    // Always a display of our own: no windows on a desktop, and none reachable from inside a network namespace.
    env.DISPLAY = await startXvfb();
    env.IDCAPTURE_WEBKIT_WEBDRIVER = await startWebKitDriver(env);
  }
  return run(args[0], args.slice(1), env);
}

/** Runs the command in the foreground; resolves its exit code. Interrupts are passed on, then cleaned up after. */
function run(file, argv, env) {
  return new Promise((resolve) => {
    // A group of its own, so an interrupt reaches every process of the command (npm does not pass SIGINT on).
    const child = (command = spawn(file, argv, { stdio: ['ignore', 'inherit', 'inherit'], env, detached: true }));
    child.on('error', (error) => (console.error(error.message), resolve(127)));
    child.on('exit', (code, signal) => resolve(code ?? 128 + (constants.signals[signal] ?? 0)));
  });
}

const code = await main().catch((error) => (console.error(`with-browsers: ${error.message}`), 1));
await endAll();
process.exit(code);
