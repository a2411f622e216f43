// The script-tag build: reads its options from data-* attributes, replays the calls the page queued in
// `window.idcapture` before this file loaded, and then becomes that global.
import { createClient } from './client/create';

type Call = [method: string, ...args: unknown[]];
declare global {
  interface Window {
    idcapture?: unknown;
  }
}

const data = (document.currentScript as HTMLScriptElement | null)?.dataset ?? {};
const queued = window.idcapture;
try {
  const { client, report } = createClient({
    endpoint: data.endpoint!,
    consent: data.consent as never,
    debug: data.debug != null && data.debug != 'false',
    cookie: data.cookieDomain ? { domain: data.cookieDomain } : undefined,
  });
  const call = ([method, ...args]: Call) => {
    try {
      const fn = (client as unknown as Record<string, unknown>)[method];
      if (typeof fn != 'function') throw new TypeError(`idcapture: unknown method ${method}`);
      Promise.resolve(fn(...args)).catch(report);
    } catch (error) {
      report(error);
    }
  };
  window.idcapture = Object.assign(client, { push: (...calls: Call[]) => calls.forEach(call) });
  if (Array.isArray(queued)) queued.forEach(call);
} catch (error) {
  // A page with a broken tag keeps working; only the console knows.
  console.error('[idcapture]', error);
}
