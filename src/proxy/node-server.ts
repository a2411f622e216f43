/**
 * `createNodeServer`: an `http.Server` for the proxy with deliberate limits instead of Node's defaults, under which
 * one client could hold thousands of idle connections for over a minute, or a slow body for minutes, and starve
 * every other client of file descriptors.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { toNodeListener, type NodeListenerOptions } from './node-listener';
import type { ProxyContext } from './handler';
import { optionChecks, optionNames } from '../options/checks';

/** Options of `createNodeServer`: the listener's, and the server's limits. */
export interface NodeServerOptions extends NodeListenerOptions {
  /**
   * Milliseconds for a client to send its request headers, from the connection's start.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * Milliseconds for the whole request, body included, enforced by Node (`server.requestTimeout`).
   * @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * Milliseconds from the request's start within which its whole body must have arrived (see `toNodeListener`).
   * @default 10000
   */
  bodyTimeoutMs?: number;
  /**
   * Milliseconds an idle keep-alive connection stays open after an answer.
   * @default 5000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Milliseconds of silence after which any socket is closed (`server.timeout`); above the proxy's `timeoutMs`.
   * @default 30000
   */
  idleTimeoutMs?: number;
  /**
   * Open connections one client IP may hold; past it new ones are closed at once. `false` for none: behind a reverse
   * proxy every connection comes from the proxy's address (limit there instead).
   * @default 32
   */
  maxConnectionsPerIp?: number | false;
  /**
   * Open connections in all, kept under the process's file-descriptor limit. At the cap a new connection closes the
   * oldest one that has not finished a request head (slow or idle), or is itself closed when every one is inside a
   * request.
   * @default 1000
   */
  maxConnections?: number;
}

/** Every default, in one place (the README's table is checked against it). */
export const defaults = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  bodyTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  maxConnectionsPerIp: 32,
  maxConnections: 1000,
} as const;

type Handler = (request: Request, ctx?: ProxyContext) => Promise<Response>;

const check = optionChecks('idcapture/proxy/node');
const names = optionNames<NodeServerOptions>()(defaults, ['trustProxyHeader']);

/** Fills in the defaults and checks every limit once. */
function resolveLimits(options: NodeServerOptions) {
  if (typeof options != 'object' || !options) throw new TypeError('idcapture/proxy/node: createNodeServer options must be an object');
  check.known(options, names);
  const given = { ...defaults, ...options };
  const limits = {
    ...given,
    headersTimeoutMs: check.whole('headersTimeoutMs', given.headersTimeoutMs),
    requestTimeoutMs: check.whole('requestTimeoutMs', given.requestTimeoutMs),
    bodyTimeoutMs: check.whole('bodyTimeoutMs', given.bodyTimeoutMs),
    keepAliveTimeoutMs: check.whole('keepAliveTimeoutMs', given.keepAliveTimeoutMs),
    idleTimeoutMs: check.whole('idleTimeoutMs', given.idleTimeoutMs),
    maxConnections: check.whole('maxConnections', given.maxConnections),
    maxConnectionsPerIp: given.maxConnectionsPerIp === false ? undefined : check.whole('maxConnectionsPerIp', given.maxConnectionsPerIp),
  };
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) {
    throw new RangeError('idcapture/proxy/node: option headersTimeoutMs must not exceed requestTimeoutMs');
  }
  return limits;
}

/** Closes a new connection past `max` open ones from its IP. */
function limitPerIp(server: Server, max: number) {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    const connections = (open.get(ip) ?? 0) + 1;
    if (connections > max) return void socket.destroy();
    open.set(ip, connections);
    socket.once('close', () => {
      const left = (open.get(ip) ?? 1) - 1;
      if (left) open.set(ip, left);
      else open.delete(ip);
    });
  });
}

/**
 * Caps open connections at `max`. At the cap a new connection makes room by closing the oldest connection that has
 * not finished a request head (a slow-header attacker's, or one idle between keep-alive requests), so requests that
 * have arrived are answered and new clients keep getting in; Node's own `maxConnections` would refuse the newcomer
 * and leave the slow ones holding every slot. When every connection is inside a request, the newcomer is closed.
 */
function capConnections(server: Server, max: number) {
  const live = new Set<Socket>();
  // Connections waiting for a request head, oldest first: a Set keeps insertion order.
  const waiting = new Set<Socket>();
  const forget = (socket: Socket) => {
    live.delete(socket);
    waiting.delete(socket);
  };
  server.on('connection', (socket: Socket) => {
    if (socket.destroyed) return; // refused by the per-IP cap
    if (live.size >= max) {
      const oldest = waiting.values().next().value;
      if (!oldest) return void socket.destroy();
      forget(oldest);
      oldest.destroy();
    }
    live.add(socket);
    waiting.add(socket);
    socket.once('close', () => forget(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const { socket } = req;
    waiting.delete(socket);
    // Answered, a keep-alive connection waits for its next request head: the newest such connection.
    res.once('finish', () => live.has(socket) && waiting.add(socket));
  });
}

/**
 * Creates (does not start) a `node:http` server running `handle` with the limits above:
 * `createNodeServer(createProxy({...})).listen(8080)`.
 */
export function createNodeServer(handle: Handler, options: NodeServerOptions = {}): Server {
  const limits = resolveLimits(options);
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // Node checks the two timeouts above only this often (30 s by default), which would stretch them.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, limits.headersTimeoutMs / 4)),
    },
    toNodeListener(handle, { trustProxyHeader: limits.trustProxyHeader, bodyTimeoutMs: limits.bodyTimeoutMs }),
  );
  server.setTimeout(limits.idleTimeoutMs, (socket: Socket) => socket.destroy());
  if (limits.maxConnectionsPerIp) limitPerIp(server, limits.maxConnectionsPerIp);
  capConnections(server, limits.maxConnections);
  return server;
}
