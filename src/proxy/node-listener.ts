/**
 * Runs a Fetch-API handler on `node:http`. The body is streamed into the handler, so an
 * oversized chunked body is refused while it is still arriving; the client IP is the socket's.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyContext } from './handler';

/** Options of `toNodeListener`. */
export interface NodeListenerOptions {
  /**
   * A client IP header set by a reverse proxy in front of Node (e.g. `'x-real-ip'`) to pass through; give the handler
   * the same `trustProxyHeader`. Default: none, and `CF-Connecting-IP`/`X-Real-IP` sent by clients are removed.
   */
  trustProxyHeader?: string;
  /**
   * Milliseconds from the request's start within which its whole body must have arrived; past it the connection is
   * destroyed, so a slow body cannot hold a connection and a handler for minutes. Default: no deadline
   * (`createNodeServer` sets 10000).
   */
  bodyTimeoutMs?: number;
}

type Handler = (request: Request, ctx?: ProxyContext) => Promise<Response>;

/** The proxy's default body limit: a refused body up to this size is read and dropped rather than closing the connection. */
const DRAIN_MAX_BYTES = 64 * 1024;

/** Headers only our own front proxies may set; a client sending them is spoofing. */
const SPOOFABLE = ['cf-connecting-ip', 'x-real-ip'];

/** Node reports IPv4 clients of a dual-stack socket as `::ffff:1.2.3.4`; one client should have one key. */
const plainIp = (address: string | undefined) => address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

/**
 * A body stream that pauses the socket when the handler reads slowly and, when the handler stops reading, leaves the
 * socket open: destroying the request would also destroy the connection the answer still has to go out on.
 */
function bodyOf(req: IncomingMessage, timeoutMs: number | undefined): ReadableStream<Uint8Array> {
  let open = true;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (timeoutMs) {
        const timer = setTimeout(() => req.complete || req.socket.destroy(), timeoutMs);
        req.on('end', () => clearTimeout(timer)).on('close', () => clearTimeout(timer));
      }
      req.on('data', (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.on('end', () => open && ((open = false), controller.close()));
      req.on('error', (error) => open && ((open = false), controller.error(error)));
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
    },
  });
}

function toRequest(req: IncomingMessage, trusted: string | undefined, bodyTimeoutMs: number | undefined): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (!SPOOFABLE.includes(name) || name == trusted) headers.append(name, req.rawHeaders[i + 1]);
  }
  const method = req.method ?? 'GET';
  const hasBody = method != 'GET' && method != 'HEAD';
  // `duplex: 'half'` is what Node's fetch requires of a streamed request body (not yet in the DOM typings).
  const init: RequestInit & { duplex?: 'half' } = { method, headers, body: hasBody ? bodyOf(req, bodyTimeoutMs) : null, duplex: 'half' };
  return new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), init);
}

/** Turns a Fetch-API handler into a `node:http` request listener: `http.createServer(toNodeListener(handle))`. */
export function toNodeListener(handle: Handler, options: NodeListenerOptions = {}) {
  const trusted = options.trustProxyHeader?.toLowerCase();
  return (req: IncomingMessage, res: ServerResponse): void => {
    const answer = async () => {
      let request: Request;
      try {
        request = toRequest(req, trusted, options.bodyTimeoutMs);
      } catch {
        // An unparsable Host or target: nothing the handler could route.
        res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('Bad Request');
        return;
      }
      const response = await handle(request, { clientIp: plainIp(req.socket.remoteAddress) });
      const body = new Uint8Array(await response.arrayBuffer());
      // A body left unread (refused early) is drained to keep the connection only when it is declared and small;
      // otherwise it could be endless, and the connection is closed instead.
      const unread = !req.complete;
      if (unread && !(Number(req.headers['content-length']) <= DRAIN_MAX_BYTES)) res.setHeader('connection', 'close');
      // Answers are small and whole: a length instead of chunked encoding (never on a 204, which has no body).
      if (response.status != 204 && response.status != 304) res.setHeader('content-length', body.byteLength);
      res.writeHead(response.status, Object.fromEntries(response.headers)).end(body);
      if (unread) req.removeAllListeners('data').resume();
    };
    answer().catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
      res.end();
    });
  };
}
