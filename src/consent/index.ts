// `idcapture/consent`: the consent platforms the client can take consent from, one factory each, for the
// `consentSource` option. A bundle keeps only the one it imports.
export { tcf, type TcfOptions } from './tcf';
export { gcm, type GcmOptions } from './gcm';
export { shopify } from './shopify';
export { onetrust, type OneTrustOptions } from './onetrust';
export { cookiebot, type CookiebotOptions } from './cookiebot';
export type { ConsentSource, Feed, SourceContext } from './source';
