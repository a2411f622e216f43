/** The API's answers, in the shapes its docs show. Every body is JSON. */

const pad = (n: number) => String(n).padStart(2, '0');

/** ISO 8601 in the machine's local zone with its offset, to the second, as in the docs: `2018-09-10T21:07:10-05:00`. */
export function timestamp(ms: number): string {
  const date = new Date(ms);
  const offset = -date.getTimezoneOffset();
  const zone = `${offset < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}${zone}`
  );
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });

const TITLES: Record<number, string> = {
  202: 'Accepted',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The `{title, status, timestamp, detail?}` shape of the documented 202, 400 and 404 answers (and our others). */
export const problem = (status: number, now: number, detail?: object, headers?: Record<string, string>): Response =>
  json(status, { title: TITLES[status], status, timestamp: timestamp(now), ...(detail && { detail }) }, headers);

/** A 400 or 404 (or other) whose `detail` is one message. */
export const message = (status: number, now: number, text: string, headers?: Record<string, string>): Response =>
  problem(status, now, { message: text }, headers);

export const accepted = (now: number, headers?: Record<string, string>): Response => problem(202, now, undefined, headers);

/** The API gateway's bare bodies: documented for 403, inferred for 429. */
export const forbidden = (): Response => json(403, { message: 'Forbidden' });

export const tooManyRequests = (retryAfterSeconds: number): Response =>
  json(429, { message: 'Too Many Requests' }, { 'retry-after': String(retryAfterSeconds) });
