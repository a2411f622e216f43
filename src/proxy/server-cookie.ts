/**
 * The server-set twin of the vuid cookie. Safari (ITP) caps a cookie written by script at 7 days and deletes every
 * script-writable store of a site not interacted with for 7 days; a cookie set by the site's own server with
 * `Set-Cookie` (HttpOnly, so no script can touch it) is kept. The proxy (Node or Worker) and the edge set this twin
 * once the visitor's consented upserts arrive, and restore the script-readable cookie from it when the browser lost it.
 */
import { optionChecks, optionNames } from '../options/checks';

/** The `serverCookie` option of `createProxy`, `createEdge` and `createVuidRestore`. */
export interface ServerCookieOptions {
  /**
   * Name of the HttpOnly twin.
   * @default 'idc_vuid'
   */
  name?: string;
  /**
   * Name of the script-readable cookie the client keeps (the client's `cookie.name`).
   * @default 'vuid'
   */
  scriptCookie?: string;
  /**
   * Cookie `Domain`, e.g. `'shop.example'` to share both cookies with `www.shop.example`; give the client the same
   * `cookie.domain`.
   * @default undefined (host-only)
   */
  domain?: string;
  /**
   * Lifetime of both cookies in days, at most 400 (browsers cap a cookie's lifetime there).
   * @default 400
   */
  maxAgeDays?: number;
}

/** Every default, in one place (the README's table is checked against it). */
export const serverCookieDefaults = { name: 'idc_vuid', scriptCookie: 'vuid', maxAgeDays: 400 } as const;

const names = optionNames<ServerCookieOptions>()(serverCookieDefaults, ['domain']);

/** A cookie name (an RFC 6265 token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The value the client writes: `<uuid>|<epoch ms>` URL-encoded (src/client/visitor-id.ts), or raw `|` from the Zaius tag. */
const VALUE = /^([0-9a-f]{8}-?[0-9a-f]{4}-?4[0-9a-f]{3}-?[89ab][0-9a-f]{3}-?[0-9a-f]{12})(?:%7C|\|)\d{1,16}$/i;

/** The server cookie's settings as checked. */
export type ServerCookie = Required<Omit<ServerCookieOptions, 'domain'>> & { domain?: string };

/**
 * Checks the option once; `undefined` or `false` turns the twin off. `owner` words the errors, `within` is the
 * option's path (`serverCookie`, or `''` for a helper whose options these are) and `more` the helper's own names.
 */
export function resolveServerCookie(
  option: ServerCookieOptions | boolean | undefined,
  owner: string,
  within = 'serverCookie',
  more: readonly string[] = [],
): ServerCookie | undefined {
  if (option === undefined || option === false) return;
  const check = optionChecks(owner);
  const path = (name: string) => (within ? `${within}.${name}` : name);
  const given = option === true ? {} : option;
  if (typeof given != 'object' || !given) return check.fail(within || 'options', 'an object, true or false');
  check.known(given, [...names, ...more], within || undefined);
  const name = (value: unknown, option: string) => (typeof value == 'string' && TOKEN.test(value) ? value : check.fail(path(option), 'a cookie name'));
  const { domain } = given;
  if (domain !== undefined && (typeof domain != 'string' || !/^\.?[a-z0-9.-]+$/i.test(domain))) check.fail(path('domain'), 'a host name');
  const cookie = {
    name: name(given.name ?? serverCookieDefaults.name, 'name'),
    scriptCookie: name(given.scriptCookie ?? serverCookieDefaults.scriptCookie, 'scriptCookie'),
    domain,
    maxAgeDays: check.range(path('maxAgeDays'), given.maxAgeDays ?? serverCookieDefaults.maxAgeDays, 1, 400),
  };
  if (cookie.name == cookie.scriptCookie) check.fail(path('name'), `other than ${path('scriptCookie')}`);
  return cookie;
}

/** The value of cookie `name` in a `Cookie` header, if it holds a vuid. */
function read(header: string | null, name: string): string | undefined {
  for (const pair of (header ?? '').split(';')) {
    const at = pair.indexOf('=');
    if (at > 0 && pair.slice(0, at).trim() == name) {
      const value = pair.slice(at + 1).trim();
      return VALUE.test(value) ? value : undefined;
    }
  }
}

