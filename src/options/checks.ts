/**
 * Option checks shared by every entry point, so the client, the proxy, the server client and the emulator word the
 * same mistake the same way: `<owner>: option <name> must be <what>`. Each check returns the value it accepted, so a
 * resolver reads as a list of `name: check(...)` lines.
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
