/**
 * Signed link identity (issue 26): an email's link carries a link token (`signIdentity(..., { link: true })`) in a
 * query parameter. On landing it is taken out of the address bar at once, so analytics, referrers and a copied URL
 * never see it, and one upsert links the vuid to the identifier the token names; the proxy checks the signature and
 * accepts nothing else with it. The script tag loads this module (dist/link.js) only when its parameter is present.
 */
import type { IdCapture } from './create';
import { fail } from './options';
import { LINK_PARAMETER } from './link-parameter';

/** The payload of a JWT, read but not checked (the proxy checks the signature), or undefined when unreadable. */
export function payloadOf(token: string): Record<string, unknown> | undefined {
  try {
    const bytes = Uint8Array.from(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return typeof payload == 'object' && payload && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
  } catch {
    // Unreadable: no link.
  }
}

/** Takes `parameter` out of the address bar, keeping the other parameters, the hash and the history state. */
export function takeParameter(parameter: string): string | null {
  const url = new URL(location.href);
  const value = url.searchParams.get(parameter);
  if (value === null) return null;
  url.searchParams.delete(parameter);
  history.replaceState(history.state, '', url.href);
  return value;
}

/** The one identifier a readable, unexpired link token names, or why there is none. */
function linkOf(token: string, nowS: number): [string, string] | string {
  const claims = payloadOf(token);
  if (!claims || claims.aud != 'idcapture-link') return 'not a link token';
  if (!(typeof claims.exp == 'number' && claims.exp > nowS)) return 'expired';
  const ids = Object.entries(claims).filter(([name]) => !['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'].includes(name));
  return ids.length == 1 && typeof ids[0][1] == 'string' ? (ids[0] as [string, string]) : 'not a link token';
}

/** How `followLink` learns what it needs from the page. */
export interface LinkContext {
  /** The identity token the page set for its logged-in visitor, if any, read once the page had a turn to set it. */
  pageToken?: () => string | null | undefined;
  /** Said when a link is ignored. */
  log?: (...args: unknown[]) => void;
  now?: () => number;
}

/**
 * For a readable, unexpired link token (already taken out of the address, see `takeParameter`), sends one upsert that
 * links the vuid to the token's identifier; a page whose signed-in visitor is someone else keeps its identity.
 * Resolves when the upsert is queued (held, while consent is pending, like any capture); never rejects for a bad token.
 */
export async function followLink(client: IdCapture, token: string, { pageToken, log = () => {}, now = Date.now }: LinkContext = {}): Promise<void> {
  const link = linkOf(token, Math.floor(now() / 1000));
  if (typeof link == 'string') return log(`link ignored: ${link}`);
  const [name, value] = link;
  // The page's own start-up code (`setIdentityToken` right after `createIdCapture`) runs first.
  await null;
  const set = pageToken?.();
  const page = set ? payloadOf(set) : undefined;
  if (page && page[name] !== value) return log(`link ignored: the page's visitor is signed in as someone else`);
  await client.identify({ [name]: value }, {}, { token });
}

/**
 * Links for `createIdCapture` (the npm entry): `parameter` checked and taken out of the address before the client
 * starts; the returned function follows the link once the client exists, watching the page's identity token through
 * `setIdentityToken`, a failure logged, never thrown.
 */
export function linkFollower(parameter: unknown = LINK_PARAMETER, debug?: boolean): (client: IdCapture) => IdCapture {
  if (parameter !== false && (typeof parameter != 'string' || !/^[\w.~-]+$/.test(parameter))) fail('linkParameter', 'a query parameter name or false');
  // Server-side rendering has no address: creating the client fails there anyway.
  const token = parameter && typeof location != 'undefined' ? takeParameter(parameter as string) : null;
  return (client) => {
    if (!token) return client;
    let pageToken: string | null = null;
    const set = client.setIdentityToken;
    client.setIdentityToken = (value) => set((pageToken = value));
    const log = debug ? (...args: unknown[]) => console.log('[idcapture]', ...args) : undefined;
    followLink(client, token, { pageToken: () => pageToken, log }).catch((error) => console.error('[idcapture]', error));
    return client;
  };
}
