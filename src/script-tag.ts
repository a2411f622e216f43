// The script-tag build: reads its options from data-* attributes, replays the calls the page queued in
// `window.idcapture` before this file loaded, and then becomes that global.
import { startClient } from './client/create';
import { checkConsent, checkEndpoint, checkForms, defaults, whole, type ClientConfig } from './client/options';
import { LINK_PARAMETER, takeParameter } from './client/link-parameter';
import { VERBOSE } from './verbose';

type Call = [method: string, ...args: unknown[]];
declare global {
  interface Window {
    idcapture?: unknown;
  }
}

/**
 * The client's options, from the tag's data-* attributes. Each one read is checked as `createIdCapture` checks it; the
 * options no attribute sets keep their defaults, which need no check.
 */
function readOptions(data: DOMStringMap, debug: boolean, src: string): ClientConfig {
  const { autocapture: forms = '', batchSize, consentSource: source } = data;
  return {
    ...defaults,
    endpoint: checkEndpoint(data.endpoint),
    // Absent, empty or "true": every form; "false": off; anything else is a selector of the forms to capture.
    autocapture: forms != 'false' && { forms: forms == 'true' ? '' : checkForms(forms) },
    batchSize: whole('batchSize', batchSize ? +batchSize : defaults.batchSize),
    consent: checkConsent(data.consent ?? defaults.consent),
    cookie: { ...defaults.cookie, domain: data.cookieDomain },
    debug,
    // The named source's adapter file, beside this one: a page loads only the source it names. A name that is no
    // source finds no file: the import fails, which is reported, and consent stays pending.
    consentSource: source
      ? (feed, context) => import(new URL(`consent/${source}.js`, src).href).then((adapter) => adapter.default(data)(feed, context))
      : undefined,
  };
}

/**
 * Creates the client from the tag's data-* attributes and replays `queued`; a failure is logged, never thrown. `src`
 * is where this file was loaded from, beside which the debug tag is.
 */
function start(data: DOMStringMap, src: string, queued?: unknown[]) {
  try {
    const debug = data.debug != null && data.debug != 'false';
    // The production tag carries no debug output: it says where the tag that does is, once.
    if (!VERBOSE && debug) {
      console.log(`[idcapture] debug output: load ${src.replace(/\.js(?=[?#]|$)/, '.debug.js')}`);
    }
    const { client, report } = startClient(readOptions(data, VERBOSE && debug, src));
    client.setIdentityToken(data.identityToken || null);
    // A link from an email: its token leaves the address bar now, before the page's other scripts read it, and only
    // then is the code that follows it loaded (dist/link.js).
    const parameter = data.linkParameter || LINK_PARAMETER;
    const token = parameter != 'false' && takeParameter(parameter);
    if (token) import(new URL('link.js', src).href).then((module) => module.default(client, data, token), report);
    const call = (entry: unknown) => {
      try {
        // Only the debug tag explains; in the production tag, destructuring what is no array throws a TypeError itself
        // (a string reads as an unknown method).
        if (VERBOSE && !Array.isArray(entry)) throw new TypeError("idcapture: push(['method', ...args])");
        const [method, ...args] = entry as Call;
        const fn = (client as unknown as Record<string, unknown>)[method];
        if (typeof fn != 'function') throw new TypeError(`idcapture: unknown method ${method}`);
        Promise.resolve(fn(...args)).catch(report);
      } catch (error) {
        report(error);
      }
    };
    window.idcapture = Object.assign(client, { push: (...calls: unknown[]) => calls.forEach(call) });
    queued?.forEach(call);
  } catch (error) {
    // A page with a broken tag keeps working; only the console knows.
    console.error('[idcapture]', error);
  }
}

const queued = window.idcapture;
// Loaded twice, the second copy leaves the first client in charge.
if (!queued || Array.isArray(queued)) {
  const script = document.currentScript as HTMLScriptElement | null;
  start(script?.dataset ?? {}, script?.src || 'idcapture.js', queued as unknown[] | undefined);
} else if (typeof (queued as { identify?: unknown }).identify != 'function') {
  // Something else owns the name, e.g. an element with id="idcapture" (browsers expose those on window).
  console.error(VERBOSE ? '[idcapture] window.idcapture is taken; not started' : '[idcapture] window.idcapture is taken');
}
