import type { Failure } from './answer';
import { HttpError, IdCaptureError } from '../errors';
import { VERBOSE } from '../verbose';

/** Network failures in a row, while the browser says it is online, that make a misconfiguration likely. */
const UNREACHABLE_AFTER_FAILURES = 3;

/** A misconfigured endpoint is said on the console once per page, whatever the number of clients or failures. */
let warned = false;

/**
 * Tells a delivery that cannot succeed as configured from one that only has to wait: an endpoint that refuses the page,
 * or one that gets no answer several times in a row, which the browser shows only as its own network or CORS error,
 * naming neither cause nor cure. Each such failure goes to `raise` (an 'error' event); the console hears of it once per
 * page.
 */
export function createDiagnosis(endpoint: string, raise: (error: Error) => void) {
  /** Requests in a row that got no answer at all: the endpoint, or the network, is down. */
  let unanswered = 0;
  return {
    /** The endpoint answered, or the network came back. */
    answered: () => void (unanswered = 0),
    /** Whether the last request got no answer: the network is likely down. */
    down: () => unanswered > 0,
    /** A flush failed, for `failure` (undefined: storage or the lock failed, not the endpoint). */
    failed(failure?: Failure) {
      if (failure && !failure.status) unanswered++;
      const error =
        failure?.kind == 'refused'
          ? new HttpError(
              failure.status,
              VERBOSE
                ? `idcapture: ${endpoint} answered ${failure.status}; check the endpoint URL and the proxy's allowedOrigins`
                : `idcapture: ${endpoint} answered ${failure.status}`,
            )
          : unanswered >= UNREACHABLE_AFTER_FAILURES &&
            new IdCaptureError(
              VERBOSE
                ? `idcapture: ${endpoint} did not answer ${unanswered} times in a row; check the endpoint URL, that the proxy is running, and that its allowedOrigins lists ${location.origin}`
                : `idcapture: ${endpoint} did not answer`,
            );
      if (!error) return;
      raise(error);
      if (!warned) console.warn(VERBOSE ? `${error.message} (still retrying, with backoff)` : error.message);
      warned = true;
    },
  };
}
