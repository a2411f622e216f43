import { checkNames, fail } from '../client/options';
import { warnOnce, whenLoaded, type ConsentSource } from './source';

const CATEGORIES = ['marketing', 'statistics', 'preferences'] as const;

/** Options of `cookiebot()`: which Cookiebot category counts as consent for identity capture. */
export interface CookiebotOptions {
  /**
   * The category that must have consent: `marketing`, Cookiebot's category for tracking a visitor to build a profile.
   * @default 'marketing'
   */
  category?: (typeof CATEGORIES)[number];
}

/** The defaults of CookiebotOptions, written once (keep the `@default` line above in step). */
export const defaults = { category: 'marketing' as const };

declare global {
  interface Window {
    Cookiebot?: { hasResponse?: boolean; consent?: Record<string, unknown> };
  }
}

/**
 * Consent from Cookiebot: pending until the visitor answers (`Cookiebot.hasResponse`), then granted when
 * `Cookiebot.consent[category]` is true, else denied; each answer comes with `CookiebotOnConsentReady`,
 * `CookiebotOnAccept` or `CookiebotOnDecline` on `window`.
 */
export function cookiebot(options: CookiebotOptions = {}): ConsentSource {
  checkNames(options, Object.keys(defaults), 'cookiebot.');
  const { category = defaults.category } = options;
  if (!CATEGORIES.includes(category)) fail('cookiebot.category', CATEGORIES.join(', '));
  return warnOnce((feed, context) => {
    const read = (answer: string) => {
      const { hasResponse, consent } = window.Cookiebot ?? {};
      const value = consent?.[category];
      feed(!hasResponse ? 'pending' : typeof value == 'boolean' ? (value ? 'granted' : 'denied') : undefined, `cookiebot ${answer}`);
    };
    for (const type of ['CookiebotOnConsentReady', 'CookiebotOnAccept', 'CookiebotOnDecline']) addEventListener(type, () => read(type), context);
    whenLoaded('cookiebot', () => window.Cookiebot, () => read('consent'), feed, context);
  });
}

/** The script tag's adapter file (dist/consent/cookiebot.js): the category from `data-cookiebot-category`. */
export default (data: DOMStringMap) => cookiebot({ category: data.cookiebotCategory as CookiebotOptions['category'] });
