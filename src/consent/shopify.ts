import { warnOnce, whenLoaded, type ConsentSource } from './source';

/** The part of Shopify's Customer Privacy API read here. */
interface CustomerPrivacy {
  currentVisitorConsent(): { marketing?: unknown };
  shouldShowBanner?(): boolean;
  marketingAllowed(): boolean;
}
interface Shopify {
  customerPrivacy?: CustomerPrivacy;
  loadFeatures?(features: { name: string; version: string }[], done: (error?: unknown) => void): void;
}

/**
 * Consent from Shopify's Customer Privacy API (`window.Shopify.customerPrivacy`, loaded with `Shopify.loadFeatures`
 * where the theme has not loaded it): the visitor's `marketing` choice, granted for `'yes'`, denied for `'no'`,
 * pending for `''` (no choice yet) unless the visitor's region needs no banner and marketing is allowed there. Each
 * later choice comes with the `visitorConsentCollected` event on `document`.
 */
export function shopify(): ConsentSource {
  return warnOnce((feed, context) =>
    whenLoaded('shopify', () => (window as { Shopify?: Shopify }).Shopify, (shop) => {
      const read = (answer: string) => {
        const privacy = shop.customerPrivacy;
        const marketing = privacy?.currentVisitorConsent?.()?.marketing;
        const free = marketing == '' && privacy!.shouldShowBanner?.() === false && privacy!.marketingAllowed();
        feed(marketing == 'yes' || free ? 'granted' : marketing == 'no' ? 'denied' : marketing == '' ? 'pending' : undefined, `shopify ${answer}`);
      };
      document.addEventListener('visitorConsentCollected', () => read('visitorConsentCollected'), context);
      if (shop.customerPrivacy) read('currentVisitorConsent');
      else shop.loadFeatures?.([{ name: 'consent-tracking-api', version: '0.1' }], (error) => (error ? feed(undefined, 'shopify load failed') : read('currentVisitorConsent')));
    }, feed, context));
}

/** The script tag's adapter file (dist/consent/shopify.js). */
export default () => shopify();
