/**
 * The proxy as a Cloudflare Worker. Deploy with wrangler (`main = "dist/edge/worker.js"`), setting the key with
 * `wrangler secret put ZAIUS_API_KEY` and `ALLOWED_ORIGINS` (comma-separated, or `*`) as a variable.
 */
import { createProxy, type ProxyHandler, type RateLimiter } from '../../src/proxy/index';

interface Env {
  ZAIUS_API_KEY: string;
  /** Comma- or space-separated origins, e.g. `https://shop.example, https://www.shop.example`, or `*`. */
  ALLOWED_ORIGINS: string;
  /** Profiles API base URL; default `https://api.zaius.com/v3` (use the EU or AU host for those accounts). */
  UPSTREAM?: string;
  /**
   * Optional rate-limit binding for the per-IP budget. The default in-memory budgets are per isolate, so on the
   * edge they only slow a single abuser down; the binding is shared across a location's isolates.
   */
  IP_RATE_LIMITER?: RateLimiter;
  /**
   * The secret the site's back end signs identity tokens with (`signIdentity`, at least 32 characters; set it with
   * `wrangler secret put IDENTITY_SECRET`). Lets signed-in visitors' records write everything; without it every record
   * is reduced to what a stranger may say (the proxy's default unverified policy).
   */
  IDENTITY_SECRET?: string;
}

/** The few methods of a Durable Object namespace binding this Worker calls. */
interface WriterNamespace {
  idFromName(name: string): unknown;
  get(id: unknown): { fetch(request: Request): Promise<Response> };
}

interface WriterEnv extends Env {
  /**
   * Optional Durable Object binding of class `ProfileWriter`: when set, every POST goes to one object per account,
   * the single writer that coalesces and paces for all isolates. Without it each isolate coalesces on its own.
   */
  PROFILE_WRITER?: WriterNamespace;
}

/** The Worker passes the client IP to the object in this header, always overwriting what the client sent. */
const CLIENT_IP = 'x-idcapture-client-ip';

const proxyOptions = (env: Env) => ({
  apiKey: env.ZAIUS_API_KEY,
  allowedOrigins: env.ALLOWED_ORIGINS?.trim() == '*' ? ('*' as const) : (env.ALLOWED_ORIGINS ?? '').split(/[\s,]+/).filter(Boolean),
  upstream: env.UPSTREAM || undefined,
  rateLimit: env.IP_RATE_LIMITER ? { ip: env.IP_RATE_LIMITER } : undefined,
  verify: env.IDENTITY_SECRET ? { secret: env.IDENTITY_SECRET } : undefined,
});

// Built on the first request (env is not available earlier) and kept for the isolate's life, with its budgets.
let handle: ProxyHandler | undefined;

export default {
  fetch(request: Request, env: WriterEnv): Promise<Response> {
    // Cloudflare's edge sets CF-Connecting-IP on every request, replacing whatever the client sent.
    const clientIp = request.headers.get('cf-connecting-ip') ?? undefined;
    if (env.PROFILE_WRITER && request.method == 'POST') {
      const headers = new Headers(request.headers);
      if (clientIp) headers.set(CLIENT_IP, clientIp);
      else headers.delete(CLIENT_IP);
      const writer = env.PROFILE_WRITER.get(env.PROFILE_WRITER.idFromName('profiles'));
      return writer.fetch(new Request(request, { headers }));
    }
    handle ??= createProxy(proxyOptions(env));
    return handle(request, { clientIp });
  },
};

/**
 * The single writer per account: one object (`idFromName('profiles')`) runs the proxy for every isolate, so requests
 * from all of them are merged into the same upstream requests under one pace, and the per-IP budget is exact. It is
 * reached only through the Worker above, which sets the client IP header it trusts.
 */
export class ProfileWriter {
  private readonly handle: ProxyHandler;
  constructor(_state: unknown, env: Env) {
    this.handle = createProxy({ ...proxyOptions(env), trustProxyHeader: CLIENT_IP });
  }
  fetch(request: Request): Promise<Response> {
    return this.handle(request);
  }
}
