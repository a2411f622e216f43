/**
 * `idcapture/server`: both endpoints of the profiles API for a site's back end (paced, batched, retried upserts; reads
 * by identifier). Web-standard APIs and ky only, so it runs on Node, workerd, Deno and Bun; never in a browser.
 */
export { createServerClient, type ServerClient, type ProfileQuery, type Profile, type UpsertResult, type InvalidRecord, type CallOptions } from './client';
export type { ServerClientOptions } from './options';
export type { ProfileRecord } from '../upstream/upsert-sender';
export type { Clock } from '../upstream/clock';
export type { ServerFetch } from '../upstream/transport';
export { IdCaptureError, ValidationError, HttpError, NetworkError } from '../errors';
export { signIdentity, type IdentityToSign, type SignOptions } from './sign-identity';
