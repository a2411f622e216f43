import { linkFollower } from './link';
import { startCapture } from './capture';
import { createConsent, type Consent, type ConsentState } from './consent';
import type { ConsentSource, Feed, SourceContext } from '../consent/source';
import { createDelivery, type FlushResult } from './delivery';
import { createEmitter } from './emitter';
import { IdCaptureError, ValidationError } from '../errors';
import type { IdCaptureEvents } from './events';
import { createIntake } from './intake';
import { resolveOptions, type ClientConfig, type IdCaptureOptions } from './options';
import { pageClock, type PageClock } from './page-clock';
import { openQueue, type Capture, type Upsert } from './queue';
import { VERBOSE } from '../verbose';
import { VERSION } from '../version';
import { createVisitorId } from './visitor-id';
import { buildUpsert, covers, type Attributes, type Identifiers } from './upsert';

/** The client `createIdCapture` returns. */
export interface IdCapture {
  /** The anonymous visitor id: 32 lowercase hex characters. */
  readonly vuid: string;
  /**
   * Queues one profile upsert carrying the vuid, `identifiers` and `attributes`. Resolves once it is durably
   * queued (while consent is pending: once it is held in memory; while denied: at once, with nothing queued);
   * rejects with a ValidationError naming the field for bad input. `options.token`, from `signIdentity` on your
   * server, verifies this upsert (a ValidationError on `token` if it names other identifiers); without it, the token
   * given to `setIdentityToken` goes along when it names these identifiers.
   */
  identify(identifiers: Identifiers, attributes?: Attributes, options?: { token?: string }): Promise<void>;
  /**
   * The identity token (from `signIdentity`) of the logged-in visitor, or null to forget it. From now on it goes
   * with every upsert whose identifiers it names, form captures included; other upserts stay unverified.
   */
  setIdentityToken(token: string | null): void;
  /** Sends what is queued now, after another tab's flush if one is under way, and reports what happened. */
  flush(): Promise<FlushResult>;
  /**
   * Changes consent, for this page, the next ones and the other open tabs. `'granted'` stores the vuid, queues what
   * waited while pending and lets delivery run; `'pending'` and `'denied'` stop sending (the durable queue waits), and
   * `'denied'` discards what waited in memory, empties this endpoint's queue and deletes the stored vuid (those an
   * earlier grant left too).
   */
  setConsent(state: ConsentState): void;
  /**
   * Starts a new anonymous visitor and forgets the identity token (call on logout); upserts already queued keep the
   * identity they were made with.
   */
  reset(): void;
  /** Subscribes to an event; returns the function that unsubscribes. */
  on<K extends keyof IdCaptureEvents>(type: K, fn: (detail: IdCaptureEvents[K]) => void): () => void;
  /**
   * Stops the client: timers and listeners are removed; later calls of `identify` and `flush` reject, and of
   * `setConsent`, `setIdentityToken`, `reset` and `on` throw, with an IdCaptureError. The queue stays for the next page.
   */
  destroy(): void;
}

/**
 * A proxy or edge on the page's own origin may keep an HttpOnly twin of the vuid (README, serverCookie) that no script
 * can delete: on a denial or a reset it is asked to. Another origin never gets the cookie, so is not asked.
 */
const twinForgetter = ({ endpoint, fetch }: ClientConfig) => () => {
  if (new URL(endpoint, location.href).origin == location.origin) fetch(endpoint, { method: 'DELETE', keepalive: true }).catch(() => {});
};

/**
 * Starts `source`, the consent platform, feeding its answers to `consent` and announcing each with a 'consent' event.
 * A source that fails to start (the tag's adapter file did not load) is reported as an error; consent stays pending.
 */
function listenTo(source: ConsentSource, consent: Consent, context: SourceContext, emit: (type: 'consent', detail: IdCaptureEvents['consent']) => void, report: (error: unknown) => void, log: (...args: unknown[]) => void) {
  const feed: Feed = (state, answer) => {
    if (state) consent.feed(state);
    if (VERBOSE) log(`consent source: ${answer} → consent ${consent.state}`);
    emit('consent', { state: consent.state, answer });
  };
  // Started a microtask later, so the page can subscribe to 'consent' first, even to an answer the platform has ready
  // (a client destroyed meanwhile gives the source an aborted signal, which each source heeds).
  Promise.resolve()
    .then(() => source(feed, context))
    .catch(report);
}

