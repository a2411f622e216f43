// Names are spelled out rather than read from the constructor: the minifier renames classes.

/** Base class of every error idcapture reports; messages start with "idcapture: ". */
export class IdCaptureError extends Error {
  override name = 'IdCaptureError';
}

/** An identifier or attribute the profiles API would refuse; `field` names it, `reason` says why. */
export class ValidationError extends IdCaptureError {
  override name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`idcapture: ${field} ${reason}`);
  }
}

/**
 * An answer that could neither count as success nor be retried (by delivery, or by the server client after its
 * retries): `status` is its status, `cause` the underlying error where there is one.
 */
export class HttpError extends IdCaptureError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The profiles API could not be reached, or did not answer in time, on any attempt; `cause` has the last failure. */
export class NetworkError extends IdCaptureError {
  override name = 'NetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
