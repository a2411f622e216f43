/**
 * The edge Worker: on the store's own host, it serves the tag first-party, runs the proxy (through the Durable
 * Object writer when bound), passes everything else to the origin, injects the tag into pages if asked, and restores
 * the script-readable vuid cookie from its server twin on every answer, so the page's script finds it before it runs.
 */
import { createProxy } from '../proxy/handler';
import { defaults as proxyDefaults } from '../proxy/options';
import { cookieRequest, resolveServerCookie, restoreCookie, withCookies } from '../proxy/server-cookie';
import { inject, isPage, tagHtml } from './inject';
import { resolveEdgeOptions, type EdgeOptions } from './options';
import { serveSnippet } from './snippet';
import { setWriterOptions, toWriter, type WriterNamespace } from './writer';

/** A Worker's default export: `export default createEdge(...)`. */
export interface Edge {
  fetch(request: Request, env?: object): Promise<Response>;
}

type Options<Env> = EdgeOptions | ((env: Env) => EdgeOptions);

/** Everything a request needs, built once per isolate. */
function build(options: EdgeOptions) {
  const edge = resolveEdgeOptions(options);
  const cookie = resolveServerCookie(edge.proxy.serverCookie, 'idcapture/edge');
  const path = edge.proxy.path ?? proxyDefaults.path;
  const attributes = { ...(cookie?.domain ? { 'data-cookie-domain': cookie.domain } : {}), ...edge.inject };
  return {
    ...edge,
    path,
    cookie,
    handle: createProxy(edge.proxy),
    tag: edge.inject && tagHtml(edge.scriptPath, path, attributes),
  };
}

const isNamespace = (value: unknown): value is WriterNamespace => typeof (value as WriterNamespace | undefined)?.idFromName == 'function';

/**
 * Creates the edge Worker from options, or from a function of the Worker's `env` (secrets and bindings are known
 * only at the first request). Export the result as the Worker, and `ProfileWriter` beside it:
 *
 * @example
 * import { createEdge } from 'idcapture/edge';
 * export { ProfileWriter } from 'idcapture/edge';
 * export default createEdge((env: { ZAIUS_API_KEY: string }) => ({
 *   apiKey: env.ZAIUS_API_KEY,
 *   allowedOrigins: ['https://shop.example'],
 *   inject: true,
 * }));
 */
export function createEdge<Env extends object = Record<string, unknown>>(options: Options<Env>): Edge {
  const configure = (env: unknown) => (typeof options == 'function' ? options(env as Env) : options);
  // An options object is checked at once, so a mistake fails the deploy rather than the first visitor.
  let edge = typeof options == 'function' ? undefined : build(options);
  setWriterOptions((env) => resolveEdgeOptions(configure(env)).proxy);
  return {
    async fetch(request, env = {}) {
      edge ??= build(configure(env));
      const { pathname } = new URL(request.url);
      // Cloudflare's edge sets CF-Connecting-IP on every request, replacing whatever the client sent.
      const clientIp = request.headers.get('cf-connecting-ip') ?? undefined;
      if (pathname == edge.path) {
        const writer = (env as Record<string, unknown>)[edge.writer];
        // The proxy sets, restores and clears the cookies itself; preflights and refusals stay in the Worker.
        return isNamespace(writer) && request.method == 'POST' ? toWriter(writer, request, clientIp) : edge.handle(request, { clientIp });
      }
      const restore = edge.cookie && restoreCookie(edge.cookie, cookieRequest(request));
      if (pathname == edge.scriptPath) return withCookies(serveSnippet(request), [restore]);
      let response = await fetch(request);
      if (edge.tag && isPage(response)) response = inject(response, edge.tag, edge.scriptPath);
      return withCookies(response, [restore]);
    },
  };
}
