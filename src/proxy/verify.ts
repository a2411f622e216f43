/**
 * Verified identity. The proxy is a public write endpoint and `Origin` is no authentication, so an unchecked record
 * could overwrite, clear or merge a customer's profile by naming their email. A record that carries a token signed by
 * the site's back end (`verify.secret`) may do what `allowedAttributes` allows, for exactly the identity the token
 * names; any other record, and every record of a proxy without a secret, is reduced to what an anonymous visitor may
 * reasonably say about themselves. Only `verify: false` lets anonymous records write everything.
 */
import { importSecret, verifyToken, type TokenProblem, type VerifiedIdentity } from '../profile/identity-token';
import { isIdentifier } from '../profile/rules';
import { optionChecks, optionNames } from '../options/checks';
import type { CheckedRecord } from '../profile/batch';
import type { Invalid } from './validate';

/** What a record without a valid identity token may do. */
export interface UnverifiedPolicy {
  /**
   * Attribute names an unverified record may set; the others are removed from it.
   * @default the identifiers in `allowedAttributes` plus `first_name` and `last_name` (enough for a sign-up form)
   */
  attributes?: readonly string[];
  /**
   * Whether an unverified record may pair its vuid with an email, phone or custom id. With `false` the vuid is
   * removed from such a record, so nobody can attach their vuid to someone else's profile or move a known vuid to
   * theirs; the cost is that an anonymous visitor's browsing is stitched to their email only once they log in
   * (a token that binds the vuid). `true` is what the Zaius web tag does.
   * @default false
   */
  linkVuid?: boolean;
}

/** The proxy's `verify` option. */
export interface VerifyOptions {
  /** The site's own secret (at least 32 characters), the one `signIdentity` signs with; never the API key. Required. */
  secret: string;
  /**
   * The policy for records without a token, or `false` to refuse them (only logged-in visitors are captured).
   * `{}`: at most one high-confidence identifier, no `null` (no clearing), only `attributes`.
   * @default {}
   */
  unverified?: UnverifiedPolicy | false;
  /**
   * The clock for token expiry, in milliseconds.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Whether a valid token has been revoked, e.g. `iat` before the customer's last logout or password change that the
   * site's back end recorded; given the token's claims (identifiers, `iat`, `exp`), once per token and batch. A
   * revoked token's record is refused as an expired one is; a hook that throws or rejects revokes.
   * @default undefined (a token is good until it expires)
   */
  revoked?: (claims: Readonly<Record<string, string | number | undefined>>) => boolean | Promise<boolean>;
}

/** The result for a batch: records to forward, or the records refused for their token. */
export type Checked =
  /** `trusted`, by record: whether a valid token vouched for it. */
  | { records: CheckedRecord[]; reduced: string[]; verified: number; trusted: boolean[] }
  | { reason: 'invalid_records'; invalids: Invalid[] };

type Verifier = (records: CheckedRecord[], tokens: (string | undefined)[]) => Promise<Checked>;

/** The first of these present is the one identifier an unverified record keeps; then custom ids in record order. */
const KEEP_FIRST = ['email', 'phone'];

const check = optionChecks('idcapture/proxy');
const names = optionNames<VerifyOptions>()({}, ['secret', 'unverified', 'now', 'revoked']);
const policyNames = optionNames<UnverifiedPolicy>()({}, ['attributes', 'linkVuid']);

const isString = (value: unknown): value is string => typeof value == 'string';

/** How a refused token is described where the bare reason would not say what to do. */
const PROBLEMS: Partial<Record<TokenProblem, string>> = {
  'bad signature': "not signed with this site's secret",
  'old format': 'in the format before 0.2 (claims.mac): sign a JWT (HS256) instead, see docs/identity-token.md',
  'not for idcapture': 'not for idcapture (its aud claim is not idcapture-identity or idcapture-link)',
};

/** Said once, when a proxy is created with `verify: false`. */
const OPT_OUT_WARNING =
  'idcapture/proxy: verify: false lets anyone who can reach the proxy overwrite, clear or merge any profile by naming ' +
  'its email, phone or customer id. Use it only when every caller is trusted; otherwise give verify: { secret }.';

/**
 * Checks the option once and returns the batch check: without `verify`, every record is reduced by the default
 * unverified policy (there is no secret to check a token with); `false` returns undefined (no check) and warns.
 */
