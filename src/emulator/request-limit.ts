import type { Clock } from '../upstream/clock';

/**
 * The API's request limit per API key: a token bucket per key, `rate` requests a second with bursts of up to `rate`
 * (at least 1), the way the documented "10 requests/s" reads for a usage plan on an API gateway.
 */
export class PerKeyRequestLimit {
  private buckets = new Map<string, { tokens: number; at: number }>();
  private readonly capacity: number;

  constructor(
    readonly rate: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.capacity = Math.max(1, rate);
  }

  /** Takes a token for `key`: 0 when the request may pass, else the whole seconds to wait (for `Retry-After`). */
  take(key: string): number {
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.capacity, at: now };
    bucket.tokens = Math.min(this.capacity, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
  }

  reset(): void {
    this.buckets.clear();
  }
}
