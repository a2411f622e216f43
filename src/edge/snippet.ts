/** `/idcapture.js` served first-party: the embedded production tag, revalidated by its content hash. */
import { code, etag } from 'idcapture:tag';

/**
 * The URL is unversioned (pages name `/idcapture.js`), so a release must reach visitors within minutes: a short
 * max-age. Past it, stale-while-revalidate lets a page use the copy it has at once while the browser revalidates in
 * the background, which costs a 304 without a body thanks to the strong ETag.
 */
const CACHE_CONTROL = 'public, max-age=300, stale-while-revalidate=86400';

/** If-None-Match matches with the weak comparison (RFC 9110 13.1.2): `W/` is ignored, `*` matches any. */
const matches = (header: string | null) =>
  !!header && header.split(',').some((tag) => ['*', etag].includes(tag.trim().replace(/^W\//, '')));

/** The tag's answer to a GET or HEAD: 200 with the bytes, or 304 when the browser has them. */
export function serveSnippet(request: Request): Response {
  const headers = {
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': CACHE_CONTROL,
    etag,
    'x-content-type-options': 'nosniff',
  };
  if (request.method != 'GET' && request.method != 'HEAD') {
    return new Response(null, { status: 405, headers: { allow: 'GET, HEAD' } });
  }
  if (matches(request.headers.get('if-none-match'))) return new Response(null, { status: 304, headers });
  return new Response(request.method == 'HEAD' ? null : code, { status: 200, headers });
}
