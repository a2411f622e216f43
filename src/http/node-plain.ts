/**
 * The Node adapter for a plain handler (`plain.ts`, the proxy's): the request is read from `node:http` as the handler
 * asks for it, with no Web `Request`, stream, signal or `Response` per request, and with every guarantee of the Fetch
 * bridge in `node.ts`: client IP headers removed, the body refused past the handler's limit while it is still
 * arriving (a declared oversize body unread), the body deadline, and drain-or-close after an early answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TOO_LARGE } from './read-body';
import type { PlainHandler, PlainRequest } from './plain';
import { clientIp, failed, SPOOFABLE, writeAnswer, type NodeAdapterOptions, type NodeContext } from './node';

type Body = Uint8Array | typeof TOO_LARGE | undefined;

/** The request's headers as `Headers.get` reads them, without the client IP headers. */
function headersOf(req: IncomingMessage, trustedHeader: string | undefined): PlainRequest['headers'] {
  return {
    get(name) {
      const key = name.toLowerCase();
      if (SPOOFABLE.includes(key) || key == trustedHeader) return null;
      // Every value as sent, in order (`headers` drops repeats of some names, and joins cookies with `; `).
      return req.headersDistinct[key]?.join(', ') ?? null;
    },
  };
}

/**
 * Reads the body from the socket, at most `maxBytes` of it: a body that declares more is refused unread, and one that
 * grows past it is refused as soon as it does (the rest is left to `writeAnswer` to drain, or the connection closed).
 */
function readBytes(req: IncomingMessage, maxBytes: number): Promise<Body> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && !(Number(declared) <= maxBytes)) return Promise.resolve(TOO_LARGE);
  // Gone already (the client left, or the body deadline passed): nothing will arrive.
  if (req.destroyed) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (body: Body) => {
      req.off('data', data).off('end', end).off('error', gone).off('close', gone);
      resolve(body);
    };
    const data = (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total <= maxBytes) return void chunks.push(chunk);
      req.pause();
      done(TOO_LARGE);
    };
    const end = () => done(chunks.length == 1 ? chunks[0] : Buffer.concat(chunks, total));
    // 'close' before 'end': the client went away part-way through the body.
    const gone = () => done(undefined);
    req.on('data', data).once('end', end).once('error', gone).once('close', gone);
  });
}

function plainRequest(req: IncomingMessage, options: NodeAdapterOptions): PlainRequest {
  let read: Promise<Body> | undefined;
  return {
    url: new URL(req.url ?? '/', options.origin ?? `http://${req.headers.host ?? 'localhost'}`).href,
    method: req.method ?? 'GET',
    headers: headersOf(req, options.trustedHeader),
    bytes: (maxBytes) => (read ??= req.method == 'GET' || req.method == 'HEAD' ? Promise.resolve(new Uint8Array(0)) : readBytes(req, maxBytes)),
  };
}

/** Ms from the request's start within which its whole body must have arrived, else the connection is destroyed. */
function bodyDeadline(req: IncomingMessage, timeoutMs: number) {
  const timer = setTimeout(() => {
    if (!req.complete) req.socket.destroy();
  }, timeoutMs);
  const stop = () => clearTimeout(timer);
  req.once('end', stop).once('close', stop);
}

/** Turns a plain handler into a `node:http` request listener. */
export function plainNodeListener(handle: PlainHandler<NodeContext>, options: NodeAdapterOptions) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    let request: PlainRequest;
    try {
      request = plainRequest(req, options);
    } catch {
      // An unparsable Host or target: nothing the handler could route.
      res.writeHead(400, { 'content-type': 'text/plain', connection: 'close' }).end('Bad Request');
      return;
    }
    if (options.bodyTimeoutMs && req.method != 'GET' && req.method != 'HEAD') bodyDeadline(req, options.bodyTimeoutMs);
    handle(request, { clientIp: clientIp(req, options.trustedHeader) }).then(
      ({ status, headers, cookies, body }) => writeAnswer(req, res, { status, headers: cookies.length ? { ...headers, 'set-cookie': cookies } : headers, body }, options),
      () => failed(res),
    );
  };
}
