/**
 * `idcapture/proxy`: the gateway between the browser snippet and the profiles API. Web-standard APIs only, so the
 * same handler runs on Node (through `idcapture/proxy/node`), workerd, Deno and Bun.
 */
import { createProxy as create, type ProxyHandler } from './handler';
import { connectRedis } from './shared/connect';
import type { ProxyOptions } from './options';

export type { ProxyHandler, ProxyContext } from './handler';

/**
 * Creates the proxy handler. Options are checked here, so a missing key or origin list throws at start-up.
 * The handler never throws: every failure is an answer from the fixed table.
 */
export const createProxy = (options: ProxyOptions): ProxyHandler => create(options, connectRedis);
export type { ProxyOptions, LogEntry } from './options';
export type { RateLimiter, RateLimits, Limit } from './rate-limit';
export type { Reason } from './answers';
export type { FetchLike } from './upstream';
export type { CoalesceOptions } from './coalesce';
export type { SharedOptions, RedisLike } from './shared/store';
export type { VerifyOptions, UnverifiedPolicy } from './verify';
export { createVuidRestore, type ServerCookieOptions } from './server-cookie';
export { routeHandlers, type RouteHandler } from './route-handlers';
