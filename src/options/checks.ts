/**
 * Option checks shared by every entry point, so the client, the proxy, the server client and the emulator word the
 * same mistake the same way, and refuse an option name they do not have rather than start without it.
 */

/**
 * Edits (insert, delete, replace, swap two neighbours) between two names, ignoring case: the optimal string
 * alignment distance, enough to tell a typo from another name.
 */
function distance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows = [...Array(a.length + 1)].map((_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) rows[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] == b[j - 1] ? 0 : 1;
      rows[i][j] = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) rows[i][j] = Math.min(rows[i][j], rows[i - 2][j - 2] + 1);
    }
  }
  return rows[a.length][b.length];
}

/**
 * The known name closest to `name`, or undefined when none is close: at most one edit for a name of up to five
 * characters, two up to eight, three beyond (so `upstreamRPS` finds `upstreamRps`, `prot` finds `port`, and `key`
 * finds nothing). The first of equally close names wins.
 */
export function closestName(name: string, names: readonly string[]): string | undefined {
  const most = name.length <= 5 ? 1 : name.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestDistance = most + 1;
  for (const known of names) {
    const d = distance(name, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return best;
}

type Missing<Options, Named> = Exclude<keyof Options, Named>;

/**
 * The option names of an options type: the keys of its `defaults` object plus the names of the options that have
 * none. Called as `optionNames<XOptions>()(defaults, ['apiKey', ...])`; a name the type lacks, or one of the type's
 * names missing from both, is a compile error, so the list cannot drift from the type.
 */
export const optionNames =
  <Options>() =>
  <const Defaults extends object, const Others extends readonly (keyof Options & string)[]>(
    defaults: Defaults & Record<Exclude<keyof Defaults, keyof Options>, never>,
    others: Others & ([Missing<Options, keyof Defaults | Others[number]>] extends [never] ? unknown : { missing: Missing<Options, keyof Defaults | Others[number]> }),
  ): readonly (keyof Options & string)[] =>
    [...(Object.keys(defaults) as (keyof Options & string)[]), ...others];

/**
 * The checks of one entry point, worded `<owner>: option <name> must be <what>`. Each returns the value it accepted,
 * so a resolver reads as a list of `name: check(...)` lines.
 */
export function optionChecks(owner: string) {
  const fail = (name: string, what: string, Type: typeof TypeError = TypeError): never => {
    throw new Type(`${owner}: option ${name} must be ${what}`);
  };
  const number = (name: string, value: unknown, min: number, max: number, whole: boolean): number =>
    typeof value == 'number' && value >= min && value <= max && (whole ? Number.isSafeInteger(value) : value < Infinity)
      ? value
      : fail(name, `a ${whole ? 'whole ' : ''}number ${max < Number.MAX_SAFE_INTEGER ? `from ${min} to ${max}` : `of at least ${min}`}`, RangeError);
  return {
    fail,
    /**
     * Refuses a name not in `names` among the own keys of `options`, suggesting the closest known one; `within` is
     * the path of a nested option object (`'coalesce'`).
     */
    known(options: object, names: readonly string[], within?: string): void {
      const path = (name: string) => (within ? `${within}.${name}` : name);
      for (const name of Object.keys(options)) {
        if (names.includes(name)) continue;
        const near = closestName(name, names);
        throw new TypeError(`${owner}: unknown option ${path(name)}${near ? ` (did you mean ${path(near)}?)` : ''}`);
      }
    },
    /** A whole number from `min` to `max` (no upper bound when `max` is left out). */
    whole: (name: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER) => number(name, value, min, max, true),
    /** A finite number from `min` to `max`, fractions allowed. */
    range: (name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER) => number(name, value, min, max, false),
    /** A finite number above 0, fractions allowed. */
    positive: (name: string, value: unknown): number =>
      typeof value == 'number' && value > 0 && value < Infinity ? value : fail(name, 'a number above 0', RangeError),
    /** One of a fixed set of values. */
    oneOf: <T>(name: string, value: unknown, choices: readonly T[]): T =>
      choices.includes(value as T) ? (value as T) : fail(name, `one of ${choices.join(', ')}`),
    /** A list whose every item passes `item`; `what` names an item ("lower snake_case names"). */
    list: <T>(name: string, value: unknown, item: (v: unknown) => v is T, what: string): T[] =>
      Array.isArray(value) && value.every(item) ? value : fail(name, `a list of ${what}`),
    /** A function, or nothing. */
    fn: <T>(name: string, value: T): T => (value === undefined || typeof value == 'function' ? value : fail(name, 'a function')),
    /** A finite number above `min`, at most `max`, fractions allowed (a rate that must not be 0). */
    above: (name: string, value: unknown, min: number, max: number): number =>
      typeof value == 'number' && value > min && value <= max ? value : fail(name, `a number above ${min}, at most ${max}`, RangeError),
  };
}
