// Every Node-side entry point refuses an option name it does not have, naming the closest one it does: a misspelt
// option would otherwise start silently with its default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createProxy, createVuidRestore } from '../../dist/proxy.js';
import { createNodeServer, toNodeListener, vuidRestore } from '../../dist/proxy-node.js';
import { createEdge } from '../../dist/edge.js';
import { createServerClient } from '../../dist/server.js';
import { createEmulator, startEmulator } from '../../dist/emulator.js';
import { cookiebot, gcm, onetrust, tcf } from '../../dist/consent.js';

const proxyBase = { apiKey: 'example.apiKey', allowedOrigins: ['https://shop.example'] };
const handle = createProxy(proxyBase);
const secret = 'a-site-secret-of-at-least-32-characters';

/** `run` throws exactly `TypeError(message)`. */
const refuses = (run, message) => assert.throws(run, (error) => error instanceof TypeError && error.message == message);

test('createProxy refuses a misspelt option and names the one meant, whatever its case', () => {
  refuses(() => createProxy({ ...proxyBase, upstreamRPS: 5 }), 'idcapture/proxy: unknown option upstreamRPS (did you mean upstreamRps?)');
  refuses(() => createProxy({ ...proxyBase, allowedOrigin: '*' }), 'idcapture/proxy: unknown option allowedOrigin (did you mean allowedOrigins?)');
  refuses(() => createProxy({ ...proxyBase, timeout: 100 }), 'idcapture/proxy: unknown option timeout (did you mean timeoutMs?)');
});

test('an unknown option nothing is close to is refused without a suggestion', () => {
  refuses(() => createProxy({ ...proxyBase, key: 'x' }), 'idcapture/proxy: unknown option key');
  refuses(() => createProxy({ ...proxyBase, onRequest() {} }), 'idcapture/proxy: unknown option onRequest');
});

test("createProxy's nested options are checked the same way, with their path", () => {
  refuses(() => createProxy({ ...proxyBase, coalesce: { maxWait: 10 } }), 'idcapture/proxy: unknown option coalesce.maxWait (did you mean coalesce.maxWaitMs?)');
  refuses(() => createProxy({ ...proxyBase, rateLimit: { IP: false } }), 'idcapture/proxy: unknown option rateLimit.IP (did you mean rateLimit.ip?)');
  refuses(
    () => createProxy({ ...proxyBase, rateLimit: { ip: { limit: 5, period: 1, maxkey: 10 } } }),
    'idcapture/proxy: unknown option rateLimit.ip.maxkey (did you mean rateLimit.ip.maxKeys?)',
  );
  refuses(() => createProxy({ ...proxyBase, verify: { secrets: secret } }), 'idcapture/proxy: unknown option verify.secrets (did you mean verify.secret?)');
  refuses(
    () => createProxy({ ...proxyBase, verify: { secret, unverified: { linkVUID: true } } }),
    'idcapture/proxy: unknown option verify.unverified.linkVUID (did you mean verify.unverified.linkVuid?)',
  );
});

test('a RateLimiter of your own may carry whatever it needs besides limit()', () => {
  const binding = { limit: async () => ({ success: true }), namespaceId: '1001' };
  assert.equal(typeof createProxy({ ...proxyBase, rateLimit: binding }), 'function');
  assert.equal(typeof createProxy({ ...proxyBase, rateLimit: { ip: binding } }), 'function');
});

test('every known option is accepted, set to its own value or left undefined', () => {
  const given = {
    ...proxyBase,
    upstream: undefined,
    path: '/api/profiles',
    coalesce: { maxWaitMs: 10, maxRecords: 100, maxPendingRecords: 1000, maxPendingBytes: 1 << 20 },
    rateLimit: { ip: { limit: 1, period: 1, maxKeys: 10 }, vuid: false },
    verify: { secret, unverified: { attributes: ['email'], linkVuid: true }, now: Date.now },
  };
  assert.equal(typeof createProxy(given), 'function');
});

test('toNodeListener and createNodeServer refuse an unknown option', () => {
  refuses(() => toNodeListener(handle, { trustProxyHeaders: 'x-real-ip' }), 'idcapture/proxy/node: unknown option trustProxyHeaders (did you mean trustProxyHeader?)');
  refuses(() => createNodeServer(handle, { maxConnectionsPerIP: 4 }), 'idcapture/proxy/node: unknown option maxConnectionsPerIP (did you mean maxConnectionsPerIp?)');
  refuses(() => createNodeServer(handle, { bodyTimeout: 4 }), 'idcapture/proxy/node: unknown option bodyTimeout (did you mean bodyTimeoutMs?)');
  // The listener's own option is one of the server's too.
  createNodeServer(handle, { trustProxyHeader: 'x-real-ip', bodyTimeoutMs: 1000 }).close();
});

