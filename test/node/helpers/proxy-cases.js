// The request table every adapter is checked against: one line per pipeline step, good and bad.
export const ORIGIN = 'https://shop.example';
export const VUID = '0123456789abcdef0123456789abcdef';
export const PATH = '/api/profiles';

const record = (attributes) => ({ attributes: { vuid: VUID, ...attributes } });
const json = (value) => JSON.stringify(value);
const post = (body, headers = {}) => ({
  method: 'POST',
  headers: { origin: ORIGIN, 'content-type': 'application/json', ...headers },
  body: typeof body == 'string' ? body : json(body),
});

/**
 * Each case: a request (`method`, `path`, `headers`, `body`) and what must come back: `status`, the `reason` code
 * (undefined for 202 and 204), the attribute names an accepted batch had `removed`, whether CORS headers are present, and how many requests reach the upstream.
 */
export const cases = [
  // 1. Route
  { name: 'a valid batch is accepted', ...post([record({ email: 'sample@test.com', first_name: 'Johnny' })]), status: 202, upstream: 1 },
  { name: 'a single record object is accepted', ...post(record({ email: 'one@test.com' })), status: 202, upstream: 1 },
  { name: 'a full batch of 100 is accepted', ...post(Array.from({ length: 100 }, (_, i) => record({ email: `u${i}@test.com` }))), status: 202, upstream: 1 },
  { name: 'GET is refused with Allow', method: 'GET', headers: { origin: ORIGIN }, status: 405, reason: 'method_not_allowed', allow: 'POST, OPTIONS' },
  { name: 'PUT is refused with Allow', ...post([record({})]), method: 'PUT', status: 405, reason: 'method_not_allowed', allow: 'POST, OPTIONS' },
  { name: 'DELETE is refused', method: 'DELETE', headers: { origin: ORIGIN }, status: 405, reason: 'method_not_allowed' },
  { name: 'another path is not found', ...post([record({})]), path: '/api/profiles/x', status: 404, reason: 'not_found' },
  { name: 'a path with a query still routes', ...post([record({})]), path: `${PATH}?a=1`, status: 202, upstream: 1 },
  // 2. Origin and preflight
  {
    name: 'a preflight from an allowed origin gets 204 with CORS headers',
    method: 'OPTIONS',
    headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    status: 204,
    preflight: true,
  },
  { name: 'a preflight from another origin is refused', method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' }, status: 403, reason: 'origin_not_allowed' },
  { name: 'a POST from another origin is refused without CORS headers', ...post([record({})], { origin: 'https://evil.example' }), status: 403, reason: 'origin_not_allowed' },
  { name: 'a POST without Origin is refused', ...post([record({})], { origin: undefined }), status: 403, reason: 'origin_not_allowed' },
  { name: 'the null origin is refused', ...post([record({})], { origin: 'null' }), status: 403, reason: 'origin_not_allowed' },
  { name: 'an origin differing only by port is refused', ...post([record({})], { origin: 'https://shop.example:8443' }), status: 403, reason: 'origin_not_allowed' },
  { name: 'an origin differing only by scheme is refused', ...post([record({})], { origin: 'http://shop.example' }), status: 403, reason: 'origin_not_allowed' },
  // 3. Content type
  { name: 'text/plain JSON (sendBeacon) is accepted', ...post([record({})], { 'content-type': 'text/plain;charset=UTF-8' }), status: 202, upstream: 1 },
  { name: 'application/json with charset is accepted', ...post([record({})], { 'content-type': 'application/json; charset=utf-8' }), status: 202, upstream: 1 },
  { name: 'a form body is refused', ...post('a=b', { 'content-type': 'application/x-www-form-urlencoded' }), status: 415, reason: 'unsupported_media_type' },
  // Bytes, because a string body would get text/plain from the Request constructor itself.
  { name: 'a body without content type is refused', ...post([record({})], { 'content-type': undefined }), body: new TextEncoder().encode(json([record({})])), status: 415, reason: 'unsupported_media_type' },
  { name: 'JSON in another charset is refused', ...post([record({})], { 'content-type': 'application/json; charset=latin1' }), status: 415, reason: 'unsupported_media_type' },
  // 5. Size
  { name: 'a body over 64 KiB is refused', ...post([record({ first_name: 'x'.repeat(70_000) })]), status: 413, reason: 'payload_too_large' },
  { name: 'a batch over 100 records is refused as too large', ...post(Array.from({ length: 101 }, () => record({}))), status: 413, reason: 'too_many_records' },
  // 6. Parse and validate
  { name: 'malformed JSON is refused', ...post('[{"attributes":'), status: 400, reason: 'invalid_json' },
  { name: 'an empty body is refused', ...post(''), status: 400, reason: 'invalid_json' },
  { name: 'an empty batch is refused', ...post([]), status: 400, reason: 'invalid_batch' },
  { name: 'a JSON number is refused', ...post('42'), status: 400, reason: 'invalid_batch' },
  { name: 'an attribute outside allowedAttributes is removed and the rest forwarded', ...post([record({ email: 'a@test.com', favourite_colour: 'red' })]), status: 202, upstream: 1, removed: ['favourite_colour'] },
  { name: 'a record left without identifier once disallowed names are removed is refused', ...post([{ attributes: { customer_id: 'c-1', first_name: 'Ann' } }]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a record without identifier is refused', ...post([{ attributes: { first_name: 'Ann' } }]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a malformed email is refused', ...post([record({ email: 'not-an-email' })]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a number as email is refused', ...post([record({ email: 42 })]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a malformed vuid is refused', ...post([{ attributes: { vuid: 'ABC' } }]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'text over 1024 characters is refused', ...post([record({ city: 'x'.repeat(1025) })]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a nested value is refused', ...post([record({ city: { name: 'Paris' } })]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a reserved field is removed', ...post([record({ zaius_id: '1' })]), status: 202, upstream: 1, removed: ['zaius_id'] },
  { name: 'a __proto__ key is removed', ...post(`[{"attributes":{"vuid":"${VUID}","__proto__":{"x":1}}}]`), status: 202, upstream: 1, removed: ['<not lower snake_case>'] },
  { name: 'an identifier hidden under __proto__ does not count', ...post('[{"attributes":{"__proto__":{"email":"a@test.com"}}}]'), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a constructor key is removed', ...post([record({ constructor: 'x' })]), status: 202, upstream: 1, removed: ['constructor'] },
  { name: 'a long disallowed name is not echoed', ...post([record({ ['x'.repeat(200)]: 'v' })]), status: 202, upstream: 1, removed: ['<not lower snake_case>'] },
  { name: 'a disallowed name that is no field name (an email, a line break) is never echoed', ...post([record({ 'jane.doe@example.com': 'v', 'line\nforged': 'v', favourite_colour: 'red' })]), status: 202, upstream: 1, removed: ['<not lower snake_case>', 'favourite_colour'] },
  { name: 'a record key besides attributes is refused', ...post([{ ...record({}), identifiers: {} }]), status: 400, reason: 'invalid_records', invalids: [0] },
  // Issue 26: a record's age (ms since its capture, on the browser's clock) is read, never forwarded.
  { name: 'a record with an age is accepted', ...post([{ ...record({ city: 'Oslo' }), age: 60_000 }, { ...record({}), age: 0 }]), status: 202, upstream: 1 },
  { name: 'a negative age is refused', ...post([record({}), { ...record({}), age: -1 }]), status: 400, reason: 'invalid_records', invalids: [1] },
  { name: 'an age that is not a whole number is refused', ...post([{ ...record({}), age: 1.5 }, { ...record({}), age: '5' }, { ...record({}), age: null }]), status: 400, reason: 'invalid_records', invalids: [0, 1, 2] },
  { name: 'an absurd age is refused', ...post([{ ...record({}), age: 1e300 }]), status: 400, reason: 'invalid_records', invalids: [0] },
  { name: 'a record captured longer ago than maxAgeDays (30) is refused as expired', ...post([{ ...record({}), age: 30 * 86_400_000 + 1 }, { ...record({}), age: 30 * 86_400_000 }]), status: 400, reason: 'invalid_records', invalids: [0] },
  {
    name: 'only the bad records of a batch are named',
    ...post([record({}), record({ email: 'bad' }), record({ city: 'Oslo' }), 'x', record({})]),
    status: 400,
    reason: 'invalid_records',
    invalids: [1, 3],
  },
];

/** The case's headers without the ones it removes (given as undefined). */
export const headersOf = (c) => Object.fromEntries(Object.entries(c.headers ?? {}).filter(([, v]) => v !== undefined));

/** Asserts everything the table says about one answer. */
export async function checkAnswer(assert, c, response, upstreamCalls) {
  const text = await response.text();
  assert.equal(response.status, c.status, `${c.name}: ${text}`);
  assert.equal(upstreamCalls, c.upstream ?? 0, `${c.name}: upstream calls`);
  const allowed = headersOf(c).origin == ORIGIN;
  assert.equal(response.headers.get('access-control-allow-origin'), allowed ? ORIGIN : null);
  if (allowed) assert.match(response.headers.get('vary') ?? '', /Origin/);
  if (c.allow) assert.equal(response.headers.get('allow'), c.allow);
  if (c.preflight) {
    assert.equal(text, '');
    assert.match(response.headers.get('access-control-allow-methods'), /POST/);
    assert.match(response.headers.get('access-control-allow-headers'), /content-type/i);
    assert.ok(Number(response.headers.get('access-control-max-age')) > 0);
    return;
  }
  if (c.method == 'HEAD') return;
  const body = JSON.parse(text);
  assert.equal(body.status, c.status);
  assert.equal(typeof body.title, 'string');
  assert.ok(!Number.isNaN(Date.parse(body.timestamp)));
  if (c.status == 202 && !c.removed) assert.deepEqual(Object.keys(body).sort(), ['status', 'timestamp', 'title']);
  else assert.equal(body.detail.reason, c.reason ?? 'accepted');
  if (c.removed) assert.deepEqual(body.detail.removed, c.removed);
  if (c.invalids) {
    assert.deepEqual(body.detail.invalids.map((i) => i.event), c.invalids);
    for (const invalid of body.detail.invalids) assert.equal(typeof invalid.message, 'string');
  }
}
