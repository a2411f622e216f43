/** A `Retry-After` value in ms, in either form (delta seconds or HTTP date); 0 when absent, past or garbled. */
export function parseRetryAfterMs(value: string | null | undefined, now = Date.now()): number {
  if (!value) return 0;
  const ms = Number.isNaN(+value) ? Date.parse(value) - now : +value * 1000;
  return Math.max(0, ms || 0);
}
