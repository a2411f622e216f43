// `ZAIUS_API_KEY=... npm run demo`: the same server in front of a real API instead of the embedded emulator. Here the
// "real API" is an emulator on its own loopback port that accepts only the given key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../dist/emulator.js';
import { startDemo } from '../helpers/demo.js';

const KEY = 'demo-account.s3cr3t-private-key';
const VUID = '0123456789abcdef0123456789abcdef';
let api, demo;
/** Every answer the demo gave, headers and body, to look for the key in. */
const seen = [];

before(async () => {
  api = await startEmulator({ apiKeys: [KEY] });
  demo = await startDemo({ ZAIUS_API_KEY: KEY, ZAIUS_API_URL: api.url });
});
after(async () => {
  await demo?.stop();
  await api?.close();
});

async function call(path, init) {
  const response = await fetch(`${demo.url}${path}`, init);
  const body = await response.text();
  seen.push(`${[...response.headers].join('\n')}\n${body}`);
  return { status: response.status, body };
}

test('the start-up message names the API it talks to, not the emulator', () => {
  assert.match(demo.output(), new RegExp(`upstream: ${api.url.replace(/[.]/g, '\\.')} \\(ZAIUS_API_KEY is set`));
  assert.ok(!demo.output().includes(KEY), 'the key is not printed');
});

test('the proxy forwards to ZAIUS_API_URL with the key, and the server client reads the profile back', async () => {
  const posted = await call('/api/profiles', {
    method: 'POST',
    headers: { origin: demo.url, 'content-type': 'application/json' },
    // Anonymous (no identity token): the unverified policy lets an email and the names through.
    body: JSON.stringify([{ attributes: { email: 'api@test.com', first_name: 'Api' } }]),
  });
  assert.equal(posted.status, 202);
  assert.equal(api.emulator.profiles()[0].first_name, 'Api');
  // The profile view answers for the signed-in identity only (issue 22): sign in, then read with the session cookie.
  const login = await fetch(`${demo.url}/demo/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"api@test.com"}' });
  const session = login.headers.get('set-cookie').split(';')[0];
  const read = await call('/demo/profile', { headers: { cookie: session } });
  assert.equal(JSON.parse(read.body).profile.first_name, 'Api');
});

test('no fault injection and no emulator paths against a real API', async () => {
  const faults = await call('/demo/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"preset":"errors"}' });
  assert.equal(faults.status, 409);
  assert.equal((await call('/__emulator/profiles')).status, 404);
  assert.equal(JSON.parse((await call('/demo/status')).body).faults, null);
});

test('the key appears in no byte the browser receives', async () => {
  for (const path of ['/', '/register.html', '/checkout.html', '/spa.html', '/idcapture.js', '/idcapture.debug.js', '/assets/inspector.js', '/demo/status']) await call(path);
  await call('/api/profiles', { method: 'POST', headers: { origin: demo.url, 'content-type': 'application/json' }, body: '[{"attributes":{}}]' });
  assert.ok(seen.length >= 10);
  for (const answer of seen) assert.ok(!answer.includes(KEY) && !answer.includes('s3cr3t'));
});

test('another host name is refused, so a rebound DNS name cannot read profiles through the demo', async () => {
  const { request } = await import('node:http');
  const status = await new Promise((resolve, reject) => {
    const req = request(`${demo.url}/demo/profile`, { headers: { host: 'attacker.example', cookie: `vuid=${VUID}` } }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on('error', reject).end();
  });
  assert.equal(status, 421);
});

test('a malformed request target is answered 400 and the server keeps serving', async () => {
  const { connect } = await import('node:net');
  const { port } = new URL(demo.url);
  const answer = await new Promise((resolve, reject) => {
    const socket = connect(+port, '127.0.0.1', () => socket.end(`GET http://[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('end', () => resolve(text)).on('error', reject);
  });
  assert.match(answer, /^HTTP\/1\.1 400/);
  assert.equal((await call('/demo/status')).status, 200);
});
