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

/** An answer of the endpoint that delivery could neither count as sent nor retry: `status` is its status. */
export class HttpError extends IdCaptureError {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
