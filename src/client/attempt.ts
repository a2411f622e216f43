/**
 * Runs `fn`, turning a throw into undefined: browser storage throws in sandboxed frames, with cookies blocked or
 * when full, and none of that may break the page.
 */
export const attempt = <T>(fn: () => T): T | undefined => {
  try {
    return fn();
  } catch {}
};

/** The localStorage value of `key`; undefined or null where it is absent or storage cannot be read. */
export const readLocal = (key: string) => attempt(() => localStorage.getItem(key));

/** Stores `value` under `key` in localStorage, or removes the key for null; a storage that refuses is left as it is. */
export const writeLocal = (key: string, value: string | null) =>
  attempt(() => (value == null ? localStorage.removeItem(key) : localStorage.setItem(key, value)));
