/**
 * The identity token: a site's back end vouches for the identifiers of a logged-in customer (and, optionally, the
 * visitor's vuid), so the proxy can tell a signed identity from a typed one. A standard compact JWS (a JWT, HS256), so
 * any back end's JWT library can make one; signed and verified here with `jose` (WebCrypto: Node and edge alike).
 *
 * Claims: the identifier values, normalised (`email`, `phone`, `customer_id`, `vuid`, ...), `iat` and `exp` (Unix
 * seconds), and `aud`: `idcapture-identity` for an identity token, `idcapture-link` for a link token (which may only
 * link a vuid to its one identifier). The audience keeps a JWT the same secret signs for another purpose, and a link
 * token, from ever passing as an identity token. Exact spec: docs/identity-token.md.
 */
import { SignJWT, errors, jwtVerify } from 'jose';
import { checkField, isIdentifier, isObject, normalizeIdentifier, normalizeVuid, VUID } from './rules';

/** The identifiers a token may name. */
type IdentityClaims = Record<string, string>;

/** What a token is for: a full identity, or a link from an email (the vuid to one identifier, nothing else). */
export type TokenUse = 'identity' | 'link';

/** The `aud` claim of each use. */
export const AUDIENCE: Readonly<Record<TokenUse, string>> = { identity: 'idcapture-identity', link: 'idcapture-link' };

/** What a valid token says: its use, the identifiers (vuid included when bound), when it was issued and expires. */
export interface VerifiedIdentity {
  use: TokenUse;
  ids: IdentityClaims;
  iat?: number;
  exp: number;
}

/** Registered JWT claims a foreign signer may add; none of them is an identifier. */
const REGISTERED = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

/** Shorter secrets are refused: an HMAC key is only as strong as its length and randomness. */
const MIN_SECRET_LENGTH = 32;

/** Imports the secret once per signer or verifier; the key object can only sign and verify. */
export function importSecret(secret: string, owner: string): Promise<CryptoKey> {
  if (typeof secret != 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new RangeError(`${owner}: the identity secret must be a string of at least ${MIN_SECRET_LENGTH} characters`);
  }
  return crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
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

/** Signs checked claims (see `checkClaims`) for `use`, issued at `iat` and good until `exp` (Unix seconds). */
export function sign(key: CryptoKey, ids: IdentityClaims, iat: number, exp: number, use: TokenUse = 'identity'): Promise<string> {
  return new SignJWT(ids).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).setAudience(AUDIENCE[use]).setIssuedAt(iat).setExpirationTime(exp).sign(key);
}

/** Why a token was refused, in the words the proxy answers with. */
export type TokenProblem = 'malformed' | 'bad signature' | 'expired' | 'revoked' | 'old format' | 'not for idcapture';

/** A token of the format before 0.2 (`claims.mac`, no JOSE header): refused with its own reason, never guessed at. */
const isOldFormat = (token: string) => token.split('.').length == 2;

/**
 * The identity a token carries, or why it is refused. `jose` checks the signature (HS256 only) before the claims are
 * read, so nothing an attacker wrote is interpreted unless the site signed it; then `exp` and the audience.
 */
export async function verifyToken(key: CryptoKey, token: unknown, nowS: number): Promise<VerifiedIdentity | TokenProblem> {
  if (typeof token != 'string' || token.length > 4096) return 'malformed';
  if (isOldFormat(token)) return 'old format';
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, key, {
      algorithms: ['HS256'],
      audience: [AUDIENCE.identity, AUDIENCE.link],
      requiredClaims: ['exp'],
      currentDate: new Date(nowS * 1000),
    }));
  } catch (error) {
    return problemOf(error);
  }
  return identityOf(payload);
}

function problemOf(error: unknown): TokenProblem {
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed && error.claim == 'aud') return 'not for idcapture';
  return 'malformed';
}

/** The identifiers and use of verified claims: every claim but the registered ones must be an identifier string. */
function identityOf(payload: Record<string, unknown>): VerifiedIdentity | TokenProblem {
  const { exp, iat, aud } = payload;
  if (!isObject(payload) || typeof exp != 'number' || (iat !== undefined && typeof iat != 'number')) return 'malformed';
  const ids: IdentityClaims = {};
  for (const [name, value] of Object.entries(payload)) {
    if (REGISTERED.has(name)) continue;
    if (!isIdentifier(name) || typeof value != 'string') return 'malformed';
    ids[name] = value;
  }
  if (ids.vuid !== undefined && !VUID.test(ids.vuid)) return 'malformed';
  const use: TokenUse = aud == AUDIENCE.link || (Array.isArray(aud) && aud.includes(AUDIENCE.link)) ? 'link' : 'identity';
  return { use, ids, iat, exp };
}
