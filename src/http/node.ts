/**
 * The one bridge from `node:http` to a Fetch-API handler, used by the proxy's Node adapter and the emulator's server.
 * The body is streamed into the handler (so an oversized body is refused while it is still arriving), the request's
 * `signal` aborts when the client goes away before its answer, and a body left unread by an early answer is drained
 * or its connection closed, within a deadline.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** What the adapter knows about a request beyond the request itself. */
export interface NodeContext {
  /** The socket's peer address (IPv4 without its `::ffff:` prefix). */
  clientIp?: string;
}

type NodeHandler = (request: Request, ctx: NodeContext) => Promise<Response>;

export interface NodeAdapterOptions {
  /**
   * A lower-case client IP header a trusted front proxy sets: the client IP is taken from it (for `x-forwarded-for`,
   * its last entry, the one the front proxy added). Every client IP header is removed from the request either way.
   */
  trustedHeader?: string;
  /** Ms from the request's start within which its whole body must have arrived, else the connection is destroyed. */
  bodyTimeoutMs?: number;
  /**
   * A body left unread by an early answer is drained (the connection kept) when it declares at most this many bytes;
   * any other gets its answer with `connection: close`. `Infinity`: always drained.
   */
  drainMaxBytes: number;
  /** Ms a body left unread by an early answer may take to drain, else the connection is destroyed. Default: no limit. */
  drainTimeoutMs?: number;
  /** The origin of every request URL. Default: the one the Host header names. */
  origin?: string;
}

/**
 * Client IP headers: only a front proxy we trust may set one, and the adapter reads that one itself, so none is passed
 * on: a handler told to trust one of them can never read a client's own (issue 22).
 */
export const SPOOFABLE = ['cf-connecting-ip', 'x-real-ip', 'x-forwarded-for', 'forwarded'];

/** Node reports IPv4 clients of a dual-stack socket as `::ffff:1.2.3.4`; one client should have one key. */
const plainIp = (address: string | undefined) => address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/, '');

/** The trusted header's address (the last of a list: the entry our own front proxy added), else the socket's. */
export function clientIp(req: IncomingMessage, trustedHeader: string | undefined) {
  const given = trustedHeader && req.headers[trustedHeader];
  const value = (Array.isArray(given) ? given.join(',') : given)?.split(',').pop()?.trim();
  return value || plainIp(req.socket.remoteAddress);
}

/**
 * The body as a Web stream that reads only as fast as it is consumed (the socket is paused in between), so a body
 * refused part-way is never buffered whole. Cancelling it leaves the socket alone: the answer still has to go out on it.
 */
function bodyOf(req: IncomingMessage, timeoutMs: number | undefined): ReadableStream<Uint8Array> {
  let open = true;
  const finish = (end: () => void) => {
    if (!open) return;
    open = false;
    end();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (timeoutMs) {
        const timer = setTimeout(() => {
          if (!req.complete) req.socket.destroy();
        }, timeoutMs);
        req.once('end', () => clearTimeout(timer)).once('close', () => clearTimeout(timer));
      }
      req.on('data', (chunk: Buffer) => {
        if (!open) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once('end', () => finish(() => controller.close()));
      req.once('error', (error) => finish(() => controller.error(error)));
      // 'close' before 'end': the client went away part-way through the body.
      req.once('close', () => finish(() => controller.error(new Error('request aborted'))));
      req.pause();
    },
    pull() {
      req.resume();
    },
    cancel() {
      open = false;
    },
  });
}

function toRequest(req: IncomingMessage, options: NodeAdapterOptions, signal: AbortSignal): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i].toLowerCase();
    if (!SPOOFABLE.includes(name) && name != options.trustedHeader) headers.append(name, req.rawHeaders[i + 1]);
  }
  const method = req.method ?? 'GET';
  const body = method == 'GET' || method == 'HEAD' ? null : bodyOf(req, options.bodyTimeoutMs);
  // `duplex: 'half'` is what Node's fetch requires of a streamed request body (not yet in the DOM typings).
  const init: RequestInit & { duplex: 'half' } = { method, headers, body, signal, duplex: 'half' };
  return new Request(new URL(req.url ?? '/', options.origin ?? `http://${req.headers.host ?? 'localhost'}`), init);
}

/** After an early answer: the rest of the body is drained, or the connection closes, within the deadlines. */
function settleUnread(req: IncomingMessage, options: NodeAdapterOptions) {
  req.removeAllListeners('data').resume();
  if (options.drainTimeoutMs === undefined) return;
  const timer = setTimeout(() => req.socket.destroy(), options.drainTimeoutMs).unref();
  req.once('close', () => clearTimeout(timer));
}

/**
 * Writes a whole answer, with a length instead of chunked encoding (answers are small; never on a 204 or 304). An
 * answer given before the body was read whole drains the rest, or closes the connection when the body declares more
 * than `drainMaxBytes` (or nothing).
 */
export function writeAnswer(
  req: IncomingMessage,
  res: ServerResponse,
  answer: { status: number; headers: Record<string, string | string[]>; body: Uint8Array | string | null },
  options: NodeAdapterOptions,
) {
  const { status, body } = answer;
  const unread = !req.complete;
  const declared = Number(req.headers['content-length']);
  if (unread && options.drainMaxBytes != Infinity && !(declared <= options.drainMaxBytes)) res.setHeader('connection', 'close');
  if (status != 204 && status != 304) res.setHeader('content-length', typeof body == 'string' ? Buffer.byteLength(body) : (body?.byteLength ?? 0));
  res.writeHead(status, answer.headers).end(body ?? undefined);
  if (unread) settleUnread(req, options);
}

/** The answer when the handler failed (it should never). */
export function failed(res: ServerResponse) {
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ message: 'Internal Server Error' }));
}

/** Turns a Fetch-API handler into a `node:http` request listener. */
export function nodeListener(handle: NodeHandler, options: NodeAdapterOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const answer = async () => {
      const client = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) client.abort();
      });
      let request: Request;
      try {
        request = toRequest(req, options, client.signal);
      } catch {
        // An unparsable Host or target: nothing the handler could route.
        res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('Bad Request');
        return;
      }
      const response = await handle(request, { clientIp: clientIp(req, options.trustedHeader) });
      // `Response.error()`: the handler wants the connection dropped without an answer.
      if (response.type == 'error') return void req.socket.destroy();
      const body = new Uint8Array(await response.arrayBuffer());
      writeAnswer(req, res, { status: response.status, headers: Object.fromEntries(response.headers), body }, options);
    };
    answer().catch(() => failed(res));
  };
}
