// What verified identity costs per request: the proxy handler called in-process (no network), with a fetch that
// answers 202 at once, without `verify`, with `verify` and a signed record, and with `verify` and an unverified one
// (reduced). The difference is the HMAC check (or the reduction) plus its parsing. Also: signIdentity per token,
// and the token's size. The pace is opened (each call its own upstream request at 1,000/s, the waits of under 1 ms
// skipped by the bench's clock), so what is timed is the handler, not the 8 requests/s default pace (which made each
// sequential call wait about 123 ms: 86 minutes for this part). Run alone with `node test/bench/verify.js`, or
// through `npm run bench`.
import { fileURLToPath } from 'node:url';
import { createProxy } from '../../dist/proxy.js';
import { signIdentity } from '../../dist/server.js';
import { count } from './quick.js';

const HERE = fileURLToPath(import.meta.url);
const ORIGIN = 'https://shop.example';
const SECRET = 'bench-identity-secret-0123456789abcdef';
const N = count(2000, 20);
const ROUNDS = count(7, 1);
const VUID = '0123456789abcdef0123456789abcdef';
const EMAIL = 'firstname.lastname@example.com';

const accepted = async () => new Response('{}', { status: 202 });
/** Waits for a pace slot (at most 1 ms at 1,000/s) end at once, time moving on by what they skipped; the deadlines still run on real timers. */
let skipped = 0;
const paceless = {
  now: () => Date.now() + skipped,
  sleep: (ms, signal) => (ms <= 1 ? ((skipped += ms), Promise.resolve()) : new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  })),
};
const proxy = (verify) =>
  createProxy({ apiKey: 'k', allowedOrigins: [ORIGIN], upstream: 'http://upstream.test/v3', rateLimit: false, coalesce: false, upstreamRps: 1000, clock: paceless, fetch: accepted, verify });
const request = (record) =>
  new Request('http://proxy.test/api/profiles', { method: 'POST', headers: { origin: ORIGIN, 'content-type': 'application/json' }, body: JSON.stringify([record]) });

/** Microseconds per call of `fn` over N sequential calls. */
async function perCall(fn) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await fn(i);
  return Number(process.hrtime.bigint() - start) / 1000 / N;
}

/**
 * The best of ROUNDS rounds of each variant, the variants taking turns in every round: on shared cores the fastest
 * round is the one least disturbed by other work, and taking turns spreads drift (JIT, GC, neighbours) evenly.
 */
async function interleaved(variants) {
  const best = Object.fromEntries(Object.keys(variants).map((name) => [name, Infinity]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, fn] of Object.entries(variants)) best[name] = Math.min(best[name], await perCall(fn));
  }
  return best;
}

/** Rows `{ name, value, unit }` for `npm run bench`. */
export async function bench() {
  const token = await signIdentity({ email: EMAIL, vuid: VUID, expiresIn: 3600 }, { secret: SECRET });
  const signed = { attributes: { vuid: VUID, email: EMAIL, first_name: 'Bench' }, token };
  const plain = { attributes: { vuid: VUID, email: EMAIL, first_name: 'Bench' } };
  const open = proxy(false); // no identity step at all: the baseline the signed record is compared with
  const guarded = proxy({ secret: SECRET });
  const check = async (handle, record) => {
    const response = await handle(request(record));
    if (response.status != 202) throw new Error(`bench: expected 202, got ${response.status}`);
  };
  const { base, verified, reduced, signing } = await interleaved({
    base: () => check(open, plain),
    verified: () => check(guarded, signed),
    reduced: () => check(guarded, plain),
    signing: (i) => signIdentity({ email: `u${i}@example.com`, expiresIn: 3600 }, { secret: SECRET }),
  });
  const us = (n) => Math.round(n * 10) / 10;
  return [
    { name: 'identity token for a 30-character email and a vuid', value: token.length, unit: 'B' },
    { name: `proxy handler, no verify (best of ${ROUNDS} x ${N} requests, in-process)`, value: us(base), unit: 'µs/request' },
    { name: 'proxy handler, verify, signed record', value: us(verified), unit: 'µs/request' },
    { name: 'verification cost per request (signed - no verify)', value: us(verified - base), unit: 'µs' },
    { name: 'proxy handler, verify, unverified record (reduced)', value: us(reduced), unit: 'µs/request' },
    { name: 'signIdentity', value: us(signing), unit: 'µs/token' },
  ];
}

if (process.argv[1] == HERE) console.table(await bench());
