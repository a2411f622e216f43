import type { ConsentState } from '../client/consent';
import type { PageClock } from '../client/page-clock';
import { VERBOSE } from '../verbose';

/**
 * What a consent source tells the client: the state the visitor's choice maps to, or undefined for an answer it
 * cannot read (consent then stays as it is), and `answer`, what the source said, e.g. `'tcf useractioncomplete'`.
 */
export type Feed = (state: ConsentState | undefined, answer: string) => void;

/** What the client gives a source: the signal that ends the client, and its clock for the bounded wait. */
export interface SourceContext {
  signal: AbortSignal;
  clock: Pick<PageClock, 'setTimeout'>;
}

/**
 * A consent platform the client takes consent from (`consentSource`), made by `tcf()`, `gcm()`, `shopify()`,
 * `onetrust()` or `cookiebot()` from `idcapture/consent`. It feeds every answer of the platform to the client.
 */
export type ConsentSource = (feed: Feed, context: SourceContext) => void | Promise<void>;

/**
 * `source`, warning once on the console at the first answer it cannot read (or when its platform is not found), so a
 * broken set-up shows without flooding the console. Every source of idcapture/consent is made with it.
 */
export const warnOnce =
  (source: ConsentSource): ConsentSource =>
  (feed, context) => {
    let warned = false;
    return source((state, answer) => {
      if (!state && !warned) {
        warned = true;
        console.warn(`[idcapture] consent source: ${answer}` + (VERBOSE ? ' (consent stays as it is)' : ''));
      }
      feed(state, answer);
    }, context);
  };

/** How long a source waits for its platform to appear on the page: 100 looks, 100 ms apart. */
const LOOKS = 100;
const EVERY_MS = 100;

/**
 * Calls `found` with what `get` returns once it is there: the platform's script may come after ours. Gives up after
 * 10 s (time read from the client's clock), feeding `<name> not found`: consent stays pending, with one warning.
 */
export function whenLoaded<T>(name: string, get: () => T | undefined, found: (value: T) => void, feed: Feed, { signal, clock }: SourceContext) {
  // Taken out: the browser's setTimeout throws "Illegal invocation" when called as a method of another object.
  const { setTimeout } = clock;
  const look = (left: number) => {
    if (signal.aborted) return;
    const value = get();
    if (value) found(value);
    else if (left) setTimeout(() => look(left - 1), EVERY_MS);
    else feed(undefined, `${name} not found`);
  };
  look(LOOKS);
}

/** A comma-separated data-* attribute as a list, or undefined when it is absent. */
export const listOf = (value: string | undefined) => value?.split(',').map((item) => item.trim());
