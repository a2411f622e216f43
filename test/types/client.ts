// Type-level tests of the public client API: `npm run typecheck` fails when a line here stops compiling, or when an
// expected-error line starts compiling.
import {
  createIdCapture,
  HttpError,
  IdCaptureError,
  ValidationError,
  type Attributes,
  type FlushResult,
  type IdCapture,
  type IdCaptureEvents,
  type IdCaptureOptions,
  type Identifiers,
} from '../../src/index';
import { cookiebot, gcm, onetrust, shopify, tcf, type ConsentSource } from '../../src/consent/index';

const options: IdCaptureOptions = { endpoint: '/api/profiles', consent: 'pending', cookie: { domain: '.shop.example' } };
const idc: IdCapture = createIdCapture(options);

// @ts-expect-error endpoint is required
createIdCapture({});
// @ts-expect-error consent is one of three states
createIdCapture({ endpoint: '/x', consent: 'maybe' });
createIdCapture({ endpoint: '/x', cookie: false, fetch: (input, init) => fetch(input, init) });

// A consent source comes from idcapture/consent, each with its own options.
const sources: ConsentSource[] = [tcf({ purposes: [1, 5], vendor: 755 }), gcm({ keys: ['analytics_storage'] }), shopify(), onetrust({ group: 'C0004' }), cookiebot({ category: 'statistics' })];
createIdCapture({ endpoint: '/x', consentSource: sources[0] });
// Or named, with that source's defaults.
createIdCapture({ endpoint: '/x', consentSource: 'tcf' });
// @ts-expect-error only the five platforms are names
createIdCapture({ endpoint: '/x', consentSource: 'didomi' });
// @ts-expect-error Cookiebot's categories are marketing, statistics and preferences
cookiebot({ category: 'necessary' });
// @ts-expect-error tcf's option is purposes
tcf({ purpose: [1] });
export const consentEvent: (detail: IdCaptureEvents['consent']) => string = ({ state, answer }) => `${answer} ${state}`;

const identifiers: Identifiers = { email: 'sample@test.com', customer_id: 42 };
const attributes: Attributes = { first_name: 'Johnny', dob_year: 1990, ccpa_opted_out: false, city: null };
export const queued: Promise<void> = idc.identify(identifiers, attributes);
// @ts-expect-error attributes are flat
idc.identify({ email: 'a@b.co' }, { address: { city: 'Boston' } });
// @ts-expect-error identifiers are strings or numbers
idc.identify({ email: true });

export const flushed: Promise<FlushResult> = idc.flush();
export const vuid: string = idc.vuid;

const off: () => void = idc.on('retry', ({ delay, status }) => {
  const ms: number = delay;
  const code: number | undefined = status;
  return [ms, code];
});
off();
idc.on('drop', ({ upsert, reason }: IdCaptureEvents['drop']) => [upsert.attributes.email, reason]);
// @ts-expect-error no such event
idc.on('delivered', () => {});
// @ts-expect-error vuid is read-only
idc.vuid = 'x';

export const errors = (e: unknown) =>
  e instanceof ValidationError ? [e.field, e.reason] : e instanceof HttpError ? e.status : e instanceof IdCaptureError;

// Auto-capture: off, or limited to some forms with mappings of your own; the 'capture' event carries the form.
createIdCapture({ endpoint: '/x', autocapture: false });
createIdCapture({ endpoint: '/x', autocapture: { forms: '#newsletter', fields: { loyalty: 'loyalty_id' } } });
// @ts-expect-error forms is a selector
createIdCapture({ endpoint: '/x', autocapture: { forms: 1 } });
export const offCapture: () => void = idc.on('capture', ({ upsert, form }) => [upsert.attributes.email, form?.id]);
