// The idcapture-emulator command: starts, prints its URL, answers, and stops cleanly on a signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sendRaw } from './helpers/raw-http.js';

const CLI = fileURLToPath(new URL('../../dist/emulator-cli.js', import.meta.url));

/** Spawns the command and resolves the process and the first line it prints (rejecting if it exits first). */
function start(args) {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (chunk) => (err += chunk));
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, out, err })));
  const line = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    exited.then(({ code }) => reject(new Error(`exited with ${code}: ${err}`)));
  });
  line.catch(() => {}); // a test that expects the exit awaits `exited` instead
  return { child, line, exited };
}

test('the built command is a node script', () => {
  assert.match(readFileSync(CLI, 'utf8'), /^#!\/usr\/bin\/env node\n/);
});

const BOUNDED = { timeout: 10_000 };

test('idcapture-emulator --port 0 --api-key k prints its URL, serves with that key, stops on SIGTERM', BOUNDED, async () => {
  const { child, line, exited } = start(['--port', '0', '--api-key', 'cli.key', '--rate-limit', 'off', '--field', 'customer_id']);
  try {
    const url = (await line).match(/(http:\/\/127\.0\.0\.1:\d+\/v3)$/)?.[1];
    assert.ok(url, await line);
    const body = JSON.stringify([{ attributes: { customer_id: 'c1', first_name: 'Cli' } }]);
    const headers = { 'x-api-key': 'cli.key', 'content-type': 'application/json' };
    assert.equal((await fetch(`${url}/profiles`, { method: 'POST', headers, body })).status, 202);
    const got = await fetch(`${url}/profiles?customer_id=c1`, { headers });
    assert.equal((await got.json()).attributes.first_name, 'Cli');
    const forbidden = await fetch(`${url}/profiles?customer_id=c1`, { headers: { 'x-api-key': 'example.apiKey' } });
    assert.equal(forbidden.status, 403, 'only the given key is accepted');
    child.kill('SIGTERM');
    assert.deepEqual(await exited.then(({ code, signal }) => [code, signal]), [0, null]);
  } finally {
    child.kill('SIGKILL');
  }
});

test('it stops on SIGINT too, and refuses a bad option naming it', BOUNDED, async () => {
  const { child, line, exited } = start(['--port', '0']);
  await line;
  child.kill('SIGINT');
  assert.equal((await exited).code, 0);

  const bad = start(['--port', 'abc']);
  const { code, err } = await bad.exited;
  assert.equal(code, 1);
  assert.match(err, /port/);
});

test('--unknown-fields drop applies a record without its undeclared fields; a bad mode is named', BOUNDED, async () => {
  const { child, line, exited } = start(['--port', '0', '--rate-limit', 'off', '--unknown-fields', 'drop']);
  try {
    const url = (await line).match(/(http:\/\/127\.0\.0\.1:\d+\/v3)$/)[1];
    const body = JSON.stringify({ attributes: { email: 'cli@test.com', store_view: 'en_US' } });
    const headers = { 'x-api-key': 'example.apiKey', 'content-type': 'application/json' };
    const response = await fetch(`${url}/profiles`, { method: 'POST', headers, body });
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('x-emulator-dropped-fields'), 'store_view');
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  const bad = await start(['--port', '0', '--unknown-fields', 'ignore']).exited;
  assert.equal(bad.code, 1);
  assert.match(bad.err, /unknownFields/);
});

test('--headers-timeout-ms and --body-timeout-ms set the deadlines', BOUNDED, async () => {
  // One small deadline per process, so a stall on a busy machine cannot make the other one expire first.
  for (const [flag, request, message] of [
    ['--headers-timeout-ms', 'GET /v3/profiles?email=a@test.com HTTP/1.1\r\nHost: x\r\n', 'headers not received within 50 ms'],
    ['--body-timeout-ms', 'POST /v3/profiles HTTP/1.1\r\nHost: x\r\nx-api-key: example.apiKey\r\ncontent-length: 9\r\n\r\n[', 'body not received within 50 ms'],
  ]) {
    const { child, line, exited } = start(['--port', '0', flag, '50']);
    try {
      const url = (await line).match(/(http:\/\/127\.0\.0\.1:\d+\/v3)$/)[1];
      const answer = await sendRaw(url, request);
      assert.equal(answer.status, 408, flag);
      assert.match(answer.body, new RegExp(message), flag);
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }
});

test('--help prints the usage', BOUNDED, async () => {
  const { out, code } = await start(['--help']).exited;
  assert.equal(code, 0);
  assert.match(out, /Usage: idcapture-emulator/);
});
