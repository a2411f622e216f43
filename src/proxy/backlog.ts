/** The coalescer's memory bound: what browser requests hold while they wait or are in flight, and who holds it. */

/**
 * What is held in memory and by whom: records, bytes and browser requests waiting or in flight, in all and per client
 * IP. A request is admitted only under the caps, and past half the record cap an IP may hold only its share of that
 * half, so a few IPs cannot fill it for everyone.
 */
export function createBacklog(recordCap: number, maxBytes: number, requestCap = Infinity) {
  const held = { records: 0, bytes: 0, requests: 0 };
  const perIp = new Map<string, number>();
  return {
    held,
    /** Counts the request in and returns true, or returns false when it does not fit. */
    admit(ip: string, records: number, bytes: number): boolean {
      const mine = perIp.get(ip) ?? 0;
      const activeIps = perIp.size + (mine ? 0 : 1);
      const full = held.records + records > recordCap || held.bytes + bytes > maxBytes || held.requests + 1 > requestCap;
      const unfair = held.records + records > recordCap / 2 && mine + records > recordCap / 2 / activeIps;
      if (full || unfair) return false;
      held.records += records;
      held.bytes += bytes;
      held.requests++;
      perIp.set(ip, mine + records);
      return true;
    },
    release(ip: string, records: number, bytes: number) {
      held.records -= records;
      held.bytes -= bytes;
      held.requests--;
      const left = (perIp.get(ip) ?? 0) - records;
      if (left > 0) perIp.set(ip, left);
      else perIp.delete(ip);
    },
  };
}
