// The server's deliberate deadlines: headers and body that never finish get a 408 in the API's shape (where HTTP
// still allows an answer) and a closed connection, never an open socket waiting forever. Small deadlines are set
// here so each test waits on the server closing the connection, bounded, instead of on the defaults. Each server
// makes only one deadline small: a busy machine may stall between accepting a connection and reading its bytes,
// which must not turn a test of the body's deadline into one of the headers'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../dist/emulator.js';
import { sendRaw } from './helpers/raw-http.js';
import { ISO_WITH_OFFSET, KEY, useEmulator } from './helpers/emulator.js';

const HEADERS_MS = 100;
const BODY_MS = 150;
/** Longer than BOUNDED: never what ends a test. */
const LONG = 30_000;
const slowHeaders = useEmulator({ rateLimit: false, headersTimeoutMs: HEADERS_MS, bodyTimeoutMs: LONG });
const server = useEmulator({ rateLimit: false, headersTimeoutMs: LONG, bodyTimeoutMs: BODY_MS, maxBodyBytes: 1024 });
/** Every test here ends when the server closes the connection; this bounds the wait if it never does. */
const BOUNDED = { timeout: 5_000 };

const head = (headers) =>
  `POST /v3/profiles HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY}\r\ncontent-type: application/json\r\n${headers}\r\n`;
const RECORD = JSON.stringify([{ attributes: { email: 'slow@test.com' } }]);

function assertTimeout(answer, message) {
  assert.equal(answer.status, 408, answer.raw);
  assert.equal(answer.headers.connection, 'close');
  const body = JSON.parse(answer.body);
  assert.equal(body.title, 'Request Timeout');
  assert.equal(body.status, 408);
  assert.match(body.timestamp, ISO_WITH_OFFSET);
  assert.deepEqual(body.detail, { message });
}

test('headers that stop part-way are answered 408 and the connection is closed', BOUNDED, async () => {
  const answer = await sendRaw(slowHeaders.url, 'POST /v3/profiles HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-');
  assertTimeout(answer, `Request headers not received within ${HEADERS_MS} ms.`);
  assert.deepEqual(slowHeaders.emulator.stats().requests, {}, 'no request reached the API');
});

test('a body shorter than its Content-Length is answered 408, counted, and applies nothing', BOUNDED, async () => {
  const answer = await sendRaw(server.url, `${head(`content-length: ${RECORD.length}\r\n`)}${RECORD.slice(0, 10)}`);
  assertTimeout(answer, `Request body not received within ${BODY_MS} ms.`);
  assert.deepEqual(server.emulator.stats().requests, { 408: 1 });
  assert.equal(server.emulator.stats().recordsApplied, 0);
});

test('a chunked body that never sends its last chunk is answered 408', BOUNDED, async () => {
  const chunk = `${RECORD.length.toString(16)}\r\n${RECORD}\r\n`;
  const answer = await sendRaw(server.url, `${head('transfer-encoding: chunked\r\n')}${chunk}`);
  assertTimeout(answer, `Request body not received within ${BODY_MS} ms.`);
  assert.equal(server.emulator.stats().recordsApplied, 0);
});

test('a request sent whole is answered as usual on the same server', BOUNDED, async () => {
  // Sent as one write, so headers and body are parsed from one read: no deadline can expire in between.
  const answer = await sendRaw(server.url, `${head(`content-length: ${RECORD.length}\r\nconnection: close\r\n`)}${RECORD}`);
  assert.equal(answer.status, 202, answer.raw);
  assert.equal(server.emulator.stats().recordsApplied, 1);
});

test('a body still arriving after an early answer (413) gets no second answer: the connection is closed', BOUNDED, async () => {
  const answer = await sendRaw(server.url, `${head('content-length: 5000\r\n')}[{"attributes":`);
  assert.equal(answer.status, 413, answer.raw);
  assert.equal(answer.raw.match(/HTTP\/1\.1 /g).length, 1, 'one answer only');
});

test('a malformed request line is answered 400 in the same JSON shape', BOUNDED, async () => {
  const answer = await sendRaw(server.url, 'NOT HTTP AT ALL\r\n\r\n');
  assert.equal(answer.status, 400, answer.raw);
  assert.equal(JSON.parse(answer.body).detail.message, 'Malformed HTTP request.');
});

test('headers over Node\'s size limit are answered 431 in the same JSON shape', BOUNDED, async () => {
  const answer = await sendRaw(server.url, `GET /v3/profiles?email=a@test.com HTTP/1.1\r\nx-big: ${'x'.repeat(20_000)}\r\n\r\n`);
  assert.equal(answer.status, 431, answer.raw.slice(0, 200));
  assert.equal(JSON.parse(answer.body).detail.message, 'Request headers are too large.');
});

test('the deadlines are checked like every other option', async () => {
  await assert.rejects(startEmulator({ headersTimeoutMs: 0 }), (e) => e instanceof RangeError && /headersTimeoutMs/.test(e.message));
  await assert.rejects(startEmulator({ bodyTimeoutMs: 2.5 }), (e) => e instanceof RangeError && /bodyTimeoutMs/.test(e.message));
});
