// createProxy checks every option once, at start-up, and names the option at fault (never echoing the key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy } from '../../dist/proxy.js';
import { API_KEY } from './helpers/proxy-key-watch.js';

const base = { apiKey: API_KEY, allowedOrigins: ['https://shop.example'] };

const throwsNaming = (options, type, option) =>
  assert.throws(
    () => createProxy(options),
    (error) => {
      assert.ok(error instanceof type, `${error.name}: ${error.message}`);
      assert.match(error.message, new RegExp(`option ${option.replace('.', '\\.')}\\b`));
      assert.ok(!error.message.includes(API_KEY.slice(0, 6)), 'the key must not be echoed');
      return true;
    },
  );

/** The handler `options` give answers: a preflight from `origin` gets its 204. */
async function assertAnswers(options, origin = 'https://shop.example') {
  const handle = createProxy(options);
  const preflight = new Request('http://proxy.test/api/profiles', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST' } });
  assert.equal((await handle(preflight)).status, 204, JSON.stringify(options));
}

test('the minimal options give a handler that answers', async () => {
  await assertAnswers(base);
});

test('a missing or empty apiKey throws at start-up', () => {
  throwsNaming({ allowedOrigins: base.allowedOrigins }, TypeError, 'apiKey');
  throwsNaming({ ...base, apiKey: '  ' }, TypeError, 'apiKey');
  throwsNaming({ ...base, apiKey: 42 }, TypeError, 'apiKey');
});

test('allowedOrigins is required, and must be exact origins or an explicit *', async () => {
  throwsNaming({ apiKey: API_KEY }, TypeError, 'allowedOrigins');
  throwsNaming({ ...base, allowedOrigins: [] }, TypeError, 'allowedOrigins');
  throwsNaming({ ...base, allowedOrigins: ['*'] }, TypeError, 'allowedOrigins');
  throwsNaming({ ...base, allowedOrigins: ['https://shop.example/'] }, TypeError, 'allowedOrigins');
  throwsNaming({ ...base, allowedOrigins: ['shop.example'] }, TypeError, 'allowedOrigins');
  throwsNaming({ ...base, allowedOrigins: ['https://Shop.example'] }, TypeError, 'allowedOrigins');
  throwsNaming({ ...base, allowedOrigins: ['null'] }, TypeError, 'allowedOrigins');
  throwsNaming({ ...base, allowedOrigins: 'https://shop.example' }, TypeError, 'allowedOrigins');
  await assertAnswers({ ...base, allowedOrigins: '*' }, 'https://any.example');
  await assertAnswers({ ...base, allowedOrigins: ['http://127.0.0.1:8080', 'https://shop.example'] }, 'http://127.0.0.1:8080');
});

test('numbers must be positive whole numbers, maxBatch at most the API cap of 500', async () => {
  throwsNaming({ ...base, maxBodyBytes: 0 }, RangeError, 'maxBodyBytes');
  throwsNaming({ ...base, maxBodyBytes: 1.5 }, RangeError, 'maxBodyBytes');
  throwsNaming({ ...base, maxBatch: 501 }, RangeError, 'maxBatch');
  throwsNaming({ ...base, timeoutMs: -1 }, RangeError, 'timeoutMs');
  throwsNaming({ ...base, timeoutMs: Infinity }, RangeError, 'timeoutMs');
  await assertAnswers({ ...base, maxBatch: 500, maxBodyBytes: 1 << 20, timeoutMs: 1 });
});

test('upstream must be an http(s) base URL', () => {
  throwsNaming({ ...base, upstream: 'ftp://api.zaius.com/v3' }, TypeError, 'upstream');
  throwsNaming({ ...base, upstream: 'not a url' }, TypeError, 'upstream');
  throwsNaming({ ...base, upstream: 'https://user:pass@api.zaius.com/v3' }, TypeError, 'upstream');
  throwsNaming({ ...base, upstream: 'https://api.zaius.com/v3?x=1' }, TypeError, 'upstream');
});

test('path must start with a slash', () => {
  throwsNaming({ ...base, path: 'api/profiles' }, TypeError, 'path');
});

test('allowedAttributes must be field names the profiles API accepts', async () => {
  throwsNaming({ ...base, allowedAttributes: [] }, TypeError, 'allowedAttributes');
  throwsNaming({ ...base, allowedAttributes: ['email', 'First-Name'] }, TypeError, 'allowedAttributes');
  throwsNaming({ ...base, allowedAttributes: ['email', 'zaius_id'] }, TypeError, 'allowedAttributes');
  throwsNaming({ ...base, allowedAttributes: ['email', 'constructor'] }, TypeError, 'allowedAttributes');
  throwsNaming({ ...base, allowedAttributes: ['email', 'prototype'] }, TypeError, 'allowedAttributes');
  await assertAnswers({ ...base, allowedAttributes: ['email', 'customer_id', 'loyalty_tier'] });
});

test('rateLimit takes limits, a RateLimiter or false, per budget or for all', async () => {
  throwsNaming({ ...base, rateLimit: { ip: { limit: 0, period: 60 } } }, RangeError, 'rateLimit.ip.limit');
  throwsNaming({ ...base, rateLimit: { global: { limit: 5 } } }, TypeError, 'rateLimit.global');
  throwsNaming({ ...base, rateLimit: { vuid: 'fast' } }, TypeError, 'rateLimit.vuid');
  throwsNaming({ ...base, rateLimit: 'on' }, TypeError, 'rateLimit');
  const limiter = { limit: async () => ({ success: true }) };
  for (const rateLimit of [false, limiter, { ip: limiter, vuid: false }, { global: { limit: 5, period: 1, maxKeys: 1 } }]) {
    await assertAnswers({ ...base, rateLimit });
  }
});

test('fetch, log and trustProxyHeader are checked too', () => {
  throwsNaming({ ...base, fetch: 'fetch' }, TypeError, 'fetch');
  throwsNaming({ ...base, log: console }, TypeError, 'log');
  throwsNaming({ ...base, trustProxyHeader: 'x real ip' }, TypeError, 'trustProxyHeader');
  throwsNaming({ ...base, trustProxyHeader: true }, TypeError, 'trustProxyHeader');
});

test('upstreamRps and coalesce are checked, with the one wording of option mistakes', () => {
  throwsNaming({ ...base, upstreamRps: 0 }, RangeError, 'upstreamRps');
  throwsNaming({ ...base, upstreamRps: 1001 }, RangeError, 'upstreamRps');
  throwsNaming({ ...base, coalesce: { maxRecords: 501 } }, RangeError, 'coalesce.maxRecords');
  throwsNaming({ ...base, coalesce: 'on' }, TypeError, 'coalesce');
  assert.throws(() => createProxy({ ...base, maxBatch: 501 }), { message: 'idcapture/proxy: option maxBatch must be a whole number from 1 to 500' });
});
