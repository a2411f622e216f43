// Type-level tests of the proxy and emulator public APIs (checked by `npm run typecheck`).
import { createServer } from 'node:http';
import { createProxy, type LogEntry, type ProxyHandler, type ProxyOptions, type RateLimiter } from '../../src/proxy/index';
import { toNodeListener } from '../../src/proxy/node';
import { createEmulator, startEmulator, type Clock, type Emulator, type Faults, type RunningEmulator } from '../../src/emulator/index';

const binding: RateLimiter = { limit: async ({ key }) => ({ success: key.length > 0, retryAfterS: 1 }) };
const options: ProxyOptions = {
  apiKey: 'example.apiKey',
  allowedOrigins: ['https://shop.example'],
  rateLimit: { ip: binding, global: { limit: 8, period: 1 } },
  log: (entry: LogEntry) => [entry.status, entry.reason, entry.latencyMs],
};
const handle: ProxyHandler = createProxy(options);
export const answered: Promise<Response> = handle(new Request('https://shop.example/api/profiles'), { clientIp: '127.0.0.1' });
createServer(toNodeListener(handle, { trustProxyHeader: 'x-real-ip' }));

createProxy({ apiKey: 'k', allowedOrigins: '*', rateLimit: false });
// @ts-expect-error allowedOrigins is required
createProxy({ apiKey: 'k' });
// @ts-expect-error origins are a list of strings, or '*'
createProxy({ apiKey: 'k', allowedOrigins: 42 });

const faults: Faults = { errorRate: 0.2, latencyMs: [10, 50], burstRate: 0.1, burstLength: 3, dropRate: 0, seed: 7 };
const emulator: Emulator = createEmulator({ apiKeys: ['example.apiKey'], fields: ['customer_id'], rateLimit: false, faults });
emulator.setFaults({});
export const applied: number = emulator.stats().recordsApplied;
export const running: Promise<RunningEmulator> = startEmulator({ port: 0, host: '127.0.0.1' });
// @ts-expect-error rateLimit is a number of requests per second or false
createEmulator({ rateLimit: true });
export const dropped: Record<string, number> = createEmulator({ unknownFields: 'drop', bodyTimeoutMs: 5000 }).stats().droppedFields;
export const timed: Promise<RunningEmulator> = startEmulator({ headersTimeoutMs: 5000, unknownFields: 'reject' });
// @ts-expect-error unknownFields is 'reject' or 'drop'
createEmulator({ unknownFields: 'ignore' });
// The emulator takes the same clock as the proxy and the server client, not a bare now().
const clock: Clock = { now: () => 0, sleep: async () => {} };
createProxy({ apiKey: 'k', allowedOrigins: '*', clock });
export const clocked: Promise<RunningEmulator> = startEmulator({ clock, applyDelayMs: 100 });
// @ts-expect-error clock is { now(), sleep(ms, signal?) }
createEmulator({ clock: Date.now });
