/**
 * The identity token: a site's back end vouches for the identifiers of a logged-in customer (and, optionally, the
 * visitor's vuid) with an HMAC-SHA256 over them, so the proxy can tell a signed identity from a typed one. Written
 * once for `signIdentity` (idcapture/server) and the proxy's `verify`; WebCrypto only, so Node and edge runtimes alike.
 *
 * Format: `base64url(JSON claims) "." base64url(HMAC-SHA256(secret, "idcapture-identity-v1." + first part))`.
 * The claims are the identifier values, normalised, `iat` and `exp` (Unix seconds). The fixed prefix keeps a MAC made with
 * the same secret for some other purpose from ever passing as an identity token.
 */
import { VUID, checkField, isIdentifier, isObject, normalizeIdentifier, normalizeVuid } from './rules';

/** The identifiers a token may name. */
type IdentityClaims = Record<string, string>;

/**
 * What a valid token says: the identifiers (vuid included when bound), when it was issued (absent from tokens signed
 * before issue 22) and when it expires, in Unix seconds.
 */
export interface VerifiedIdentity {
  ids: IdentityClaims;
  iat?: number;
  exp: number;
}

const DOMAIN = 'idcapture-identity-v1.';

/** Shorter secrets are refused: an HMAC key is only as strong as its length and randomness. */
const MIN_SECRET_LENGTH = 32;

const encoder = new TextEncoder();

const toBase64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

function fromBase64Url(text: string): Uint8Array<ArrayBuffer> | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return;
  try {
    return Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  } catch {
    return;
  }
}

/** Imports the secret once per signer or verifier; the key object can only sign and verify. */
export function importSecret(secret: string, owner: string): Promise<CryptoKey> {
  if (typeof secret != 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(`${owner}: the identity secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  }
  return crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/**
 * The claims to sign, checked with the profile rules and normalised as the proxy will compare them, or the reason
 * they cannot be signed.
 */
export function checkClaims(identity: Record<string, unknown>): IdentityClaims | string {
  const ids: IdentityClaims = {};
  for (const [name, value] of Object.entries(identity)) {
    if (value === undefined) continue;
    if (!isIdentifier(name)) return `${name} is not an identifier`;
    if (typeof value != 'string' || !value.trim()) return `${name} is not a non-empty string`;
    // The vuid may be given as the cookie holds it (`<uuid with dashes>|<epoch ms>`).
    const normal = name == 'vuid' ? (normalizeVuid(value.split('|')[0].trim().toLowerCase()) as string) : (normalizeIdentifier(name, value) as string);
    const problem = checkField(name, normal);
    if (problem) return `${name} ${problem}`;
    ids[name] = normal;
  }
  if (!Object.keys(ids).some((name) => name != 'vuid')) return 'names no identifier besides the vuid';
  return ids;
}

/** Signs checked claims (see `checkClaims`), issued at `iat` and good until `exp` (Unix seconds). */
export async function sign(key: CryptoKey, ids: IdentityClaims, iat: number, exp: number): Promise<string> {
  const claims = toBase64Url(encoder.encode(JSON.stringify({ ...ids, iat, exp })));
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(DOMAIN + claims)));
  return `${claims}.${toBase64Url(mac)}`;
}

/** Why a token was refused, in the words the proxy answers with. */
export type TokenProblem = 'malformed' | 'bad signature' | 'expired' | 'revoked';

/**
 * The identity a token carries, or why it is refused. The MAC is checked by `crypto.subtle.verify` (constant time)
 * before the claims are parsed, so nothing an attacker wrote is interpreted unless the site signed it.
 */
export async function verifyToken(key: CryptoKey, token: unknown, nowS: number): Promise<VerifiedIdentity | TokenProblem> {
  if (typeof token != 'string' || token.length > 4096) return 'malformed';
  const [claims, mac, extra] = token.split('.');
  const macBytes = mac === undefined || extra !== undefined ? undefined : fromBase64Url(mac);
  if (!claims || !macBytes || macBytes.length != 32) return 'malformed';
  if (!(await crypto.subtle.verify('HMAC', key, macBytes, encoder.encode(DOMAIN + claims)))) return 'bad signature';
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(fromBase64Url(claims)));
  } catch {
    return 'malformed';
  }
  if (!isObject(parsed)) return 'malformed';
  const { exp, iat, ...ids } = parsed;
  if (typeof exp != 'number' || (iat !== undefined && typeof iat != 'number')) return 'malformed';
  if (!Object.values(ids).every((v) => typeof v == 'string')) return 'malformed';
  if (typeof ids.vuid == 'string' && !VUID.test(ids.vuid)) return 'malformed';
  if (exp <= nowS) return 'expired';
  return { ids: ids as IdentityClaims, iat, exp };
}
