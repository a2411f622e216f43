// The proxy handler called directly with `new Request(...)`, against a recording upstream on 127.0.0.1.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createProxy } from '../../dist/proxy.js';
import { startUpstream } from './helpers/proxy-upstream.js';
import { manualClock } from './helpers/clocks.js';
import { keyWatch, API_KEY } from './helpers/proxy-key-watch.js';
import { cases, checkAnswer, headersOf, ORIGIN, PATH, VUID } from './helpers/proxy-cases.js';

const IP = '203.0.113.7';
const watch = keyWatch();
const logs = [];
let upstream;

before(async () => {
  upstream = await startUpstream();
});
after(() => upstream.close());

const proxy = (options = {}) =>
  createProxy({
    apiKey: API_KEY,
    allowedOrigins: [ORIGIN],
    upstream: upstream.url,
    rateLimit: false,
    // The pipeline table pins every step with whole records: identity is proxy-verify.test.js's (verify: false).
    verify: false,
    log: (entry) => {
      logs.push(entry);
      watch.text(JSON.stringify(entry));
    },
    ...options,
  });

const request = (c) =>
  new Request(`http://proxy.test${c.path ?? PATH}`, { method: c.method ?? 'POST', headers: headersOf(c), body: c.body, duplex: 'half' });

const send = async (handle, c, ctx = { clientIp: IP }) => watch.response(await handle(request(c), ctx));

const valid = (attributes = {}, headers = {}) => ({
  headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers },
  body: JSON.stringify([{ attributes: { vuid: VUID, email: 'sample@test.com', ...attributes } }]),
});

const bodyOf = async (response) => JSON.parse(await response.text());

describe('the pipeline, step by step', () => {
  let handle;
  before(() => {
    handle = proxy();
  });
  for (const c of cases) {
    test(c.name, async () => {
      upstream.reset();
      await checkAnswer(assert, c, await send(handle, c), upstream.requests.length);
    });
  }

  test('a body that is not UTF-8 is refused as unparsable', async () => {
    upstream.reset();
    const c = { ...valid(), body: new Uint8Array([0x5b, 0xff, 0xfe, 0x5d]) };
    const response = await send(handle, c);
    assert.equal(response.status, 400);
    assert.equal((await bodyOf(response)).detail.reason, 'invalid_json');
    assert.equal(upstream.requests.length, 0);
  });

  test("'*' lets any origin post and echoes it", async () => {
    upstream.reset();
    const open = proxy({ allowedOrigins: '*' });
    const response = await send(open, valid({}, { origin: 'https://anywhere.example' }));
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('access-control-allow-origin'), 'https://anywhere.example');
    assert.equal((await send(open, valid({}, { origin: undefined }))).status, 202);
  });

  test('a refused origin is named in the log entry, so the fix (allowedOrigins) is plain; other entries name none', async () => {
    const handle = proxy();
    logs.length = 0;
    assert.equal((await send(handle, valid({}, { origin: 'http://localhost:5173' }))).status, 403);
    assert.deepEqual([logs.at(-1).reason, logs.at(-1).origin], ['origin_not_allowed', 'http://localhost:5173']);
    await send(handle, valid({}, { origin: undefined }));
    assert.deepEqual([logs.at(-1).reason, logs.at(-1).origin], ['origin_not_allowed', '(none)']);
    // A header of any length is cut, as a log line should be.
    await send(handle, valid({}, { origin: `https://${'a'.repeat(500)}.example` }));
    assert.equal(logs.at(-1).origin.length, 100);
    await send(handle, valid());
    assert.ok(!('origin' in logs.at(-1)));
  });
});

