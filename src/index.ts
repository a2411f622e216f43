export { createIdCapture, type IdCapture } from './client/create';
export type { IdCaptureEvents } from './client/events';
export type { IdCaptureOptions, ConsentState } from './client/options';
export type { CookieOptions } from './client/visitor-id';
export type { AutocaptureOptions } from './client/capture';
export type { Identifiers, Attributes } from './client/upsert';
export type { Upsert } from './client/queue';
export type { FlushResult } from './client/delivery';
export { IdCaptureError, ValidationError, HttpError } from './errors';
