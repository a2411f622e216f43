/**
 * A handler's request and answer without Fetch's `Request` and `Response`: what the proxy reads of a request (its URL,
 * method, headers and body bytes up to a limit) and what it answers (a status, headers and a small body). The Node
 * adapter serves such a handler straight from `node:http`, with no Web stream, signal or `Response` per request (they
 * were most of the proxy's CPU on Node); the Fetch handler made of it by `fetchHandler` is the same code for Workers,
 * Deno and Bun. Web APIs only.
 */
import { readBody, TOO_LARGE } from './read-body';

/** What a plain handler reads of a request. */
export interface PlainRequest {
  /** The absolute URL. */
  readonly url: string;
  readonly method: string;
  /** As `Headers.get`: case-insensitive, repeated headers joined with `, `, null when absent. */
  readonly headers: { get(name: string): string | null };
  /** The body as `readBody` reads it: its bytes, `TOO_LARGE` past `maxBytes`, undefined when it cannot be read. Once. */
  bytes(maxBytes: number): Promise<Uint8Array | typeof TOO_LARGE | undefined>;
}

/** A plain handler's answer. */
export interface PlainAnswer {
  status: number;
  /** Lower-case names, one value each. */
  headers: Record<string, string>;
  /** Each `Set-Cookie` value, one header each. */
  cookies: string[];
  body: string | null;
}

export type PlainHandler<C> = (request: PlainRequest, ctx?: C) => Promise<PlainAnswer>;

/**
 * The key under which a Fetch handler made by `fetchHandler` carries its plain handler, for an adapter that can call
 * it directly. `Symbol.for`: one key even when two copies of the package are loaded.
 */
export const PLAIN = Symbol.for('idcapture.plainHandler');

/** A Fetch-API handler with the plain handler it runs under `PLAIN`. */
export type WithPlain<C> = ((request: Request, ctx?: C) => Promise<Response>) & { [PLAIN]: PlainHandler<C> };

const plainOf = (request: Request): PlainRequest => ({
  url: request.url,
  method: request.method,
  headers: request.headers,
  bytes: (maxBytes) => readBody(request, maxBytes),
});

function toResponse({ status, headers, cookies, body }: PlainAnswer): Response {
  const all = new Headers(headers);
  for (const cookie of cookies) all.append('set-cookie', cookie);
  return new Response(body, { status, headers: all });
}

/** The Fetch-API handler that runs `plain`, carrying it under `PLAIN`. */
export function fetchHandler<C>(plain: PlainHandler<C>): WithPlain<C> {
  const handle = async (request: Request, ctx?: C) => toResponse(await plain(plainOf(request), ctx));
  return Object.assign(handle, { [PLAIN]: plain });
}
