import type { ConsentState } from './consent';
import type { Upsert } from './queue';

/** Events of `idc.on()` and the detail each listener receives. */
export interface IdCaptureEvents {
  /**
   * Auto-capture read an identity from a form (`form` is null for an email field outside any form); the upsert is
   * queued next, or held while consent is pending.
   */
  capture: { upsert: Upsert; form: HTMLFormElement | null };
  /** An upsert is durably queued (shown without its identity token). */
  queued: { upsert: Upsert };
  /** `count` upserts were acknowledged by the endpoint. */
  sent: { count: number };
  /** Delivery failed for now (`status` absent on a network error) and is tried again in `delay` ms. */
  retry: { delay: number; status?: number };
  /**
   * An upsert left the queue unsent: `reason` says why (`'maxQueueSize'`; `'expired'`, older than `maxAgeDays`; or the
   * endpoint's message).
   */
  drop: { upsert: Upsert; reason: string };
  /**
   * The consent source answered: `answer` says which and what (`'tcf useractioncomplete'`, `'gcm update'`,
   * `'onetrust OneTrustGroupsUpdated'`, `'tcf not found'`), `state` is the consent that follows (Global Privacy
   * Control or a `setConsent` call since the source's last change may keep it other than the answer).
   */
  consent: { state: ConsentState; answer: string };
  /** Something failed that the page did not call directly: storage, delivery refused by the endpoint, a script-tag call. */
  error: { error: unknown };
}
