/**
 * `idcapture/proxy`: the gateway between the browser snippet and the profiles API. Web-standard APIs only, so the
 * same handler runs on Node (through `idcapture/proxy/node`), workerd, Deno and Bun.
 */
export { createProxy, type ProxyHandler, type ProxyContext } from './handler';
export type { ProxyOptions, LogEntry } from './options';
export type { RateLimiter, RateLimits, Limit } from './rate-limit';
export type { Reason } from './answers';
export type { FetchLike } from './upstream';
export type { CoalesceOptions } from './coalesce';
export type { SharedOptions, RedisLike } from './shared/store';
export type { VerifyOptions, UnverifiedPolicy } from './verify';
export { createVuidRestore, type ServerCookieOptions } from './server-cookie';
