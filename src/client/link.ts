/**
 * Signed link identity (issue 26): an email's link carries a link token (`signIdentity(..., { link: true })`) in a
 * query parameter. On landing it is taken out of the address bar at once, so analytics, referrers and a copied URL
 * never see it, and one upsert links the vuid to the identifier the token names (link-follow.ts, loaded only then);
 * the proxy checks the signature and accepts nothing else with it. The script tag loads this module (dist/link.js)
 * only when its parameter is present.
 */
import type { IdCapture } from './create';
import { fail } from './options';
import { LINK_PARAMETER, takeParameter } from './link-parameter';

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
    // Imported on demand: an app's bundle keeps the code that reads a link token out of what every page loads.
    import('./link-follow')
      .then(({ followLink }) => followLink(client, token, { pageToken: () => pageToken, log }))
      .catch((error) => console.error('[idcapture]', error));
    return client;
  };
}
