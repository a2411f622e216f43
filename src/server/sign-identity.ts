/** `signIdentity`: the site's back end vouches for a logged-in customer's identifiers (see the proxy's `verify`). */
import { checkClaims, importSecret, sign } from '../profile/identity-token';
import { optionChecks, optionNames } from '../options/checks';

/** The identity to vouch for: at least one identifier besides the vuid, and how long the token is good for. */
export interface IdentityToSign {
  email?: string;
  phone?: string;
  customer_id?: string;
  /** The visitor's vuid, as 32 hex or as the `vuid` cookie holds it; binds the token to that browser. */
  vuid?: string;
  /** Other identifiers of the account (names ending in `_id`, `_hash`, `_number`, ...). */
  [identifier: string]: string | number | undefined;
  /**
   * Seconds the token is valid, at most 7 days. Shorter limits what a stolen token can do; longer covers upserts that
   * wait in an offline browser's queue (an expired token gets its upsert refused).
   * @default 86400 (one day)
   */
  expiresIn?: number;
}

/** Options of `signIdentity`. */
export interface SignOptions {
  /** The site's own secret (at least 32 characters), the one given to the proxy's `verify.secret`; never the API key. */
  secret: string;
  /**
   * Makes a link token for an email's links (`?idc=<token>`, see the client's `linkParameter`): it names exactly one
   * identifier and no vuid, lasts 7 days unless `expiresIn` says otherwise (at most 30), and the proxy accepts it only
   * to link the visitor's vuid to that identifier, never with attributes.
   * @default false
   */
  link?: boolean;
  /**
   * The clock, in milliseconds.
   * @default Date.now
   */
  now?: () => number;
}

/** A token is a bearer credential: by default it lasts a day, and it may not be asked to last more than a week. */
const DEFAULT_EXPIRES_IN_S = 24 * 3600;
const MAX_EXPIRES_IN_S = 7 * 24 * 3600;
/** A link waits in an inbox: it lasts a week by default and a month at most, and can only link, never write. */
const LINK_EXPIRES_IN_S = 7 * 24 * 3600;
const LINK_MAX_EXPIRES_IN_S = 30 * 24 * 3600;
const OWNER = 'idcapture/server: signIdentity';

const optionNamesOfSign = optionNames<SignOptions>()({}, ['secret', 'link', 'now']);
const checkKnown = (options: SignOptions) => optionChecks(OWNER).known(options ?? {}, optionNamesOfSign);

const keys = new Map<string, Promise<CryptoKey>>();

/**
 * Signs `identity` into a JWT (compact JWS, HS256; see docs/identity-token.md) for `identify(ids, attrs, { token })`,
 * `setIdentityToken()` or `data-identity-token`. Identifiers are normalised as the proxy compares them (email trimmed
 * and lower-cased). Rejects with a `TypeError` or `RangeError` naming what is wrong.
 */
export async function signIdentity(identity: IdentityToSign, options: SignOptions): Promise<string> {
  if (typeof identity != 'object' || !identity) throw new TypeError(`${OWNER}: identity must be an object`);
  checkKnown(options);
  const { secret, link = false, now = Date.now } = options;
  if (typeof link != 'boolean') throw new TypeError(`${OWNER}: link must be true or false`);
  const max = link ? LINK_MAX_EXPIRES_IN_S : MAX_EXPIRES_IN_S;
  const { expiresIn = link ? LINK_EXPIRES_IN_S : DEFAULT_EXPIRES_IN_S, ...ids } = identity;
  if (!(Number.isInteger(expiresIn) && expiresIn > 0 && expiresIn <= max)) {
    throw new RangeError(`${OWNER}: expiresIn must be a whole number of seconds from 1 to ${max}`);
  }
  const claims = checkClaims(ids);
  if (typeof claims == 'string') throw new TypeError(`${OWNER}: the identity ${claims}`);
  if (link && Object.keys(claims).length != 1) throw new TypeError(`${OWNER}: a link token names exactly one identifier and no vuid`);
  // One imported key per secret: importing costs more than signing. Bounded, as sites have one secret or two.
  let key = keys.get(secret);
  if (!key) {
    key = importSecret(secret, OWNER);
    if (keys.size < 8) keys.set(secret, key);
  }
  const iat = Math.floor(now() / 1000);
  return sign(await key, claims, iat, iat + expiresIn, link ? 'link' : 'identity');
}
