/**
 * The request pipeline, cheapest refusal first (route, origin, content type, the IP budget, size, then parsing), so a
 * request that will be refused costs as little as possible; each step ends in a reason code or the next step.
 */
import { respond, ANSWERS, type Outcome } from './answers';
import { TOO_LARGE } from '../http/read-body';
import { fetchHandler, type PlainAnswer, type PlainRequest } from '../http/plain';
import { originAllowed } from './cors';
import { resolveOptions, type LogEntry, type ProxyConfig, type ProxyOptions } from './options';
import type { Connect } from './shared/store';
import { overLimit, PEEK } from './rate-limit';
import { createCoalescer, type Coalescer } from './coalesce';
import { validateBatch } from './validate';
import { keepNewest, type CaptureTimes } from './newest-write';
import { clearCookie, cookieRequest, restoreCookie, twinCookie } from './server-cookie';

/** What the runtime adapter knows about the request beyond the request itself. */
export interface ProxyContext {
  /** The client's IP as the runtime saw it (socket address on Node, `CF-Connecting-IP` on Workers). */
  clientIp?: string;
}

/** A Fetch-API handler: `(request, ctx?) => Promise<Response>`. */
export type ProxyHandler = (request: Request, ctx?: ProxyContext) => Promise<Response>;

/** The outcome plus the facts the log hook may see. */
type Result = Outcome & Omit<LogEntry, 'status' | 'reason' | 'latencyMs' | 'invalidRecords'> & { vuids?: unknown[] };

/** `text/plain` is accepted because `navigator.sendBeacon` cannot send another type without a preflight. */
const JSON_TYPE = /^(application\/json|text\/plain)\s*(;\s*charset\s*=\s*"?utf-8"?\s*)?$/i;

function clientIp(request: PlainRequest, ctx: ProxyContext | undefined, header: string | undefined) {
  if (header) {
    // X-Forwarded-For grows to the right: the last entry is the one our own front proxy added.
    const value = request.headers.get(header)?.split(',').pop()?.trim();
    if (value) return value;
  }
  return typeof ctx?.clientIp == 'string' && ctx.clientIp ? ctx.clientIp : undefined;
}

async function pipeline(request: PlainRequest, ctx: ProxyContext | undefined, config: ProxyConfig, coalescer: Coalescer): Promise<Result> {
  // 1. Route. No GET: profile reads are never exposed to browsers. DELETE only clears the server cookie.
  if (new URL(request.url).pathname != config.path) return { reason: 'not_found' };
  const { method } = request;
  if (method != 'POST' && method != 'OPTIONS' && !(method == 'DELETE' && config.serverCookie)) return { reason: 'method_not_allowed' };
  // 2. Origin.
  if (!originAllowed(request.headers.get('origin'), config.origins)) return { reason: 'origin_not_allowed' };
  if (method == 'OPTIONS') return { reason: 'preflight' };
  if (method == 'DELETE') return { reason: 'cleared' };
  // 3. Content type.
  if (!JSON_TYPE.test(request.headers.get('content-type') ?? '')) return { reason: 'unsupported_media_type' };
  // 4. Per-IP budget, in records: an address whose budget is spent is refused before any work. Without a known IP (no
  // adapter context) this budget cannot apply.
  const { limiters } = config;
  const ip = clientIp(request, ctx, config.trustProxyHeader);
  const pay = (cost: number) => (ip ? overLimit(limiters.ip, `ip:${ip}`, cost) : undefined);
  let retryAfterS = await pay(PEEK);
  if (retryAfterS) return { reason: 'rate_limited', scope: 'ip', retryAfterS };
  // 5–6. Size, then parse and validate. A refused body costs one record, so junk pays too.
  // Capture times on the proxy's clock: the browser's own clock cancels out of its records' ages. Taken before the body
  // is read, so a slow upload does not make its records look captured later.
  const receivedAt = config.clock.now();
  const bytes = await request.bytes(config.maxBodyBytes);
  const batch =
    bytes === TOO_LARGE ? { reason: 'payload_too_large' as const }
    : !bytes ? { reason: 'unreadable_body' as const }
    : validateBatch(bytes, config);
  if (!('records' in batch)) return (await pay(1), batch);
  const { removed } = batch;
  // 6, continued. Identity: signed records checked against their token, the others reduced by the policy.
  // Without a check (`verify: false`) every record is trusted, as the site chose.
  const checked = config.verify
    ? await config.verify(batch.records, batch.tokens)
    : { records: batch.records, reduced: [], verified: undefined, trusted: batch.records.map(() => true) };
  if (!('records' in checked)) return (await pay(1), checked);
  const { records, reduced, verified, trusted } = checked;
  const facts = {
    attributes: [...new Set(records.flatMap((r) => Object.keys(r.attributes)))],
    records: records.length,
    removed: removed.length ? removed : undefined,
    reduced: reduced.length ? reduced : undefined,
    verified,
    vuids: batch.records.map((r) => r.attributes.vuid),
  };
  // 4, continued. The budgets count records, known only now: the IP pays for its batch, each vuid for the records
  // naming it. Counted on the records as sent, so a vuid the unverified policy took out still pays.
  const sent = batch.records;
  retryAfterS = await pay(sent.length);
  if (retryAfterS) return { reason: 'rate_limited', scope: 'ip', retryAfterS, ...facts };
  const perVuid = new Map<string, number>();
  for (const { vuid } of sent.map((r) => r.attributes)) if (typeof vuid == 'string') perVuid.set(vuid, (perVuid.get(vuid) ?? 0) + 1);
  for (const [vuid, count] of perVuid) {
    retryAfterS = await overLimit(limiters.vuid, `vuid:${vuid}`, count);
    if (retryAfterS) return { reason: 'rate_limited', scope: 'vuid', retryAfterS, ...facts };
  }
  // Without coalescing, the global budget refuses what would otherwise queue for the pace; coalescing, the pace alone
  // governs. It is spent last, only by requests that will reach the upstream, so refused junk cannot drain it.
  if (!config.coalesce.merge) {
    retryAfterS = await overLimit(limiters.global, 'global');
    if (retryAfterS) return { reason: 'rate_limited', scope: 'global', retryAfterS, ...facts };
  }
  // 7. Newest write wins: last, so only what will be forwarded records its capture time.
  const capturedAt = batch.ages.map((age) => receivedAt - age);
  const stale = config.captureTimes ? await keepNewest(records, capturedAt, trusted, config.captureTimes) : [];
  // 8. Forward the validated records (the upstream body is rebuilt from them), and map the upstream's answer.
  const size = bytes instanceof Uint8Array ? bytes.byteLength : undefined;
  return { ...facts, stale: stale.length ? stale : undefined, ...(await coalescer.submit(records, ip, size, capturedAt)) };
}