describe('the upstream request', () => {
  test('carries only the content type and the key, and a body rebuilt from the validated records', async () => {
    upstream.reset();
    const attributes = { vuid: VUID, email: 'sample@test.com', first_name: 'Johnny', dob_year: 1990, phone: null };
    const response = await send(proxy(), {
      headers: {
        origin: ORIGIN,
        'content-type': 'application/json',
        cookie: 'session=abc; vuid=x',
        authorization: 'Bearer client-token',
        'x-api-key': 'client-supplied-key',
        'x-forwarded-for': '6.6.6.6',
        'cf-connecting-ip': '6.6.6.6',
        'x-real-ip': '6.6.6.6',
        forwarded: 'for=6.6.6.6',
        referer: 'https://shop.example/checkout',
        'x-custom': '1',
      },
      // Whitespace and a single object: what goes upstream is our own serialisation of the array form.
      body: `  {"attributes": ${JSON.stringify(attributes, null, 2)}}  `,
    });
    assert.equal(response.status, 202);
    assert.equal(upstream.requests.length, 1);
    const [sent] = upstream.requests;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.url, '/v3/profiles');
    assert.equal(sent.headers['x-api-key'], API_KEY);
    assert.equal(sent.headers['content-type'], 'application/json');
    for (const name of ['cookie', 'authorization', 'x-forwarded-for', 'cf-connecting-ip', 'x-real-ip', 'forwarded', 'referer', 'origin', 'x-custom']) {
      assert.equal(sent.headers[name], undefined, `${name} must not reach the upstream`);
    }
    assert.equal(sent.body, JSON.stringify([{ attributes }]));
  });

  test('an upstream 2xx other than 202 is answered 202', async () => {
    upstream.reset();
    upstream.setReply((req, res) => res.writeHead(200).end('{"ok":true}'));
    const response = await send(proxy(), valid());
    assert.equal(response.status, 202);
    assert.deepEqual(Object.keys(await bodyOf(response)).sort(), ['status', 'timestamp', 'title']);
  });

  test('an upstream 429 is answered 503 with its Retry-After, without an inline retry', async () => {
    upstream.reset();
    upstream.setReply((req, res) => res.writeHead(429, { 'retry-after': '7' }).end('{"message":"Too Many Requests"}'));
    const response = await send(proxy(), valid());
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '7');
    assert.equal(response.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal((await bodyOf(response)).detail.reason, 'upstream_busy');
    assert.equal(upstream.requests.length, 1);
  });

  test('an upstream 429 with a junk Retry-After still gets a sane one', async () => {
    upstream.reset();
    upstream.setReply((req, res) => res.writeHead(429, { 'retry-after': 'soon; x-api-key=oops' }).end());
    const response = await send(proxy(), valid());
    assert.equal(response.status, 503);
    assert.equal(response.headers.get('retry-after'), '1');
  });

  test('an upstream 429 with an HTTP-date Retry-After is answered with the seconds until then, coalescing or not', async () => {
    for (const coalesce of [undefined, false]) {
      upstream.reset();
      // Thirty seconds ahead; the date has whole seconds, so the wait left is between 29 and 30 seconds, less the time
      // the request takes (far below the 10 s of slack).
      const until = new Date(Date.now() + 30_000).toUTCString();
      upstream.setReply((req, res) => res.writeHead(429, { 'retry-after': until }).end());
      const response = await send(proxy({ coalesce }), valid());
      assert.equal(response.status, 503);
      const seconds = Number(response.headers.get('retry-after'));
      assert.ok(seconds >= 20 && seconds <= 30, `coalesce ${coalesce}: Retry-After ${seconds}`);
    }
  });

  test('an upstream 429 with a past HTTP-date Retry-After is answered with the shortest wait', async () => {
    for (const coalesce of [undefined, false]) {
      upstream.reset();
      upstream.setReply((req, res) => res.writeHead(429, { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }).end());
      const response = await send(proxy({ coalesce }), valid());
      assert.equal(response.headers.get('retry-after'), '1', `coalesce ${coalesce}`);
    }
  });

  test('a persistent upstream 503 is answered alike coalescing or not: one retry after its Retry-After, then 503 with it', async () => {
    const seen = [];
    for (const coalesce of [{ maxWaitMs: 0 }, false]) {
      upstream.reset();
      logs.length = 0;
      upstream.setReply((req, res) => res.writeHead(503, { 'retry-after': '3' }).end());
      const clock = manualClock();
      const answer = send(proxy({ clock, coalesce }), valid());
      // The retry waits for the pace's hold, on the proxy's clock.
      await clock.asleep((ms) => ms == 3000);
      assert.equal(upstream.requests.length, 1, `coalesce ${JSON.stringify(coalesce)}: sent again before Retry-After had passed`);
      await clock.advance(3000);
      const response = await answer;
      const { reason, upstreamStatus, attempts } = logs.at(-1);
      const { detail } = await bodyOf(response);
      seen.push({ status: response.status, retryAfter: response.headers.get('retry-after'), detail: detail.reason, reason, upstreamStatus, attempts, sent: upstream.requests.length });
    }
    assert.deepEqual(seen[0], { status: 503, retryAfter: '3', detail: 'upstream_busy', reason: 'upstream_busy', upstreamStatus: 503, attempts: 2, sent: 2 });
    assert.deepEqual(seen[1], seen[0], 'coalesce: false answers as coalescing does');
  });

  test('an upstream 503 is retried once, and the retry that succeeds is answered 202', async () => {
    upstream.reset();
    upstream.setReply((req, res, n) => res.writeHead(n == 1 ? 503 : 202).end());
    const response = await send(proxy(), valid());
    assert.equal(response.status, 202);
    assert.equal(upstream.requests.length, 2);
    assert.equal(upstream.requests[1].body, upstream.requests[0].body);
  });

  test('an upstream 502 twice is answered 502 after exactly one retry', async () => {
    upstream.reset();
    upstream.setReply((req, res) => res.writeHead(502).end(`bad gateway for key ${API_KEY}`));
    const response = await send(proxy(), valid());
    assert.equal(response.status, 502);
    assert.equal((await bodyOf(response)).detail.reason, 'upstream_error');
    assert.equal(upstream.requests.length, 2);
  });

  test('an upstream 500 is answered 502 without retry, its body and headers not relayed', async () => {
    upstream.reset();
    upstream.setReply((req, res) =>
      res.writeHead(500, { 'set-cookie': 'up=1', 'x-upstream-secret': API_KEY }).end(`{"error":"db down","key":"${API_KEY}"}`),
    );
    const response = await send(proxy(), valid());
    assert.equal(response.status, 502);
    assert.equal(response.headers.get('set-cookie'), null);
    assert.equal(response.headers.get('x-upstream-secret'), null);
    assert.doesNotMatch(await response.text(), /db down/);
    assert.equal(upstream.requests.length, 1);
  });

  test('an upstream 403 (a bad key) is answered 502', async () => {
    upstream.reset();
    upstream.setReply((req, res) => res.writeHead(403).end('{"message":"Forbidden"}'));
    const response = await send(proxy(), valid());
    assert.equal(response.status, 502);
    assert.equal((await bodyOf(response)).detail.reason, 'upstream_rejected');
    assert.equal(upstream.requests.length, 1);
  });

  test('an upstream 400 naming records is answered 400 with their indices only, so the client drops just those', async () => {
    for (const coalesce of [undefined, false]) {
      upstream.reset();
      upstream.setReply((req, res) =>
        res.writeHead(400).end('{"detail":{"invalids":[{"event":0,"message":"upstream secret words"},{"event":0},{"event":7},{"event":"0"}]}}'),
      );
      const response = await send(proxy({ coalesce }), valid());
      assert.equal(response.status, 400, `coalesce ${coalesce}`);
      const body = await bodyOf(response);
      assert.equal(body.detail.reason, 'upstream_invalid');
      assert.deepEqual(body.detail.invalids, [{ event: 0, message: 'refused by the profiles API' }]);
      assert.doesNotMatch(JSON.stringify(body), /secret/);
    }
  });

  test('an upstream 400 that names no record of the batch is answered 502, not passed to the browser as its fault', async () => {
    for (const reply of ['{"detail":{"invalids":[{"event":5}]}}', '{"detail":{"message":"no"}}', 'not json']) {
      upstream.reset();
      upstream.setReply((req, res) => res.writeHead(400).end(reply));
      const response = await send(proxy(), valid());
      assert.equal(response.status, 502, reply);
      assert.equal((await bodyOf(response)).detail.invalids, undefined);
    }
  });

  test('an upstream redirect is not followed', async () => {
    for (const coalesce of [undefined, false]) {
      upstream.reset();
      upstream.setReply((req, res) => res.writeHead(307, { location: `${upstream.url}/elsewhere` }).end());
      const response = await send(proxy({ coalesce }), valid());
      assert.equal(response.status, 502, `coalesce ${coalesce}`);
      assert.equal(upstream.requests.length, 1);
    }
  });

  test('an upstream slower than timeoutMs is answered 504 once timeoutMs has passed on the proxy\'s clock', async () => {
    // maxWaitMs 0 (or no coalescing): the batch leaves at once, so the only time to move is the deadline's.
    for (const coalesce of [{ maxWaitMs: 0 }, false]) {
      upstream.reset();
      let arrived;
      const held = new Promise((resolve) => (arrived = resolve));
      // The upstream holds its answer until the request is given up on.
      upstream.setReply((req, res) => arrived(res));
      const clock = manualClock();
      let answered = false;
      const answer = send(proxy({ clock, coalesce }), valid()).finally(() => {
        answered = true;
      });
      const reply = await held;
      await clock.advance(9_999);
      assert.equal(answered, false, 'answered before the deadline');
      await clock.advance(1);
      const response = await answer;
      assert.equal(response.status, 504);
      assert.equal((await bodyOf(response)).detail.reason, 'upstream_timeout');
      assert.equal(upstream.requests.length, 1);
      // The proxy abandoned the upstream request: its connection closes.
      await new Promise((resolve) => (reply.destroyed ? resolve() : reply.once('close', resolve)));
    }
  });

  test('an unreachable upstream is answered 502 after one retry', async () => {
    let calls = 0;
    const response = await send(
      proxy({ fetch: (url, init) => (calls++, fetch('http://127.0.0.1:1/v3/profiles', init)) }),
      valid(),
    );
    assert.equal(response.status, 502);
    assert.equal(calls, 2);
  });

  test('a custom fetch receives the upstream URL and the fresh request', async () => {
    const seen = [];
    const handle = proxy({ upstream: 'https://api.eu1.odp.example/v3/', fetch: async (url, init) => (seen.push({ url, init }), new Response(null, { status: 202 })) });
    assert.equal((await send(handle, valid())).status, 202);
    assert.equal(seen[0].url, 'https://api.eu1.odp.example/v3/profiles');
    assert.deepEqual(seen[0].init.headers, { accept: 'application/json', 'content-type': 'application/json', 'x-api-key': API_KEY });
    assert.equal(seen[0].init.redirect, 'manual');
  });
});

