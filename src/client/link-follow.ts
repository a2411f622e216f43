/**
 * Following a signed link (issue 26): the link token's claims are read and, for a readable, unexpired link token, one
 * upsert links the vuid to the identifier it names. Only a page whose address carried a link token loads this module:
 * the script tag through dist/link.js, an app's bundle as a chunk of its own that `createIdCapture` imports on demand.
 */
import type { IdCapture } from './create';

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
