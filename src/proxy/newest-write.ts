/**
 * The newest write wins by capture time, not arrival: a phone that queued an address offline a week ago and comes back
 * online must not overwrite the address the customer has since set on a laptop. Where the proxy keeps state it
 * remembers, per identity and attribute, the capture time of the newest value it forwarded (and a digest of that
 * value), and takes an older, different value out of a record that arrives later. Identifiers are never taken out: a
 * record left with only them still links.
 */
import type { Clock } from '../upstream/clock';
import type { CheckedRecord } from '../profile/batch';
import { isIdentifier, type FieldValue } from '../profile/rules';
import { digest64 } from './digest';
import { identityKeys } from './identity-keys';

/** One attribute's value as the times are kept: its name, and a digest of the value. */
export interface Written {
  name: string;
  print: string;
}

/** One record's write as the times see it. */
export interface Write {
  /** Capture time, ms on the proxy's clock. */
  at: number;
  /** Whether its times are recorded (a record a token vouched for), or the record is only checked. */
  keep: boolean;
  /** A digest of the browser that wrote it (its vuid), or '' when the record names none. */
  by: string;
}

/** Where the capture times of forwarded writes are kept: process memory, Redis, or a Durable Object's storage. */
export interface CaptureTimes {
  /**
   * Atomically for one record: the names of `written` whose value is older than the newest write known for that name
   * under any of `identities` (captured later, by another browser, with another value); the others are recorded at
   * `write.at` under every identity, when `write.keep`. The same value is never older: a resend's capture time,
   * reckoned again from its age on arrival, moves by the network's delay. Nor is a write of the same browser: its
   * queue sends its writes in the order they were made, which a capture time, late by however long the request
   * waited in the browser, cannot improve on.
   */
  older(identities: readonly string[], written: readonly Written[], write: Write): Promise<string[]>;
}

/**
 * A value's 64-bit FNV-1a digest: enough to tell a resend of the same value from another (a collision only lets an
 * older value through, as without this), and no address or phone number is kept in the proxy's state.
 */
export const printOf = (value: FieldValue): string => digest64(JSON.stringify(value));

/** An identity key as state outside this process keeps it: SHA-256, hex, 128 bits; never the email or phone itself. */
export async function identityDigest(identity: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(identity));
  return [...new Uint8Array(digest, 0, 16)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** The newest write of one attribute: when it was captured, a digest of its value, and its browser's (`Write.by`). */
export interface Known {
  at: number;
  print: string;
  by: string;
}

/**
 * The step every store shares, given what each identity knows of the record's attributes: the names that are older,
 * and what each identity knows afterwards (`null` when nothing is recorded for it).
 */
export function decide(known: readonly Map<string, Known>[], written: readonly Written[], { at, by }: Write) {
  const older: string[] = [];
  const kept: [string, Known][] = [];
  for (const { name, print } of written) {
    let newest: Known | undefined;
    for (const times of known) {
      const entry = times.get(name);
      if (entry && (!newest || entry.at > newest.at)) newest = entry;
    }
    if (newest && newest.at > at && newest.print != print && (!by || newest.by != by)) older.push(name);
    else kept.push([name, { at: Math.max(at, newest?.at ?? at), print, by }]);
  }
  return { older, kept };
}

/** Identities one process remembers; past it the one written least recently is forgotten. */
const MAX_IDENTITIES = 100_000;

/**
 * Capture times in this process's memory: one Node process, one isolate. Lost on restart, and not seen by another
 * process. A time older than `maxAgeMs` is forgotten: no record that old is accepted, so it could never be newer.
 */
export function createMemoryCaptureTimes(clock: Clock, maxAgeMs: number, maxIdentities = MAX_IDENTITIES): CaptureTimes {
  /** Per identity, per attribute, the newest write; in order of last write, the least recent first. */
  const identities = new Map<string, Map<string, Known>>();
  return {
    async older(keys, written, write) {
      const since = clock.now() - maxAgeMs;
      const known = keys.map((key) => identities.get(key) ?? new Map<string, Known>());
      const { older, kept } = decide(known, written, write);
      if (!write.keep || !kept.length) return older;
      keys.forEach((key, n) => {
        const times = known[n];
        for (const [name, entry] of times) if (entry.at < since) times.delete(name);
        for (const [name, entry] of kept) times.set(name, entry);
        identities.delete(key);
        identities.set(key, times);
      });
      for (const key of identities.keys()) {
        if (identities.size <= maxIdentities) break;
        identities.delete(key);
      }
      return older;
    },
  };
}

/**
 * Takes out of each record the attributes a later capture has already written, differently, for one of its
 * identities, and records the capture times of the rest (`capturedAt`, by index) for the `trusted` records only: a
 * record no token vouched for may name anyone's email, so it is held back by the customer's own writes and never
 * holds them back. Records of one browser (one vuid) never hold back each other. Resolves the names taken out, each
 * once.
 */
export async function keepNewest(records: CheckedRecord[], capturedAt: readonly number[], trusted: readonly boolean[], times: CaptureTimes): Promise<string[]> {
  const taken = await Promise.all(
    records.map(async (record, n) => {
      const { attributes } = record;
      const written = Object.keys(attributes)
        .filter((name) => !isIdentifier(name))
        .map((name) => ({ name, print: printOf(attributes[name]) }));
      const keys = identityKeys([record]);
      if (!written.length || !keys.length) return [];
      const { vuid } = attributes;
      const by = typeof vuid == 'string' && vuid ? digest64(vuid) : '';
      const older = await times.older(keys, written, { at: capturedAt[n], keep: trusted[n], by });
      for (const name of older) delete attributes[name];
      return older;
    }),
  );
  return [...new Set(taken.flat())];
}
