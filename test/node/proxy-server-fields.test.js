// Issue 11: ccpa_opted_out and the data_source fields are default customer fields the emulator (like ODP) accepts,
// but a browser has no business setting them: the proxy's default allowlist leaves them out, and a site that wants
// them lists them. Checked end to end, whatever the proxy does with a name outside its list (refuse or remove).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy } from '../../dist/proxy.js';
import { startEmulator } from '../../dist/emulator.js';
import { ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

const KEY = 'example.apiKey';
const SERVER_FIELDS = {
  ccpa_opted_out: false,
  data_source: 'idcapture',
  data_source_type: 'sdk',
  data_source_details: 'form',
  data_source_instance: 'shop.example',
  data_source_version: '0.1.0',
};
let running;

before(async () => {
  running = await startEmulator({ rateLimit: false });
});
beforeEach(() => running.emulator.reset());
after(() => running.close());

const send = (options, attributes) =>
  createProxy({ apiKey: KEY, allowedOrigins: [ORIGIN], upstream: running.url, rateLimit: false, verify: false, ...options })(
    new Request(`http://proxy.test${PATH}`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/json' },
      body: JSON.stringify([{ attributes }]),
    }),
    { clientIp: '203.0.113.9' },
  );

test('with the default allowlist, none of them reaches the profiles API', async () => {
  for (const [name, value] of Object.entries(SERVER_FIELDS)) {
    running.emulator.reset();
    await send({}, { vuid: VUID, email: 'a@test.com', [name]: value });
    for (const profile of running.emulator.profiles()) assert.equal(name in profile, false, name);
  }
});

test('a site that lists them gets them stored', async () => {
  const allowedAttributes = ['vuid', 'email', ...Object.keys(SERVER_FIELDS)];
  const response = await send({ allowedAttributes }, { vuid: VUID, email: 'a@test.com', ...SERVER_FIELDS });
  assert.equal(response.status, 202, await response.text());
  const [profile] = running.emulator.profiles();
  for (const [name, value] of Object.entries(SERVER_FIELDS)) assert.equal(profile[name], value, name);
});
