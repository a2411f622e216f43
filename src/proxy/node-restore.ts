/** The vuid restore as Express/Connect middleware, for a Node site whose pages the proxy does not serve. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { resolveServerCookie, restoreCookie, type ServerCookieOptions } from './server-cookie';

/**
 * Middleware that restores the script-readable vuid cookie from its server twin on every response, so the page's
 * script finds the vuid before it runs, even after Safari deleted the script's own cookie: `app.use(vuidRestore())`.
 * Options as the proxy's `serverCookie`. The connection counts as https when its socket is TLS, or when `trustProto`
 * is true and `X-Forwarded-Proto` says so (behind a reverse proxy that terminates TLS).
 */
export function vuidRestore(
  options: ServerCookieOptions & { trustProto?: boolean } = {},
): (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => void {
  const cookie = resolveServerCookie(options, 'idcapture/proxy/node', '', ['trustProto'])!;
  const { trustProto } = options;
  return (req, res, next) => {
    const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
    const secure = tls || (trustProto === true && req.headers['x-forwarded-proto'] == 'https');
    const set = restoreCookie(cookie, { header: req.headers.cookie, secure });
    if (set) res.appendHeader('set-cookie', set);
    next?.();
  };
}