describe('rate limits', () => {
  const ok = (fetchCalls) => async () => (fetchCalls.push(1), new Response(null, { status: 202 }));

  test('the per-IP budget answers 429 with Retry-After, other IPs go on', async () => {
    const handle = proxy({ rateLimit: { ip: { limit: 2, period: 60 }, vuid: false, global: false }, fetch: ok([]) });
    assert.equal((await send(handle, valid())).status, 202);
    assert.equal((await send(handle, valid())).status, 202);
    const refused = await send(handle, valid());
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After ${retryAfter}`);
    assert.equal(refused.headers.get('access-control-allow-origin'), ORIGIN);
    assert.equal(refused.headers.get('access-control-expose-headers'), 'Retry-After');
    assert.equal((await bodyOf(refused)).detail.reason, 'rate_limited');
    assert.equal((await send(handle, valid(), { clientIp: '198.51.100.1' })).status, 202);
  });

  test('the per-IP budget is checked before the body is read', async () => {
    const handle = proxy({ rateLimit: { ip: { limit: 1, period: 60 }, vuid: false, global: false }, fetch: ok([]) });
    await send(handle, valid());
    let pulls = 0;
    const body = new ReadableStream({ pull: (c) => (pulls++, c.enqueue(new TextEncoder().encode('[]'))) });
    const response = await send(handle, { ...valid(), body });
    assert.equal(response.status, 429);
    assert.ok(pulls <= 1, `pulled ${pulls} times`);
  });

  test('the per-vuid budget counts each vuid in the batch', async () => {
    const handle = proxy({ rateLimit: { ip: false, vuid: { limit: 1, period: 60 }, global: false }, fetch: ok([]) });
    assert.equal((await send(handle, valid())).status, 202);
    const refused = await send(handle, valid());
    assert.equal(refused.status, 429);
    assert.equal((await send(handle, valid({ vuid: 'f'.repeat(32) }))).status, 202);
  });

  test('the global budget caps what reaches the upstream, and refused junk does not spend it', async () => {
    const calls = [];
    const handle = proxy({ coalesce: false, rateLimit: { ip: false, vuid: false, global: { limit: 2, period: 1 } }, fetch: ok(calls) });
    for (let i = 0; i < 5; i++) assert.equal((await send(handle, { ...valid(), body: '[{}]' })).status, 400);
    assert.equal((await send(handle, valid())).status, 202);
    assert.equal((await send(handle, valid())).status, 202);
    const refused = await send(handle, valid());
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal(calls.length, 2);
  });

  test('without coalescing, a browser request spends the global budget once: its retry is paced, not refused', async () => {
    let calls = 0;
    const handle = proxy({
      coalesce: false,
      rateLimit: { ip: false, vuid: false, global: { limit: 1, period: 60 } },
      fetch: async () => (calls++, new Response(null, { status: 503 })),
    });
    assert.equal((await send(handle, valid())).status, 503);
    assert.equal(calls, 2);
    assert.equal((await send(handle, valid())).status, 429);
    assert.equal(calls, 2);
  });

  test('one RateLimiter for all budgets receives prefixed keys; coalescing paces instead of the global budget', async () => {
    const keys = [];
    const limiter = { limit: async ({ key }) => (keys.push(key), { success: true }) };
    assert.equal((await send(proxy({ coalesce: false, rateLimit: limiter, fetch: ok([]) }), valid())).status, 202);
    assert.deepEqual(keys, [`ip:${IP}`, `vuid:${VUID}`, 'global']);
    keys.length = 0;
    assert.equal((await send(proxy({ rateLimit: limiter, fetch: ok([]) }), valid())).status, 202);
    assert.deepEqual(keys, [`ip:${IP}`, `vuid:${VUID}`]);
  });

  test('a limiter that refuses without a delay (a Cloudflare binding) gives Retry-After 10', async () => {
    const limiter = { limit: async () => ({ success: false }) };
    const refused = await send(proxy({ rateLimit: { ip: limiter } }), valid());
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '10');
  });

  test('a limiter that throws is answered 500 with the fixed body', async () => {
    const limiter = { limit: async () => Promise.reject(new Error(`store down ${API_KEY}`)) };
    const response = await send(proxy({ rateLimit: limiter }), valid());
    assert.equal(response.status, 500);
    assert.equal((await bodyOf(response)).detail.reason, 'internal_error');
  });

  test('the default budgets apply when rateLimit is not given', async () => {
    // A pace far above the budget, so that only the budget, not the time the pace takes, decides.
    const handle = proxy({ coalesce: false, rateLimit: undefined, upstreamRps: 1000, fetch: ok([]) });
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push((await send(handle, valid({ vuid: i.toString(16).padStart(32, '0') }))).status);
    // The global default is 8 per second.
    assert.deepEqual(statuses, [...Array(8).fill(202), 429, 429]);
  });

  test('without a client IP from the adapter the per-IP budget is not applied', async () => {
    const handle = proxy({ rateLimit: { ip: { limit: 1, period: 60 }, vuid: false, global: false }, fetch: ok([]) });
    assert.equal((await send(handle, valid(), {})).status, 202);
    assert.equal((await send(handle, valid(), undefined)).status, 202);
  });

  test('client IP headers are ignored unless trustProxyHeader names one', async () => {
    const keys = [];
    const limiter = { limit: async ({ key }) => (keys.push(key), { success: true }) };
    const spoofed = valid({}, { 'x-forwarded-for': '6.6.6.6', 'cf-connecting-ip': '6.6.6.6', 'x-real-ip': '6.6.6.6' });
    await send(proxy({ rateLimit: { ip: limiter, vuid: false, global: false }, fetch: ok([]) }), spoofed);
    assert.deepEqual(keys, [`ip:${IP}`]);
    keys.length = 0;
    const trusting = proxy({ rateLimit: { ip: limiter, vuid: false, global: false }, fetch: ok([]), trustProxyHeader: 'X-Forwarded-For' });
    await send(trusting, valid({}, { 'x-forwarded-for': '6.6.6.6, 192.0.2.5' }));
    assert.deepEqual(keys, ['ip:192.0.2.5']);
  });
});

describe('the body limit', () => {
  test('a streamed body is refused as soon as it passes maxBodyBytes, and its stream is cancelled', async () => {
    let pulls = 0;
    let cancelled = false;
    const chunk = new TextEncoder().encode(`[${'1,'.repeat(8191)}`);
    const body = new ReadableStream({
      pull: (c) => (pulls++, c.enqueue(chunk)),
      cancel: () => {
        cancelled = true;
      },
    });
    const response = await send(proxy({ maxBodyBytes: 40_000 }), { ...valid(), body });
    assert.equal(response.status, 413);
    assert.ok(pulls <= 7, `pulled ${pulls} chunks of 16 KiB`);
    assert.ok(cancelled);
  });

  test('a body exactly at maxBodyBytes is read', async () => {
    const body = JSON.stringify([{ attributes: { vuid: VUID } }]);
    const handle = proxy({ maxBodyBytes: body.length, fetch: async () => new Response(null, { status: 202 }) });
    assert.equal((await send(handle, { ...valid(), body })).status, 202);
    assert.equal((await send(handle, { ...valid(), body: `${body} ` })).status, 413);
  });
});

describe('attributes outside allowedAttributes', () => {
  test("cost only themselves: README's customer_id example reaches the API with its email, and the answer names what went", async () => {
    upstream.reset();
    logs.length = 0;
    const response = await send(proxy(), valid({ customer_id: 'c-42', first_name: 'Johnny', loyalty_tier: 'gold' }));
    assert.equal(response.status, 202);
    const { detail } = await bodyOf(response);
    assert.equal(detail.reason, 'accepted');
    assert.deepEqual(detail.removed, ['customer_id', 'loyalty_tier']);
    assert.match(detail.message, /allowedAttributes/);
    const [forwarded] = upstream.requests.map((r) => JSON.parse(r.body));
    assert.deepEqual(forwarded, [{ attributes: { vuid: VUID, email: 'sample@test.com', first_name: 'Johnny' } }]);
    assert.deepEqual(logs.at(-1).removed, ['customer_id', 'loyalty_tier']);
    assert.deepEqual(logs.at(-1).attributes, ['vuid', 'email', 'first_name']);
  });

  test('are kept when allowedAttributes lists them', async () => {
    upstream.reset();
    logs.length = 0;
    const response = await send(proxy({ allowedAttributes: ['vuid', 'email', 'customer_id'] }), valid({ customer_id: 'c-42' }));
    assert.equal(response.status, 202);
    assert.deepEqual(Object.keys(await bodyOf(response)).sort(), ['status', 'timestamp', 'title']);
    assert.equal(JSON.parse(upstream.requests[0].body)[0].attributes.customer_id, 'c-42');
    assert.equal(logs.at(-1).removed, undefined);
  });

  test('are named once across a batch, and a bad value beside them still refuses only its record', async () => {
    upstream.reset();
    const body = JSON.stringify([
      { attributes: { vuid: VUID, customer_id: 'c-1' } },
      { attributes: { vuid: VUID, customer_id: 'c-2', city: { name: 'Oslo' } } },
    ]);
    const response = await send(proxy(), { ...valid(), body });
    assert.equal(response.status, 400);
    assert.deepEqual((await bodyOf(response)).detail.invalids.map((i) => i.event), [1]);
    upstream.reset();
    const twice = JSON.stringify([{ attributes: { vuid: VUID, customer_id: 'c-1' } }, { attributes: { email: 'b@test.com', customer_id: 'c-2' } }]);
    const accepted = await send(proxy(), { ...valid(), body: twice });
    assert.deepEqual((await bodyOf(accepted)).detail.removed, ['customer_id']);
    assert.deepEqual(JSON.parse(upstream.requests[0].body), [{ attributes: { vuid: VUID } }, { attributes: { email: 'b@test.com' } }]);
  });
});

describe('the log hook', () => {
  test('gets status, reason, latency and attribute names, never values or the key', async () => {
    logs.length = 0;
    const handle = proxy({ fetch: async () => new Response(null, { status: 202 }) });
    await send(handle, valid({ first_name: 'Johnny' }));
    await send(handle, { ...valid(), body: '[{"attributes":{"email":"secret-person@test.com"}},{}]' });
    const [accepted, refused] = logs;
    assert.equal(accepted.status, 202);
    assert.equal(accepted.reason, 'accepted');
    assert.equal(typeof accepted.latencyMs, 'number');
    assert.deepEqual(accepted.attributes, ['vuid', 'email', 'first_name']);
    assert.equal(accepted.records, 1);
    assert.equal(accepted.upstreamStatus, 202);
    assert.equal(refused.reason, 'invalid_records');
    assert.equal(refused.invalidRecords, 1);
    assert.doesNotMatch(JSON.stringify(logs), /sample@test\.com|secret-person|Johnny|203\.0\.113/);
  });

  test('a log hook that throws does not change the answer', async () => {
    const handle = proxy({ fetch: async () => new Response(null, { status: 202 }), log: () => {
      throw new Error('log down');
    } });
    assert.equal((await send(handle, valid())).status, 202);
  });
});

test('the key appears in no answer, header or log entry of this suite', () => {
  assert.ok(watch.count > 80, `only ${watch.count} answers seen`);
  watch.assertClean();
});
