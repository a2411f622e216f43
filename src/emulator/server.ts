/** `startEmulator`: the emulator on `node:http`, through the shared Node adapter, with the API's deadlines. */
import { createServer, STATUS_CODES, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { nodeListener } from '../http/node';
import { optionChecks, optionNames } from '../options/checks';
import type { Clock } from '../upstream/clock';
import { timestamp } from './answers';
import { createEmulator, type Emulator } from './emulator';
import { defaults, names as emulatorNames, type EmulatorOptions } from './options';

/** Options of `startEmulator`: the emulator's, plus where to listen. */
export interface StartOptions extends EmulatorOptions {
  /**
   * TCP port; 0 picks a free one.
   * @default 0
   */
  port?: number;
  /**
   * Interface to listen on: the emulator has no business on a public interface.
   * @default '127.0.0.1'
   */
  host?: string;
  /**
   * How long a request's line and headers may take to arrive, in ms; a slower one is answered 408 and its
   * connection closed.
   * @default 10000
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

/** Every default of the server, in one place (the emulator's own are in `options.ts`). */
export const serverDefaults = {
  port: 0,
  host: '127.0.0.1',
  /** As long as the body's, and far below Node's own 60 s. */
  headersTimeoutMs: 10_000,
};

const check = optionChecks('idcapture emulator');
const names = optionNames<StartOptions>()(serverDefaults, emulatorNames);

/**
 * The emulator's `http.Server`: requests through the shared Node adapter, and Node's own answers to a broken request
 * (which carry no body) replaced by the API's shape.
 */
function createEmulatorServer(emulator: Emulator, deadlines: { headersTimeoutMs: number; bodyTimeoutMs: number }, clock: Clock) {
  const { headersTimeoutMs, bodyTimeoutMs } = deadlines;
  // The body's deadline is the emulator's own (a 408 in the API's shape); once an early answer (a 413, a 403) has
  // gone out, the rest of the body may take as long as a body may, then the connection is closed, since no answer
  // can be given for it any more.
  const listener = nodeListener(emulator.fetch, { origin: 'http://emulator.invalid', drainMaxBytes: Infinity, drainTimeoutMs: bodyTimeoutMs });
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
      listener(req, res);
    },
  );
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !answering.get(socket)) {
      // RFC 9110 15.5.9: a server may answer 408 to a request it did not receive in time, and close.
      if (error.code == 'ERR_HTTP_REQUEST_TIMEOUT') {
        return refuse(socket, 408, clock.now(), `Request headers not received within ${headersTimeoutMs} ms.`);
      }
      if (error.code == 'HPE_HEADER_OVERFLOW') return refuse(socket, 431, clock.now(), 'Request headers are too large.');
      if (error.code != 'ECONNRESET') return refuse(socket, 400, clock.now(), 'Malformed HTTP request.');
    }
    socket.destroy();
  });
  return server;
}

/** Listens on `host`:`port`; resolves with the API base a client can reach. */
async function listen(server: Server, port: number, host: string): Promise<string> {
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
  return `http://${address.family == 'IPv6' && shown != '127.0.0.1' ? `[${shown}]` : shown}:${address.port}/v3`;
}

/** Starts an emulator on Node http; resolves once it listens. Throws on a bad option. */
export async function startEmulator(options: StartOptions = {}): Promise<RunningEmulator> {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture emulator: options must be an object');
  check.known(options, names);
  const { port = serverDefaults.port, host = serverDefaults.host, headersTimeoutMs = serverDefaults.headersTimeoutMs, ...emulatorOptions } = options;
  check.whole('port', port, 0, 65535);
  if (typeof host != 'string' || !host) check.fail('host', 'a host name or address');
  check.whole('headersTimeoutMs', headersTimeoutMs);
  const emulator = createEmulator(emulatorOptions);
  const bodyTimeoutMs = emulatorOptions.bodyTimeoutMs ?? defaults.bodyTimeoutMs;
  const server = createEmulatorServer(emulator, { headersTimeoutMs, bodyTimeoutMs }, emulatorOptions.clock ?? defaults.clock);
  return {
    url: await listen(server, port, host),
    emulator,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
