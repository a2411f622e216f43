// dist/link.js: the script tag, which has already taken the link token (`data-link-parameter`, default `idc`) out of
// the address bar, loads it from beside itself to follow the link, so the tag carries none of that code.
import type { IdCapture } from './client/create';
import { followLink } from './client/link-follow';

export default (client: IdCapture, data: DOMStringMap, token: string): Promise<void> => {
  const debug = data.debug != null && data.debug != 'false';
  return followLink(client, token, {
    pageToken: () => data.identityToken,
    log: debug ? (...args) => console.log('[idcapture]', ...args) : undefined,
  }).catch((error) => console.error('[idcapture]', error));
};
