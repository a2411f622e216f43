/** The origin check and the CORS headers that go with it. */

/** The allowed origins, normalised once: a set of exact `scheme://host[:port]` strings, or any origin. */
export type Origins = ReadonlySet<string> | '*';

/**
 * Chromium caps a cached preflight at 2 hours (Firefox at 24); every flush of the snippet would otherwise cost a
 * preflight round trip.
 */
const PREFLIGHT_MAX_AGE_S = 7200;

/** Checks `allowedOrigins`: exact origins only, so a typo or a path fails at start-up rather than refusing every visitor. */
export function resolveOrigins(option: unknown): Origins {
  if (option === '*') return '*';
  if (!Array.isArray(option) || !option.length) {
    throw new TypeError("idcapture/proxy: option allowedOrigins is required: a list of origins, or '*' said explicitly");
  }
  for (const origin of option) {
    let exact = false;
    try {
      const url = new URL(origin);
      exact = /^https?:$/.test(url.protocol) && url.origin == origin;
    } catch {
      // Not a URL at all: reported below like any other inexact origin.
    }
    if (!exact) {
      throw new TypeError(`idcapture/proxy: option allowedOrigins must hold exact origins like https://shop.example, not ${JSON.stringify(origin)}`);
    }
  }
  return new Set(option);
}

/**
 * Whether a request from `origin` may be served. Browsers send `Origin` on every POST, so a missing one means a
 * non-browser client, which only `'*'` lets through. The check is enforced on the POST itself, not only on the
 * preflight: CORS stops a page from reading the answer, not from sending the request.
 */
export const originAllowed = (origin: string | null, origins: Origins): boolean =>
  origins == '*' || (origin !== null && origins.has(origin));

/** Headers on every answer to an allowed origin, errors included, so the page can read why it failed. */
export function corsHeaders(origin: string | null): Record<string, string> {
  if (origin === null) return {};
  // Retry-After is not a CORS-safelisted response header: without the exposure the snippet could not honour it.
  return { 'access-control-allow-origin': origin, 'access-control-expose-headers': 'Retry-After' };
}

/** The extra headers of a preflight answer; `methods`: `POST`, or `POST, DELETE` with the server cookie. */
export const preflightHeaders = (methods: string) => ({
  'access-control-allow-methods': methods,
  'access-control-allow-headers': 'Content-Type',
  'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
});
