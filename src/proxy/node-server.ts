/**
 * `createNodeServer`: an `http.Server` for the proxy with deliberate limits instead of Node's defaults, under which
 * one client could hold thousands of idle connections for over a minute, or a slow body for minutes, and starve
 * every other client of file descriptors (issue 16).
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { toNodeListener, type NodeListenerOptions } from './node-listener';
import type { ProxyContext } from './handler';

/** Options of `createNodeServer`: the listener's, and the server's limits. */
export interface NodeServerOptions extends NodeListenerOptions {
  /** Milliseconds for a client to send its request headers, from the connection's start. Default 10000. */
  headersTimeoutMs?: number;
  /** Milliseconds for the whole request, body included, enforced by Node (`server.requestTimeout`). Default 30000. */
  requestTimeoutMs?: number;
  /** Milliseconds an idle keep-alive connection stays open after an answer. Default 5000. */
  keepAliveTimeoutMs?: number;
  /** Milliseconds of silence after which any socket is closed (`server.timeout`); above the proxy's `timeoutMs`. Default 30000. */
  idleTimeoutMs?: number;
  /**
   * Open connections one client IP may hold; past it new ones are closed at once. `false` for none: behind a reverse
   * proxy every connection comes from the proxy's address (limit there instead). Default 32.
   */
  maxConnectionsPerIp?: number | false;
  /** Open connections in all (`server.maxConnections`), kept under the process's file-descriptor limit. Default 1000. */
  maxConnections?: number;
}

/** Every default, in one place. */
export const nodeServerDefaults = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  maxConnectionsPerIp: 32,
  maxConnections: 1000,
} as const;

type Handler = (request: Request, ctx?: ProxyContext) => Promise<Response>;

const positive = (name: string, value: number) => {
  if (!(Number.isInteger(value) && value > 0)) throw new RangeError(`idcapture/proxy/node: option ${name} must be a whole number above 0`);
  return value;
};

/**
 * Creates (does not start) a `node:http` server running `handle` with the limits above:
 * `createNodeServer(createProxy({...})).listen(8080)`.
 */
export function createNodeServer(handle: Handler, options: NodeServerOptions = {}): Server {
  const o = { ...nodeServerDefaults, ...options };
  for (const name of ['headersTimeoutMs', 'requestTimeoutMs', 'bodyTimeoutMs', 'keepAliveTimeoutMs', 'idleTimeoutMs', 'maxConnections'] as const) {
    positive(name, o[name]);
  }
  if (o.headersTimeoutMs > o.requestTimeoutMs) throw new RangeError('idcapture/proxy/node: option headersTimeoutMs must not exceed requestTimeoutMs');
  const perIp = o.maxConnectionsPerIp === false ? undefined : positive('maxConnectionsPerIp', o.maxConnectionsPerIp);
  const server = createServer(
    {
      headersTimeout: o.headersTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default), which would stretch them.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, o.headersTimeoutMs / 4)),
    },
    toNodeListener(handle, o),
  );
  server.maxConnections = o.maxConnections;
  server.setTimeout(o.idleTimeoutMs, (socket: Socket) => socket.destroy());
  if (perIp) {
    const open = new Map<string, number>();
    server.on('connection', (socket: Socket) => {
      const ip = socket.remoteAddress ?? '';
      const n = (open.get(ip) ?? 0) + 1;
      if (n > perIp) return void socket.destroy();
      open.set(ip, n);
      socket.once('close', () => {
        const left = (open.get(ip) ?? 1) - 1;
        if (left) open.set(ip, left);
        else open.delete(ip);
      });
    });
  }
  return server;
}
