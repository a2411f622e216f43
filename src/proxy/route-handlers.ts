import type { ProxyHandler } from './handler';

/** A route handler as Next.js (App Router) and other file-routed frameworks call it: a context of theirs comes second. */
export type RouteHandler = (request: Request, context?: unknown) => Promise<Response>;

/**
 * The proxy as the route handlers of a file-routed framework, e.g. Next.js's `app/api/profiles/route.ts`:
 * `export const { POST, OPTIONS, DELETE } = routeHandlers(handle, clientIp)`. Such frameworks pass a context of their
 * own (Next's `{ params }`), never the client's address, so the per-IP budget needs `clientIp`: it reads the address
 * from the request, from a header your platform sets and a client cannot (Vercel: `x-real-ip`). Without it the
 * per-IP budget does not apply; the per-vuid and global budgets still do.
 */
export function routeHandlers(handle: ProxyHandler, clientIp?: (request: Request) => string | null | undefined) {
  if (typeof handle != 'function') throw new TypeError('idcapture/proxy: routeHandlers takes the handler createProxy made');
  if (clientIp !== undefined && typeof clientIp != 'function') throw new TypeError('idcapture/proxy: routeHandlers: clientIp must be a function of the request');
  const route: RouteHandler = (request) => handle(request, { clientIp: clientIp?.(request) ?? undefined });
  return { POST: route, OPTIONS: route, DELETE: route };
}
