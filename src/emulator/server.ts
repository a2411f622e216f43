import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createEmulator, type Emulator } from './emulator';
import type { EmulatorOptions } from './options';

/** Options of `startEmulator`: the emulator's, plus where to listen. */
export interface StartOptions extends EmulatorOptions {
  /** TCP port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default `'127.0.0.1'`: the emulator has no business on a public interface. */
  host?: string;
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

async function serve(emulator: Emulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
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
  }
}

/** Starts an emulator on Node http; resolves once it listens. Throws on a bad option. */
export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  const { port = 0, host = '127.0.0.1', ...rest } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError('idcapture emulator: option port must be an integer from 0 to 65535');
  }
  if (typeof host != 'string' || !host) {
    throw new TypeError('idcapture emulator: option host must be a host name or address');
  }
  const emulator = createEmulator(rest);
  const server = createServer((req, res) => void serve(emulator, req, res));
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