/**
 * The client of `resolved`, options already checked, and the channel the script tag reports its own errors on.
 * `clock` is internal: the browser tests pass one they advance themselves.
 */
export function startClient(resolved: ClientConfig, clock: PageClock = pageClock) {
  const log = VERBOSE && resolved.debug ? (...args: unknown[]) => console.log('[idcapture]', ...args) : () => {};
  const { emit, on, clear } = createEmitter<IdCaptureEvents>();
  const report = (error: unknown) => {
    console.error('[idcapture]', error);
    emit('error', { error });
  };
  const queue = openQueue(`idcapture:${resolved.endpoint}`, (message, cause) => {
    console.warn(`[idcapture] ${message}`, cause);
    emit('error', { error: cause });
  });
  /** Aborts on `destroy()`: every listener and timer of the client goes with it. */
  const lifetime = new AbortController();
  const { signal } = lifetime;
  const source = resolved.consentSource;
  const consent = createConsent(resolved.consent, resolved.respectGlobalPrivacyControl, signal, !!source);
  const visitor = createVisitorId(resolved.cookie, consent, signal);
  const forget = twinForgetter(resolved);
  consent.on((state) => state == 'denied' && forget());
  // What delivery and the intake share; `storing` holds the captures on their way into IndexedDB.
  const shared = { ...resolved, queue, consent, storing: new Set<Capture>(), emit, log, report, clock, signal };
  const delivery = createDelivery(shared);
  const intake = createIntake(shared, visitor, delivery.queued);
  let token: string | undefined;
  /** Gives `upsert` the token that covers it: `explicit`, which must, or the one set for the page, if it does. */
  const vouch = (upsert: Upsert, explicit?: string) => {
    const t = explicit ?? token;
    if (t && covers(t, upsert)) upsert.token = t;
    else if (explicit !== undefined) throw new ValidationError('token', VERBOSE ? 'does not name these identifiers' : 'does not match');
    return upsert;
  };
  if (resolved.autocapture) {
    startCapture({
      ...resolved.autocapture,
      vuid: () => visitor.vuid,
      capture: (identifiers, attributes, form) => intake.capture(vouch(buildUpsert(visitor.vuid, identifiers, attributes)), form),
      log,
      signal,
    });
  }
  if (source) listenTo(source, consent, { signal, clock }, emit, report, log);
  if (VERBOSE && resolved.debug) log(`started: endpoint ${resolved.endpoint}, consent ${consent.state}, vuid ${visitor.vuid}, idcapture ${VERSION}`);

  /** Every method but `destroy` refuses to work on a destroyed client: README promises that later calls fail. */
  const alive = () => {
    if (signal.aborted) throw new IdCaptureError('idcapture: client destroyed');
  };
  const client: IdCapture = {
    get vuid() {
      return visitor.vuid;
    },
    async identify(identifiers, attributes, options) {
      alive();
      await intake.accept(vouch(buildUpsert(visitor.vuid, identifiers, attributes), options?.token));
    },
    setIdentityToken(value) {
      alive();
      token = value || undefined;
    },
    async flush() {
      alive();
      // Without consent, storage is not touched at all, not even to count.
      return consent.state != 'granted' ? { sent: 0, pending: intake.held(), dropped: 0 } : delivery.flush();
    },
    setConsent(state) {
      alive();
      consent.set(state);
    },
    reset() {
      alive();
      visitor.reset();
      forget();
      intake.reset();
      token = undefined;
      if (VERBOSE) log('reset: new vuid', visitor.vuid);
    },
    on(type, fn) {
      alive();
      return on(type, fn);
    },
    // A second call finds everything stopped already: it does nothing.
    destroy() {
      lifetime.abort();
      clear();
    },
  };
  return { client, report };
}

/** `startClient` with the options of `createIdCapture`, checked. */
export const createClient = (options: IdCaptureOptions, clock?: PageClock) => startClient(resolveOptions(options), clock);

/**
 * Creates the idcapture client: the visitor's vuid, `identify()` and the durable upsert queue.
 *
 * @example
 * const idc = createIdCapture({ endpoint: '/api/profiles' });
 * await idc.identify({ email: 'sample@test.com' }, { first_name: 'Johnny' });
 */
export function createIdCapture(options: IdCaptureOptions): IdCapture {
  // A link token leaves the address bar before the client starts, so no code the client's start runs can read it.
  const follow = linkFollower(options?.linkParameter, options?.debug);
  return follow(createClient(options).client);
}