/**
 * Creates the proxy handler. Options are checked here, so a missing key or origin list throws at start-up.
 * The handler never throws: every failure is an answer from the fixed table. `connect` opens a `shared.redis` URL
 * (idcapture/proxy passes it; the edge does not, so its Worker bundle holds no way to Redis). `captureTimes` replaces
 * where capture times are kept (the edge's writer object: its durable storage), given `maxAgeDays` in ms. The handler
 * carries its plain form (`src/http/plain.ts`), which the Node adapter calls without a `Request` or `Response`.
 */
export function createProxy(options: ProxyOptions, connect?: Connect, captureTimes?: (maxAgeMs: number) => CaptureTimes): ProxyHandler {
  const resolved = resolveOptions(options, connect);
  const config = captureTimes && resolved.captureTimes ? { ...resolved, captureTimes: captureTimes(resolved.maxAgeMs) } : resolved;
  const coalescer = createCoalescer({ ...config, ...config.coalesce });
  const { serverCookie: cookie } = config;
  const methods = cookie ? 'POST, DELETE' : 'POST';
  const answer = async (request: PlainRequest, ctx?: ProxyContext): Promise<PlainAnswer> => {
    const started = Date.now();
    let result: Result;
    try {
      result = await pipeline(request, ctx, config, coalescer);
    } catch {
      result = { reason: 'internal_error' };
    }
    const origin = request.headers.get('origin');
    const response = respond(result, originAllowed(origin, config.origins) ? origin : null, methods);
    if (cookie) {
      const { reason, vuids } = result;
      const seen = cookieRequest(request);
      const set = reason == 'cleared' ? clearCookie(cookie, seen) : restoreCookie(cookie, seen);
      for (const c of [set, reason == 'accepted' ? twinCookie(cookie, seen, vuids ?? []) : undefined]) if (c) response.cookies.push(c);
    }
    if (config.log) {
      const { reason, attributes, records, removed, reduced, stale, verified, invalids, scope, upstreamStatus, attempts } = result;
      const shared = config.shared && (config.shared.down ? ('fallback' as const) : ('redis' as const));
      const entry = { status: ANSWERS[reason].status, reason, latencyMs: Date.now() - started, attributes, records, removed, reduced, stale, verified, scope, upstreamStatus, attempts, shared };
      // The refused origin says what allowedOrigins lacks (a dev server's, say); cut, as any header may be long.
      if (reason == 'origin_not_allowed') Object.assign(entry, { origin: (origin ?? '(none)').slice(0, 100) });
      try {
        config.log({ ...entry, invalidRecords: invalids?.length });
      } catch {
        // A failing log hook must not turn an answer into an error.
      }
    }
    return response;
  };
  return fetchHandler(answer);
}
