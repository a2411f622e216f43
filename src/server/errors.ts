import { IdCaptureError } from '../client/errors';

export { IdCaptureError, ValidationError, HttpError } from '../client/errors';

/** The profiles API could not be reached, or did not answer in time, on any attempt; `cause` has the last failure. */
export class NetworkError extends IdCaptureError {
  override name = 'NetworkError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