test('createEdge refuses an unknown option of its own or of the proxy, naming the closest', () => {
  refuses(() => createEdge({ ...proxyBase, injct: true }), 'idcapture/edge: unknown option injct (did you mean inject?)');
  refuses(() => createEdge({ ...proxyBase, upstreamRPS: 5 }), 'idcapture/edge: unknown option upstreamRPS (did you mean upstreamRps?)');
  refuses(() => createEdge({ ...proxyBase, inject: { atributes: {} } }), 'idcapture/edge: unknown option inject.atributes (did you mean inject.attributes?)');
  refuses(() => createEdge({ ...proxyBase, serverCookie: { maxAgeDay: 5 } }), 'idcapture/edge: unknown option serverCookie.maxAgeDay (did you mean serverCookie.maxAgeDays?)');
  assert.equal(typeof createEdge({ ...proxyBase, inject: { attributes: { 'data-consent': 'pending' } }, scriptPath: '/t.js', writer: 'W', serverCookie: false }).fetch, 'function');
});

test("the proxy's serverCookie and the restore helpers refuse an unknown option", () => {
  refuses(() => createProxy({ ...proxyBase, serverCookie: { domian: 'shop.example' } }), 'idcapture/proxy: unknown option serverCookie.domian (did you mean serverCookie.domain?)');
  refuses(() => createVuidRestore({ scriptCookies: 'vuid' }), 'idcapture/proxy: unknown option scriptCookies (did you mean scriptCookie?)');
  refuses(() => vuidRestore({ trustProtocol: true }), 'idcapture/proxy/node: unknown option trustProtocol (did you mean trustProto?)');
});

test('createServerClient refuses an unknown option', () => {
  refuses(() => createServerClient({ apiKey: 'k', requestsPerSec: 2 }), 'idcapture/server: unknown option requestsPerSec (did you mean requestsPerSecond?)');
  refuses(() => createServerClient({ apiKey: 'k', baseURL: 'https://api.example/v3' }), 'idcapture/server: unknown option baseURL (did you mean baseUrl?)');
  refuses(() => createServerClient({ apiKey: 'k', upstream: 'https://api.example/v3' }), 'idcapture/server: unknown option upstream');
});

test('createEmulator and startEmulator refuse an unknown option; startEmulator knows its own and the emulator\'s', async () => {
  refuses(() => createEmulator({ apiKey: 'k' }), 'idcapture emulator: unknown option apiKey (did you mean apiKeys?)');
  refuses(() => createEmulator({ port: 0 }), 'idcapture emulator: unknown option port');
  await assert.rejects(startEmulator({ prot: 0 }), { name: 'TypeError', message: 'idcapture emulator: unknown option prot (did you mean port?)' });
  await assert.rejects(startEmulator({ field: ['customer_id'] }), { name: 'TypeError', message: 'idcapture emulator: unknown option field (did you mean fields?)' });
  const running = await startEmulator({ port: 0, host: '127.0.0.1', headersTimeoutMs: 1000, fields: ['customer_id'] });
  await running.close();
});

test('the idcapture-emulator command refuses an unknown flag, naming the closest', { timeout: 10_000 }, async () => {
  const cli = fileURLToPath(new URL('../../dist/emulator-cli.js', import.meta.url));
  const run = (args) =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (chunk) => (err += chunk));
      child.once('exit', (code) => resolve({ code, err }));
    });
  assert.deepEqual(await run(['--port', '0', '--apikey', 'k']), { code: 1, err: 'idcapture emulator: unknown option --apikey (did you mean --api-key?)\n' });
  assert.deepEqual(await run(['--verbose']), { code: 1, err: 'idcapture emulator: unknown option --verbose\n' });
  assert.deepEqual(await run(['-x']), { code: 1, err: 'idcapture emulator: unknown option -x\n' });
});

test("idcapture/consent's sources refuse a misspelt option, naming the one meant", () => {
  refuses(() => tcf({ purpose: [1] }), 'idcapture: unknown option tcf.purpose (did you mean tcf.purposes?)');
  refuses(() => tcf({ vendorId: 755 }), 'idcapture: unknown option tcf.vendorId (did you mean tcf.vendor?)');
  refuses(() => gcm({ key: ['ad_user_data'] }), 'idcapture: unknown option gcm.key (did you mean gcm.keys?)');
  refuses(() => onetrust({ groups: 'C0004' }), 'idcapture: unknown option onetrust.groups (did you mean onetrust.group?)');
  refuses(() => cookiebot({ categories: 'marketing' }), 'idcapture: unknown option cookiebot.categories (did you mean cookiebot.category?)');
});
