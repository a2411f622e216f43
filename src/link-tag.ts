// dist/link.js: the script tag loads it from beside itself when the page's query may carry its link parameter
// (`data-link-parameter`, default `idc`), so the tag carries none of the link code.
import type { IdCapture } from './client/create';
import { takeParameter } from './client/link';
import { followLink } from './client/link-follow';
import { LINK_PARAMETER } from './client/link-parameter';

export default (client: IdCapture, data: DOMStringMap): Promise<void> | undefined => {
  const parameter = data.linkParameter || LINK_PARAMETER;
  if (parameter == 'false') return;
  const token = takeParameter(parameter);
  if (!token) return;
  const debug = data.debug != null && data.debug != 'false';
  return followLink(client, token, {
    pageToken: () => data.identityToken,
    log: debug ? (...args) => console.log('[idcapture]', ...args) : undefined,
  }).catch((error) => console.error('[idcapture]', error));
};
