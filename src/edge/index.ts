/**
 * `idcapture/edge`: a complete Cloudflare Worker for the store's own host: the tag served first-party, the proxy,
 * optional injection into pages, and the HttpOnly server twin of the vuid that survives Safari's 7-day limit.
 */
export { createEdge, type Edge } from './create';
export { ProfileWriter } from './writer';
export type { EdgeOptions } from './options';
export type { InjectOptions } from './inject';
export type { ProxyOptions, ServerCookieOptions } from '../proxy/index';
export type { RateLimiter, RateLimits, Limit, VerifyOptions, UnverifiedPolicy, CoalesceOptions, FetchLike, LogEntry } from '../proxy/index';