/** The 32 hex digits of the vuid a cookie value holds, the form records carry. */
const vuidOf = (value: string) => VALUE.exec(value)![1].replace(/-/g, '').toLowerCase();

/**
 * What the cookie rules need of a request: its `Cookie` header, and whether it came over https (`Secure` is set
 * exactly then: a browser refuses a Secure cookie from plain http, Safari even on localhost).
 */
export interface CookieRequest {
  header: string | null | undefined;
  secure: boolean;
}

/** The `CookieRequest` of a Fetch-API request (or of what the proxy reads of one, `PlainRequest`). */
export const cookieRequest = (request: Pick<Request, 'url'> & { headers: Pick<Headers, 'get'> }): CookieRequest => ({
  header: request.headers.get('cookie'),
  secure: new URL(request.url).protocol == 'https:',
});

/** Both cookies of a request, each when it holds a vuid. */
export const readCookies = (cookie: ServerCookie, { header }: CookieRequest) => ({
  script: read(header ?? null, cookie.scriptCookie),
  twin: read(header ?? null, cookie.name),
});

function serialize(cookie: ServerCookie, name: string, value: string, maxAgeS: number, secure: boolean, httpOnly: boolean): string {
  return (
    `${name}=${value}; Path=/; Max-Age=${maxAgeS}; SameSite=Lax` +
    (cookie.domain ? `; Domain=${cookie.domain}` : '') +
    (secure ? '; Secure' : '') +
    (httpOnly ? '; HttpOnly' : '')
  );
}

/**
 * The `Set-Cookie` that restores the script-readable cookie from the twin, when the request carries a twin and no
 * script cookie. When both are there and differ, the script cookie wins and is left alone: the client changed it
 * (`reset()`), and its next accepted upsert moves the twin to it.
 */
export function restoreCookie(cookie: ServerCookie, request: CookieRequest): string | undefined {
  const { script, twin } = readCookies(cookie, request);
  if (!twin || script) return;
  return serialize(cookie, cookie.scriptCookie, twin, Math.round(cookie.maxAgeDays * 86400), request.secure, false);
}

/**
 * The `Set-Cookie` of the twin after an accepted upsert: only when the request carries the script cookie and one of
 * the records carries its vuid. The client sends nothing before consent is granted, and deletes the script cookie on
 * a denial, so a twin is only ever set for a consenting visitor.
 */
export function twinCookie(cookie: ServerCookie, request: CookieRequest, vuids: readonly unknown[]): string | undefined {
  const { script } = readCookies(cookie, request);
  if (!script || !vuids.includes(vuidOf(script))) return;
  return serialize(cookie, cookie.name, script, Math.round(cookie.maxAgeDays * 86400), request.secure, true);
}

/** The `Set-Cookie` that deletes the twin (the client's request on a denial or a `reset()`). */
export const clearCookie = (cookie: ServerCookie, request: CookieRequest): string => serialize(cookie, cookie.name, '', 0, request.secure, true);

/**
 * `response` with `cookies` appended (an origin's own `Set-Cookie` kept). A response that sets a cookie is one
 * visitor's: a shared cache must not keep it.
 */
export function withCookies(response: Response, cookies: (string | undefined)[]): Response {
  const set = cookies.filter((c): c is string => !!c);
  // A 101 (a WebSocket through the edge) cannot be copied, and sets no cookie anyway.
  if (!set.length || response.status < 200) return response;
  const copy = new Response(response.body, response);
  for (const c of set) copy.headers.append('set-cookie', c);
  const cache = copy.headers.get('cache-control');
  if (cache && /\b(public|s-maxage)\b/i.test(cache)) copy.headers.set('cache-control', 'private, no-cache');
  return copy;
}

/**
 * The restore step on its own, for a site whose pages another server renders (Next.js middleware, a route
 * handler): returns a function that gives the `Set-Cookie` value restoring the script-readable vuid cookie from its
 * server twin for a request, or `undefined` when there is nothing to restore. Options as `serverCookie`.
 */
export function createVuidRestore(options: ServerCookieOptions = {}): (request: Request) => string | undefined {
  const cookie = resolveServerCookie(options, 'idcapture/proxy', '')!;
  return (request) => restoreCookie(cookie, cookieRequest(request));
}