export function createVerifier(options: VerifyOptions | false | undefined, allowed: ReadonlySet<string>): Verifier | undefined {
  if (options === false) return void console.warn(OPT_OUT_WARNING);
  if (options !== undefined && (typeof options != 'object' || !options)) return check.fail('verify', '{ secret, unverified? } or false');
  if (options) check.known(options, names, 'verify');
  const key = options && importSecret(options.secret, 'idcapture/proxy: option verify.secret');
  const now = check.fn('verify.now', options?.now) ?? Date.now;
  const revoked = check.fn('verify.revoked', options?.revoked);
  const policy = options?.unverified ?? {};
  if (policy !== false && (typeof policy != 'object' || !policy)) check.fail('verify.unverified', 'a policy object or false');
  if (policy) check.known(policy, policyNames, 'verify.unverified');
  let unverified: { attributes: Set<string>; linkVuid: boolean } | undefined;
  if (policy) {
    const given = policy.attributes ?? [...allowed].filter((name) => isIdentifier(name)).concat('first_name', 'last_name');
    const names = check.list('verify.unverified.attributes', given, isString, 'names');
    unverified = { attributes: new Set(names.filter((name) => allowed.has(name))), linkVuid: policy.linkVuid === true };
  }

  return async (records, tokens) => {
    const nowS = Math.floor(now() / 1000);
    // A batch usually repeats one token: its MAC is checked once.
    const seen = new Map<string, Promise<VerifiedIdentity | TokenProblem>>();
    const invalids: Invalid[] = [];
    const reduced = new Set<string>();
    const out: CheckedRecord[] = [];
    const trusted: boolean[] = [];
    let verified = 0;
    for (const [event, record] of records.entries()) {
      const token = tokens[event];
      let result: CheckedRecord | string;
      const vouching = token !== undefined && !!key;
      if (!vouching) {
        result = unverified ? reduce(record, unverified, reduced) : 'needs an identity token';
      } else {
        let identity = seen.get(token);
        if (!identity) seen.set(token, (identity = verifyToken(await key, token, nowS).then((found) => unlessRevoked(found, revoked))));
        result = vouched(record, await identity, unverified?.linkVuid ?? false, reduced);
        if (typeof result != 'string') verified++;
      }
      if (typeof result == 'string') invalids.push({ event, message: result });
      else {
        out.push(result);
        trusted.push(vouching);
      }
    }
    return invalids.length ? { reason: 'invalid_records', invalids } : { records: out, reduced: [...reduced], verified, trusted };
  };
}

/** The identity, or `'revoked'` when the site's hook says so (or fails: a hook that cannot answer revokes). */
async function unlessRevoked(identity: VerifiedIdentity | TokenProblem, revoked: VerifyOptions['revoked']): Promise<VerifiedIdentity | TokenProblem> {
  if (typeof identity == 'string' || !revoked) return identity;
  try {
    return (await revoked({ ...identity.ids, iat: identity.iat, exp: identity.exp })) ? 'revoked' : identity;
  } catch {
    return 'revoked';
  }
}

const highConfidence = (name: string, value: unknown) => name != 'vuid' && isIdentifier(name) && value !== null && value !== '';

/**
 * A signed record: every identifier value in it must be one the token names (so a token for one customer cannot be
 * replayed for another, nor pair a second customer's phone with the first's email), and its vuid the bound one.
 */
function vouched(record: CheckedRecord, identity: VerifiedIdentity | TokenProblem, linkVuid: boolean, reduced: Set<string>): CheckedRecord | string {
  if (typeof identity == 'string') return `identity token is ${PROBLEMS[identity] ?? identity}`;
  if (identity.use == 'link') return linked(record, identity);
  const { vuid, ...attributes } = record.attributes;
  for (const [name, value] of Object.entries(attributes)) {
    if (highConfidence(name, value) && identity.ids[name] !== value) return `${name} is not the one the identity token names`;
  }
  if (vuid === undefined || vuid === null) return record;
  if (identity.ids.vuid !== undefined) return vuid === identity.ids.vuid ? record : 'vuid is not the one the identity token binds';
  // A token that binds no vuid vouches for the customer, not for this browser.
  if (linkVuid) return record;
  reduced.add('vuid');
  return { attributes };
}

/**
 * A record with a link token (from an email link) may only link its vuid to the one identifier the token names: no
 * attribute, no clear, no second identifier. Anything more is refused, not reduced, as the client never sends more.
 */
function linked(record: CheckedRecord, identity: VerifiedIdentity): CheckedRecord | string {
  const names = Object.keys(record.attributes);
  const [name, ...more] = Object.keys(identity.ids);
  const ok = !more.length && names.length == 2 && record.attributes.vuid != null && record.attributes.vuid !== '' && record.attributes[name] === identity.ids[name];
  return ok ? record : 'a link token only links the vuid to the identifier it names';
}

/** An unverified record cut down to the policy: see `VerifyOptions.unverified`. */
function reduce(record: CheckedRecord, policy: { attributes: Set<string>; linkVuid: boolean }, reduced: Set<string>): CheckedRecord | string {
  const entries = Object.entries(record.attributes);
  const ids = entries.filter(([name, value]) => highConfidence(name, value) && policy.attributes.has(name)).map(([name]) => name);
  const kept = KEEP_FIRST.find((name) => ids.includes(name)) ?? ids[0];
  const attributes: CheckedRecord['attributes'] = {};
  for (const [name, value] of entries) {
    // An empty string clears a field as surely as null does.
    const ok =
      value !== null &&
      value !== '' &&
      policy.attributes.has(name) &&
      (!highConfidence(name, value) || name == kept) &&
      (name != 'vuid' || !kept || policy.linkVuid);
    if (ok) attributes[name] = value;
    else reduced.add(name);
  }
  if (!Object.keys(attributes).some((name) => isIdentifier(name))) return 'has no identifier an unverified record may set';
  return { attributes };
}
