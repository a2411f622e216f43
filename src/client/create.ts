import { startCapture } from './capture';
import { pageClock, type PageClock } from './page-clock';
import { keepUnstored, takeUnstored } from './unstored';
import { followConsent, storeConsent } from './consent';
import { createDelivery, type FlushResult } from './delivery';
import { createEmitter } from './emitter';
import { IdCaptureError, ValidationError } from '../errors';
import type { IdCaptureEvents } from './events';
import { createVisitorId } from './visitor-id';
import { checkConsent, resolveOptions, type ConsentState, type IdCaptureOptions } from './options';
import { openQueue, type Upsert } from './queue';
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
 * The client and the channel the script tag reports its own errors on. `clock` is internal: the browser tests pass
 * one they advance themselves.
 */
export function createClient(options: IdCaptureOptions, clock: PageClock = pageClock) {
  const resolved = resolveOptions(options);
  const log = resolved.debug ? (...args: unknown[]) => console.log('[idcapture]', ...args) : () => {};
  const events = createEmitter<IdCaptureEvents>();
  const identity = createVisitorId(resolved.cookie, resolved.consent == 'granted');
  const queue = openQueue(`idcapture:${resolved.endpoint}`, (message, cause) => {
    console.warn(`[idcapture] ${message}`, cause);
    events.emit('error', { error: cause });
  });
  let consent = resolved.consent;
  let token: string | undefined;
  /** Gives `upsert` the token that covers it: `explicit`, which must, or the one set for the page, if it does. */
  const vouch = (upsert: Upsert, explicit?: string) => {
    const t = explicit ?? token;
    if (t && covers(t, upsert)) upsert.token = t;
    else if (explicit !== undefined) throw new ValidationError('token', 'does not name these identifiers');
    return upsert;
  };
  let held: Upsert[] = [];
  /** Moves away from 'granted' so far: held upserts still on their way into the queue stop when it changes. */
  let withdrawals = 0;
  let destroyed = false;
  // Nothing is sent without consent, queued earlier or not; the queue waits for it.
  /**
   * Captures on their way into IndexedDB. A form that submits for real leaves the page a few ms after the capture,
   * and the browser aborts the unfinished transaction with the page: delivery's unload hand-off sends these first
   * (should the transaction have finished after all, the next page sends the upsert again, which is harmless).
   */
  const storing = new Set<Upsert>();
  const unstoredKey = `idcapture-unstored:${resolved.endpoint}`;
  const unkeep = keepUnstored(unstoredKey, () => (consent == 'granted' ? [...storing] : []));
  const delivery = createDelivery({
    ...resolved,
    queue,
    storing: () => [...storing],
    consented: () => consent == 'granted',
    emit: events.emit,
    log,
    clock,
  });
  if (resolved.debug) {
    const started = `started: endpoint ${resolved.endpoint}, consent ${consent}, vuid ${identity.vuid}`;
    log(started);
  }

  const enqueue = async (upsert: Upsert) => {
    const added = await queue.add(upsert, resolved.maxQueueSize);
    log('queued', upsert);
    events.emit('queued', { upsert });
    delivery.queued(added);
    added.dropped.forEach((r) => events.emit('drop', { upsert: r.upsert, reason: 'maxQueueSize' }));
  };

  /** Queues `upsert`, holds it in memory while consent is pending, or drops it; says whether it was taken. */
  const accept = (upsert: Upsert) => {
    if (consent == 'granted') return enqueue(upsert);
    if (consent == 'pending') held.push(upsert);
    log(`consent ${consent}: not queued`, upsert);
    return consent == 'pending';
  };

  /** Queues `list` one after another, stopping should consent be withdrawn meanwhile. */
  const enqueueInOrder = (list: Upsert[]) => {
    const now = withdrawals;
    list.reduce((done, u) => done.then(() => (now == withdrawals ? enqueue(u) : undefined)), Promise.resolve()).catch(report);
  };

  const apply = (state: ConsentState) => {
    consent = state;
    if (state != 'granted') withdrawals++;
    const waiting = state == 'pending' ? [] : held;
    held = state == 'pending' ? held : [];
    if (state == 'granted') {
      const vuid = identity.vuid;
      identity.persist();
      // Held upserts carry the vuid of a page without consent, replaced by one another tab stored meanwhile.
      waiting.forEach((u) => u.attributes.vuid == vuid && (u.attributes.vuid = identity.vuid));
      delivery.resume();
      enqueueInOrder([...takeUnstored(unstoredKey), ...waiting]);
    }
    if (state == 'pending') identity.hold();
    // Any denial purges what an earlier grant stored, on this page or an earlier one.
    if (state == 'denied') {
      if (capture) capture.forget();
      takeUnstored(unstoredKey);
      identity.forget();
      queue.clear().catch(report);
      delivery.cleared();
    }
  };

  /** Every method but `destroy` refuses to work on a destroyed client: README promises that later calls fail. */
  const alive = () => {
    if (destroyed) throw new IdCaptureError('idcapture: client destroyed');
  };
  const client: IdCapture = {
    get vuid() {
      return identity.vuid;
    },
    async identify(identifiers, attributes, options) {
      alive();
      await accept(vouch(buildUpsert(identity.vuid, identifiers, attributes), options?.token));
    },
    setIdentityToken(value) {
      alive();
      token = value || undefined;
    },
    async flush() {
      alive();
      // Without consent, storage is not touched at all, not even to count.
      return consent != 'granted' ? { sent: 0, pending: held.length, dropped: 0 } : delivery.flush();
    },
    setConsent(state) {
      alive();
      checkConsent(state);
      // Applied first: the other tabs then find this tab's vuid stored when they learn of the grant.
      apply(state);
      storeConsent(state);
    },
    reset() {
      alive();
      identity.reset();
      held = [];
      token = undefined;
      log('reset: new vuid', identity.vuid);
    },
    on(type, fn) {
      alive();
      return events.on(type, fn);
    },
    // A second call finds everything stopped already: it does nothing.
    destroy() {
      destroyed = true;
      delivery.stop();
      identity.stop();
      if (capture) capture.stop();
      unkeep();
      unfollow();
      events.clear();
    },
  };
  const report = (error: unknown) => {
    console.error('[idcapture]', error);
    events.emit('error', { error });
  };
  const unfollow = followConsent(apply);
  const capture =
    resolved.autocapture &&
    startCapture({
      ...resolved.autocapture,
      key: `idcapture-last:${resolved.endpoint}`,
      vuid: () => identity.vuid,
      persist: () => consent == 'granted',
      capture(identifiers, attributes, form) {
        const upsert = vouch(buildUpsert(identity.vuid, identifiers, attributes));
        if (consent != 'denied') events.emit('capture', { upsert, form });
        const taken = accept(upsert);
        if (!(taken instanceof Promise)) return taken && Promise.resolve();
        storing.add(upsert);
        taken.catch(report).finally(() => storing.delete(upsert));
        return taken;
      },
      log,
    });
  // What an earlier page left unstored is queued first.
  if (consent == 'granted') enqueueInOrder(takeUnstored(unstoredKey));
  return { client, report };
}

/**
 * Creates the idcapture client: the visitor's vuid, `identify()` and the durable upsert queue.
 *
 * @example
 * const idc = createIdCapture({ endpoint: '/api/profiles' });
 * await idc.identify({ email: 'sample@test.com' }, { first_name: 'Johnny' });
 */
export const createIdCapture = (options: IdCaptureOptions): IdCapture => createClient(options).client;
