/**
 * Runs a Fetch-API handler on `node:http`. `createProxy`'s own handler runs in its plain form (src/http/node-plain.ts):
 * read from the socket as it asks, with no Web `Request` or `Response`; any other handler (one that wraps it, say)
 * through the Fetch bridge (src/http/node.ts), its body streamed in. Either way an oversized chunked body is refused
 * while it is still arriving, and the client IP is the socket's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { nodeListener } from '../http/node';
import { plainNodeListener } from '../http/node-plain';
import { PLAIN, type WithPlain } from '../http/plain';
import { optionChecks, optionNames } from '../options/checks';
import type { ProxyContext } from './handler';

/** Options of `toNodeListener`. */
export interface NodeListenerOptions {
  /**
   * A client IP header set by a reverse proxy in front of Node (e.g. `'x-real-ip'`; for `'x-forwarded-for'` the last
   * entry): the handler's `ctx.clientIp` is taken from it. The one place to trust a header on Node: every client IP
   * header (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`, `CF-Connecting-IP`) is removed from the request either way.
   * @default undefined (none is trusted: the socket's address)
   */
  trustProxyHeader?: string;
  /**
   * Milliseconds from the request's start within which its whole body must have arrived; past it the connection is
   * destroyed, so a slow body cannot hold a connection and a handler for minutes. `createNodeServer` sets 10000.
   * @default undefined (no deadline)
   */
  bodyTimeoutMs?: number;
}

type Handler = (request: Request, ctx?: ProxyContext) => Promise<Response>;

/** The proxy's default body limit: a refused body up to this size is read and dropped rather than closing the connection. */
const DRAIN_MAX_BYTES = 64 * 1024;

const check = optionChecks('idcapture/proxy/node');
const names = optionNames<NodeListenerOptions>()({}, ['trustProxyHeader', 'bodyTimeoutMs']);

/** Turns a Fetch-API handler into a `node:http` request listener: `http.createServer(toNodeListener(handle))`. */
export function toNodeListener(handle: Handler, options: NodeListenerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture/proxy/node: toNodeListener options must be an object');
  check.known(options, names);
  const { trustProxyHeader, bodyTimeoutMs } = options;
  if (trustProxyHeader !== undefined && (typeof trustProxyHeader != 'string' || !/^[a-z0-9-]+$/i.test(trustProxyHeader))) {
    check.fail('trustProxyHeader', 'a header name');
  }
  const adapter = {
    trustedHeader: trustProxyHeader?.toLowerCase(),
    bodyTimeoutMs: bodyTimeoutMs === undefined ? undefined : check.whole('bodyTimeoutMs', bodyTimeoutMs),
    drainMaxBytes: DRAIN_MAX_BYTES,
  };
  const plain = (handle as Partial<WithPlain<ProxyContext>>)[PLAIN];
  return typeof plain == 'function' ? plainNodeListener(plain, adapter) : nodeListener(handle, adapter);
}
