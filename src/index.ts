export { createIdCapture, type IdCapture, type IdCaptureEvents } from './client/create';
export type { IdCaptureOptions, ConsentState } from './client/options';
export type { CookieOptions } from './client/identity';
export type { Identifiers, Attributes } from './client/upsert';
export type { Upsert } from './client/queue';
export { IdCaptureError, ValidationError, HttpError } from './client/errors';
