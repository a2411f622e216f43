import { isIdentifier, normalizeEmail, type FieldValue } from '../profile/rules';

/** Most values an identifier's plural array keeps (`emails`, `vuids`, ...); the least recently seen goes first. */
const MAX_PLURAL = 25;

/** A value and the write that set it: `seq` orders every write, so merges can tell which one came last. */
interface Stamped<T> {
  value: T;
  seq: number;
}

interface Profile {
  readonly id: number;
  attributes: Map<string, Stamped<string | number | boolean>>;
  /** Identifier name → match key (a normalised email, any other value as is) → the value as last sent. */
  identifiers: Map<string, Map<string, Stamped<string>>>;
}

/** A profile as `GET /v3/profiles` shows it: attributes, last-seen identifiers, plural arrays and `zaius_id`. */
export type ProfileView = Record<string, FieldValue | string[]>;

/** Counts of what the store did, for the inspection endpoints. */
interface StoreCounts {
  recordsApplied: number;
  merges: number;
  profiles: number;
}

const matchKey = (name: string, value: string) => (name == 'email' ? normalizeEmail(value) : value);

/** `customer_id` → `customer_ids`, `email` → `emails`, `x_address` → `x_addresses`. */
const pluralOf = (name: string): string => name + (/(s|sh|ch|x)$/.test(name) ? 'es' : 's');

/**
 * The profiles and the identity resolution between them. High-confidence identifiers name a person and merge the
 * profiles they point at; low-confidence ones (the vuid) only move to the profile they were last seen with.
 */
export class ProfileStore {
  private profiles = new Map<number, Profile>();
  /** Identifier name → match key → id of the one profile that holds it. */
  private index = new Map<string, Map<string, number>>();
  private nextId = 1;
  private seq = 0;
  private recordsApplied = 0;
  private merges = 0;

  constructor(readonly lowConfidence: ReadonlySet<string>) {}

  get counts(): StoreCounts {
    return { recordsApplied: this.recordsApplied, merges: this.merges, profiles: this.profiles.size };
  }

  /** The profile that holds identifier `name` = `value`, or undefined. `zaius_id` finds a profile by its id. */
  find(name: string, value: string): ProfileView | undefined {
    const id = name == 'zaius_id' ? Number(value) : this.index.get(name)?.get(matchKey(name, value));
    const profile = id === undefined ? undefined : this.profiles.get(id);
    return profile && view(profile);
  }

  /** Every profile, oldest first. */
  all(): ProfileView[] {
    return [...this.profiles.values()].map(view);
  }

  /**
   * Applies one validated upsert. Explicit null clears an attribute; empty strings and null identifiers carry
   * nothing and are skipped.
   */
  upsert(attributes: Record<string, FieldValue>): void {
    const seq = ++this.seq;
    const high: [string, string, string][] = [];
    const low: [string, string, string][] = [];
    const plain: [string, FieldValue][] = [];
    for (const [name, value] of Object.entries(attributes)) {
      if (value === '') continue;
      if (!isIdentifier(name)) plain.push([name, value]);
      else if (value !== null) {
        const text = String(value);
        (this.lowConfidence.has(name) ? low : high).push([name, matchKey(name, text), text]);
      }
    }

    // Every profile a high-confidence identifier names is the same person: the oldest absorbs the others.
    const owners = this.owners(high).sort((a, b) => a.id - b.id);
    let target = owners[0];
    for (const other of owners.slice(1)) this.merge(other, target);

    for (const owner of this.owners(low)) {
      if (owner == target) continue;
      if (!high.length) target ??= owner; // an anonymous update goes to whoever the cookie was last seen with
      else if (!this.known(owner)) {
        // Anonymous history attaches to the customer; a profile that already names a customer is never merged
        // on a vuid (a shared computer): the vuid simply moves below.
        if (target) this.merge(owner, target);
        else target = owner;
      }
    }

    target ??= this.create();
    for (const [name, key, value] of [...high, ...low]) this.attach(target, name, key, value, seq);
    for (const [name, value] of plain) {
      if (value === null) target.attributes.delete(name);
      else target.attributes.set(name, { value, seq });
    }
    this.recordsApplied++;
  }

  private create(): Profile {
    const profile: Profile = { id: this.nextId++, attributes: new Map(), identifiers: new Map() };
    this.profiles.set(profile.id, profile);
    return profile;
  }

  /** The distinct profiles holding any of `ids`, in the order first named. */
  private owners(ids: [string, string, string][]): Profile[] {
    const found = new Set<Profile>();
    for (const [name, key] of ids) {
      const id = this.index.get(name)?.get(key);
      if (id !== undefined) found.add(this.profiles.get(id)!);
    }
    return [...found];
  }

  private known(profile: Profile): boolean {
    return [...profile.identifiers.keys()].some((name) => !this.lowConfidence.has(name));
  }

  /** Moves everything of `from` into `into` (later writes win, plural arrays unite) and deletes `from`. */
  private merge(from: Profile, into: Profile): void {
    for (const [name, stamped] of from.attributes) {
      if ((into.attributes.get(name)?.seq ?? -1) < stamped.seq) into.attributes.set(name, stamped);
    }
    for (const [name, values] of from.identifiers) {
      for (const [key, { value, seq }] of values) this.attach(into, name, key, value, seq);
    }
    this.profiles.delete(from.id);
    this.merges++;
  }

  /** Gives identifier `key` to `profile`, taking it from any other holder, and keeps the plural array capped. */
  private attach(profile: Profile, name: string, key: string, value: string, seq: number): void {
    const index = this.index.get(name) ?? this.index.set(name, new Map()).get(name)!;
    const holder = index.get(key);
    if (holder !== undefined && holder != profile.id) this.detach(this.profiles.get(holder), name, key);
    index.set(key, profile.id);
    const values = profile.identifiers.get(name) ?? profile.identifiers.set(name, new Map()).get(name)!;
    const previous = values.get(key);
    if (!previous || previous.seq <= seq) values.set(key, { value, seq });
    if (values.size > MAX_PLURAL) {
      const oldest = [...values].reduce((a, b) => (b[1].seq < a[1].seq ? b : a))[0];
      // A value dropped from the array no longer finds the profile: the arrays are what the profile is known by.
      values.delete(oldest);
      index.delete(oldest);
    }
  }

  private detach(profile: Profile | undefined, name: string, key: string): void {
    if (!profile) return;
    const values = profile.identifiers.get(name);
    values?.delete(key);
    if (values?.size === 0) profile.identifiers.delete(name);
    // Left with no identifier at all, a profile can never be found or updated again.
    if (profile.identifiers.size == 0) this.profiles.delete(profile.id);
  }
}

function view(profile: Profile): ProfileView {
  const out: ProfileView = { zaius_id: profile.id };
  for (const [name, { value }] of profile.attributes) out[name] = value;
  for (const [name, values] of profile.identifiers) {
    const seen = [...values.values()].sort((a, b) => a.seq - b.seq).map((v) => v.value);
    out[name] = seen[seen.length - 1];
    out[pluralOf(name)] = seen;
  }
  return out;
}
