import { createServer, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { timestamp } from './answers';
import { createEmulator, type Emulator } from './emulator';
import { defaults, type EmulatorOptions } from './options';

/** Options of `startEmulator`: the emulator's, plus where to listen. */
export interface StartOptions extends EmulatorOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default `'127.0.0.1'`: the emulator has no business on a public interface. */
  host?: string;
  /**
   * How long a request's line and headers may take to arrive, in ms; a slower one is answered 408 and its
   * connection closed. Default 10000.
   */
  headersTimeoutMs?: number;
}

/** A running emulator. */
export interface RunningEmulator {
  /** The API base to give clients, e.g. `http://127.0.0.1:54321/v3`. */
  url: string;
  /** The emulator itself, for inspection and faults from the same process. */
  emulator: Emulator;
  /** Stops listening and closes every open connection. */
  close(): Promise<void>;
}

/**
 * The request body as a Web stream that reads only as fast as it is consumed, so a body refused part-way (413) is
 * never buffered whole; `discard` then lets the remainder drain so the client can finish sending and read the answer.
 */
function bodyOf(req: IncomingMessage) {
  let finished = false;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      req.on('data', (chunk: Buffer) => {
        if (finished) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once('end', () => !finished && ((finished = true), controller.close()));
      req.once('error', (error) => !finished && ((finished = true), controller.error(error)));
      req.once('close', () => !finished && ((finished = true), controller.error(new Error('request aborted'))));
      req.pause();
    },
    pull: () => void req.resume(),
    cancel: () => void ((finished = true), req.resume()),
  });
  return { stream, discard: () => void ((finished = true), req.resume()) };
}

async function serve(emulator: Emulator, req: IncomingMessage, res: ServerResponse, bodyTimeoutMs: number): Promise<void> {
  const body = bodyOf(req);
  try {
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);
    const method = req.method ?? 'GET';
    // `duplex` is required by Node's fetch for a streamed body, and missing from the DOM typings.
    const init: RequestInit & { duplex: 'half' } = { method, headers, duplex: 'half' };
    if (method != 'GET' && method != 'HEAD') init.body = body.stream;
    const response = await emulator.fetch(new Request(new URL(req.url ?? '/', 'http://emulator.invalid'), init));
    if (response.type == 'error') {
      req.socket.destroy();
      return;
    }
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(new Uint8Array(await response.arrayBuffer()));
  } catch {
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: 'Internal Server Error' }));
  } finally {
    body.discard();
    if (!req.complete) {
      // Answered before the body finished (a 413, a 403): the rest may take as long as a body may, then the
      // connection is closed, since no answer can be given for it any more.
      const timer = setTimeout(() => req.socket.destroy(), bodyTimeoutMs).unref();
      req.once('close', () => clearTimeout(timer));
    }
  }
}

/** Answers a request Node could not hand over (its headers are late or broken) on the bare socket, and closes it. */
function refuse(socket: Socket, status: number, now: number, text: string) {
  const body = JSON.stringify({ title: STATUS_CODES[status], status, timestamp: timestamp(now), detail: { message: text } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  // end() waits for the client to close its side; one that never reads must not hold the socket.
  socket.destroySoon();
}

/** Default of `headersTimeoutMs`: as long as the body's, and far below Node's own 60 s. */
const HEADERS_TIMEOUT_MS = 10_000;

/** Starts an emulator on Node http; resolves once it listens. Throws on a bad option. */
export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const { port = 0, host = '127.0.0.1', headersTimeoutMs = HEADERS_TIMEOUT_MS, ...rest } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError('idcapture emulator: option port must be an integer from 0 to 65535');
  }
  if (typeof host != 'string' || !host) {
    throw new TypeError('idcapture emulator: option host must be a host name or address');
  }
  if (!Number.isSafeInteger(headersTimeoutMs) || headersTimeoutMs <= 0) {
    throw new RangeError('idcapture emulator: option headersTimeoutMs must be a positive integer');
  }
  const emulator = createEmulator(rest);
  const bodyTimeoutMs = rest.bodyTimeoutMs ?? defaults.bodyTimeoutMs;
  /** Answers in flight per socket: while any is, nothing else may be written on it (a pipelined request's 408). */
  const answering = new WeakMap<Socket, number>();
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      // The body's deadline is the emulator's own (bodyTimeoutMs), which can answer in the API's shape; Node's
      // whole-request timer would only close the connection.
      requestTimeout: 0,
      // Node looks for expired headers only this often: a tenth of the deadline keeps the 408 within 10% of it.
      connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeoutMs / 10))),
    },
    (req, res) => {
      const socket = req.socket;
      answering.set(socket, (answering.get(socket) ?? 0) + 1);
      res.once('close', () => answering.set(socket, answering.get(socket)! - 1));
      void serve(emulator, req, res, bodyTimeoutMs);
    },
  );
  const clock = rest.clock ?? Date.now;
  // Replaces Node's own answers to a broken request, which carry no body, with the API's shape.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !answering.get(socket)) {
      // RFC 9110 15.5.9: a server may answer 408 to a request it did not receive in time, and close.
      if (error.code == 'ERR_HTTP_REQUEST_TIMEOUT') {
        return refuse(socket, 408, clock(), `Request headers not received within ${headersTimeoutMs} ms.`);
      }
      if (error.code == 'HPE_HEADER_OVERFLOW') return refuse(socket, 431, clock(), 'Request headers are too large.');
      if (error.code != 'ECONNRESET') return refuse(socket, 400, clock(), 'Malformed HTTP request.');
    }
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  // A wildcard address is not somewhere a client can connect to; loopback on the same port is.
  const shown = ['0.0.0.0', '::'].includes(address.address) ? '127.0.0.1' : address.address;
  return {
    url: `http://${address.family == 'IPv6' && shown != '127.0.0.1' ? `[${shown}]` : shown}:${address.port}/v3`,
    emulator,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
