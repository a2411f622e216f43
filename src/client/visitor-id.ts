import { VUID } from '../profile/rules';
import { attempt, readLocal, writeLocal } from './attempt';
import type { Consent } from './consent';

/** Where the vuid cookie lives. */
export interface CookieOptions {
  /** Cookie name. Default `'vuid'`, the Zaius tag's, so an existing Zaius identity is adopted. */
  name?: string;
  /** Cookie domain, e.g. `'.shop.example'` to share the id across subdomains. Default: the page's host. */
  domain?: string;
  /** Lifetime in days. Default 365. */
  maxAgeDays?: number;
}

export interface VisitorId {
  readonly vuid: string;
  /** Mints a new vuid (stored if stored ones are kept): the next visitor on this device is a stranger. */
  reset(): void;
}

/** The Zaius tag stores `<uuid with dashes>|<epoch ms>` (URL-encoded in the cookie); ODP knows the id as the 32 hex digits. */
const toVuid = (value: string | null | undefined): string | undefined => {
  const uuid = /^([0-9a-f-]{32,36})\|\d+$/i.exec(value ?? '')?.[1].replace(/-/g, '').toLowerCase();
  return uuid && VUID.test(uuid) ? uuid : undefined;
};

/**
 * A new id in the stored form: a UUIDv4 from getRandomValues (randomUUID is missing on plain-http hosts other than
 * localhost), each x a random hex digit and y one of the RFC 4122 variant's (8 to b).
 */
const mint = (): string =>
  'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = crypto.getRandomValues(new Uint8Array(1))[0] & 15;
    return (c == 'x' ? r : (r & 3) | 8).toString(16);
  }) + `|${Date.now()}`;

/**
 * The visitor id, kept in a first-party cookie and mirrored in localStorage so that clearing either one keeps the
 * identity. Until consent is granted nothing is written: an existing id is read, a new one lives in memory. A grant
 * stores it (or adopts the one another tab stored meanwhile: one device, one visitor); a denial deletes the stored id
 * and continues with a new one in memory only; back to pending, what is stored stays but is no longer written.
 */
export function createVisitorId(
  cookie: (Required<Omit<CookieOptions, 'domain'>> & CookieOptions) | false,
  consent: Consent,
  signal: AbortSignal,
): VisitorId {
  let persist = consent.state == 'granted';
  const key = cookie ? cookie.name : 'vuid';
  const readCookie = () =>
    cookie ? attempt(() => document.cookie.split('; ').find((c) => c.startsWith(key + '='))?.slice(key.length + 1)) : undefined;

  const writeCookie = (value: string, maxAge: number) =>
    attempt(() => {
      document.cookie =
        `${key}=${value}; Path=/; Max-Age=${maxAge}; SameSite=Lax` +
        (cookie && cookie.domain ? `; Domain=${cookie.domain}` : '') +
        (location.protocol == 'https:' ? '; Secure' : '');
    });
  /** The stored form (`<uuid>|<ms>`) of the current vuid. */
  let current = '';
  const use = (value: string) => {
    current = value;
    if (!persist) return;
    // Written only when it differs: rewriting a cookie the site's server set would make it script-set, which
    // Safari's ITP caps at 7 days.
    if (cookie && readCookie() != encodeURIComponent(value)) {
      writeCookie(encodeURIComponent(value), Math.round(cookie.maxAgeDays * 86400));
    }
    writeLocal(key, value);
  };
  /** The vuid kept in the cookie or localStorage, cookie first, in its stored form. */
  const kept = () => [attempt(() => decodeURIComponent(readCookie() ?? '')), readLocal(key)].find(toVuid);

  use(kept() ?? mint());
  consent.on((state) => {
    persist = state == 'granted';
    if (state == 'denied') {
      if (readCookie()) writeCookie('', 0);
      writeLocal(key, null);
    }
    if (state != 'pending') use(persist ? (kept() ?? current) : mint());
  });

  // A reset (logout) in another tab reaches this one through the localStorage mirror, so the next customer's login
  // here is not tied to the previous one's device history. An id kept in memory (no consent yet) is this page's own.
  const onStorage = (e: StorageEvent) => {
    if (persist && e.key == key && toVuid(e.newValue)) current = e.newValue!;
  };
  addEventListener('storage', onStorage, { signal });

  return {
    get vuid() {
      return toVuid(current)!;
    },
    reset: () => use(mint()),
  };
}
