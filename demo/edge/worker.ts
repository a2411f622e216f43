/**
 * The demo's Cloudflare Worker, built on `idcapture/edge` the way a store's own worker.ts would be. Deploy with
 * wrangler (`main = "dist/edge/worker.js"`), setting the key with `wrangler secret put ZAIUS_API_KEY` and
 * `ALLOWED_ORIGINS` (comma-separated, or `*`) as a variable.
 */
import { createEdge, type RateLimiter } from 'idcapture/edge';
export { ProfileWriter } from 'idcapture/edge';

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
  /** `"true"` to inject the tag into the origin's HTML pages, or a JSON object of the tag's `data-*` attributes. */
  INJECT?: string;
}

export default createEdge((env: Env) => ({
  apiKey: env.ZAIUS_API_KEY,
  allowedOrigins: env.ALLOWED_ORIGINS?.trim() == '*' ? '*' : (env.ALLOWED_ORIGINS ?? '').split(/[\s,]+/).filter(Boolean),
  upstream: env.UPSTREAM || undefined,
  rateLimit: env.IP_RATE_LIMITER ? { ip: env.IP_RATE_LIMITER } : undefined,
  verify: env.IDENTITY_SECRET ? { secret: env.IDENTITY_SECRET } : undefined, // without it: every record reduced
  inject: env.INJECT?.startsWith('{') ? { attributes: JSON.parse(env.INJECT) } : env.INJECT == 'true',
}));
