/** Every answer the proxy gives, in one place: reason code → status, title and fixed message. */
import { corsHeaders, preflightHeaders } from './cors';
import type { PlainAnswer } from '../http/plain';
import type { Invalid } from './validate';

/**
 * The answers by reason code. Bodies are fixed and never carry anything from the upstream or the configuration;
 * the Zaius shape (`title`, `status`, `timestamp`, `detail`) keeps one parser enough for the client.
 */
export const ANSWERS = {
  accepted: { status: 202, title: 'Accepted', message: '' },
  preflight: { status: 204, title: 'No Content', message: '' },
  cleared: { status: 204, title: 'No Content', message: '' },
  invalid_json: { status: 400, title: 'Bad Request', message: 'Unable to parse request body.' },
  invalid_batch: { status: 400, title: 'Bad Request', message: 'Send a non-empty array of {"attributes": {...}} records, or one record.' },
  invalid_records: { status: 400, title: 'Bad Request', message: 'Some records are invalid; none was sent. Drop those in invalids and resend the rest.' },
  unreadable_body: { status: 400, title: 'Bad Request', message: 'The request body could not be read.' },
  origin_not_allowed: { status: 403, title: 'Forbidden', message: 'This origin may not post profiles here.' },
  not_found: { status: 404, title: 'Not Found', message: 'Nothing is served at this path.' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed', message: 'Only POST (DELETE with serverCookie) and its OPTIONS preflight are served.' },
  payload_too_large: { status: 413, title: 'Payload Too Large', message: 'The body is larger than this proxy accepts.' },
  too_many_records: { status: 413, title: 'Payload Too Large', message: 'The batch has more records than this proxy accepts; split it.' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type', message: 'Send JSON as application/json or text/plain.' },
  rate_limited: { status: 429, title: 'Too Many Requests', message: 'Too many requests; retry after Retry-After seconds.' },
  internal_error: { status: 500, title: 'Internal Server Error', message: 'The proxy failed.' },
  upstream_error: { status: 502, title: 'Bad Gateway', message: 'The profiles API failed.' },
  upstream_invalid: { status: 400, title: 'Bad Request', message: 'The profiles API refused some records; none was applied. Drop those in invalids and resend the rest.' },
  upstream_rejected: { status: 502, title: 'Bad Gateway', message: 'The profiles API refused the request.' },
  upstream_busy: { status: 503, title: 'Service Unavailable', message: 'The profiles API is busy; retry after Retry-After seconds.' },
  upstream_timeout: { status: 504, title: 'Gateway Timeout', message: 'The profiles API did not answer in time.' },
} as const;

export type Reason = keyof typeof ANSWERS;

/** What a request came to; the handler turns it into a response here and into a log entry. */
export interface Outcome {
  reason: Reason;
  retryAfterS?: number;
  invalids?: Invalid[];
  /** Attribute names taken out of the records because `allowedAttributes` does not list them. */
  removed?: string[];
  /** Attribute names taken out of unverified records by the `verify.unverified` policy. */
  reduced?: string[];
  /** Attribute names taken out of records because a write captured later was already forwarded for their identity. */
  stale?: string[];
}

/** Said beside `detail.removed`, so the answer explains itself to whoever reads it in the network panel. */
const REMOVED = 'Attributes not in allowedAttributes were removed from the records; the rest was forwarded.';
const REDUCED = 'Records without a valid identity token were reduced to what unverified records may set; the rest was forwarded.';
const STALE = 'Attributes captured before a newer write of the same profile were removed (the newest write wins); the rest was forwarded.';

/** Builds the answer for `outcome`. `origin` is the allowed origin to echo, or null for none. */
export function respond({ reason, retryAfterS, invalids, removed, reduced, stale }: Outcome, origin: string | null, methods: string): PlainAnswer {
  const { status, title, message } = ANSWERS[reason];
  // Vary on every answer of the route: a cache must not hand one origin's answer (with its CORS headers) to another.
  const headers: Record<string, string> = { vary: 'Origin', 'cache-control': 'no-store', ...corsHeaders(origin) };
  if (reason == 'preflight') return { status, headers: { ...headers, ...preflightHeaders(methods) }, cookies: [], body: null };
  if (reason == 'cleared') return { status, headers, cookies: [], body: null };
  if (reason == 'method_not_allowed') headers.allow = `${methods}, OPTIONS`;
  if (retryAfterS !== undefined) headers['retry-after'] = String(retryAfterS);
  headers['content-type'] = 'application/json';
  headers['x-content-type-options'] = 'nosniff';
  const detail =
    reason != 'accepted'
      ? { reason, message, invalids, removed }
      : removed || reduced || stale
        ? { reason, message: [removed && REMOVED, reduced && REDUCED, stale && STALE].filter(Boolean).join(' '), removed, reduced, stale }
        : undefined;
  return { status, headers, cookies: [], body: JSON.stringify({ title, status, timestamp: new Date().toISOString(), detail }) };
}
